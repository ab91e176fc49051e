"""Cold-start import time of every function, from the artifacts ``sam build`` produces.

    .venv/bin/python -m bench.cold_start [--runs 15] [--skip-build] [--strict] [--instructions auto|on|off]

1. ``sam build`` into .aws-sam/bench-build, for this machine's architecture (MINDLY_LAYER_ARCH and
   the template's Architecture parameter), so the layer's wheels can be imported here.
2. For each function of template.yaml, in a fresh ``python3.12 -B`` process laid out like Lambda
   (the function's build dir first on the path, as /var/task, then the layer's python dir, as
   /opt/python): the time ``import <handler module>`` takes. ``-B`` keeps the process from writing
   .pyc files, so every run sees exactly what was built.
3. The floor, measured the same way: the third-party imports no function can avoid
   (fastapi, mangum, pynamodb.models, upstash_redis, jwt, Powertools Logger).

4. With valgrind installed (or ``--instructions on``): the instructions each import executes,
   counted by callgrind, once per target.

Times are the median (and the fastest) of ``--runs`` runs (after one unmeasured warm-up, so all
targets start with a warm page cache), with the targets interleaved run by run. The budget of a
function is 1.15 x the floor: what our own code adds on top of its dependencies. It is checked on
the instruction counts when they were taken: on a shared VM the same import's time moves by 20-40 %
from run to run, its instruction count by ~0.1 %. Without them it is checked on the median time.
Exit status: 2 when the build or an import fails, 1 when ``--strict`` and a function is over
budget, else 0.
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import cfn

REPO = cfn.REPO_ROOT
DEFAULT_BUILD_DIR = REPO / ".aws-sam" / "bench-build"
BUDGET_RATIO = 1.15
FLOOR_IMPORTS = ("import fastapi, mangum, pynamodb.models, upstash_redis, jwt\n"
                 "from aws_lambda_powertools import Logger")
LAYER_ID = "CommonLayer"


class BenchError(RuntimeError):
    """A problem that stops the benchmark, with a message for the user."""


# --- python 3.12 -------------------------------------------------------------------------------------

def _is_python312(candidate: str) -> bool:
    try:
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
                               capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0 and probe.stdout.strip() == "True"


def find_python312(explicit: str | None = None) -> str:
    """A working CPython 3.12: --python, PATH, pyenv's versions, then ``uv python find 3.12``.

    A pyenv shim named python3.12 can sit on PATH without working, so every candidate is run.
    """
    if explicit:
        if _is_python312(explicit):
            return explicit
        raise BenchError(f"--python {explicit} is not a working Python 3.12")
    candidates: list[str] = []
    on_path = shutil.which("python3.12")
    if on_path:
        candidates.append(on_path)
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    for root in dict.fromkeys([pyenv_root, "/root/.pyenv"]):
        candidates += sorted(glob.glob(f"{root}/versions/3.12*/bin/python3.12"), reverse=True)
    uv = shutil.which("uv")
    if uv:
        found = subprocess.run([uv, "python", "find", "3.12"], capture_output=True, text=True, check=False)
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(found.stdout.strip())
    for candidate in dict.fromkeys(candidates):
        if _is_python312(candidate):
            return candidate
    raise BenchError("no working Python 3.12 found (tried PATH, ~/.pyenv/versions/3.12*, `uv python find "
                     "3.12`). The Lambda runtime is python3.12: install one (e.g. `uv python install 3.12`) "
                     "or pass --python /path/to/python3.12.")


# --- build -------------------------------------------------------------------------------------------

def host_architecture() -> tuple[str, str]:
    """(MINDLY_LAYER_ARCH, template Architecture) that produce a layer importable on this machine."""
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        return "x86_64", "x86_64"
    if machine in ("aarch64", "arm64"):
        return "aarch64", "arm64"
    raise BenchError(f"cannot build a Lambda layer importable on a {machine} machine")


def sam_executable() -> str:
    beside_python = Path(sys.executable).parent / "sam"  # the virtualenv's sam, if any
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("sam")
    if not found:
        raise BenchError("the SAM CLI (`sam`) is not installed (it is a dev dependency: uv sync)")
    return found


def build(python: str, build_dir: Path) -> None:
    layer_arch, architecture = host_architecture()
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(python).parent), env.get("PATH", "")])
    env["PYTHON"] = python  # the layer Makefile's interpreter
    env["MINDLY_LAYER_ARCH"] = layer_arch
    env.setdefault("SAM_CLI_TELEMETRY", "0")
    command = [
        sam_executable(), "build",
        "--template-file", str(REPO / "template.yaml"),
        "--build-dir", str(build_dir),
        "--parameter-overrides", f"Architecture={architecture}",
        # The build cache is keyed on sources, not on MINDLY_LAYER_ARCH: never reuse a deploy build.
        "--no-cached",
    ]
    print(f"$ MINDLY_LAYER_ARCH={layer_arch} sam {' '.join(command[1:])}", file=sys.stderr, flush=True)
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError(f"sam build failed (exit {result.returncode}):\n{result.stdout}{result.stderr}")


# --- measuring ---------------------------------------------------------------------------------------

@dataclass
class Target:
    name: str
    workdir: Path
    python_path: list[Path]
    code: str
    env: dict[str, str]
    samples: list[float] = field(default_factory=list)
    instructions: int | None = None
    error: str | None = None

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.samples) * 1000 if self.samples and not self.error else None


def _timed_import(statement: str) -> str:
    return f"import time\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)\n"


def bench_env(template: dict[str, Any], function: cfn.FunctionDef | None) -> dict[str, str]:
    """The environment a function's module needs to import, with no AWS or Redis behind it.

    Literal template variables are kept, table/queue references get bench names, and SSM_PREFIX is
    left out: the secrets are given directly, so nothing calls SSM during an import.
    """
    region = "ap-south-1"
    tables = cfn.table_env_vars(template)
    queues = cfn.queue_env_vars(template)
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": tempfile.gettempdir(),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "ENVIRONMENT": "bench",
        "JWT_SECRET": secrets.token_hex(32),
        "CURSOR_SECRET": secrets.token_hex(32),
        "UPSTASH_REDIS_REST_URL": "http://127.0.0.1:9",
        "UPSTASH_REDIS_REST_TOKEN": "x",
        "CORS_ORIGINS": "https://bench.invalid",
        "POWERTOOLS_SERVICE_NAME": "mindly",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    for logical_id, variable in tables.items():
        env[variable] = f"mindly-bench-{logical_id.removesuffix('Table').lower()}"
    for logical_id, variable in queues.items():
        env[variable] = f"https://sqs.{region}.amazonaws.com/123456789012/mindly-bench-{logical_id.lower()}"
    if function is not None:
        for name, value in function.environment.items():
            if isinstance(value, str | int | float) and name not in env:
                env[name] = str(value)
    env.pop("SSM_PREFIX", None)
    return env


def run_once(python: str, target: Target) -> None:
    env = {**target.env, "PYTHONPATH": os.pathsep.join(str(p) for p in target.python_path)}
    try:
        result = subprocess.run([python, "-B", "-s", "-c", target.code], cwd=target.workdir, env=env,
                                capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        target.error = "import took longer than 120 s"
        return
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        target.error = (result.stderr or result.stdout or f"exit status {result.returncode}").strip()
        return
    try:
        target.samples.append(float(lines[-1]))
    except ValueError:
        target.error = f"unexpected output: {result.stdout.strip()[-500:]}"


def make_targets(template: dict[str, Any], build_dir: Path, scratch: Path) -> tuple[Target, list[Target]]:
    layer = build_dir / LAYER_ID / "python"
    if not layer.is_dir():
        raise BenchError(f"{layer} does not exist: run without --skip-build first")
    floor = Target("(floor)", scratch, [layer], _timed_import(FLOOR_IMPORTS), bench_env(template, None))
    targets = []
    for function in cfn.functions(template):
        module = function.module
        if not re.fullmatch(r"[A-Za-z_][\w.]*", module):
            raise BenchError(f"{function.logical_id}: unexpected handler {function.handler!r}")
        task = build_dir / function.logical_id
        target = Target(function.logical_id, task, [task, layer], _timed_import(f"import {module}"),
                        bench_env(template, function))
        if not task.is_dir():
            target.error = f"{task} does not exist: run without --skip-build first"
        targets.append(target)
    return floor, targets


def measure(python: str, floor: Target, targets: list[Target], runs: int) -> None:
    everything = [floor, *targets]
    for target in everything:  # warm-up, not recorded
        if not target.error:
            run_once(python, target)
            target.samples.clear()
    for _ in range(runs):
        for target in everything:
            if not target.error:
                run_once(python, target)


def count_instructions(python: str, target: Target) -> None:
    """Instructions executed by a fresh interpreter importing the target, counted by callgrind.

    Unlike wall time, the count does not move with CPU steal or frequency on a shared VM (repeated
    counts agree to ~0.1 %), so it shows what our code adds to a cold start where milliseconds are
    too noisy to compare.
    """
    env = {**target.env, "PYTHONPATH": os.pathsep.join(str(p) for p in target.python_path)}
    statement = target.code.split("\n", 2)[2].rsplit("\nprint(", 1)[0]  # the import of _timed_import's program
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", python, "-B", "-s", "-c", statement],
        cwd=target.workdir, env=env, capture_output=True, text=True, timeout=900, check=False)
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or not found:
        target.error = (result.stderr or f"exit status {result.returncode}").strip()
        return
    target.instructions = int(found.group(1))


def count_all(python: str, floor: Target, targets: list[Target]) -> None:
    """Instruction counts of the floor and every target, two at a time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda target: count_instructions(python, target),
                      [t for t in [floor, *targets] if not t.error]))


