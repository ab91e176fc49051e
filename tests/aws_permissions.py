"""What each function asks of AWS, recorded while the tests run, against the IAM policy template.yaml
gives it.

moto checks no IAM policy, so a function can pass every test here and still be refused every call
once deployed. This module closes that gap in both directions:

- ``Recorder`` wraps botocore's one entry point for API calls (``BaseClient._make_api_call``, which
  pynamodb, boto3 and our SSM read all go through) and notes, for the function whose handler is
  running (``acting_as``), each IAM action the call needs and the resource it needs it on. A call
  the function's policy does not allow is a *violation*, reported against the test that made it.
- ``granted`` reads every function's policies from the template (its inline statements and the
  managed policies it references) and ``unused_grants`` lists what no recorded call needed.

IAM's view of a call is not botocore's: a TransactWriteItems is authorised as the PutItem,
UpdateItem, DeleteItem and ConditionCheckItem of each of its items, a BatchGetItem as BatchGetItem
on each table it reads, a Query of an index needs the index's ARN, not the table's, and an S3
HeadObject is authorised as s3:GetObject on the object.

A presigned URL is signed without any AWS call, and AWS authorises it only when it is used, by
whoever holds it, as the role that signed it. So the recorder also wraps botocore's
``generate_presigned_url`` and notes, for the signing function, the action the URL will act with
(``put_object`` -> s3:PutObject on that object): a function that hands out URLs its role could not
use fails, and a grant that only a URL uses is not "unused".
"""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
import functools
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from infra import cfn

_ACTING_AS: contextvars.ContextVar[str | None] = contextvars.ContextVar("mindly_acting_as", default=None)

# The AWS services whose calls we authorise here (KMS is reached only through SSM's own decryption).
SERVICES = ("dynamodb", "sqs", "s3", "ses", "sesv2", "sns", "events", "ssm")

_TRANSACT_WRITE_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                           "ConditionCheck": "ConditionCheckItem"}


class Use(NamedTuple):
    """One IAM action on one resource, as this module names resources: a table or queue by its
    logical id (``StudyTable``, ``StudyTable/index/due``), an event bus by logical id, an SSM path as
    ``parameter/<path>``, and anything not in the template as ``?<name>``."""

    action: str
    resource: str


@dataclass(frozen=True)
class Grant:
    """An Allow statement's (action, resource) pair; either may hold IAM wildcards."""

    action: str
    resource: str
    sid: str

    def allows(self, use: Use) -> bool:
        return (fnmatch.fnmatchcase(use.action.lower(), self.action.lower())
                and fnmatch.fnmatchcase(use.resource, self.resource))


# --- which function is running -------------------------------------------------------------------------

@contextlib.contextmanager
def acting_as(function_id: str) -> Iterator[None]:
    """Attribute the AWS calls made inside this block (and the threads it hands its context to) to
    ``function_id``, a function's logical id in template.yaml."""
    token = _ACTING_AS.set(function_id)
    try:
        yield
    finally:
        _ACTING_AS.reset(token)


def attribute_handler(module: Any, function_id: str) -> Any:
    """Make ``module.handler`` run as ``function_id`` (once; the module is shared by the session)."""
    handler = module.handler
    if getattr(handler, "_mindly_function_id", None) == function_id:
        return module

    @functools.wraps(handler)
    def attributed(event: Any, context: Any = None, *args: Any, **kwargs: Any) -> Any:
        with acting_as(function_id):
            return handler(event, context, *args, **kwargs)

    attributed._mindly_function_id = function_id  # type: ignore[attr-defined]
    module.handler = attributed
    return module


def load_function(folder: str) -> Any:
    """A function's handler module (``functions/<folder>``), loaded once as Lambda loads it, with
    its handler's calls attributed to the function."""
    from infra.functions import load_function as load

    function_id = _function_ids(str(cfn.DEFAULT_TEMPLATE))[folder]
    return attribute_handler(load(f"functions/{folder}"), function_id)


@functools.cache
def _function_ids(template_path: str) -> dict[str, str]:
    return {Path(function.code_uri).name: function.logical_id
            for function in cfn.functions(cfn.load_template(template_path))}


def function_ids_by_folder(template: Mapping[str, Any]) -> dict[str, str]:
    """``{"questions": "QuestionsFunction", ...}`` from each function's CodeUri."""
    return {Path(function.code_uri).name: function.logical_id for function in cfn.functions(template)}


# --- what a call needs ----------------------------------------------------------------------------------

