"""The IAM check itself (tests/aws_permissions.py): how calls become IAM actions, how the template's
policies are read, and that a missing or an unused grant is found."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aws_permissions import (
    Grant,
    Names,
    Recorder,
    Use,
    acting_as,
    granted,
    missing_grants,
    report,
    unused_grants,
    uses_of,
)

from infra import cfn

ENV = {"USERS_TABLE": "t-users", "CONTENT_TABLE": "t-content", "STUDY_TABLE": "t-study",
       "ROADMAP_QUEUE_URL": "http://127.0.0.1:5000/123456789012/t-roadmap", "STREAK_EVENT_BUS": "t-streaks",
       "MEDIA_BUCKET": "t-media"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return cfn.load_template()


@pytest.fixture(scope="module")
def names(template: dict[str, Any]) -> Names:
    return Names(template, ENV)


def test_a_transaction_needs_the_action_of_each_item_on_its_table(names: Names) -> None:
    # Given a submit-like transaction across two tables
    params = {"TransactItems": [
        {"Put": {"TableName": "t-study", "Item": {}}},
        {"Update": {"TableName": "t-study", "Key": {}}},
        {"ConditionCheck": {"TableName": "t-content", "Key": {}}},
        {"Delete": {"TableName": "t-study", "Key": {}}},
    ]}
    # Then IAM sees the per-item actions, never a "TransactWriteItems" action
    assert uses_of("dynamodb", "TransactWriteItems", params, names) == [
        Use("dynamodb:PutItem", "StudyTable"), Use("dynamodb:UpdateItem", "StudyTable"),
        Use("dynamodb:ConditionCheckItem", "ContentTable"), Use("dynamodb:DeleteItem", "StudyTable")]


def test_batch_reads_need_batchgetitem_per_table_and_index_queries_the_index(names: Names) -> None:
    batch = {"RequestItems": {"t-users": {"Keys": []}, "t-study": {"Keys": []}}}
    assert uses_of("dynamodb", "BatchGetItem", batch, names) == [
        Use("dynamodb:BatchGetItem", "UsersTable"), Use("dynamodb:BatchGetItem", "StudyTable")]
    query = {"TableName": "t-study", "IndexName": "due", "KeyConditionExpression": "x"}
    assert uses_of("dynamodb", "Query", query, names) == [Use("dynamodb:Query", "StudyTable/index/due")]


def test_queues_buses_and_parameters_are_named_as_in_the_template(names: Names) -> None:
    assert uses_of("sqs", "SendMessage", {"QueueUrl": ENV["ROADMAP_QUEUE_URL"]}, names) == [
        Use("sqs:SendMessage", "RoadmapQueue")]
    entries = {"Entries": [{"EventBusName": "t-streaks"}, {"EventBusName": "t-streaks"}]}
    assert uses_of("events", "PutEvents", entries, names) == [Use("events:PutEvents", "StreakEventBus")]
    assert uses_of("ssm", "GetParametersByPath", {"Path": "/mindly/test/"}, names) == [
        Use("ssm:GetParametersByPath", "parameter/mindly/test")]
    # A table the template does not define is named as unknown, so no grant can match it
    assert uses_of("dynamodb", "GetItem", {"TableName": "elsewhere"}, names) == [
        Use("dynamodb:GetItem", "?elsewhere")]


def test_policies_are_read_with_their_managed_policies(template: dict[str, Any]) -> None:
    grants = granted(template, env="test")
    # Every function has a policy, and the shared secrets policy reaches every one of them
    assert set(grants) == {function.logical_id for function in cfn.functions(template)}
    for function_id, function_grants in grants.items():
        if function_id == "DocsFunction":  # reads no setting, calls no AWS service: granted nothing
            assert function_grants == []
            continue
        assert Grant("ssm:GetParametersByPath", "parameter/mindly/test", "ReadMindlySecrets") in function_grants, \
            function_id
    # KMS is not among the services checked here (SSM decrypts through it)
    assert not any(grant.action.startswith("kms:") for fg in grants.values() for grant in fg)


def test_a_missing_grant_and_an_unused_grant_are_both_found(template: dict[str, Any]) -> None:
    # Given the Questions function's policy without UpdateItem on the study table
    changed = copy.deepcopy(template)
    statements = changed["Resources"]["QuestionsFunction"]["Properties"]["Policies"][1]["Statement"]
    study = next(s for s in statements if s["Resource"] == {"Fn::GetAtt": ["StudyTable", "Arn"]}
                 or {"Fn::GetAtt": ["StudyTable", "Arn"]} in (s["Resource"] if isinstance(s["Resource"], list) else []))
    study["Action"] = [a for a in study["Action"] if a != "dynamodb:UpdateItem"] + ["dynamodb:Scan"]
    grants = granted(changed, env="test")
    used = {"QuestionsFunction": {Use("dynamodb:UpdateItem", "StudyTable")}}
    # Then the update is missing, and the Scan (used by nothing) is unused
    assert missing_grants(grants, used) == {"QuestionsFunction": [Use("dynamodb:UpdateItem", "StudyTable")]}
    unused = {grant.action for grant in unused_grants(grants, used)["QuestionsFunction"]}
    assert "dynamodb:Scan" in unused
    text = report(grants, used)
    assert "QuestionsFunction is not granted dynamodb:UpdateItem on StudyTable" in text
    assert "QuestionsFunction is granted dynamodb:Scan on StudyTable" in text


def test_wildcards_in_a_grant_match_as_iam_matches_them() -> None:
    grant = Grant("dynamodb:Get*", "StudyTable/index/*", "x")
    assert grant.allows(Use("dynamodb:GetItem", "StudyTable/index/due"))
    assert not grant.allows(Use("dynamodb:GetItem", "StudyTable"))
    assert not grant.allows(Use("dynamodb:PutItem", "StudyTable/index/due"))


def test_sam_policy_templates_are_refused(template: dict[str, Any]) -> None:
    # Given a function that uses a SAM policy template (which grants far more than the code needs)
    changed = copy.deepcopy(template)
    changed["Resources"]["AuthFunction"]["Properties"]["Policies"].append(
        {"DynamoDBCrudPolicy": {"TableName": {"Ref": "UsersTable"}}})
    # Then the check refuses to guess what it grants
    with pytest.raises(ValueError, match="only policy documents"):
        granted(changed, env="test")


def test_s3_calls_are_named_by_bucket_and_key_with_iams_action_names(names: Names) -> None:
    # Given object calls on the media bucket, and one on a bucket the template does not define
    head = uses_of("s3", "HeadObject", {"Bucket": "t-media", "Key": "media/abc"}, names)
    put = uses_of("s3", "PutObject", {"Bucket": "t-media", "Key": "media/abc"}, names)
    elsewhere = uses_of("s3", "GetObject", {"Bucket": "someone-else", "Key": "media/abc"}, names)
    # Then HeadObject is authorised as GetObject, each on the object under the bucket's logical id
    assert head == [Use("s3:GetObject", "MediaBucket/media/abc")]
    assert put == [Use("s3:PutObject", "MediaBucket/media/abc")]
    assert elsewhere == [Use("s3:GetObject", "?someone-else/media/abc")]
    # And the template's grant on media/* covers the first two for the admin function
    admin = granted(cfn.load_template(), env="test")["AdminFunction"]
    assert all(any(grant.allows(use) for grant in admin) for use in head + put)
    assert not any(grant.allows(use) for grant in admin for use in elsewhere)


def _s3_client() -> Any:
    import botocore.session

    return botocore.session.get_session().create_client(
        "s3", region_name="ap-south-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def test_a_presigned_url_counts_as_its_action_for_the_function_that_signs_it(template: dict[str, Any]) -> None:
    # Given a recorder that knows the local bucket names
    recorder = Recorder(template, env="test")
    recorder._names = Names(template, ENV)
    # When the questions function signs an upload (PUT) and a view (GET) of a media object
    client = _s3_client()
    with acting_as("QuestionsFunction"):
        recorder.record_presigned(client, "put_object", {"Bucket": "t-media", "Key": "media/abc"})
        recorder.record_presigned(client, "get_object", {"Bucket": "t-media", "Key": "media/abc"})
    # Then both are recorded as its uses, though no AWS call was made
    assert recorder.used["QuestionsFunction"] == {Use("s3:PutObject", "MediaBucket/media/abc"),
                                                 Use("s3:GetObject", "MediaBucket/media/abc")}
    # And the upload, which its role may not make, is a violation; the view is granted
    assert [(v.use, v.operation) for v in recorder.take_violations()] == [
        (Use("s3:PutObject", "MediaBucket/media/abc"), "PutObject")]


def test_the_recorder_sees_urls_signed_by_clients_made_after_it_is_installed(template: dict[str, Any]) -> None:
    import os

    from botocore import signers

    # Given a second recorder installed over the session's (every test runs under one)
    before = signers.generate_presigned_url
    recorder = Recorder(template, env="test").install()
    try:
        # When the admin function signs an upload with a client created now, as the store does
        client = _s3_client()
        with acting_as("AdminFunction"):
            url = client.generate_presigned_url(
                "put_object", Params={"Bucket": os.environ["MEDIA_BUCKET"], "Key": "media/probe-presign"},
                ExpiresIn=60)
    finally:
        recorder.uninstall()
    # Then the URL is a real one, and the recorder noted its action on that object, with no violation
    assert "X-Amz-Signature=" in url
    assert recorder.used["AdminFunction"] == {Use("s3:PutObject", "MediaBucket/media/probe-presign")}
    assert recorder.take_violations() == []
    # And uninstalling gave botocore back the function it had
    assert signers.generate_presigned_url is before
