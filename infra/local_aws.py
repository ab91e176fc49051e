"""Local AWS for the dev server and the tests: moto's server in this process, with the tables and
queues of template.yaml.

    aws = bootstrap(prefix="mindly-local")   # start moto, point the environment at it, create all
    ...                                      # boto3 / pynamodb now talk to aws.endpoint_url
    aws.stop()

The pieces are usable on their own: ``start_moto`` (server only, touches no global state),
``configure_env`` (environment variables only), ``create_tables`` / ``create_queues`` (idempotent,
from ``infra.cfn``'s reading of template.yaml) and ``reset`` (moto's reset API: forget everything).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from moto.server import ThreadedMotoServer

from infra import cfn

DEFAULT_REGION = "ap-south-1"
DUMMY_CREDENTIAL = "testing"
# moto's default account unless MOTO_ACCOUNT_ID says otherwise; it appears in queue URLs and ARNs.
DEFAULT_ACCOUNT_ID = "123456789012"


def _region() -> str:
    # Same precedence as mindly.config.Settings.aws_region: AWS_REGION, then AWS_DEFAULT_REGION.
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def _client(service: str, endpoint_url: str) -> Any:
    import boto3

    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint_url,
        region_name=_region(),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or DUMMY_CREDENTIAL,
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or DUMMY_CREDENTIAL,
    )


# --- the server --------------------------------------------------------------------------------------

_DYNAMODB_LOCK = threading.RLock()


def serialize_dynamodb_requests() -> None:
    """Make moto's DynamoDB apply one request at a time, as DynamoDB's own atomicity promises.

    moto's server answers each request in its own thread and its DynamoDB backend takes no lock,
    so a conditional write could pass its check while another request is halfway through a
    transaction, and a read could see half of a transaction: races that DynamoDB itself never
    allows. Holding one lock per request gives the emulator DynamoDB's guarantees (each
    request, transactions included, is atomic), which the concurrency tests rely on.
    """
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "_mindly_serialized", False):
        return
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _DYNAMODB_LOCK:
            return original(self)

    call_action._mindly_serialized = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def copy_each_table_once_per_transaction() -> None:
    """Make moto's TransactWriteItems back up each table once, not once per item.

    moto 5 deep-copies the whole table for every item of a transaction (to roll back on failure),
    though one copy per table is all the rollback needs; a submit (7-10 items) cost ~0.3 s under
    the lock above and stalled every other request behind it (bench/load.py). The copies are
    memoised for the duration of one call. Safe only because requests are serialised: the module's
    ``copy`` is swapped while the call runs.
    """
    import copy

    from moto.dynamodb import models

    if getattr(models.DynamoDBBackend.transact_write_items, "_mindly_once", False):
        return
    original = models.DynamoDBBackend.transact_write_items

    class _OncePerCall:
        def __init__(self) -> None:
            self.copies: dict[int, Any] = {}

        def deepcopy(self, value: Any, memo: Any = None) -> Any:
            if not isinstance(value, models.Table):  # item copies (update_item) stay as they were
                return copy.deepcopy(value, memo)
            if id(value) not in self.copies:
                self.copies[id(value)] = copy.deepcopy(value, memo)
            return self.copies[id(value)]

    def transact_write_items(self: Any, transact_items: Any) -> Any:
        with _DYNAMODB_LOCK:
            models.copy = _OncePerCall()  # type: ignore[assignment]
            try:
                return original(self, transact_items)
            finally:
                models.copy = copy

    transact_write_items._mindly_once = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def start_moto(port: int = 0) -> tuple[ThreadedMotoServer, str]:
    """Start moto's server on 127.0.0.1 in a daemon thread; returns it and its endpoint URL.

    ``port=0`` lets the OS choose a free port while the server binds (no window in which another
    process could take it); the chosen port is read back from the server.
    """
    if port:
        # The server binds in its own thread and start() would wait forever if that failed:
        # check the port here so a clash is an error, not a hang.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as exc:
                raise RuntimeError(f"cannot start moto on 127.0.0.1:{port}: {exc}") from exc
    serialize_dynamodb_requests()
    copy_each_table_once_per_transaction()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _host, bound_port = server.get_host_and_port()
    return server, f"http://127.0.0.1:{bound_port}"


def reset(endpoint_url: str) -> None:
    """Forget every resource and item moto holds (``POST /moto-api/reset``)."""
    request = urllib.request.Request(f"{endpoint_url.rstrip('/')}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


# --- names and environment ---------------------------------------------------------------------------

def _kebab(logical_id: str, suffix: str) -> str:
    stem = logical_id[: -len(suffix)] if logical_id.endswith(suffix) and logical_id != suffix else logical_id
    return re.sub(r"(?<!^)(?=[A-Z])", "-", stem).lower()


def default_names(prefix: str, template: dict[str, Any] | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Local resource names: ``({"UsersTable": "<prefix>-users", ...}, {"RoadmapQueue":
    "<prefix>-roadmap", "RoadmapDeadLetterQueue": "<prefix>-roadmap-dead-letter"})``."""
    template = template if template is not None else cfn.load_template()
    tables = {logical_id: f"{prefix}-{_kebab(logical_id, 'Table')}" for logical_id in cfn.table_definitions(template)}
    queues = {}
    for queue in cfn.queue_definitions(template):
        name = f"{prefix}-{_kebab(queue.logical_id, 'Queue')}"
        if queue.attributes.get("FifoQueue") == "true":
            name += ".fifo"
        queues[queue.logical_id] = name
    return tables, queues


