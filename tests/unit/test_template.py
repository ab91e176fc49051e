"""template.yaml sanity, read through infra.cfn (the same reading the local stack uses).

The key schemas are pinned here as designed (DESIGN.md section 3); tests/unit/test_model_drift.py
separately proves the pynamodb models agree with the template. DynamoDB checks run against moto's
in-memory mock only (no network).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra import cfn

REPO = cfn.REPO_ROOT
SECRET_SSM_NAMES = ("jwt-secret", "cursor-secret", "upstash-redis-rest-url", "upstash-redis-rest-token",
                    *(f"groq-api-key-{i}" for i in range(1, 6)))
SECRET_ENV_NAMES = re.compile(r"JWT_SECRET|CURSOR_SECRET|GROQ_API_KEY|UPSTASH_REDIS_REST_(URL|TOKEN)")

# The designed tables: (name, type) of the keys, GSIs as name -> (hash, range), TTL attribute.
EXPECTED_TABLES: dict[str, dict[str, Any]] = {
    "UsersTable": {"keys": [("pk", "S", "HASH"), ("sk", "S", "RANGE")],
                   "gsis": {"reminder_due": [("remind_pk", "S", "HASH"), ("remind_sk", "S", "RANGE")]},
                   "ttl": "expires_at"},
    "ContentTable": {
        "keys": [("pk", "S", "HASH"), ("sk", "S", "RANGE")],
        "gsis": {"by_exam": [("gsi1_pk", "S", "HASH"), ("gsi1_sk", "S", "RANGE")],
                 "by_difficulty": [("gsi2_pk", "S", "HASH"), ("gsi2_sk", "S", "RANGE")]},
        "ttl": "expires_at",
    },
    "StudyTable": {
        "keys": [("pk", "S", "HASH"), ("sk", "S", "RANGE")],
        "gsis": {
            "due": [("due_pk", "S", "HASH"), ("due_sk", "S", "RANGE")],
            "weekly_xp": [("lb_pk", "S", "HASH"), ("lb_sk", "N", "RANGE")],
            "active_by_day": [("active_pk", "S", "HASH"), ("active_sk", "S", "RANGE")],
            "deadline": [("deadline_pk", "S", "HASH"), ("deadline_sk", "S", "RANGE")],
        },
        "ttl": "expires_at",
    },
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return cfn.load_template()


def _resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def _shape(key_schema: list[dict[str, str]], types: dict[str, str]) -> list[tuple[str, str, str]]:
    return [(k["AttributeName"], types[k["AttributeName"]], k["KeyType"]) for k in key_schema]


# --- DynamoDB ----------------------------------------------------------------------------------------

def test_every_table_is_on_demand_recoverable_encrypted_and_expiring(template: dict[str, Any]) -> None:
    # Given the template's DynamoDB tables
    tables = _resources(template, cfn.TABLE_TYPE)
    assert set(tables) == set(EXPECTED_TABLES)
    for logical_id, table in tables.items():
        props = table["Properties"]
        # Then each is on demand, with point-in-time recovery, encryption and TTL on
        assert props["BillingMode"] == "PAY_PER_REQUEST", logical_id
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, logical_id
        assert props["SSESpecification"]["SSEEnabled"] is True, logical_id
        assert props["TimeToLiveSpecification"] == {"AttributeName": EXPECTED_TABLES[logical_id]["ttl"],
                                                    "Enabled": True}, logical_id
        # And deletion protection is on in prod only
        assert props["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}, logical_id
        # And a replacement never drops the old table
        assert table["UpdateReplacePolicy"] == "Retain", logical_id


@pytest.mark.parametrize("logical_id", sorted(EXPECTED_TABLES))
def test_table_definitions_have_the_designed_keys(template: dict[str, Any], logical_id: str) -> None:
    # Given infra.cfn's create_table arguments for a table
    definition = cfn.table_definitions(template)[logical_id]
    kwargs = definition.create_kwargs
    types = {a["AttributeName"]: a["AttributeType"] for a in kwargs["AttributeDefinitions"]}
    expected = EXPECTED_TABLES[logical_id]
    # Then keys, GSIs and TTL are exactly the designed ones, all GSIs projecting everything
    assert _shape(kwargs["KeySchema"], types) == expected["keys"]
    gsis = {g["IndexName"]: _shape(g["KeySchema"], types) for g in kwargs.get("GlobalSecondaryIndexes", [])}
    assert gsis == expected["gsis"]
    assert all(g["Projection"] == {"ProjectionType": "ALL"} for g in kwargs.get("GlobalSecondaryIndexes", []))
    assert definition.ttl_attribute == expected["ttl"]
    # And no attribute is defined that no key uses (DynamoDB rejects that)
    used = {name for name, _, _ in expected["keys"]} | {n for keys in expected["gsis"].values() for n, _, _ in keys}
    assert set(types) == used
    # And deploy-only settings are not part of the local definition
    assert set(kwargs) <= {"KeySchema", "AttributeDefinitions", "BillingMode", "GlobalSecondaryIndexes"}


@pytest.fixture
def in_memory_dynamodb() -> Any:
    """A DynamoDB client served by moto's in-memory mock.

    moto keeps one state per process: the mock is started without resetting it and stopped without
    clearing it, so a local stack another test started in this process keeps its tables. The
    explicit endpoint wins over AWS_ENDPOINT_URL_DYNAMODB, so no request leaves the process.
    """
    mock = mock_aws()
    mock.start(reset=False)
    try:
        yield boto3.client("dynamodb", region_name="ap-south-1",
                           endpoint_url="https://dynamodb.ap-south-1.amazonaws.com",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
    finally:
        mock.stop(remove_data=False)


def test_table_definitions_are_valid_create_table_arguments(template: dict[str, Any],
                                                            in_memory_dynamodb: Any) -> None:
    client = in_memory_dynamodb
    prefix = f"template-test-{uuid.uuid4().hex[:8]}"
    created = []
    try:
        for logical_id, definition in cfn.table_definitions(template).items():
            # Given a table definition from the template
            name = f"{prefix}-{logical_id}"
            # When DynamoDB creates it and enables its TTL
            client.create_table(TableName=name, **definition.create_kwargs)
            created.append(name)
            client.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": definition.ttl_attribute})
            # Then the described table has the same keys and GSIs, on demand, TTL on
            table = client.describe_table(TableName=name)["Table"]
            assert table["KeySchema"] == definition.create_kwargs["KeySchema"]
            assert (sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"])
                    == sorted(definition.create_kwargs["AttributeDefinitions"], key=lambda a: a["AttributeName"]))
            assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
            described = {g["IndexName"]: (g["KeySchema"], g["Projection"])
                         for g in table.get("GlobalSecondaryIndexes", [])}
            declared = {g["IndexName"]: (g["KeySchema"], g["Projection"])
                        for g in definition.create_kwargs.get("GlobalSecondaryIndexes", [])}
            assert described == declared
            ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": EXPECTED_TABLES[logical_id]["ttl"]}
    finally:
        for name in created:
            client.delete_table(TableName=name)


# --- IAM ---------------------------------------------------------------------------------------------

def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return _resources(template, cfn.FUNCTION_TYPE)


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    statements = policy["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _table_arn_target(resource: Any, tables: set[str]) -> str | None:
    """The table a resource ARN names: !GetAtt T.Arn, or !Sub "${T.Arn}/index/<name>"."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        target = resource["Fn::GetAtt"]
        return target[0] if target[1] == "Arn" and target[0] in tables else None
    if isinstance(resource, dict) and isinstance(resource.get("Fn::Sub"), str):
        found = re.fullmatch(r"\$\{(\w+)\.Arn\}/index/[\w.-]+", resource["Fn::Sub"])
        return found.group(1) if found and found.group(1) in tables else None
    return None


