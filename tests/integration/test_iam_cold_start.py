"""IAM against the local stack: the calls a function makes before any request (its cold start) are
recorded too, and the check refuses what AWS would refuse.

Every other test of a function's handler is recorded by tests/conftest.py (see tests/aws_permissions.py);
a call the function's policy does not grant fails that test, and a grant that no test needed fails a
whole run."""

from __future__ import annotations

import os
import uuid
from typing import Any

import boto3
import pytest
from aws_permissions import acting_as

from infra import cfn
from mindly import config


@pytest.fixture
def secrets_in_ssm(local_aws: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """This environment's secrets in the local stack's SSM, as the README tells an operator to put them."""
    prefix = f"/mindly/{os.environ['ENVIRONMENT']}/"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", local_aws.endpoint_url)
    ssm = boto3.client("ssm", endpoint_url=local_aws.endpoint_url)
    ssm.put_parameter(Name=f"{prefix}jwt-secret", Type="SecureString", Value=uuid.uuid4().hex * 2, Overwrite=True)
    ssm.put_parameter(Name=f"{prefix}groq-api-key-1", Type="SecureString", Value="gsk_ssm", Overwrite=True)
    monkeypatch.setenv("SSM_PREFIX", prefix)
    return prefix


def test_every_function_reads_its_secrets_at_cold_start_as_its_policy_allows(secrets_in_ssm: str) -> None:
    # Given each function of the template starting cold with SSM_PREFIX set (but the docs function,
    # whose cold start reads no settings: tests/unit/test_template_docs.py)
    for function in cfn.functions(cfn.load_template()):
        if function.logical_id == "DocsFunction":
            continue
        # When it reads its settings' secrets (what get_settings does once per container)
        with acting_as(function.logical_id):
            found = config._load_ssm_secrets(config.Settings())
        # Then it got them (the call is recorded; a refused grant would fail this test)
        assert set(found) == {"jwt_secret", "groq_api_key_1"}, function.logical_id


def test_a_call_outside_the_policy_fails_the_test_that_made_it(questions_fn: Any) -> None:
    import aws_permissions

    # Given the Questions function, which may not write to the Users table
    recorder = aws_permissions.Recorder(cfn.load_template(), env=os.environ["ENVIRONMENT"])
    # When a call is made as that function
    with acting_as("QuestionsFunction"):
        recorder.record("dynamodb", "PutItem", {"TableName": os.environ["USERS_TABLE"], "Item": {}})
        recorder.record("dynamodb", "BatchGetItem", {"RequestItems": {os.environ["USERS_TABLE"]: {}}})
    # Then the write is a violation and the granted read is not
    assert [(v.use.action, v.use.resource) for v in recorder.take_violations()] == [
        ("dynamodb:PutItem", "UsersTable")]