def queue_url(endpoint_url: str, queue_name: str) -> str:
    """The URL moto's server gives a queue of this name (default account unless MOTO_ACCOUNT_ID)."""
    account = os.environ.get("MOTO_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID
    return f"{endpoint_url.rstrip('/')}/{account}/{queue_name}"


def configure_env(endpoint_url: str, prefix: str) -> dict[str, str]:
    """Point this process's AWS clients at ``endpoint_url`` and name the resources after ``prefix``.

    Sets AWS_ENDPOINT_URL_DYNAMODB / _SQS / _EVENTBRIDGE, AWS_DEFAULT_REGION (unless set), dummy
    credentials (only when none are set) and every table, queue and event-bus variable the
    template's functions read (USERS_TABLE=<prefix>-users, ..., ROADMAP_QUEUE_URL,
    STREAK_EVENT_BUS). Returns what it set.
    """
    template = cfn.load_template()
    tables, queues = default_names(prefix, template)
    values: dict[str, str] = {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint_url,
        "AWS_ENDPOINT_URL_SQS": endpoint_url,
        "AWS_ENDPOINT_URL_EVENTBRIDGE": endpoint_url,
    }
    if not os.environ.get("AWS_DEFAULT_REGION"):
        values["AWS_DEFAULT_REGION"] = DEFAULT_REGION
    if not os.environ.get("AWS_ACCESS_KEY_ID"):
        values["AWS_ACCESS_KEY_ID"] = DUMMY_CREDENTIAL
    if not os.environ.get("AWS_SECRET_ACCESS_KEY"):
        values["AWS_SECRET_ACCESS_KEY"] = DUMMY_CREDENTIAL
    for logical_id, variable in cfn.table_env_vars(template).items():
        values[variable] = tables[logical_id]
    for logical_id, variable in cfn.queue_env_vars(template).items():
        values[variable] = queue_url(endpoint_url, queues[logical_id])
    for logical_id, variable in cfn.event_bus_env_vars(template).items():
        values[variable] = event_bus_name(prefix, logical_id)
    os.environ.update(values)
    return values


def event_bus_name(prefix: str, logical_id: str) -> str:
    """The local name of an event bus of the template: ``<prefix>-streak-event``."""
    return f"{prefix}-{_kebab(logical_id, 'Bus')}"


# --- resources ---------------------------------------------------------------------------------------

def create_tables(endpoint_url: str, names: dict[str, str]) -> dict[str, str]:
    """Create the template's tables named in ``names`` (logical id -> table name), TTL included.

    A table that already exists is left as it is. Returns ``names`` restricted to known tables.
    """
    definitions = cfn.table_definitions(cfn.load_template())
    unknown = set(names) - set(definitions)
    if unknown:
        raise ValueError(f"not tables of template.yaml: {sorted(unknown)}")
    client = _client("dynamodb", endpoint_url)
    for logical_id, table_name in names.items():
        definition = definitions[logical_id]
        try:
            client.create_table(TableName=table_name, **definition.create_kwargs)
        except client.exceptions.ResourceInUseException:
            continue  # already there: leave it alone
        client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1})
        if definition.ttl_attribute:
            client.update_time_to_live(
                TableName=table_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": definition.ttl_attribute},
            )
    return dict(names)