def test_function_policies_grant_dynamodb_actions_only_on_specific_tables(template: dict[str, Any]) -> None:
    tables = set(_resources(template, cfn.TABLE_TYPE))
    managed = set(_resources(template, "AWS::IAM::ManagedPolicy"))
    assert _functions(template)
    for logical_id, function in _functions(template).items():
        # Given a function's policies (the docs function has none: tests/unit/test_template_docs.py)
        policies = function["Properties"].get("Policies", [])
        for policy in policies:
            # Then each is a managed policy of this template or an inline document (no SAM policy
            # templates such as DynamoDBCrudPolicy, which include Scan)
            if isinstance(policy, dict) and set(policy) == {"Ref"}:
                assert policy["Ref"] in managed, logical_id
                continue
            assert isinstance(policy, dict) and "Statement" in policy, (logical_id, policy)
            for statement in _statements(policy):
                actions = _as_list(statement["Action"])
                dynamodb = [a for a in actions if a.lower().startswith("dynamodb:")]
                if not dynamodb:
                    continue
                # And DynamoDB actions are named one by one, never Scan
                assert all("*" not in action for action in dynamodb), (logical_id, dynamodb)
                assert "dynamodb:Scan" not in dynamodb, logical_id
                assert statement["Effect"] == "Allow"
                # And only on table (or index) ARNs of this template, never "*"
                for resource in _as_list(statement["Resource"]):
                    assert _table_arn_target(resource, tables), (logical_id, resource)


def test_every_function_reads_only_its_environments_secrets(template: dict[str, Any]) -> None:
    # Given the shared secrets policy
    policy = template["Resources"]["ReadSecretsPolicy"]["Properties"]["PolicyDocument"]
    statements = {s["Sid"]: s for s in _statements(policy)}
    # Then it reads SSM parameters below /mindly/<Env>/ only
    read = statements["ReadMindlySecrets"]
    assert _as_list(read["Action"]) == ["ssm:GetParametersByPath"]
    prefix = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/mindly/${Env}"
    assert [r["Fn::Sub"] for r in _as_list(read["Resource"])] == [prefix]
    # And decrypts only through SSM, for those parameters
    decrypt = statements["DecryptMindlySecretsViaSsm"]
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}
    assert decrypt["Condition"]["StringLike"]["kms:EncryptionContext:PARAMETER_ARN"]["Fn::Sub"].endswith(
        "parameter/mindly/${Env}/*")
    assert len(statements) == 2
    # And every function has it, but the docs function, which reads no setting (tests/unit/test_template_docs.py)
    for logical_id, function in _functions(template).items():
        if logical_id == "DocsFunction":
            assert "Policies" not in function["Properties"]
            continue
        assert {"Ref": "ReadSecretsPolicy"} in function["Properties"]["Policies"], logical_id


