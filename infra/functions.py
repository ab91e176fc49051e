"""Load the functions of template.yaml the way Lambda does, for the local stack and the tests.

Lambda imports ``app`` from a function's CodeUri with the layer on the path. Locally every function
runs in one process, so each module is loaded under its own name (``mindly_fn_<folder>``) from its
file; the layer is put on ``sys.path`` once.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
LAYER = REPO / "layers" / "common"
# Where each running local stack says how to reach it: one file per port, ``<port>.json`` (written
# and removed by that stack's infra.dev_server, read by infra.cli; see infra.stacks).
STATE_DIR = REPO / ".local" / "stacks"


def use_layer() -> None:
    """Make ``import mindly`` find the layer's package, as /opt/python does in Lambda."""
    if str(LAYER) not in sys.path:
        sys.path.insert(0, str(LAYER))


def load_function(code_uri: str, handler: str = "app.handler") -> ModuleType:
    """Import a function's handler module (once) and return it."""
    use_layer()
    folder = (REPO / code_uri).resolve()
    module_file, _, _ = handler.rpartition(".")
    name = f"mindly_fn_{folder.name}_{module_file}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, folder / f"{module_file}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"no handler module {module_file}.py in {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
