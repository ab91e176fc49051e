"""Test session: the same local stack the dev server runs, started once.

The environment is set before anything imports ``mindly`` (settings are read once), then moto's
server (DynamoDB, SQS) and the local Upstash endpoint start on 127.0.0.1. Redis is flushed before
every test so rate-limit windows never leak between tests; DynamoDB state is kept and tests use
fresh ids instead.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "layers" / "common", REPO / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

for name in list(os.environ):
    if name.startswith(("UPSTASH_", "GROQ_API_KEY", "AWS_ENDPOINT_URL", "AWS_PROFILE")) or name in (
            "SSM_PREFIX", "REDIS_URL", "JWT_SECRET"):
        del os.environ[name]
os.environ.update({
    "ENVIRONMENT": "test",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "ap-south-1",
    "AWS_REGION": "ap-south-1",
    "JWT_SECRET": secrets.token_hex(32),
    "CURSOR_SECRET": secrets.token_hex(32),
    "BCRYPT_ROUNDS": "4",
    "CORS_ORIGINS": "https://app.mindly.test,https://admin.mindly.test",
    # Generous defaults; the rate-limit tests lower them for themselves.
    "USER_RATE_LIMIT_PER_MINUTE": "10000",
    "LOGIN_RATE_LIMIT_PER_MINUTE": "10000",
    "REGISTER_RATE_LIMIT_PER_MINUTE": "10000",
    "REFRESH_RATE_LIMIT_PER_MINUTE": "10000",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    # The concurrency tests queue 50 requests on the one-at-a-time emulator: give reads time.
    "DYNAMODB_READ_TIMEOUT_SECONDS": "30",
    # ... and let their activities retry for as long as the emulator needs (6 s in AWS).
    "ACTIVITY_RETRY_BUDGET_SECONDS": "300",
})

# CI runs the property tests with a fixed seed, so a landing never hangs on a new random example;
# local runs explore new examples every time (and hypothesis keeps the failures it finds).
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")

_STACK: dict[str, Any] = {}


def pytest_configure(config: pytest.Config) -> None:
    import logging

    from infra import local_aws

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from infra.upstash_local import LocalUpstash

    _STACK["aws"] = local_aws.bootstrap(prefix="mindly-test")
    token = secrets.token_urlsafe(16)
    _STACK["upstash"] = LocalUpstash(token=token).start()
    os.environ["UPSTASH_REDIS_REST_URL"] = _STACK["upstash"].url
    os.environ["UPSTASH_REDIS_REST_TOKEN"] = token
    _start_recording_aws_calls(config)


# --- IAM: every AWS call a function makes is checked against its policy in template.yaml ------------

def _start_recording_aws_calls(config: pytest.Config) -> None:
    import tempfile

    import aws_permissions

    from infra import cfn

    # The controller (or a run without xdist) owns the folder where every process leaves its record.
    worker = getattr(config, "workerinput", None)
    _STACK["usage_dir"] = worker["mindly_aws_usage_dir"] if worker else tempfile.mkdtemp(prefix="mindly-aws-usage-")
    _STACK["recorder"] = aws_permissions.Recorder(cfn.load_template(), env=os.environ["ENVIRONMENT"]).install()


def pytest_configure_node(node: Any) -> None:
    """(xdist) Tell each worker where to leave its record of AWS calls."""
    node.workerinput["mindly_aws_usage_dir"] = _STACK["usage_dir"]


@pytest.fixture(autouse=True)
def _aws_calls_are_granted() -> Any:
    """Fail a test whose function made an AWS call that its IAM policy would refuse when deployed."""
    from mindly.services import badges

    recorder = _STACK["recorder"]
    recorder.take_violations()
    # Every function shares this process's caches; in AWS each container fills its own. Forget the
    # badge catalog, so the function that next needs it reads it (and is checked for that read).
    badges.forget_cached_catalog()
    yield
    violations = recorder.take_violations()
    if violations:
        lines = sorted({f"{v.function_id} called {v.operation}: needs {v.use.action} on {v.use.resource}"
                        for v in violations})
        pytest.fail("deployed, AWS would refuse (template.yaml does not grant it):\n  " + "\n  ".join(lines),
                    pytrace=False)


def _ran_everything(session: pytest.Session) -> bool:
    """Whether this run was the whole suite, so that a grant no test used is really unused."""
    option = session.config.option
    selected = bool(option.keyword or option.markexpr or getattr(option, "deselect", None)
                    or getattr(option, "lf", False) or getattr(option, "last_failed", False))
    testpaths = {str((REPO / path).resolve()) for path in session.config.getini("testpaths")}
    given = {str(Path(arg.split("::")[0]).resolve()) for arg in session.config.args}
    return not selected and given <= testpaths | {str(REPO)} and session.testsfailed == 0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import aws_permissions

    recorder = _STACK.get("recorder")
    folder = _STACK.get("usage_dir")
    if recorder is None or not folder:
        return
    worker = getattr(session.config, "workerinput", {}).get("workerid", "main")
    recorder.dump(Path(folder) / f"{worker}.json")
    if hasattr(session.config, "workerinput"):
        return
    used = aws_permissions.load_usage(sorted(Path(folder).glob("*.json")))
    shutil.rmtree(folder, ignore_errors=True)
    if not _ran_everything(session):
        return  # a partial run leaves grants unused that the rest of the suite needs
    findings = aws_permissions.report(recorder.grants, used)
    # What the whole suite used and what disagrees, for a look after the run.
    (REPO / ".local").mkdir(exist_ok=True)
    (REPO / ".local" / "aws-permissions.json").write_text(json.dumps(
        {"used": {fn: sorted(map(list, uses)) for fn, uses in sorted(used.items())},
         "findings": findings.splitlines()}, indent=1))
    if findings:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("IAM policies and code disagree (template.yaml):", red=True)
            for line in findings.splitlines():
                reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    if "recorder" in _STACK:
        _STACK.pop("recorder").uninstall()
    if "upstash" in _STACK:
        _STACK.pop("upstash").stop()
    if "aws" in _STACK:
        _STACK.pop("aws").stop()


@pytest.fixture(scope="session")
def local_aws() -> Any:
    return _STACK["aws"]


@pytest.fixture(scope="session")
def upstash() -> Any:
    return _STACK["upstash"]


@pytest.fixture(autouse=True)
def _fresh_redis() -> Iterator[None]:
    """Redis up and empty for every test; a test that takes it down gets it back up when it ends,
    before the next test's module-scoped fixtures (set up ahead of this one) need it."""
    upstash = _STACK.get("upstash")
    if upstash is not None:
        upstash.set_down(False)
        upstash.flushall()
    yield
    if upstash is not None:
        upstash.set_down(False)