# --- report ------------------------------------------------------------------------------------------

def report(floor: Target, targets: list[Target]) -> tuple[str, bool, bool]:
    """The table, whether any function is over budget, whether anything failed.

    The verdict is on instruction counts when they were taken (steady), else on median wall time.
    """
    floor_ms = floor.median_ms
    floor_count = floor.instructions
    by_instructions = floor_count is not None
    header = ("function", "median ms", "min ms", "ratio (time)", "instructions (M)", "ratio (instr.)",
              f"budget <= {BUDGET_RATIO:.2f} x floor", "status")
    floor_min = f"{min(floor.samples) * 1000:.0f}" if floor.samples else "-"
    floor_counted = (f"{floor_count / 1e6:.0f}", "1.000") if floor_count else ("-", "-")
    rows = [("(floor)", f"{floor_ms:.0f}" if floor_ms else "-", floor_min, "1.00", *floor_counted, "", "")]
    failed = floor.error is not None
    over = False
    for target in targets:
        median = target.median_ms
        if median is None or floor_ms is None or (by_instructions and target.instructions is None):
            failed = True
            rows.append((target.name, "-", "-", "-", "-", "-", "-", "ERROR"))
            continue
        time_ratio = median / floor_ms
        count_ratio = target.instructions / floor_count if by_instructions else None  # type: ignore[operator]
        checked = count_ratio if count_ratio is not None else time_ratio
        ok = checked <= BUDGET_RATIO
        over = over or not ok
        rows.append((target.name, f"{median:.0f}", f"{min(target.samples) * 1000:.0f}", f"{time_ratio:.2f}",
                     f"{target.instructions / 1e6:.0f}" if target.instructions else "-",
                     f"{count_ratio:.3f}" if count_ratio is not None else "-",
                     f"instructions <= {floor_count / 1e6 * BUDGET_RATIO:.0f} M" if by_instructions  # type: ignore[operator]
                     else f"median <= {floor_ms * BUDGET_RATIO:.0f} ms",
                     "OK" if ok else "OVER"))
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    if floor.samples:
        low, high = min(floor.samples) * 1000, max(floor.samples) * 1000
        lines.append(f"\nThe floor's own runs took {low:.0f} to {high:.0f} ms ({(high / low - 1) * 100:.0f} % apart): "
                     "time ratios closer to the budget than that are noise. "
                     + ("The budget is checked on instructions." if by_instructions else
                        "Instructions were not counted (valgrind missing or --instructions off): "
                        "the budget is checked on median time."))
    for target in [floor, *targets]:
        if target.error:
            lines.append(f"\n{target.name}: failed\n{_indent(target.error)}")
    return "\n".join(lines), over, failed