def test_no_secret_is_in_the_template(template: dict[str, Any]) -> None:
    text = (REPO / "template.yaml").read_text(encoding="utf-8")
    # Given every environment variable a function gets
    variables = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    for function in _functions(template).values():
        variables.update((function["Properties"].get("Environment") or {}).get("Variables") or {})
    # Then none carries a secret by name
    assert not [name for name in variables if SECRET_ENV_NAMES.search(name)]
    # And no literal value looks like a key or a token
    for name, value in variables.items():
        if isinstance(value, str):
            assert not re.fullmatch(r"[A-Fa-f0-9]{24,}|[A-Za-z0-9+/=_-]{32,}|gsk_.*|eyJ.*", value), name
    # And the secrets are found through the SSM prefix
    assert variables["SSM_PREFIX"] == {"Fn::Sub": "/mindly/${Env}/"}
    # And the template text names a secret only as an SSM parameter path below /mindly/<env>/
    assert not SECRET_ENV_NAMES.search(text)
    for found in re.finditer("|".join(SECRET_SSM_NAMES), text):
        assert re.search(r"/mindly/[^/\s]+/$", text[: found.start()]), text[found.start() - 40: found.end()]
    # And no parameter asks for a secret value
    assert not [p for p in template["Parameters"] if re.search(r"secret|token|key", p, re.IGNORECASE)]


# --- SQS ---------------------------------------------------------------------------------------------

def test_roadmap_queue_outlives_worker_retries_and_dead_letters_after_three(template: dict[str, Any]) -> None:
    # Given the queue definitions
    queues = {q.logical_id: q for q in cfn.queue_definitions(template)}
    order = [q.logical_id for q in cfn.queue_definitions(template)]
    jobs, dlq = queues["RoadmapQueue"], queues["RoadmapDeadLetterQueue"]
    # (and the daily-streak job's failure queue, tested with the job below, and the account
    # deletion queues, tested next)
    assert set(queues) == {"RoadmapQueue", "RoadmapDeadLetterQueue", "DailyStreaksFailureQueue",
                           "AccountDeletionQueue", "AccountDeletionDeadLetterQueue"}
    # Then jobs stay invisible for 6 x the 60 s worker timeout and dead-letter after 3 receives
    assert jobs.attributes["VisibilityTimeout"] == "360"
    assert (jobs.dead_letter_target, jobs.max_receive_count) == ("RoadmapDeadLetterQueue", 3)
    # And the dead-letter queue keeps messages for 14 days and comes first in creation order
    assert dlq.attributes["MessageRetentionPeriod"] == str(14 * 24 * 3600)
    assert order.index("RoadmapDeadLetterQueue") < order.index("RoadmapQueue")
    # And both are encrypted when deployed
    for logical_id in queues:
        assert template["Resources"][logical_id]["Properties"]["SqsManagedSseEnabled"] is True


def test_account_deletion_sweeps_outlive_worker_retries_and_dead_letters_are_alarmed(template: dict[str, Any]) -> None:
    # Given the account deletion queue and its dead-letter queue
    queues = {q.logical_id: q for q in cfn.queue_definitions(template)}
    sweeps, dlq = queues["AccountDeletionQueue"], queues["AccountDeletionDeadLetterQueue"]
    # Then a sweep stays invisible for 6 x the 60 s worker timeout, dead-letters after 5 receives,
    # and neither queue loses a message before 14 days
    assert sweeps.attributes["VisibilityTimeout"] == "360"
    assert (sweeps.dead_letter_target, sweeps.max_receive_count) == ("AccountDeletionDeadLetterQueue", 5)
    assert sweeps.attributes["MessageRetentionPeriod"] == dlq.attributes["MessageRetentionPeriod"] == str(14 * 86400)
    # And a dead-lettered sweep raises an alarm on the alarm topic
    alarm = template["Resources"]["AccountDeletionDeadLetterQueueAlarm"]["Properties"]
    assert alarm["Dimensions"] == [{"Name": "QueueName",
                                    "Value": {"Fn::GetAtt": ["AccountDeletionDeadLetterQueue", "QueueName"]}}]
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    # And only the auth function (DELETE /account) and the worker (its continuation) may send to it
    senders = {name for name, function in _functions(template).items()
               for policy in function["Properties"].get("Policies", []) if isinstance(policy, dict)
               for statement in policy.get("Statement", [])
               if statement.get("Action") == "sqs:SendMessage"
               and statement.get("Resource") == {"Fn::GetAtt": ["AccountDeletionQueue", "Arn"]}}
    assert senders == {"AuthFunction", "AccountWorkerFunction"}


# --- functions, API, layer ---------------------------------------------------------------------------

