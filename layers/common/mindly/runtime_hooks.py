"""Lambda SnapStart runtime hooks for the API functions.

With SnapStart, Lambda runs a function's init once, snapshots the memory, and starts every later
container by restoring that snapshot. Two things in memory must not be shared between the
restored containers:

- **network clients**: an HTTP connection (DynamoDB, Upstash, SQS, Groq) open at the snapshot
  would be reused by every container restored from it, long after the server closed it;
- **userland random state**: ``random``'s Mersenne Twister is seeded at import, so every restored
  container would draw the same "random" numbers (retry jitter, sampling). ``uuid.uuid4`` and
  ``secrets`` (jti, ids) read the kernel's CSPRNG on every call and are safe by themselves; the
  tests prove both.

So the clients are dropped before the snapshot and again after each restore (each is rebuilt
lazily on first use), and ``random`` is re-seeded from the kernel after each restore.

The hook library (``snapshot_restore_py``) is part of Lambda's Python managed runtimes; outside
Lambda it is absent, and the hooks are kept in this module's own registry, where the tests run
them (``run_before_snapshot`` / ``run_after_restore``) exactly as the runtime would: before
snapshot in reverse order of registration, after restore in order.
"""

from __future__ import annotations

import contextlib
import random
import sys
from collections.abc import Callable
from typing import Any

Hook = Callable[[], None]
_BEFORE: list[Hook] = []
_AFTER: list[Hook] = []

try:  # the Lambda runtime's hook registry (python3.12+ managed runtimes)
    from snapshot_restore_py import register_after_restore as _runtime_after
    from snapshot_restore_py import register_before_snapshot as _runtime_before
except ImportError:
    _runtime_after = _runtime_before = None


def before_snapshot(hook: Hook) -> Hook:
    """Register ``hook`` to run before Lambda takes the snapshot."""
    _BEFORE.append(hook)
    if _runtime_before is not None:
        _runtime_before(hook)
    return hook


def after_restore(hook: Hook) -> Hook:
    """Register ``hook`` to run in every container restored from the snapshot."""
    _AFTER.append(hook)
    if _runtime_after is not None:
        _runtime_after(hook)
    return hook


def run_before_snapshot() -> None:
    for hook in reversed(_BEFORE):
        hook()


def run_after_restore() -> None:
    for hook in _AFTER:
        hook()


def _pynamodb_models() -> list[Any]:
    from pynamodb.models import Model

    found, pending = [], list(Model.__subclasses__())
    while pending:
        model = pending.pop()
        found.append(model)
        pending.extend(model.__subclasses__())
    return found


def forget_network_clients() -> None:
    """Drop every network client this container holds; each is created again on first use."""
    from mindly.cache import client as cache_client

    if cache_client.get_redis.cache_info().currsize:
        # a client that cannot be closed holds no connection worth dropping
        with contextlib.suppress(Exception):
            cache_client.get_redis()._http._client.close()
    cache_client.get_redis.cache_clear()
    for model in _pynamodb_models():
        if "_connection" in vars(model):
            model._connection = None
    # Clients of modules this function may not have imported: never import them here.
    llm = sys.modules.get("mindly.llm.client")
    if llm is not None:
        llm.groq_client.cache_clear()
    roadmaps = sys.modules.get("mindly.services.roadmaps")
    if roadmaps is not None:
        roadmaps._SQS.clear()


def reseed_random() -> None:
    """Give this container its own ``random`` sequence (seeded from the kernel's CSPRNG)."""
    random.seed()


def install() -> None:
    """Register the hooks (once per process, however many apps are created)."""
    if forget_network_clients not in _AFTER:
        before_snapshot(forget_network_clients)
        after_restore(forget_network_clients)
        after_restore(reseed_random)
