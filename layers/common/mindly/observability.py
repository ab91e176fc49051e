"""The one Logger and the business metrics of a function container; everything imports them from here.

Each invocation owns its log keys and its metrics. The Lambda context (cold start, function name,
function request id, ...) and, in an HTTP function, the request id are bound to the invocation's
own ``contextvars`` context, never to the Logger the process shares: the local stack runs every
function in one process, with requests and SQS polls side by side in tasks and threads, and keys
appended to the shared Logger stuck to whatever ran next there. Tasks, anyio's worker threads (sync
routes) and ``contextvars.copy_context().run`` carry the context along.

Metrics are CloudWatch Embedded Metric Format blobs (Powertools' EMF provider, namespace ``Mindly``,
dimension ``service``), one ``EphemeralMetrics`` per dimension set of the invocation (Powertools'
``Metrics`` shares one set between every instance of the process), printed once when the
invocation ends. Recording or flushing a metric never fails a request.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

SERVICE = "mindly"
NAMESPACE = "Mindly"

logger = Logger(service=SERVICE)

P = ParamSpec("P")
R = TypeVar("R")
Dimensions = tuple[tuple[str, str], ...]


class _Invocation:
    """One invocation's Lambda context and metrics (see the module docstring)."""

    def __init__(self, context: Any, cold_start: bool) -> None:
        self.context = context
        self.cold_start = cold_start
        self.function_name = str(getattr(context, "function_name", None) or "unknown")
        self._metrics: dict[Dimensions, EphemeralMetrics] = {}
        self._lock = threading.Lock()  # a route's thread and an explanation's thread both record
        self._flushed = False

    def log_keys(self) -> dict[str, Any]:
        """The keys Powertools' ``inject_lambda_context`` would add, under the same names."""
        context = self.context
        return {"cold_start": self.cold_start, "function_name": self.function_name,
                "function_memory_size": getattr(context, "memory_limit_in_mb", None),
                "function_arn": getattr(context, "invoked_function_arn", None),
                "function_request_id": getattr(context, "aws_request_id", None)}

    def add(self, name: str, value: float, dimensions: Dimensions) -> None:
        with self._lock:
            if self._flushed:  # a late recording (an explanation that outlived its request): on its own
                late = _metric_set(dimensions)
                late.add_metric(name=name, unit=MetricUnit.Count, value=value)
                late.flush_metrics(raise_on_empty_metrics=False)
                return
            metric_set = self._metrics.get(dimensions)
            if metric_set is None:
                metric_set = self._metrics[dimensions] = _metric_set(dimensions)
            metric_set.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def flush(self) -> None:
        """Print each dimension set's blob once; only sets that hold metrics exist, so an invocation
        that recorded nothing prints nothing (and no "no metrics" warning)."""
        with self._lock:
            self._flushed = True
            metric_sets, self._metrics = list(self._metrics.values()), {}
        for metric_set in metric_sets:
            if not metric_set.metric_set:  # its only metric could not be added
                continue
            try:
                metric_set.flush_metrics(raise_on_empty_metrics=False)
            except Exception as exc:  # metrics never fail an invocation
                logger.warning("metrics not flushed", extra={"error": type(exc).__name__})


def _metric_set(dimensions: Dimensions) -> EphemeralMetrics:
    metric_set = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    for name, value in dimensions:
        metric_set.add_dimension(name=name, value=value)
    return metric_set


_current: contextvars.ContextVar[_Invocation | None] = contextvars.ContextVar("mindly_invocation", default=None)
_started: set[str] = set()  # the functions that have run in this process: later runs are warm
_started_lock = threading.Lock()


def _is_cold_start(function_name: str) -> bool:
    with _started_lock:
        cold = function_name not in _started
        _started.add(function_name)
        return cold


@contextlib.contextmanager
def log_keys(**keys: Any) -> Iterator[None]:
    """``keys`` on every log line written in this context (and the tasks and threads it starts)
    until the block ends; other contexts never see them."""
    before = dict(logger.thread_safe_get_current_keys())
    logger.thread_safe_append_keys(**keys)
    try:
        yield
    finally:
        # Replace the mapping rather than remove keys from it: Powertools' remove mutates a dict
        # that copied contexts (other threads) may share.
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(**before)


@contextlib.contextmanager
def invocation(context: Any) -> Iterator[None]:
    """The span of one Lambda invocation: its context on every log line, its metrics flushed at the
    end. Inside an invocation of the same ``context`` (the HTTP middleware under the handler's own
    wrapper) it adds nothing."""
    current = _current.get()
    if current is not None and (context is None or current.context is context):
        yield
        return
    run = _Invocation(context, _is_cold_start(str(getattr(context, "function_name", None) or "unknown")))
    token = _current.set(run)
    try:
        with log_keys(**run.log_keys()):
            yield
    finally:
        run.flush()
        _current.reset(token)


def lambda_entry(handler: Callable[P, R]) -> Callable[P, R]:
    """Wrap a Lambda handler ``(event, context, ...)`` in ``invocation(context)``: every function's
    entry point (``mindly.http.app.lambda_handler`` for the API functions)."""

    def invoke(*args: P.args, **kwargs: P.kwargs) -> R:
        context = kwargs.get("context", args[1] if len(args) > 1 else None)
        with invocation(context):
            return handler(*args, **kwargs)

    return functools.update_wrapper(invoke, handler, updated=())


def current_function() -> str:
    """The name of the function the current invocation runs ("unknown" outside one)."""
    run = _current.get()
    return run.function_name if run is not None else "unknown"


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """Add ``value`` to the business metric ``name`` (unit Count) of the current invocation, under
    ``dimensions`` besides ``service``. Outside an invocation (scripts, imports) nothing is
    recorded. Never raises: a metric is not worth a failed request."""
    try:
        run = _current.get()
        if run is not None:
            run.add(name, value, tuple(sorted(dimensions.items())))
    except Exception as exc:
        logger.warning("metric not recorded", extra={"metric": name, "error": type(exc).__name__})
