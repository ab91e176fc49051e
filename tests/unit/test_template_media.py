"""The media bucket in template.yaml: never public, encrypted, TLS only, versioned; only the admin
and questions functions reach it, each with exactly what its code does; and the local stack builds
its bucket from the same resource."""

from __future__ import annotations

from typing import Any

import pytest

from infra import cfn

MEDIA_OBJECTS = {"Fn::Sub": "${MediaBucket.Arn}/media/*"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return cfn.load_template()


def _statements(template: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    policies = template["Resources"][function_id]["Properties"].get("Policies") or []
    return [statement for policy in policies if isinstance(policy, dict) and "Statement" in policy
            for statement in policy["Statement"]]


def _s3_grants(template: dict[str, Any], function_id: str) -> set[tuple[str, str]]:
    found = set()
    for statement in _statements(template, function_id):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            if action.startswith("s3:"):
                found |= {(action, str(resource)) for resource in resources}
    return found


def test_the_media_bucket_is_private_encrypted_and_versioned(template: dict[str, Any]) -> None:
    # Given the bucket resource
    bucket = template["Resources"]["MediaBucket"]
    props = bucket["Properties"]
    # Then every kind of public access is blocked and ACLs are off
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    # And objects are encrypted at rest by default
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    # And replaced images are kept a while (versioning), then expired, and failed uploads cleaned up
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireReplacedVersions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert rules["AbortIncompleteUploads"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
    # And a change that would replace the bucket keeps the old one (its images)
    assert bucket["UpdateReplacePolicy"] == "Retain"
    # And the bucket is not named by hand (S3 names are global and lower case: CloudFormation picks one)
    assert "BucketName" not in props


def test_the_bucket_policy_refuses_plain_http_and_old_tls_on_bucket_and_objects(template: dict[str, Any]) -> None:
    # Given the bucket's policy
    policy = template["Resources"]["MediaBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "MediaBucket"}
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    both = [{"Fn::GetAtt": ["MediaBucket", "Arn"]}, {"Fn::Sub": "${MediaBucket.Arn}/*"}]
    # Then it denies everyone everything without TLS, and below TLS 1.2, on the bucket and its objects
    tls = statements["TlsOnly"]
    assert (tls["Effect"], tls["Principal"], tls["Action"], tls["Resource"]) == ("Deny", "*", "s3:*", both)
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": False}}
    modern = statements["Tls12OrLater"]
    assert (modern["Effect"], modern["Principal"], modern["Action"], modern["Resource"]) == ("Deny", "*", "s3:*", both)
    assert modern["Condition"] == {"NumericLessThan": {"s3:TlsVersion": 1.2}}
    # And it allows nothing: access is each function's role only
    assert all(s["Effect"] == "Deny" for s in statements.values())


def test_only_admin_questions_and_mock_tests_reach_the_bucket_with_exactly_their_actions(
        template: dict[str, Any]) -> None:
    # Given every function's S3 statements
    by_function = {f.logical_id: _s3_grants(template, f.logical_id) for f in cfn.functions(template)}
    objects = str(MEDIA_OBJECTS)
    # Then the admin function may PUT (the presigned upload) and GET (HeadObject at import) media objects
    assert by_function.pop("AdminFunction") == {("s3:PutObject", objects), ("s3:GetObject", objects)}
    # And the questions and mock tests functions may only GET them (the presigned views on practice
    # items and on a paper's questions)
    assert by_function.pop("QuestionsFunction") == {("s3:GetObject", objects)}
    assert by_function.pop("MockTestsFunction") == {("s3:GetObject", objects)}
    # And no other function holds any S3 grant
    assert {fn: grants for fn, grants in by_function.items() if grants} == {}


def test_the_functions_that_use_the_bucket_are_given_its_name(template: dict[str, Any]) -> None:
    env = {f.logical_id: f.environment for f in cfn.functions(template)}
    # Then both users of the bucket read its name from MEDIA_BUCKET, which the local stack fills too
    assert env["AdminFunction"]["MEDIA_BUCKET"] == {"Ref": "MediaBucket"}
    assert env["QuestionsFunction"]["MEDIA_BUCKET"] == {"Ref": "MediaBucket"}
    assert env["MockTestsFunction"]["MEDIA_BUCKET"] == {"Ref": "MediaBucket"}
    assert cfn.bucket_env_vars(template) == {"MediaBucket": "MEDIA_BUCKET"}


def test_the_upload_route_is_the_admin_functions_and_throttled_like_the_imports(template: dict[str, Any]) -> None:
    # Given the admin function's HttpApi events
    events = template["Resources"]["AdminFunction"]["Properties"]["Events"]
    upload = events["CreateMediaUpload"]["Properties"]
    # Then POST /api/v1/admin/media is served there, with the admin routes' throttle
    assert (upload["Method"], upload["Path"]) == ("POST", "/api/v1/admin/media")
    assert upload["RouteSettings"] == events["ImportQuestions"]["Properties"]["RouteSettings"]


def test_the_local_bucket_is_built_from_the_same_resource(template: dict[str, Any]) -> None:
    # When the local stack reads the template's buckets
    (bucket,) = cfn.bucket_definitions(template).values()
    # Then it carries the bucket's versioning, public access block and encryption in S3's API shape
    assert bucket.logical_id == "MediaBucket" and bucket.versioned is True
    assert bucket.public_access_block == template["Resources"]["MediaBucket"]["Properties"][
        "PublicAccessBlockConfiguration"]
    assert bucket.encryption == {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
