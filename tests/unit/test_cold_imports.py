"""What importing a function's handler pulls in: nothing heavy it does not use.

Each handler is imported in a fresh interpreter (as Lambda does at a cold start) and its
``sys.modules`` inspected.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra import cfn

REPO = Path(__file__).resolve().parents[2]
# Modules no API function needs at import time: each costs cold-start time for nothing.
# aws_xray_sdk: observability imports only Powertools' Logger and EMF metrics, never the tracer's SDK.
FORBIDDEN = ("groq", "boto3", "pydantic.v1", "moto", "fakeredis", "uvicorn", "pydantic_settings", "dotenv",
             "aws_xray_sdk")
# Modules only some functions use: the others must not pay for them.
ONLY_FOR = {"fsrs": {"FlashcardsFunction"}}
FUNCTIONS = [f for f in cfn.functions(cfn.load_template())]
API_FUNCTIONS = {route.function_logical_id for route in cfn.http_routes(cfn.load_template())}


@pytest.mark.parametrize("function", FUNCTIONS, ids=[f.logical_id for f in FUNCTIONS])
def test_handler_import_stays_lean(function: cfn.FunctionDef) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / function.code_uri), str(REPO / "layers" / "common")])
    program = (f"import json, sys; import {function.module}; "
               f"print(json.dumps(sorted(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", program], cwd=REPO / function.code_uri, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert f"{function.module}" in loaded
    forbidden = [*FORBIDDEN, *(name for name, users in ONLY_FOR.items() if function.logical_id not in users)]
    unwanted = sorted(name for name in loaded if any(name == f or name.startswith(f + ".") for f in forbidden))
    assert unwanted == []
    if function.logical_id in API_FUNCTIONS:  # SnapStart: the restore hooks are registered at import
        assert "mindly.runtime_hooks" in loaded