def test_http_routes_list_every_groups_routes(template: dict[str, Any]) -> None:
    # When the routes are read from the functions' HttpApi events
    routes = {(r.function_logical_id, r.method, r.path, r.code_uri, r.handler) for r in cfn.http_routes(template)}
    # Then they are the auth, profile, progress, questions, flashcards, roadmaps, analytics and admin groups'
    assert routes == {
        ("AnalyticsFunction", "GET", "/api/v1/analytics/calibration", "functions/analytics/", "app.handler"),
        ("AnalyticsFunction", "GET", "/api/v1/analytics/subjects", "functions/analytics/", "app.handler"),
        ("AnalyticsFunction", "POST", "/api/v1/analytics/tests", "functions/analytics/", "app.handler"),
        ("AnalyticsFunction", "GET", "/api/v1/analytics/tests", "functions/analytics/", "app.handler"),
        ("AnalyticsFunction", "GET", "/api/v1/analytics/dashboard", "functions/analytics/", "app.handler"),
        ("AnalyticsFunction", "GET", "/api/v1/analytics/mastery", "functions/analytics/", "app.handler"),
        ("RoadmapsFunction", "POST", "/api/v1/roadmaps", "functions/roadmaps/", "app.handler"),
        ("RoadmapsFunction", "GET", "/api/v1/roadmaps/jobs/{job_id}", "functions/roadmaps/", "app.handler"),
        ("RoadmapsFunction", "GET", "/api/v1/roadmaps/latest", "functions/roadmaps/", "app.handler"),
        ("FlashcardsFunction", "GET", "/api/v1/flashcards/due", "functions/flashcards/", "app.handler"),
        ("FlashcardsFunction", "GET", "/api/v1/flashcards/due/by-subject", "functions/flashcards/", "app.handler"),
        ("FlashcardsFunction", "POST", "/api/v1/flashcards/review", "functions/flashcards/", "app.handler"),
        ("FlashcardsFunction", "POST", "/api/v1/flashcards/review/undo", "functions/flashcards/", "app.handler"),
        ("FlashcardsFunction", "GET", "/api/v1/flashcards", "functions/flashcards/", "app.handler"),
        ("QuestionsFunction", "GET", "/api/v1/questions/practice", "functions/questions/", "app.handler"),
        ("QuestionsFunction", "POST", "/api/v1/questions/submit", "functions/questions/", "app.handler"),
        ("QuestionsFunction", "GET", "/api/v1/questions/attempts", "functions/questions/", "app.handler"),
        ("QuestionsFunction", "GET", "/api/v1/practice/next", "functions/questions/", "app.handler"),
        ("QuestionsFunction", "POST", "/api/v1/questions/{question_id}/reports", "functions/questions/",
         "app.handler"),
        ("AdminFunction", "POST", "/api/v1/admin/questions/import", "functions/admin/", "app.handler"),
        ("AdminFunction", "POST", "/api/v1/admin/flashcards/import", "functions/admin/", "app.handler"),
        ("AdminFunction", "POST", "/api/v1/admin/media", "functions/admin/", "app.handler"),
        ("AdminFunction", "GET", "/api/v1/admin/questions", "functions/admin/", "app.handler"),
        ("AdminFunction", "PUT", "/api/v1/admin/questions/{question_id}", "functions/admin/", "app.handler"),
        ("AdminFunction", "POST", "/api/v1/admin/questions/{question_id}/retire", "functions/admin/", "app.handler"),
        ("AdminFunction", "POST", "/api/v1/admin/questions/{question_id}/restore", "functions/admin/",
         "app.handler"),
        ("AdminFunction", "GET", "/api/v1/admin/reports", "functions/admin/", "app.handler"),
        ("AdminFunction", "POST", "/api/v1/admin/reports/{report_id}/resolve", "functions/admin/", "app.handler"),
        ("ProgressFunction", "GET", "/api/v1/progress", "functions/progress/", "app.handler"),
        ("ProgressFunction", "PUT", "/api/v1/progress/daily-goal", "functions/progress/", "app.handler"),
        ("ProgressFunction", "GET", "/api/v1/progress/badges", "functions/progress/", "app.handler"),
        ("ProgressFunction", "GET", "/api/v1/leaderboard/weekly", "functions/progress/", "app.handler"),
        ("AuthFunction", "DELETE", "/api/v1/account", "functions/auth/", "app.handler"),
        ("AuthFunction", "GET", "/api/v1/account/export", "functions/auth/", "app.handler"),
        ("AuthFunction", "ANY", "/api/v1/auth/{proxy+}", "functions/auth/", "app.handler"),
        ("AuthFunction", "POST", "/api/v1/auth/password/forgot", "functions/auth/", "app.handler"),
        ("AuthFunction", "POST", "/api/v1/auth/verify-email/request", "functions/auth/", "app.handler"),
        ("AuthFunction", "GET", "/api/v1/health", "functions/auth/", "app.handler"),
        ("AuthFunction", "ANY", "$default", "functions/auth/", "app.handler"),
        ("MockTestsFunction", "GET", "/api/v1/mock-tests/patterns", "functions/mock_tests/", "app.handler"),
        ("MockTestsFunction", "POST", "/api/v1/mock-tests", "functions/mock_tests/", "app.handler"),
        ("MockTestsFunction", "GET", "/api/v1/mock-tests", "functions/mock_tests/", "app.handler"),
        ("MockTestsFunction", "GET", "/api/v1/mock-tests/{mock_test_id}", "functions/mock_tests/", "app.handler"),
        ("MockTestsFunction", "PUT", "/api/v1/mock-tests/{mock_test_id}/answers/{number}", "functions/mock_tests/",
         "app.handler"),
        ("MockTestsFunction", "POST", "/api/v1/mock-tests/{mock_test_id}/submit", "functions/mock_tests/",
         "app.handler"),
        ("ProfileFunction", "GET", "/api/v1/profile", "functions/profile/", "app.handler"),
        ("ProfileFunction", "PUT", "/api/v1/profile", "functions/profile/", "app.handler"),
        ("ProfileFunction", "GET", "/api/v1/syllabus/{exam}", "functions/profile/", "app.handler"),
        ("NotificationsFunction", "GET", "/api/v1/notifications", "functions/notifications/", "app.handler"),
        ("NotificationsFunction", "POST", "/api/v1/notifications/{notification_id}/read", "functions/notifications/",
         "app.handler"),
        ("NotificationsFunction", "GET", "/api/v1/notifications/preferences", "functions/notifications/",
         "app.handler"),
        ("NotificationsFunction", "PUT", "/api/v1/notifications/preferences", "functions/notifications/",
         "app.handler"),
        ("NotificationsFunction", "POST", "/api/v1/notifications/devices", "functions/notifications/", "app.handler"),
        ("NotificationsFunction", "DELETE", "/api/v1/notifications/devices/{device_id}", "functions/notifications/",
         "app.handler"),
    }
    # And each worker takes its queue with partial batch failures, its timeout a sixth of the
    # queue's visibility timeout
    consumers = {(c.function_logical_id, c.queue_logical_id, c.report_batch_item_failures)
                 for c in cfn.sqs_consumers(template)}
    assert consumers == {("RoadmapWorkerFunction", "RoadmapQueue", True),
                         ("AccountWorkerFunction", "AccountDeletionQueue", True)}
    for function, queue in (("RoadmapWorkerFunction", "RoadmapQueue"),
                            ("AccountWorkerFunction", "AccountDeletionQueue")):
        worker = template["Resources"][function]["Properties"]
        assert 6 * worker["Timeout"] <= template["Resources"][queue]["Properties"]["VisibilityTimeout"]
    # And every HTTP event is attached to the one HTTP API
    for function in _functions(template).values():
        for event in function["Properties"]["Events"].values():
            if event["Type"] == "HttpApi":
                assert event["Properties"]["ApiId"] == {"Ref": "HttpApi"}