def _indent(text: str, limit: int = 40) -> str:
    tail = text.splitlines()[-limit:]
    return "\n".join(f"    {line}" for line in tail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="measured runs per function (median; default 15)")
    parser.add_argument("--skip-build", action="store_true", help="reuse the last build in --build-dir")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a function is over budget")
    parser.add_argument("--build-dir", type=Path, default=DEFAULT_BUILD_DIR)
    parser.add_argument("--python", help="the python3.12 to build with and measure under")
    parser.add_argument("--instructions", choices=("auto", "on", "off"), default="auto",
                        help="count instructions with valgrind/callgrind and check the budget on them "
                             "(auto: when valgrind is installed; about 4 minutes on 2 CPUs)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    try:
        python = find_python312(args.python)
        template = cfn.load_template()
        count = args.instructions == "on" or (args.instructions == "auto" and shutil.which("valgrind") is not None)
        if count and shutil.which("valgrind") is None:
            raise BenchError("--instructions on needs valgrind (apt-get install valgrind)")
        if not args.skip_build:
            build(python, args.build_dir)
        with tempfile.TemporaryDirectory(prefix="mindly-bench-") as scratch:
            floor, targets = make_targets(template, args.build_dir, Path(scratch))
            measure(python, floor, targets, args.runs)
            if count:
                count_all(python, floor, targets)
            table, over, failed = report(floor, targets)
            print(f"Cold start: import time (median and fastest of {args.runs} run(s) each)"
                  f"{' and instructions (callgrind, one run each)' if count else ''}, {python}\n")
            print(table)
    except BenchError as exc:
        print(f"cold_start: {exc}", file=sys.stderr)
        return 2
    if failed:
        return 2
    return 1 if over and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
