"""The layer's build (layers/common/Makefile, what `sam build` runs) ships byte-compiled code.

A SAM build ships no .pyc and /opt is read-only in Lambda, so without compiled files every cold
start would compile the layer again. The build is run here for the ``mindly`` package alone (an
empty requirements file: no download), with the runtime's Python 3.12.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _python312() -> str | None:
    from bench.cold_start import BenchError, find_python312

    try:
        return find_python312()
    except BenchError:
        return None


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_the_layer_build_compiles_every_module_for_python_312(tmp_path: Path) -> None:
    python = _python312()
    if python is None:
        pytest.skip("no Python 3.12 on this machine (the Lambda runtime's version)")
    empty = tmp_path / "requirements.txt"
    empty.write_text("")
    artifacts = tmp_path / "layer"
    result = subprocess.run(
        ["make", "-C", str(REPO / "layers" / "common"), "build-CommonLayer", f"ARTIFACTS_DIR={artifacts}",
         f"REQUIREMENTS={empty}", f"PYTHON={python}"],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    package = artifacts / "python" / "mindly"
    sources = sorted(package.rglob("*.py"))
    assert len(sources) > 30
    missing = [str(src.relative_to(package)) for src in sources
               if not (src.parent / "__pycache__" / f"{src.stem}.cpython-312.pyc").is_file()]
    assert missing == []
    # compiled with unchecked hashes: used whatever the (zip-lost) source mtimes say
    pyc = package / "__pycache__" / "config.cpython-312.pyc"
    flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
    assert flags == 0b01, "expected an unchecked-hash pyc (PEP 552 flags: hash-based, check_source off)"
    assert not list(package.rglob("*.pyc.*")) and (package / "domain" / "badges.json").is_file()
    assert (package / "domain" / "exam_patterns.json").is_file()  # the mock-test patterns are data too