def create_queues(endpoint_url: str, names: dict[str, str]) -> dict[str, str]:
    """Create the template's queues named in ``names`` (logical id -> queue name), dead-letter
    queues first so the redrive policy can name them. A queue that exists is left as it is.

    Returns logical id -> queue URL.
    """
    definitions = cfn.queue_definitions(cfn.load_template())
    known = {queue.logical_id for queue in definitions}
    unknown = set(names) - known
    if unknown:
        raise ValueError(f"not queues of template.yaml: {sorted(unknown)}")
    client = _client("sqs", endpoint_url)
    urls: dict[str, str] = {}
    for queue in definitions:
        if queue.logical_id not in names:
            continue
        name = names[queue.logical_id]
        try:
            urls[queue.logical_id] = client.get_queue_url(QueueName=name)["QueueUrl"]
            continue  # already there: leave it alone
        except client.exceptions.QueueDoesNotExist:
            pass
        attributes = dict(queue.attributes)
        if queue.dead_letter_target is not None:
            if queue.dead_letter_target not in urls:
                raise ValueError(f"{queue.logical_id} redrives to {queue.dead_letter_target}: name that queue too")
            dlq_arn = client.get_queue_attributes(
                QueueUrl=urls[queue.dead_letter_target], AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(queue.max_receive_count)}
            )
        urls[queue.logical_id] = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return urls


def create_event_buses(endpoint_url: str, prefix: str) -> dict[str, str]:
    """Create the template's custom event buses (idempotent); returns logical id -> bus name."""
    client = _client("events", endpoint_url)
    names = {}
    for logical_id in cfn.event_buses(cfn.load_template()):
        name = event_bus_name(prefix, logical_id)
        with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
            client.create_event_bus(Name=name)
        names[logical_id] = name
    return names


# --- all together ------------------------------------------------------------------------------------

@dataclass
class LocalAws:
    """A running moto server holding the template's tables and queues."""

    server: ThreadedMotoServer
    endpoint_url: str
    prefix: str
    table_names: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    queue_names: dict[str, str] = field(default_factory=dict)
    event_buses: dict[str, str] = field(default_factory=dict)

    def create(self) -> LocalAws:
        """(Re)create every table and queue that is missing."""
        create_tables(self.endpoint_url, self.table_names)
        self.queue_urls = create_queues(self.endpoint_url, self.queue_names)
        self.event_buses = create_event_buses(self.endpoint_url, self.prefix)
        return self

    def reset(self) -> LocalAws:
        """Empty state: drop everything moto holds, then create the tables and queues again."""
        reset(self.endpoint_url)
        return self.create()

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> LocalAws:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def bootstrap(prefix: str = "mindly-local", port: int = 0) -> LocalAws:
    """Start moto, configure this process's environment for it and create all tables and queues."""
    server, endpoint_url = start_moto(port)
    try:
        configure_env(endpoint_url, prefix)
        tables, queues = default_names(prefix)
        aws = LocalAws(server, endpoint_url, prefix, table_names=tables, queue_names=queues).create()
        # The URLs moto actually issued (configure_env predicted them; this makes sure).
        for logical_id, variable in cfn.queue_env_vars(cfn.load_template()).items():
            os.environ[variable] = aws.queue_urls[logical_id]
    except BaseException:
        server.stop()
        raise
    return aws