def test_daily_streak_job_runs_hourly_and_publishes_to_the_streak_bus(template: dict[str, Any]) -> None:
    # When the scheduled functions are read from the template
    scheduled = cfn.scheduled_functions(template)
    # Then the daily-streak job runs every hour (every zone's midnight, :30 and :45 offsets too)
    assert [(s.function_logical_id, s.code_uri, s.expression, s.enabled) for s in scheduled] == [
        ("MockSweepFunction", "functions/mock_sweep/", "rate(5 minutes)", True),
        ("DailyStreaksFunction", "functions/daily_streaks/", "cron(5 * * * ? *)", True),
        ("RemindersFunction", "functions/reminders/", "cron(0/15 * * * ? *)", True)]
    job = template["Resources"]["DailyStreaksFunction"]["Properties"]
    # And it is told the bus, may put events on that bus only, and queries only the settlement index
    assert job["Environment"]["Variables"]["STREAK_EVENT_BUS"] == {"Ref": "StreakEventBus"}
    statements = [s for p in job["Policies"] if isinstance(p, dict) and "Statement" in p for s in p["Statement"]]
    events = [s for s in statements if "events:PutEvents" in _as_list(s["Action"])]
    assert [s["Resource"] for s in events] == [{"Fn::GetAtt": ["StreakEventBus", "Arn"]}]
    study = next(s for s in statements if s["Sid"] == "StudyTableSettleIndexes")
    assert {"Fn::Sub": "${StudyTable.Arn}/index/active_by_day"} in _as_list(study["Resource"])
    assert cfn.event_buses(template) == ["StreakEventBus"]
    assert cfn.event_bus_env_vars(template) == {"StreakEventBus": "STREAK_EVENT_BUS"}


@pytest.mark.parametrize(("method", "path", "function", "params"), [
    ("POST", "/api/v1/auth/login", "AuthFunction", {"proxy": "login"}),
    ("POST", "/api/v1/auth/password/forgot", "AuthFunction", {}),
    ("POST", "/api/v1/auth/password/reset", "AuthFunction", {"proxy": "password/reset"}),
    ("GET", "/api/v1/health", "AuthFunction", {}),
    ("PUT", "/api/v1/profile", "ProfileFunction", {}),
    ("GET", "/api/v1/syllabus/GATE", "ProfileFunction", {"exam": "GATE"}),
    ("PUT", "/api/v1/progress/daily-goal", "ProgressFunction", {}),
    ("GET", "/api/v1/leaderboard/weekly", "ProgressFunction", {}),
    # What no route takes goes to the $default route (the auth function answers it 405 or 404)
    ("DELETE", "/api/v1/profile", "AuthFunction", {}),
    ("GET", "/api/v1/syllabus/GATE/extra", "AuthFunction", {}),
    ("GET", "/", "AuthFunction", {}),
])
def test_routes_match_like_api_gateway(template: dict[str, Any], method: str, path: str,
                                       function: str | None, params: dict[str, str] | None) -> None:
    # When a request is matched against the template's routes
    found = cfn.match_route(cfn.http_routes(template), method, path)
    # Then the function and path parameters are those API Gateway would pick (or none)
    picked = (found[0].function_logical_id, found[1]) if found else (None, None)
    assert picked == (function, params)


