"""Template checks beyond `sam validate --lint`: checkov and cfn-lint-serverless, against one baseline.

    .venv/bin/python .ci/tools/template_checks.py [--template template.yaml]

Runs both tools on the template at once (about 15 s on two cores):
- checkov from its own locked project (.ci/tools/.venv, `uv sync --frozen --project .ci/tools`),
- cfn-lint from the main venv with the serverless rules (`cfn-lint template.yaml -a cfn_lint_serverless.rules`;
  the template comes first, since -a takes every argument after it).
Every finding must be listed in .ci/template-baseline.yaml (check id -> resources + reason); a
finding not listed, or a listed (check, resource) that no longer occurs, fails the run (exit 1).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / ".ci" / "template-baseline.yaml"
CHECKOV = REPO / ".ci" / "tools" / ".venv" / "bin" / "checkov"
CFN_LINT = REPO / ".venv" / "bin" / "cfn-lint"

Finding = tuple[str, str, str]  # (tool, check id, resource logical id)


def checkov_command(template: Path) -> list[str]:
    return [str(CHECKOV), "--file", str(template), "--framework", "cloudformation", "--output", "json",
            "--quiet", "--compact", "--skip-download"]


def serverless_command(template: Path) -> list[str]:
    return [str(CFN_LINT), str(template), "--format", "json", "-a", "cfn_lint_serverless.rules"]


def checkov_findings(output: str) -> set[Finding]:
    reports = json.loads(output) if output.strip() else []
    if isinstance(reports, dict):
        reports = [reports]
    found = set()
    for report in reports:
        if "results" not in report:  # checkov prints a bare summary when it found nothing to check
            continue
        for failed in report["results"]["failed_checks"]:
            found.add(("checkov", failed["check_id"], failed["resource"].rsplit(".", 1)[-1]))
    return found


def serverless_findings(output: str) -> set[Finding]:
    found = set()
    for match in json.loads(output or "[]"):
        path = match["Location"]["Path"]
        resource = path[1] if len(path) > 1 and path[0] == "Resources" else "/".join(map(str, path))
        found.add(("cfn-lint-serverless", match["Rule"]["Id"], resource))
    return found


def baseline_entries(baseline: dict[str, Any]) -> set[Finding]:
    entries = set()
    for tool in ("checkov", "cfn-lint-serverless"):
        for check, entry in (baseline.get(tool) or {}).items():
            if not str(entry.get("reason", "")).strip():
                raise SystemExit(f"{BASELINE.name}: {tool} {check} has no reason")
            entries.update((tool, check, resource) for resource in entry["resources"])
    return entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, default=REPO / "template.yaml")
    args = parser.parse_args(argv)
    if not CHECKOV.exists():
        print(f"{CHECKOV} missing: run .venv-uv/bin/uv sync --frozen --project .ci/tools", file=sys.stderr)
        return 2

    runs = {name: subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name, command in (("checkov", checkov_command(args.template)),
                                  ("cfn-lint-serverless", serverless_command(args.template)))}
    outputs = {}
    for name, run in runs.items():
        out, err = run.communicate()
        # checkov exits 1 and cfn-lint non-zero when they find something; only a crash is an error here
        try:
            outputs[name] = checkov_findings(out) if name == "checkov" else serverless_findings(out)
        except (json.JSONDecodeError, KeyError) as exc:
            print(f"{name} failed (exit {run.returncode}): {exc}\n{err[-2000:]}", file=sys.stderr)
            return 2

    findings = outputs["checkov"] | outputs["cfn-lint-serverless"]
    accepted = baseline_entries(yaml.safe_load(BASELINE.read_text(encoding="utf-8")))
    new, stale = sorted(findings - accepted), sorted(accepted - findings)
    for tool, check, resource in new:
        print(f"NEW FINDING  {tool:<20} {check:<12} {resource}: fix it, or list it with a reason in "
              f".ci/{BASELINE.name}")
    for tool, check, resource in stale:
        print(f"STALE        {tool:<20} {check:<12} {resource}: no longer found, remove it from .ci/{BASELINE.name}")
    checks = {(tool, check) for tool, check, _ in findings}
    print(f"template checks: {len(findings)} findings of {len(checks)} checks, all in the baseline"
          if not new and not stale else
          f"template checks: {len(new)} new, {len(stale)} stale (of {len(findings)} findings)")
    return 1 if new or stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