@pytest.fixture
def settings() -> Any:
    """The live settings object; tests may monkeypatch its fields (restored after the test)."""
    from mindly.config import get_settings

    return get_settings()


def _function(folder: str) -> Any:
    """A function's handler module, loaded once per session as Lambda loads it; its handler's AWS
    calls are attributed to it (IAM check above), and it fails the test where Lambda would fail the
    invocation (event or response over 6 MB, a run over the function's Timeout: support.invoke)."""
    import aws_permissions
    from support import enforce_lambda_limits

    return enforce_lambda_limits(aws_permissions.load_function(folder))


@pytest.fixture(scope="session")
def auth_fn() -> Any:
    return _function("auth")


@pytest.fixture(scope="session")
def profile_fn() -> Any:
    return _function("profile")


@pytest.fixture(scope="session")
def progress_fn() -> Any:
    return _function("progress")


@pytest.fixture(scope="session")
def daily_streaks_fn() -> Any:
    return _function("daily_streaks")


@pytest.fixture(scope="session")
def questions_fn() -> Any:
    return _function("questions")


@pytest.fixture(scope="session")
def admin_fn() -> Any:
    return _function("admin")


@pytest.fixture(scope="session")
def flashcards_fn() -> Any:
    return _function("flashcards")


@pytest.fixture(scope="session")
def roadmaps_fn() -> Any:
    return _function("roadmaps")


@pytest.fixture(scope="session")
def analytics_fn() -> Any:
    return _function("analytics")


@pytest.fixture(scope="session")
def roadmap_worker_fn() -> Any:
    return _function("roadmap_worker")


@pytest.fixture(scope="session")
def mock_tests_fn() -> Any:
    return _function("mock_tests")


@pytest.fixture(scope="session")
def mock_sweep_fn() -> Any:
    return _function("mock_sweep")


@pytest.fixture(scope="session")
def notifications_fn() -> Any:
    return _function("notifications")


@pytest.fixture
def sqs() -> Any:
    import boto3

    return boto3.client("sqs")


@pytest.fixture
def queue_url(sqs: Any) -> str:
    """The roadmap queue, emptied first (PurgeQueue would also drop messages sent just after it)."""
    url = os.environ["ROADMAP_QUEUE_URL"]
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return url


@pytest.fixture(scope="module")
def fake() -> Any:
    """A fake Groq HTTP server on 127.0.0.1 (infra/fake_groq.py), one per test module."""
    from infra.fake_groq import FakeGroq

    server = FakeGroq().start()
    yield server
    server.stop()


@pytest.fixture
def groq_on(settings: Any, fake: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Groq configured with two keys, both answered by ``fake``."""
    from support import point_groq_at

    from mindly.llm import client as llm_client

    point_groq_at(settings, monkeypatch, fake.url, "gsk_fake_1", "gsk_fake_2")
    yield fake
    llm_client.groq_client.cache_clear()