def test_functions_share_the_runtime_layer_and_environment(template: dict[str, Any]) -> None:
    # Given the function globals
    globals_ = template["Globals"]["Function"]
    # Then every function is python3.12 on the chosen architecture with the common layer
    assert globals_["Runtime"] == "python3.12"
    assert globals_["Architectures"] == [{"Ref": "Architecture"}]
    assert template["Parameters"]["Architecture"]["Default"] == "arm64"
    assert globals_["Layers"] == [{"Ref": "CommonLayer"}]
    # And the shared environment names every table and the queue
    variables = globals_["Environment"]["Variables"]
    assert {"ENVIRONMENT", "USERS_TABLE", "CONTENT_TABLE", "STUDY_TABLE",
            "ROADMAP_QUEUE_URL", "SSM_PREFIX", "CORS_ORIGINS", "POWERTOOLS_SERVICE_NAME",
            "POWERTOOLS_LOG_LEVEL", "BCRYPT_ROUNDS"} <= set(variables)
    assert cfn.table_env_vars(template) == {"UsersTable": "USERS_TABLE", "ContentTable": "CONTENT_TABLE",
                                            "StudyTable": "STUDY_TABLE"}
    assert cfn.queue_env_vars(template) == {"RoadmapQueue": "ROADMAP_QUEUE_URL",
                                            "AccountDeletionQueue": "ACCOUNT_DELETION_QUEUE_URL"}
    # And each function logs to its own log group with a retention
    for logical_id, function in _functions(template).items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert template["Resources"][group]["Type"] == "AWS::Logs::LogGroup", logical_id
        assert "RetentionInDays" in template["Resources"][group]["Properties"], logical_id


def test_http_api_cors_and_throttling(template: dict[str, Any]) -> None:
    api = template["Resources"]["HttpApi"]["Properties"]
    cors = api["CorsConfiguration"]
    # Then only the configured origins get CORS, with credentials
    assert cors["AllowOrigins"] == {"Ref": "CorsAllowedOrigins"}
    assert cors["AllowCredentials"] is True
    assert {"Authorization", "Content-Type", "X-Request-Id"} <= set(cors["AllowHeaders"])
    # And clients can read the request id and the rate-limit headers
    assert {"X-Request-Id", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining",
            "X-RateLimit-Reset"} <= set(cors["ExposeHeaders"])
    # And the stage is throttled
    assert api["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0


# --- operations: tracing, alarms, failure destinations -------------------------------------------------

def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in _resources(template, "AWS::CloudWatch::Alarm").items()}


def _dimensions(alarm: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}


def test_every_function_is_traced(template: dict[str, Any]) -> None:
    # Given the function globals: X-Ray active tracing for every function
    assert template["Globals"]["Function"]["Tracing"] == "Active"
    # Then no function turns it off
    for logical_id, function in _functions(template).items():
        assert function["Properties"].get("Tracing", "Active") == "Active", logical_id


def test_every_alarm_notifies_the_alarm_topic(template: dict[str, Any]) -> None:
    # Given the alarm topic, with an optional e-mail subscription
    assert template["Resources"]["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    assert template["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    # Then every alarm notifies it when firing and when clearing, and missing data is no alarm
    alarms = _alarms(template)
    assert alarms
    for logical_id, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], logical_id
        assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}], logical_id
        assert alarm["TreatMissingData"] == "notBreaching", logical_id


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_an_errors_and_a_throttles_alarm(template: dict[str, Any], metric: str) -> None:
    # Given the Lambda alarms on this metric, by the function they watch
    watched = {_dimensions(a)["FunctionName"]["Ref"]: a for a in _alarms(template).values()
               if a.get("Namespace") == "AWS/Lambda" and a.get("MetricName") == metric}
    # Then each function has one, which fires on the first failed (or throttled) invocation in 5 minutes
    assert set(watched) == set(_functions(template))
    for function, alarm in watched.items():
        assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
            "Sum", 300, 0, "GreaterThanThreshold"), function


def _queue_alarm(template: dict[str, Any], queue: str) -> dict[str, Any]:
    [alarm] = [a for a in _alarms(template).values() if a.get("Namespace") == "AWS/SQS"
               and _dimensions(a).get("QueueName") == {"Fn::GetAtt": [queue, "QueueName"]}]
    return alarm


@pytest.mark.parametrize("queue", ["RoadmapDeadLetterQueue", "DailyStreaksFailureQueue"])
def test_dead_letter_queues_alarm_when_not_empty(template: dict[str, Any], queue: str) -> None:
    # Given the alarm on a dead-letter (or failure) queue
    alarm = _queue_alarm(template, queue)
    # Then it fires as soon as one message is visible
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Maximum", 0, "GreaterThanThreshold")


