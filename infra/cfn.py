"""Read template.yaml for local tooling: tables, queues, routes and event sources as plain data.

The template is the single description of what gets deployed; the local stack, the tests and the
benchmarks derive everything they need from it through this module instead of repeating it.

* ``load_template`` parses CloudFormation/SAM YAML, turning short-form tags (``!Ref``, ``!GetAtt``,
  ``!Sub``, ...) into their long-form dicts (``{"Ref": ...}``, ``{"Fn::GetAtt": [...]}``).
* ``table_definitions`` / ``queue_definitions`` give boto3 ``create_table`` / ``create_queue``
  arguments, keeping only what shapes the data and dropping deploy-only settings (PITR, SSE,
  deletion protection, tags, names); ``bucket_definitions`` does the same for S3 buckets.
* ``http_routes``, ``sqs_consumers`` and ``scheduled_functions`` list the functions' event sources.
* ``resource_env_vars`` says which environment variable carries which table or queue.
* ``condition_holds`` evaluates a template condition at the parameters' defaults (or given values):
  a function whose ``Condition`` does not hold there has no event sources locally, as a stack
  deployed with those parameters has none (template.yaml's DocsFunction, off unless ServeApiDocs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"

TABLE_TYPE = "AWS::DynamoDB::Table"
QUEUE_TYPE = "AWS::SQS::Queue"
FUNCTION_TYPE = "AWS::Serverless::Function"
EVENT_BUS_TYPE = "AWS::Events::EventBus"
BUCKET_TYPE = "AWS::S3::Bucket"


# --- YAML loading ------------------------------------------------------------------------------------

class TemplateLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation's short-form intrinsic functions.

    Timestamps are not resolved: CloudFormation treats ``2012-10-17`` as a string, and so do we.
    """


TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

# Short forms whose long form is not ``Fn::<Name>``.
_PLAIN_KEYS = {"Ref": "Ref", "Condition": "Condition"}


def _construct_intrinsic(loader: TemplateLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "GetAtt" and isinstance(value, str):
        # "!GetAtt Resource.Attribute.Maybe.Dotted" -> ["Resource", "Attribute.Maybe.Dotted"]
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    key = _PLAIN_KEYS.get(tag_suffix, f"Fn::{tag_suffix}")
    return {key: value}


TemplateLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: str | Path | None = None) -> dict[str, Any]:
    """Parse a CloudFormation/SAM template (default: the repository's template.yaml)."""
    template_path = Path(path) if path is not None else DEFAULT_TEMPLATE
    with template_path.open(encoding="utf-8") as stream:
        template = yaml.load(stream, Loader=TemplateLoader)  # a SafeLoader subclass: no arbitrary objects
    if not isinstance(template, dict):
        raise ValueError(f"{template_path} is not a template (top level is not a mapping)")
    return template


# --- helpers -----------------------------------------------------------------------------------------