class Names:
    """Local resource names (from this process's environment) -> template logical ids."""

    def __init__(self, template: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        self.tables = {environ[var]: lid for lid, var in cfn.table_env_vars(template).items() if var in environ}
        self.queues = {environ[var].rstrip("/").rpartition("/")[2]: lid
                       for lid, var in cfn.queue_env_vars(template).items() if var in environ}
        self.buses = {environ[var]: lid for lid, var in cfn.event_bus_env_vars(template).items() if var in environ}
        self.buckets = {environ[var]: lid for lid, var in cfn.bucket_env_vars(template).items() if var in environ}
        from infra.local_aws import mail_identities

        self.identities = {identity: lid for lid, identity in mail_identities(dict(template)).items()}

    def table(self, name: str, index: str | None = None) -> str:
        base = self.tables.get(name, f"?{name}")
        return f"{base}/index/{index}" if index else base

    def queue(self, url: str) -> str:
        name = url.rstrip("/").rpartition("/")[2]
        return self.queues.get(name, f"?{name}")

    def bucket(self, name: str, key: str | None = None) -> str:
        base = self.buckets.get(name, f"?{name}")
        return f"{base}/{key}" if key is not None else base

    def identity(self, sender: str) -> str:
        """The SES identity a From address sends as: the address's own identity, else its domain's."""
        address = sender.rpartition("<")[2].rstrip(">").strip().lower()
        found = self.identities.get(address) or self.identities.get(address.rpartition("@")[2])
        return found or f"?{address}"

    def bus(self, name: str | None) -> str:
        name = name or "default"
        if name.startswith("arn:"):
            name = name.rpartition("/")[2]
        return self.buses.get(name, f"?{name}")


def _dynamodb_uses(operation: str, params: Mapping[str, Any], names: Names) -> list[Use]:
    if operation == "TransactWriteItems":
        uses = []
        for entry in params.get("TransactItems", []):
            for kind, request in entry.items():
                uses.append(Use(f"dynamodb:{_TRANSACT_WRITE_ACTIONS[kind]}", names.table(request["TableName"])))
        return uses
    if operation == "TransactGetItems":
        return [Use("dynamodb:GetItem", names.table(entry["Get"]["TableName"]))
                for entry in params.get("TransactItems", [])]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [Use(f"dynamodb:{operation}", names.table(table)) for table in params.get("RequestItems", {})]
    if "TableName" in params:
        return [Use(f"dynamodb:{operation}", names.table(params["TableName"], params.get("IndexName")))]
    return [Use(f"dynamodb:{operation}", "*")]  # ListTables and other account-level calls


# S3 operations whose IAM action has another name (the rest are s3:<Operation>).
_S3_ACTIONS = {"HeadObject": "GetObject", "HeadBucket": "ListBucket", "ListObjects": "ListBucket",
               "ListObjectsV2": "ListBucket", "ListObjectVersions": "ListBucketVersions",
               "DeleteObjects": "DeleteObject", "CreateMultipartUpload": "PutObject", "UploadPart": "PutObject",
               "CompleteMultipartUpload": "PutObject"}


def _s3_uses(operation: str, params: Mapping[str, Any], names: Names) -> list[Use]:
    action = f"s3:{_S3_ACTIONS.get(operation, operation)}"
    if "Bucket" not in params:
        return [Use(action, "*")]  # ListBuckets
    if operation == "DeleteObjects":
        return sorted({Use(action, names.bucket(params["Bucket"], entry["Key"]))
                       for entry in params.get("Delete", {}).get("Objects", [])})
    return [Use(action, names.bucket(params["Bucket"], params.get("Key")))]


def _ssm_uses(operation: str, params: Mapping[str, Any]) -> list[Use]:
    if operation == "GetParametersByPath":
        return [Use("ssm:GetParametersByPath", "parameter/" + params["Path"].strip("/"))]
    names = params.get("Names") or [params.get("Name", "")]
    return [Use(f"ssm:{operation}", "parameter/" + str(name).strip("/")) for name in names]


def _sns_resource(params: Mapping[str, Any]) -> str:
    """An SNS call's resource as ``sns:<ARN resource part>`` (``sns:endpoint/GCM/<app>/<id>``,
    ``sns:app/APNS/<app>``): mobile push endpoints and applications are made outside the template."""
    for name in ("TargetArn", "EndpointArn", "PlatformApplicationArn", "TopicArn"):
        if params.get(name):
            return "sns:" + str(params[name]).split(":", 5)[-1]
    return "*"


def uses_of(service: str, operation: str, params: Mapping[str, Any], names: Names) -> list[Use]:
    """The IAM actions (with resources) that one API call needs."""
    if service == "dynamodb":
        return _dynamodb_uses(operation, params, names)
    if service == "sqs":
        return [Use(f"sqs:{operation}", names.queue(params["QueueUrl"]) if "QueueUrl" in params else "*")]
    if service == "events":
        if operation == "PutEvents":
            return sorted({Use("events:PutEvents", names.bus(entry.get("EventBusName")))
                           for entry in params.get("Entries", [])})
        return [Use(f"events:{operation}", names.bus(params.get("EventBusName") or params.get("Name")))]
    if service == "ssm":
        return _ssm_uses(operation, params)
    if service == "s3":
        return _s3_uses(operation, params, names)
    if service == "sns":
        return [Use(f"sns:{operation}", _sns_resource(params))]
    if service == "sesv2" and operation == "SendEmail":  # IAM names SES v2's actions ses:*
        return [Use("ses:SendEmail", names.identity(params.get("FromEmailAddress", "")))]
    return [Use(f"{service}:{operation}", "*")]


# --- what the template grants ---------------------------------------------------------------------------

def _resource_pattern(value: Any, env: str) -> str | None:
    """A statement's Resource in this module's naming, or None for a service we do not check."""
    target = cfn.referenced_logical_id(value)
    if target is not None and "Fn::GetAtt" in value:
        return target
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        text = value["Fn::Sub"].replace("${Env}", env)
        if text.startswith("${") and ".Arn}" in text:  # "${StudyTable.Arn}/index/due"
            logical_id, _, rest = text[2:].partition(".Arn}")
            return logical_id + rest
        if ":ssm:" in text and ":parameter/" in text:
            return "parameter/" + text.split(":parameter/", 1)[1].strip("/")
        sns = re.fullmatch(r"arn:\$\{AWS::Partition\}:sns:\$\{AWS::Region\}:\$\{AWS::AccountId\}:(.+)", text)
        if sns:  # "arn:...:sns:...:endpoint/*": push endpoints, made at run time
            return "sns:" + sns.group(1)
        identity = re.fullmatch(r".*:ses:.*:identity/\$\{(\w+)\}", text)
        if identity:  # "arn:...:ses:...:identity/${MailIdentity}"
            return identity.group(1)
        return None
    if value == "*":
        return "*"
    raise ValueError(f"a policy resource this check cannot read: {value!r}")


def _statements(policy: Any, template: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    resources = template.get("Resources") or {}
    target = cfn.referenced_logical_id(policy)
    if target is not None:
        managed = resources.get(target, {})
        if managed.get("Type") != "AWS::IAM::ManagedPolicy":
            raise ValueError(f"{where}: {target} is not a managed policy of this template")
        policy = managed["Properties"]["PolicyDocument"]
    if not isinstance(policy, dict) or "Statement" not in policy:
        # SAM policy templates (DynamoDBCrudPolicy, ...) grant more than the code needs; name actions
        raise ValueError(f"{where}: only policy documents and managed policies are checked, not {policy!r}")
    return list(policy["Statement"])


def granted(template: Mapping[str, Any], env: str) -> dict[str, list[Grant]]:
    """Every function's allowed (action, resource) pairs, for the services this module checks."""
    grants: dict[str, list[Grant]] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != cfn.FUNCTION_TYPE:
            continue
        found: list[Grant] = []
        for policy in resource.get("Properties", {}).get("Policies", []) or []:
            for statement in _statements(policy, template, logical_id):
                if statement.get("Effect") != "Allow":
                    continue
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                for action in actions:
                    if action.partition(":")[0] not in SERVICES:
                        continue
                    for target in targets:
                        pattern = _resource_pattern(target, env)
                        if pattern is not None:
                            found.append(Grant(action, pattern, statement.get("Sid", "")))
        grants[logical_id] = found
    return grants


def allowed(grants: Iterable[Grant], use: Use) -> bool:
    return any(grant.allows(use) for grant in grants)


def unused_grants(grants: Mapping[str, list[Grant]], used: Mapping[str, set[Use]]) -> dict[str, list[Grant]]:
    """Per function, the grants that no recorded use of that function needed."""
    unused = {}
    for function_id, function_grants in grants.items():
        idle = [grant for grant in function_grants
                if not any(grant.allows(use) for use in used.get(function_id, set()))]
        if idle:
            unused[function_id] = idle
    return unused


def missing_grants(grants: Mapping[str, list[Grant]], used: Mapping[str, set[Use]]) -> dict[str, list[Use]]:
    """Per function, the recorded uses its policy does not allow."""
    missing = {}
    for function_id, uses in used.items():
        refused = sorted(use for use in uses if not allowed(grants.get(function_id, []), use))
        if refused:
            missing[function_id] = refused
    return missing


# --- recording ------------------------------------------------------------------------------------------

class Violation(NamedTuple):
    function_id: str
    use: Use
    operation: str


class Recorder:
    """Records each attributed AWS call's uses; a use the function may not make is a violation."""

    def __init__(self, template: Mapping[str, Any], env: str) -> None:
        self.template = template
        self.grants = granted(template, env)
        self.used: dict[str, set[Use]] = {}
        self.violations: list[Violation] = []
        self._names: Names | None = None
        self._original: Callable[..., Any] | None = None
        self._original_presign: Callable[..., Any] | None = None

    @property
    def names(self) -> Names:
        if self._names is None:  # the environment names the local resources once the stack is up
            self._names = Names(self.template)
        return self._names

    def record(self, service: str, operation: str, params: Mapping[str, Any]) -> None:
        function_id = _ACTING_AS.get()
        if function_id is None or service not in SERVICES:
            return
        for use in uses_of(service, operation, params, self.names):
            self.used.setdefault(function_id, set()).add(use)
            if not allowed(self.grants.get(function_id, []), use):
                self.violations.append(Violation(function_id, use, operation))

    def record_presigned(self, client: Any, client_method: str, params: Mapping[str, Any] | None) -> None:
        """Note what a presigned URL will do, for the function that signs it: the operation behind
        ``client_method`` (``put_object`` -> PutObject) with the URL's parameters."""
        operation = client.meta.method_to_api_mapping.get(client_method, client_method)
        self.record(client.meta.service_model.service_name, operation, params or {})

    def install(self) -> Recorder:
        from botocore import signers
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        original_presign = signers.generate_presigned_url
        recorder = self

        def _make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            recorder.record(client.meta.service_model.service_name, operation_name, api_params)
            return original(client, operation_name, api_params)

        # botocore gives each S3 client class this function as its generate_presigned_url when the
        # class is made (signers.add_generate_presigned_url looks the name up then), so clients
        # created after install sign through the wrapper. The parameters keep botocore's names:
        # callers pass them by keyword.
        @functools.wraps(original_presign)
        def generate_presigned_url(client: Any, ClientMethod: str, Params: Any = None,
                                   ExpiresIn: int = 3600, HttpMethod: str | None = None) -> Any:
            recorder.record_presigned(client, ClientMethod, Params)
            return original_presign(client, ClientMethod, Params=Params, ExpiresIn=ExpiresIn, HttpMethod=HttpMethod)

        self._original = original
        self._original_presign = original_presign
        BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]
        signers.generate_presigned_url = generate_presigned_url
        return self

    def uninstall(self) -> None:
        if self._original is not None:
            from botocore import signers
            from botocore.client import BaseClient

            BaseClient._make_api_call = self._original  # type: ignore[method-assign]
            signers.generate_presigned_url = self._original_presign
            self._original = None

    def take_violations(self) -> list[Violation]:
        taken, self.violations = self.violations, []
        return taken

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps({fn: sorted(map(list, uses)) for fn, uses in self.used.items()}))


def load_usage(paths: Iterable[Path]) -> dict[str, set[Use]]:
    """The uses recorded by several processes (one file each), merged."""
    merged: dict[str, set[Use]] = {}
    for path in paths:
        for function_id, uses in json.loads(path.read_text()).items():
            merged.setdefault(function_id, set()).update(Use(*use) for use in uses)
    return merged


def report(grants: Mapping[str, list[Grant]], used: Mapping[str, set[Use]]) -> str:
    """A readable account of what is missing and what is unused, per function."""
    lines = []
    for function_id, uses in sorted(missing_grants(grants, used).items()):
        lines += [f"{function_id} is not granted {use.action} on {use.resource}" for use in uses]
    for function_id, idle in sorted(unused_grants(grants, used).items()):
        lines += [f"{function_id} is granted {grant.action} on {grant.resource} (Sid {grant.sid}) but no code uses it"
                  for grant in idle]
    return "\n".join(lines)