def test_api_5xx_rate_alarm_divides_5xx_by_count_over_the_api(template: dict[str, Any]) -> None:
    alarm = _alarms(template)["HttpApi5xxRateAlarm"]
    metrics = {m["Id"]: m for m in alarm["Metrics"]}
    # Then the alarm's value is the expression, over the API's 5xx and Count sums
    [returned] = [m for m in alarm["Metrics"] if m["ReturnData"]]
    assert "errors / requests" in returned["Expression"]
    for metric_id, name in (("errors", "5xx"), ("requests", "Count")):
        stat = metrics[metric_id]["MetricStat"]
        assert stat["Metric"]["Namespace"] == "AWS/ApiGateway"
        assert stat["Metric"]["MetricName"] == name
        assert stat["Metric"]["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": "HttpApi"}}]
        assert stat["Stat"] == "Sum"
    assert alarm["Threshold"] == 1  # percent


@pytest.mark.parametrize(("method", "path", "threshold_ms"), [
    ("POST", "/api/v1/questions/submit", 3000),
    ("POST", "/api/v1/flashcards/review", 1000),
])
def test_p99_latency_alarms_watch_routes_with_detailed_metrics(template: dict[str, Any], method: str, path: str,
                                                               threshold_ms: int) -> None:
    # Given the p99 alarm on the route's API Gateway latency
    [alarm] = [a for a in _alarms(template).values() if a.get("MetricName") == "Latency"
               and _dimensions(a).get("Resource") == path]
    # Then it reads the per-route metric of the HTTP API's $default stage, at p99
    assert alarm["Namespace"] == "AWS/ApiGateway"
    assert _dimensions(alarm) == {"ApiId": {"Ref": "HttpApi"}, "Stage": "$default", "Method": method, "Resource": path}
    assert alarm["ExtendedStatistic"] == "p99"
    assert alarm["EvaluateLowSampleCountPercentile"] == "ignore"
    assert alarm["Threshold"] == threshold_ms
    # And the route publishes those metrics (detailed metrics on)
    [event] = [e for f in _functions(template).values() for e in f["Properties"]["Events"].values()
               if e["Type"] == "HttpApi"
               and (e["Properties"].get("Method"), e["Properties"].get("Path")) == (method, path)]
    assert event["Properties"]["RouteSettings"]["DetailedMetricsEnabled"] is True


def test_streak_job_failures_land_in_a_queue_that_alarms(template: dict[str, Any]) -> None:
    job = template["Resources"]["DailyStreaksFunction"]["Properties"]
    queue = {"Fn::GetAtt": ["DailyStreaksFailureQueue", "Arn"]}
    # Then a run Lambda gives up on (EventBridge invokes asynchronously) goes to the failure queue
    invoke = job["EventInvokeConfig"]
    assert invoke["DestinationConfig"]["OnFailure"] == {"Type": "SQS", "Destination": queue}
    assert invoke["MaximumRetryAttempts"] == 2
    assert invoke["MaximumEventAgeInSeconds"] <= 3600  # the next hourly run supersedes an older one
    # And so does an event the schedule could not deliver, which the queue's policy lets EventBridge send
    assert job["Events"]["Hourly"]["Properties"]["DeadLetterConfig"] == {"Arn": queue}
    policy = template["Resources"]["DailyStreaksFailureQueuePolicy"]["Properties"]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Fn::GetAtt": ["DailyStreaksFunctionHourly", "Arn"]}
    # And the queue keeps messages 14 days, encrypted, and the local stack creates it like any queue
    queues = {q.logical_id: q for q in cfn.queue_definitions(template)}
    assert queues["DailyStreaksFailureQueue"].attributes["MessageRetentionPeriod"] == str(14 * 24 * 3600)
    assert template["Resources"]["DailyStreaksFailureQueue"]["Properties"]["SqsManagedSseEnabled"] is True
    assert _queue_alarm(template, "DailyStreaksFailureQueue")


def test_template_check_baseline_names_resources_with_reasons(template: dict[str, Any]) -> None:
    import yaml

    # Given .ci/template-baseline.yaml (checkov and cfn-lint-serverless findings accepted on purpose)
    baseline = yaml.safe_load((REPO / ".ci" / "template-baseline.yaml").read_text(encoding="utf-8"))
    assert set(baseline) == {"checkov", "cfn-lint-serverless"}
    # Resources SAM generates from an event are named <function><event> (e.g. RoadmapWorkerFunctionJobs),
    # and a schedule's invoke permission <function><event>Permission
    known = set(template["Resources"]) | {f"{logical_id}{event}{suffix}"
                                          for logical_id, function in _functions(template).items()
                                          for event in function["Properties"].get("Events", {})
                                          for suffix in ("", "Permission")}
    for tool, checks in baseline.items():
        for check, entry in checks.items():
            # Then every accepted finding has its reason and names resources of this template
            assert len(entry["reason"].split()) >= 10, (tool, check)
            assert entry["resources"] and set(entry["resources"]) <= known, (tool, check)