def _resources(template: Mapping[str, Any], resource_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in (template.get("Resources") or {}).items():
        if isinstance(resource, dict) and resource.get("Type") == resource_type:
            yield logical_id, resource


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and (
        next(iter(value)) in ("Ref", "Condition") or next(iter(value)).startswith("Fn::"))


def _literal(value: Any, where: str) -> Any:
    """``value`` with no intrinsic function anywhere inside; local tooling cannot resolve them."""
    if _is_intrinsic(value):
        raise ValueError(f"{where}: {value!r} needs CloudFormation to resolve; use a literal value")
    if isinstance(value, dict):
        return {key: _literal(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [_literal(item, f"{where}[{index}]") for index, item in enumerate(value)]
    return value


def referenced_logical_id(value: Any) -> str | None:
    """The resource a ``{"Ref": id}`` or ``{"Fn::GetAtt": [id, attr]}`` points at, else None."""
    if isinstance(value, dict) and len(value) == 1:
        if "Ref" in value and isinstance(value["Ref"], str):
            return value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            if isinstance(target, str):
                return target.partition(".")[0]
            if isinstance(target, list) and target and isinstance(target[0], str):
                return target[0]
    return None


# --- DynamoDB ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TableDef:
    """One ``AWS::DynamoDB::Table``: ``create_kwargs`` is everything boto3 ``create_table`` needs
    except ``TableName``; ``ttl_attribute`` is set when the table expires items (enable it with
    ``update_time_to_live`` after creating the table)."""

    logical_id: str
    create_kwargs: dict[str, Any]
    ttl_attribute: str | None


# Index properties create_table understands (CloudFormation adds e.g. ContributorInsightsSpecification).
_INDEX_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput", "OnDemandThroughput")


def table_definitions(template: Mapping[str, Any]) -> dict[str, TableDef]:
    """Every DynamoDB table of the template, by logical id, as create_table arguments."""
    tables: dict[str, TableDef] = {}
    for logical_id, resource in _resources(template, TABLE_TYPE):
        props = resource.get("Properties") or {}
        where = f"{logical_id}.Properties"
        kwargs: dict[str, Any] = {
            "KeySchema": _literal(props["KeySchema"], f"{where}.KeySchema"),
            "AttributeDefinitions": _literal(props["AttributeDefinitions"], f"{where}.AttributeDefinitions"),
            "BillingMode": _literal(props.get("BillingMode", "PROVISIONED"), f"{where}.BillingMode"),
        }
        if kwargs["BillingMode"] == "PROVISIONED":
            kwargs["ProvisionedThroughput"] = _literal(props["ProvisionedThroughput"],
                                                       f"{where}.ProvisionedThroughput")
        for list_key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            indexes = _literal(props.get(list_key) or [], f"{where}.{list_key}")
            if indexes:
                kwargs[list_key] = [{key: index[key] for key in _INDEX_KEYS if key in index}
                                    for index in indexes]
        if "StreamSpecification" in props:
            view_type = _literal(props["StreamSpecification"], f"{where}.StreamSpecification")["StreamViewType"]
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view_type}
        ttl = props.get("TimeToLiveSpecification") or {}
        ttl_attribute = None
        if _literal(ttl.get("Enabled", False), f"{where}.TimeToLiveSpecification.Enabled") in (True, "true"):
            ttl_attribute = _literal(ttl["AttributeName"], f"{where}.TimeToLiveSpecification.AttributeName")
        tables[logical_id] = TableDef(logical_id, kwargs, ttl_attribute)
    return tables


# --- SQS ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueDef:
    """One ``AWS::SQS::Queue``: ``attributes`` for boto3 ``create_queue`` (string values), and its
    dead-letter queue (logical id) with the receive count that moves a message there."""

    logical_id: str
    attributes: dict[str, str]
    dead_letter_target: str | None = None
    max_receive_count: int | None = None


# Queue properties that change how messages behave (SSE and KMS settings are deploy-only).
_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds", "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope",
    "FifoThroughputLimit",
)


def _attribute_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def queue_definitions(template: Mapping[str, Any]) -> list[QueueDef]:
    """Every SQS queue of the template, dead-letter queues before the queues that use them."""
    found: dict[str, QueueDef] = {}
    for logical_id, resource in _resources(template, QUEUE_TYPE):
        props = resource.get("Properties") or {}
        where = f"{logical_id}.Properties"
        attributes = {name: _attribute_string(_literal(props[name], f"{where}.{name}"))
                      for name in _QUEUE_ATTRIBUTES if name in props}
        target = count = None
        redrive = props.get("RedrivePolicy")
        if redrive:
            target = referenced_logical_id(redrive.get("deadLetterTargetArn"))
            if target is None:
                raise ValueError(f"{where}.RedrivePolicy: deadLetterTargetArn must be !GetAtt <Queue>.Arn")
            count = int(_literal(redrive["maxReceiveCount"], f"{where}.RedrivePolicy.maxReceiveCount"))
        found[logical_id] = QueueDef(logical_id, attributes, target, count)

    ordered: list[QueueDef] = []
    placed: set[str] = set()
    visiting: set[str] = set()

    def place(queue: QueueDef) -> None:
        if queue.logical_id in placed:
            return
        if queue.logical_id in visiting:
            raise ValueError(f"redrive cycle through {queue.logical_id}")
        visiting.add(queue.logical_id)
        if queue.dead_letter_target is not None:
            if queue.dead_letter_target not in found:
                raise ValueError(f"{queue.logical_id}: dead-letter queue {queue.dead_letter_target} is not "
                                 "an AWS::SQS::Queue of this template")
            place(found[queue.dead_letter_target])
        visiting.discard(queue.logical_id)
        placed.add(queue.logical_id)
        ordered.append(queue)

    for queue in found.values():
        place(queue)
    return ordered


# --- S3 ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BucketDef:
    """One ``AWS::S3::Bucket``, as far as a local emulator can hold it: versioning on or off, the
    public access block and the default encryption (boto3 ``put_public_access_block`` and
    ``put_bucket_encryption`` arguments, or None).
    Deploy-only settings (lifecycle, CORS, ownership, the bucket policy) stay with CloudFormation:
    the emulator expires nothing, and the policy's TLS rule would refuse its plain-HTTP endpoint."""

    logical_id: str
    versioned: bool = False
    public_access_block: dict[str, Any] | None = None
    encryption: dict[str, Any] | None = None


def bucket_definitions(template: Mapping[str, Any]) -> dict[str, BucketDef]:
    """Every S3 bucket of the template, by logical id."""
    buckets: dict[str, BucketDef] = {}
    for logical_id, resource in _resources(template, BUCKET_TYPE):
        props = resource.get("Properties") or {}
        where = f"{logical_id}.Properties"
        versioning = _literal(props.get("VersioningConfiguration") or {}, f"{where}.VersioningConfiguration")
        block = props.get("PublicAccessBlockConfiguration")
        encryption = props.get("BucketEncryption")
        rules = _literal(encryption, f"{where}.BucketEncryption")["ServerSideEncryptionConfiguration"] \
            if encryption else []
        buckets[logical_id] = BucketDef(
            logical_id,
            versioned=versioning.get("Status") == "Enabled",
            public_access_block=_literal(block, f"{where}.PublicAccessBlockConfiguration") if block else None,
            # CloudFormation's rule key is ServerSideEncryptionByDefault; S3's API calls it
            # ApplyServerSideEncryptionByDefault.
            encryption={"Rules": [{("ApplyServerSideEncryptionByDefault" if key == "ServerSideEncryptionByDefault"
                                    else key): value for key, value in rule.items()} for rule in rules]}
            if rules else None,
        )
    return buckets


def bucket_env_vars(template: Mapping[str, Any]) -> dict[str, str]:
    """Bucket logical id -> env var holding its name, e.g. ``{"MediaBucket": "MEDIA_BUCKET"}``."""
    return resource_env_vars(template, BUCKET_TYPE)


# --- EventBridge --------------------------------------------------------------------------------------

def event_buses(template: Mapping[str, Any]) -> list[str]:
    """The logical ids of the template's custom event buses, in template order."""
    return [logical_id for logical_id, _resource in _resources(template, EVENT_BUS_TYPE)]


def event_bus_env_vars(template: Mapping[str, Any]) -> dict[str, str]:
    """Event bus logical id -> env var holding its name, e.g. ``{"StreakEventBus": "STREAK_EVENT_BUS"}``."""
    return resource_env_vars(template, EVENT_BUS_TYPE)


# --- conditions ----------------------------------------------------------------------------------------

def _parameter_value(template: Mapping[str, Any], name: str, given: Mapping[str, str]) -> str:
    if name in given:
        return given[name]
    parameter = (template.get("Parameters") or {}).get(name)
    if parameter is None or "Default" not in parameter:
        raise ValueError(f"parameter {name} has no default: give its value to evaluate a condition on it")
    default = parameter["Default"]
    return ("true" if default else "false") if isinstance(default, bool) else str(default)


def _condition_value(template: Mapping[str, Any], value: Any, given: Mapping[str, str]) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        [(key, operand)] = value.items()
        if key == "Ref":
            return _parameter_value(template, operand, given)
        if key == "Condition":
            return condition_holds(template, operand, given)
        if key == "Fn::Equals":
            left, right = (_condition_value(template, item, given) for item in operand)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not _condition_value(template, operand[0], given)
        if key == "Fn::And":
            return all(_condition_value(template, item, given) for item in operand)
        if key == "Fn::Or":
            return any(_condition_value(template, item, given) for item in operand)
        raise ValueError(f"{key} cannot be evaluated in a condition locally")
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def condition_holds(template: Mapping[str, Any], name: str, parameters: Mapping[str, str] | None = None) -> bool:
    """Whether the template's condition ``name`` is true with these parameter values (each one not
    given takes its ``Default``; one with neither is an error)."""
    conditions = template.get("Conditions") or {}
    if name not in conditions:
        raise ValueError(f"no condition {name} in the template")
    return bool(_condition_value(template, conditions[name], parameters or {}))


# --- functions and their events ----------------------------------------------------------------------

@dataclass(frozen=True)
class FunctionDef:
    """An ``AWS::Serverless::Function`` with Globals applied to CodeUri, Handler and Environment."""

    logical_id: str
    code_uri: str
    handler: str
    environment: dict[str, Any] = field(default_factory=dict)
    events: dict[str, Any] = field(default_factory=dict)
    condition: str | None = None  # the resource's Condition: deployed only when it holds

    @property
    def module(self) -> str:
        """The handler's module (``app`` for ``app.handler``)."""
        return self.handler.rpartition(".")[0]


def _function_globals(template: Mapping[str, Any]) -> dict[str, Any]:
    return ((template.get("Globals") or {}).get("Function") or {})


def functions(template: Mapping[str, Any]) -> list[FunctionDef]:
    """Every serverless function, in template order."""
    defaults = _function_globals(template)
    global_env = ((defaults.get("Environment") or {}).get("Variables") or {})
    found = []
    for logical_id, resource in _resources(template, FUNCTION_TYPE):
        props = resource.get("Properties") or {}
        code_uri = props.get("CodeUri", defaults.get("CodeUri"))
        handler = props.get("Handler", defaults.get("Handler"))
        if not isinstance(code_uri, str) or not isinstance(handler, str):
            raise ValueError(f"{logical_id}: CodeUri and Handler must be literal strings")
        env = {**global_env, **((props.get("Environment") or {}).get("Variables") or {})}
        condition = resource.get("Condition")
        found.append(FunctionDef(logical_id, code_uri, handler, env, dict(props.get("Events") or {}),
                                 condition if isinstance(condition, str) else None))
    return found


def _events_of(template: Mapping[str, Any], *types: str,
               parameters: Mapping[str, str] | None = None) -> Iterator[tuple[FunctionDef, str, dict[str, Any]]]:
    """The events of these types of every function deployed with ``parameters`` (defaults otherwise)."""
    for function in functions(template):
        if function.condition is not None and not condition_holds(template, function.condition, parameters):
            continue
        for name, event in function.events.items():
            if isinstance(event, dict) and event.get("Type") in types:
                yield function, name, event


@dataclass(frozen=True)
class Route:
    """One HttpApi route of a function. ``method`` is upper case, possibly ``ANY``; ``path`` may
    hold ``{param}`` and a trailing ``{proxy+}``; a catch-all event has path ``$default``."""

    function_logical_id: str
    code_uri: str
    handler: str
    method: str
    path: str

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when this route serves ``method path``, else None."""
        if self.method not in ("ANY", method.upper()):
            return None
        if self.path == "$default":
            return {}
        pattern, names = _path_pattern(self.path)
        found = pattern.fullmatch(path)
        if found is None:
            return None
        return dict(zip(names, found.groups(), strict=True))

    @property
    def key(self) -> str:
        """The route key, as API Gateway names the route in the event (``routeKey``)."""
        return self.path if self.path == "$default" else f"{self.method} {self.path}"

    @property
    def precedence(self) -> tuple[int, int, int, int]:
        """Sort key, most specific first, following API Gateway's route selection: fully literal
        paths, then paths with parameters, then greedy ones, then ``$default``; longer literal
        prefixes first; a specific method before ANY."""
        if self.path == "$default":
            return (3, 0, 0, 1)
        greedy = "+}" in self.path
        params = self.path.count("{")
        kind = 2 if greedy else (1 if params else 0)
        literal_length = len(re.sub(r"\{[^}]*\}", "", self.path))
        return (kind, -literal_length, params, 1 if self.method == "ANY" else 0)


def _path_pattern(path: str) -> tuple[re.Pattern[str], list[str]]:
    """A regex for a route path and the names of its parameters, in order. ``{name}`` matches one
    path segment, ``{name+}`` (greedy, last) matches the rest of the path."""
    pattern, names = "", []
    for piece in re.split(r"(\{[^}]+\})", path):
        if piece.startswith("{") and piece.endswith("+}"):
            names.append(piece[1:-2])
            pattern += "(.+)"
        elif piece.startswith("{"):
            names.append(piece[1:-1])
            pattern += "([^/]+)"
        else:
            pattern += re.escape(piece)
    return re.compile(pattern), names


def http_routes(template: Mapping[str, Any], parameters: Mapping[str, str] | None = None) -> list[Route]:
    """Every HttpApi event of every function deployed with ``parameters`` (their defaults unless
    given), in template order. An event with neither Path nor Method is the API's ``$default`` route
    (SAM's reading too), matched last (``Route.precedence``)."""
    routes = []
    for function, _name, event in _events_of(template, "HttpApi", parameters=parameters):
        props = event.get("Properties") or {}
        method = str(props.get("Method", "ANY")).upper()
        path = props.get("Path", "$default")
        if method in ("X-AMAZON-APIGATEWAY-ANY-METHOD", "*"):
            method = "ANY"
        routes.append(Route(function.logical_id, function.code_uri, function.handler, method, path))
    return routes


def match_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route API Gateway would pick for ``method path`` and its path parameters."""
    for route in sorted(routes, key=lambda r: r.precedence):
        params = route.match(method, path)
        if params is not None:
            return route, params
    return None


@dataclass(frozen=True)
class SqsConsumer:
    """A function fed by an SQS queue of this template."""

    function_logical_id: str
    code_uri: str
    handler: str
    queue_logical_id: str
    batch_size: int
    report_batch_item_failures: bool = False


def sqs_consumers(template: Mapping[str, Any]) -> list[SqsConsumer]:
    """Every SQS event source whose queue is a resource of this template."""
    consumers = []
    for function, name, event in _events_of(template, "SQS"):
        props = event.get("Properties") or {}
        queue = referenced_logical_id(props.get("Queue"))
        if queue is None:
            raise ValueError(f"{function.logical_id}.Events.{name}: Queue must be !GetAtt <Queue>.Arn")
        consumers.append(SqsConsumer(
            function.logical_id, function.code_uri, function.handler, queue,
            int(props.get("BatchSize", 10)),
            "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
        ))
    return consumers


@dataclass(frozen=True)
class ScheduledFunction:
    """A function run on a schedule (``Schedule`` = EventBridge rule, ``ScheduleV2`` = Scheduler)."""

    function_logical_id: str
    code_uri: str
    handler: str
    event_name: str
    expression: str
    timezone: str | None = None
    input: str | None = None
    enabled: bool = True


def scheduled_functions(template: Mapping[str, Any]) -> list[ScheduledFunction]:
    """Every Schedule / ScheduleV2 event of every function."""
    found = []
    for function, name, event in _events_of(template, "Schedule", "ScheduleV2"):
        props = event.get("Properties") or {}
        expression = props.get("Schedule") if event["Type"] == "Schedule" else props.get("ScheduleExpression")
        state = props.get("State")
        enabled = props.get("Enabled", True) is not False and state != "DISABLED"
        found.append(ScheduledFunction(
            function.logical_id, function.code_uri, function.handler, name, str(expression),
            props.get("ScheduleExpressionTimezone"), props.get("Input"), enabled,
        ))
    return found


# --- environment -------------------------------------------------------------------------------------

def resource_env_vars(template: Mapping[str, Any], resource_type: str | None = None) -> dict[str, str]:
    """logical id -> the environment variable that ``!Ref``s it (Globals first, then functions).

    ``resource_type`` narrows the answer to one kind (e.g. ``AWS::DynamoDB::Table``)."""
    resources = template.get("Resources") or {}
    candidates = [((_function_globals(template).get("Environment") or {}).get("Variables") or {})]
    candidates += [function.environment for function in functions(template)]
    found: dict[str, str] = {}
    for variables in candidates:
        for name, value in variables.items():
            target = value.get("Ref") if isinstance(value, dict) and set(value) == {"Ref"} else None
            if not isinstance(target, str) or target not in resources or target in found:
                continue
            if resource_type is None or resources[target].get("Type") == resource_type:
                found[target] = name
    return found


def table_env_vars(template: Mapping[str, Any]) -> dict[str, str]:
    """Table logical id -> env var holding its name, e.g. ``{"UsersTable": "USERS_TABLE"}``."""
    return resource_env_vars(template, TABLE_TYPE)


def queue_env_vars(template: Mapping[str, Any]) -> dict[str, str]:
    """Queue logical id -> env var holding its URL, e.g. ``{"RoadmapQueue": "ROADMAP_QUEUE_URL"}``."""
    return resource_env_vars(template, QUEUE_TYPE)
