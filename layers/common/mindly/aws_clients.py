"""The botocore clients the layer calls AWS with outside pynamodb (SES v2, SNS, S3): one per
service per container.

A ``ContainerClient`` makes its client on first use, from the settings (region, the service's
endpoint URL, which is the emulator's on the local stack), and keeps it for the container. It is
dropped before a SnapStart snapshot and after each restore: a client kept across a snapshot would
share its connections and the credentials of the snapshotted container with every restored one.

botocore is imported only when a client is first made, so importing a module that holds one costs
no botocore work at cold start (tests/unit/test_cold_imports.py).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from mindly.config import Settings, get_settings

# For a call that answers within seconds (a mail, a push): retried once, and both tries fit in the
# calling request's or job's Timeout.
QUICK_CALLS: Mapping[str, Any] = {"connect_timeout": 2, "read_timeout": 3,
                                  "retries": {"mode": "standard", "max_attempts": 2}}


class ContainerClient:
    """One botocore client for ``service``, made on first call and kept for the container.

    ``endpoint_url`` picks the service's endpoint setting (None: AWS's own endpoint);
    ``config`` holds the ``botocore.config.Config`` arguments (timeouts, retries, S3 addressing),
    or gives them from the settings."""

    def __init__(self, service: str, endpoint_url: Callable[[Settings], str | None],
                 config: Mapping[str, Any] | Callable[[Settings], Mapping[str, Any]] = QUICK_CALLS) -> None:
        self.service = service
        self._endpoint_url = endpoint_url
        self._config = config
        self._client: Any = None
        from mindly import runtime_hooks

        runtime_hooks.before_snapshot(self.forget)
        runtime_hooks.after_restore(self.forget)

    def __call__(self) -> Any:
        """The client, made now when this container has none."""
        if self._client is None:
            import botocore.session
            from botocore.config import Config

            settings = get_settings()
            options = self._config(settings) if callable(self._config) else self._config
            self._client = botocore.session.get_session().create_client(
                self.service, region_name=settings.aws_region, endpoint_url=self._endpoint_url(settings),
                config=Config(**copy.deepcopy(dict(options))))  # botocore keeps what it is given
        return self._client

    def forget(self) -> None:
        """Drop the client (its connections and the credentials it read); the next call makes one."""
        self._client = None