def test_layer_is_built_by_its_makefile(template: dict[str, Any]) -> None:
    # Given the common layer
    layer = template["Resources"]["CommonLayer"]
    # Then SAM builds it with layers/common/Makefile, for python3.12
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["ContentUri"] == "layers/common"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert layer["Properties"]["CompatibleArchitectures"] == [{"Ref": "Architecture"}]
    makefile = (REPO / "layers" / "common" / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^build-CommonLayer:", makefile, re.MULTILINE)
    assert "--invalidation-mode unchecked-hash" in makefile
    # And its requirements are exported from the lock file
    requirements = (REPO / "layers" / "common" / "requirements.txt").read_text(encoding="utf-8")
    assert "uv export" in requirements.splitlines()[1]
    assert re.search(r"^fastapi==", requirements, re.MULTILINE)


# --- infra.cfn on small inline templates -------------------------------------------------------------

INLINE = """
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Globals:
  Function:
    Handler: app.handler
    Environment:
      Variables:
        JOBS_URL: !Ref Jobs
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 120
      FifoQueue: false
      KmsMasterKeyId: alias/aws/sqs
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dead.Arn, maxReceiveCount: 5}
  Dead:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/worker/
      Events:
        Queue:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
  Daily:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/daily/
      Handler: job.run
      Events:
        Nightly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(30 18 * * ? *)
            ScheduleExpressionTimezone: Asia/Kolkata
            Input: '{"kind": "streaks"}'
        Legacy:
          Type: Schedule
          Properties: {Schedule: rate(1 hour), Enabled: false}
  Policy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: 2012-10-17
        Statement:
          - Effect: !If [IsProd, Allow, Deny]
            Action: !Split [",", "s3:GetObject,s3:PutObject"]
            Resource: !Sub
              - "arn:aws:s3:::${Bucket}/*"
              - Bucket: !Select [0, !GetAZs ""]
"""


@pytest.fixture
def inline(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "template.yaml"
    path.write_text(INLINE, encoding="utf-8")
    return cfn.load_template(path)


def test_loader_turns_short_forms_into_long_forms(inline: dict[str, Any]) -> None:
    # When a template with short-form intrinsics is loaded
    statement = inline["Resources"]["Policy"]["Properties"]["PolicyDocument"]["Statement"][0]
    # Then each becomes its long form, nested ones included, and dates stay strings
    assert inline["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Env"}, "prod"]}
    assert statement["Effect"] == {"Fn::If": ["IsProd", "Allow", "Deny"]}
    assert statement["Action"] == {"Fn::Split": [",", "s3:GetObject,s3:PutObject"]}
    assert statement["Resource"] == {"Fn::Sub": ["arn:aws:s3:::${Bucket}/*",
                                                 {"Bucket": {"Fn::Select": [0, {"Fn::GetAZs": ""}]}}]}
    assert inline["Resources"]["Policy"]["Properties"]["PolicyDocument"]["Version"] == "2012-10-17"
    redrive = inline["Resources"]["Jobs"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["Dead", "Arn"]}


def test_sqs_consumers_and_queue_order(inline: dict[str, Any]) -> None:
    # When consumers and queues are read
    consumers = cfn.sqs_consumers(inline)
    queues = cfn.queue_definitions(inline)
    # Then the worker consumes Jobs in batches of 5 with partial failures, Globals' handler applied
    assert consumers == [cfn.SqsConsumer("Worker", "functions/worker/", "app.handler", "Jobs", 5, True)]
    # And the dead-letter queue comes first; deploy-only attributes are dropped, booleans are strings
    assert [q.logical_id for q in queues] == ["Dead", "Jobs"]
    assert queues[1].attributes == {"VisibilityTimeout": "120", "FifoQueue": "false"}
    assert (queues[1].dead_letter_target, queues[1].max_receive_count) == ("Dead", 5)
    # And the queue's environment variable is known
    assert cfn.queue_env_vars(inline) == {"Jobs": "JOBS_URL"}
    assert cfn.http_routes(inline) == []


def test_scheduled_functions(inline: dict[str, Any]) -> None:
    # When scheduled functions are read
    found = {s.event_name: s for s in cfn.scheduled_functions(inline)}
    # Then both schedule kinds are listed with expression, time zone, input and state
    assert found["Nightly"] == cfn.ScheduledFunction("Daily", "functions/daily/", "job.run", "Nightly",
                                                     "cron(30 18 * * ? *)", "Asia/Kolkata",
                                                     '{"kind": "streaks"}', True)
    assert (found["Legacy"].expression, found["Legacy"].enabled) == ("rate(1 hour)", False)


def test_table_with_an_unresolvable_key_is_rejected(tmp_path: Path) -> None:
    # Given a table whose key schema needs CloudFormation to resolve
    path = tmp_path / "template.yaml"
    path.write_text("""
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: !Ref KeyName, AttributeType: S}]
      KeySchema: [{AttributeName: !Ref KeyName, KeyType: HASH}]
""", encoding="utf-8")
    # Then local tooling refuses it instead of creating a wrong table
    with pytest.raises(ValueError, match=r"T\.Properties"):
        cfn.table_definitions(cfn.load_template(path))


def test_api_functions_start_from_a_snapstart_snapshot(template: dict[str, Any]) -> None:
    # SnapStart for Python needs python3.12 or later and a published version (the alias)
    runtime = template["Globals"]["Function"]["Runtime"]
    assert runtime.startswith("python3.") and int(runtime.split(".")[1]) >= 12
    api = {route.function_logical_id for route in cfn.http_routes(template)}
    assert len(api) == 10
    for logical_id in api:
        props = template["Resources"][logical_id]["Properties"]
        assert props.get("SnapStart") == {"ApplyOn": "PublishedVersions"}, logical_id
        assert props.get("AutoPublishAlias") == "live", logical_id
