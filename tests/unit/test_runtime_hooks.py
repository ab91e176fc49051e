"""mindly.runtime_hooks: what SnapStart needs from a restored container.

A restore is simulated with ``os.fork``: the parent's memory at the fork is the snapshot, each
child is a container restored from it. A fork is not quite a restore: CPython re-seeds ``random``
in a forked child (``os.register_at_fork``), which a memory restore does not do, so each child first
puts back the state the snapshot held.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from typing import Any

import pytest

from mindly import runtime_hooks
from mindly.services import tokens

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork to simulate a restore")


def _restored_containers(run_hooks: bool, count: int = 3) -> list[dict[str, Any]]:
    """What each of ``count`` containers restored from one snapshot draws first."""
    random.seed(20261123)  # whatever state the snapshot captured
    snapshot = random.getstate()
    drawn = []
    for _ in range(count):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the restored container
            try:
                os.close(read_end)
                random.setstate(snapshot)  # undo the fork's own re-seed: a restore has none
                if run_hooks:
                    runtime_hooks.run_after_restore()
                answer = {"random": random.getrandbits(64), "jitter": random.uniform(0, 1),
                          "jti": tokens.new_id(), "uuid": uuid.uuid4().hex}
                os.write(write_end, json.dumps(answer).encode())
            finally:
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            drawn.append(json.loads(pipe.read()))
        os.waitpid(pid, 0)
    return drawn


def test_without_the_hooks_restored_containers_share_their_random_sequence() -> None:
    # The reason the hook exists: the snapshot holds random's state
    drawn = _restored_containers(run_hooks=False)
    assert len({d["random"] for d in drawn}) == 1
    # jti and uuid4 come from the kernel on every call, so they differ even then
    assert len({d["jti"] for d in drawn}) == len(drawn)
    assert len({d["uuid"] for d in drawn}) == len(drawn)


def test_after_restore_every_container_draws_its_own_numbers_ids_and_jtis() -> None:
    runtime_hooks.install()
    drawn = _restored_containers(run_hooks=True)
    for name in ("random", "jitter", "jti", "uuid"):
        assert len({d[name] for d in drawn}) == len(drawn), name


def test_network_clients_are_created_again_after_a_restore(local_aws: Any, upstash: Any) -> None:
    from mindly.cache.client import get_redis
    from mindly.store.models import StudyTable
    from mindly.store.progress import ProgressItem

    runtime_hooks.install()
    redis, table, progress = get_redis(), StudyTable._get_connection(), ProgressItem._get_connection()
    runtime_hooks.run_before_snapshot()
    runtime_hooks.run_after_restore()
    assert get_redis() is not redis
    assert StudyTable._get_connection() is not table and ProgressItem._get_connection() is not progress
    # and the new clients work
    assert get_redis().ping() == "PONG"
    assert ProgressItem.count("USER#nobody", ProgressItem.sk == "PROGRESS") == 0


def test_install_registers_each_hook_once() -> None:
    runtime_hooks.install()
    runtime_hooks.install()
    assert runtime_hooks._AFTER.count(runtime_hooks.forget_network_clients) == 1
    assert runtime_hooks._AFTER.count(runtime_hooks.reseed_random) == 1
    assert runtime_hooks._BEFORE.count(runtime_hooks.forget_network_clients) == 1
