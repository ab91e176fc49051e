"""Question images (API.md "Question types, passages, formatting, media"): POST /admin/media through
the admin function's real handler, uploads through the presigned URL to the local S3 (moto, on
127.0.0.1), and the store's ``missing`` and ``view_url`` that imports and practice call.

moto accepts any presigned URL; the local stack checks them as S3 does
(``infra.local_aws.verify_presigned_s3_requests``), so a PUT that differs from what the URL signed
is refused here as it is in AWS.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from aws_permissions import acting_as
from support import HandlerClient, admin_token, register

from infra import local_aws
from mindly.exceptions import ServiceUnavailable
from mindly.store import media

API = "/api/v1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 56  # 64 bytes; S3 stores bytes, it does not read images
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture(scope="module")
def admin(auth_fn: Any, admin_fn: Any) -> HandlerClient:
    return HandlerClient(admin_fn, token=admin_token(auth_fn, name="Media Admin"))


def _send(method: str, url: str, body: bytes | None = None,
          content_type: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """One plain HTTP request, as a browser or app sends it (urllib sets Content-Length from the body)."""
    headers = {"Content-Type": content_type} if content_type else {}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, {k.lower(): v for k, v in refused.headers.items()}, refused.read()


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _missing_as_the_import(media_ids: list[str]) -> set[str]:
    # The import runs in the admin function: its HeadObjects are that role's (the IAM check).
    with acting_as("AdminFunction"):
        return media.missing(media_ids)


def _view_url_as_practice(media_id: str) -> str:
    # Practice pages are signed by the questions function, and their URLs act as its role.
    with acting_as("QuestionsFunction"):
        return media.view_url(media_id)


def test_an_upload_url_takes_exactly_the_announced_image_and_a_view_url_returns_it(
        admin: HandlerClient, settings: Any) -> None:
    # Given an admin asks where to upload a 64-byte PNG
    answer = admin.post(f"{API}/admin/media", {"content_type": "image/png", "bytes": len(PNG)})
    assert answer.status == 200, answer
    media_id, url = answer.data["media_id"], answer.data["upload_url"]
    assert set(answer.data) == {"media_id", "upload_url", "expires_in"}
    # Then the URL is a presigned PUT of media/<id> on the local S3, with type and size signed
    assert media.is_media_id(media_id) and len(media_id) == 22
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == os.environ["AWS_ENDPOINT_URL_S3"]
    assert parts.path == f"/{os.environ['MEDIA_BUCKET']}/media/{media_id}"
    query = _query(url)
    assert query["X-Amz-SignedHeaders"].split(";") == ["content-length", "content-type", "host"]
    assert answer.data["expires_in"] == int(query["X-Amz-Expires"]) == settings.media_upload_expiry_seconds
    # And until something is uploaded the id is missing
    assert _missing_as_the_import([media_id]) == {media_id}

    # When a client PUTs another type, or another size, through the URL
    other_type = _send("PUT", url, PNG, "image/jpeg")
    other_size = _send("PUT", url, PNG + b"\x00", "image/png")
    # Then S3 refuses both as a signature mismatch, and nothing is stored
    for status, _headers, body in (other_type, other_size):
        assert status == 403 and b"SignatureDoesNotMatch" in body, body
    assert _missing_as_the_import([media_id]) == {media_id}

    # When the announced image is PUT
    status, _headers, body = _send("PUT", url, PNG, "image/png")
    # Then it is stored, and the id is no longer missing
    assert status == 200, body
    assert _missing_as_the_import([media_id]) == set()

    # When practice signs a view of it
    view = _view_url_as_practice(media_id)
    # Then the URL is short-lived (the setting, 300 s by default) and answers the bytes as stored
    view_query = _query(view)
    assert int(view_query["X-Amz-Expires"]) == settings.media_view_expiry_seconds <= 900
    status, headers, body = _send("GET", view)
    assert (status, body, headers["content-type"]) == (200, PNG, "image/png")
    assert headers["content-disposition"] == "attachment"


def test_an_svg_is_served_as_a_download_not_a_page(admin: HandlerClient) -> None:
    # Given an SVG holding a script, uploaded through its URL
    answer = admin.post(f"{API}/admin/media", {"content_type": "image/svg+xml", "bytes": len(SVG)})
    assert answer.status == 200, answer
    assert _send("PUT", answer.data["upload_url"], SVG, "image/svg+xml")[0] == 200
    # When its view URL is opened
    view = _view_url_as_practice(answer.data["media_id"])
    status, headers, body = _send("GET", view)
    # Then it comes with its own type and as an attachment: <img> draws it, navigation downloads it
    assert (status, body) == (200, SVG)
    assert headers["content-type"] == "image/svg+xml"
    assert headers["content-disposition"] == "attachment"
    # And the disposition is part of the signed query: a client cannot drop it and keep the signature
    parts = urlsplit(view)
    stripped = [(k, v) for k, v in parse_qsl(parts.query) if k != "response-content-disposition"]
    tampered = parts._replace(query="&".join(f"{k}={urllib.request.quote(v, safe='')}" for k, v in stripped))
    assert _send("GET", tampered.geturl())[0] == 403


def test_students_and_strangers_cannot_get_an_upload_url(auth_fn: Any, admin_fn: Any) -> None:
    # Given a student's token, and no token at all
    student = register(auth_fn, name="Curious Student").data["access_token"]
    body = {"content_type": "image/png", "bytes": 10}
    # Then the student is refused for the role, and the stranger for the missing token
    refused = HandlerClient(admin_fn, token=student).post(f"{API}/admin/media", body)
    assert refused.status == 403 and refused.json["errors"][0]["code"] == "AUTHORIZATION_ERROR", refused
    assert HandlerClient(admin_fn).post(f"{API}/admin/media", body).status == 401


@pytest.mark.parametrize(("body", "field"), [
    ({"content_type": "image/gif", "bytes": 10}, "content_type"),
    ({"content_type": "text/html", "bytes": 10}, "content_type"),
    ({"content_type": "IMAGE/PNG", "bytes": 10}, "content_type"),
    ({"content_type": "image/png", "bytes": 0}, "bytes"),
    ({"content_type": "image/png", "bytes": 2_000_001}, "bytes"),
    ({"content_type": "image/png", "bytes": "10"}, "bytes"),
    ({"content_type": "image/png", "bytes": 10.5}, "bytes"),
    ({"content_type": "image/png"}, "bytes"),
    ({"content_type": "image/png", "bytes": 10, "key": "media/mine"}, "key"),
])
def test_an_upload_of_another_type_or_size_is_422_on_that_field(admin: HandlerClient, body: dict[str, Any],
                                                               field: str) -> None:
    # When an admin asks for an upload the bank does not take
    answer = admin.post(f"{API}/admin/media", body)
    # Then it is a 422 in the envelope, naming the field
    assert answer.status == 422, answer
    assert answer.json["success"] is False
    assert [(e["code"], e["field"]) for e in answer.json["errors"]] == [("VALIDATION_ERROR", field)]


def test_the_largest_image_is_accepted_and_the_store_refuses_what_the_route_refuses(admin: HandlerClient) -> None:
    # Given the largest size the API takes, it gets a URL signed for exactly that size
    answer = admin.post(f"{API}/admin/media", {"content_type": "image/webp", "bytes": 2_000_000})
    assert answer.status == 200, answer
    assert "content-length" in _query(answer.data["upload_url"])["X-Amz-SignedHeaders"]
    # And the store itself never signs a type or size outside the contract, whoever calls it
    for content_type, size in (("image/gif", 10), ("image/png", 0), ("image/png", 2_000_001), ("image/png", True)):
        with pytest.raises(ValueError):
            media.upload_target(content_type, size)


def test_missing_checks_each_distinct_id_once_and_refuses_too_many(settings: Any) -> None:
    # Given ids that cannot exist (malformed) and a well-formed one never uploaded, one of them twice
    never = "n" * 22
    # Then all are missing, each reported once; a malformed id is never turned into a key
    assert _missing_as_the_import(["../etc/passwd", "short", never, never]) == {"../etc/passwd", "short", never}
    with pytest.raises(ValueError):
        media.view_url("../etc/passwd")
    # And more distinct ids than one question may name are refused before any call
    too_many = [f"{n:022d}" for n in range(settings.media_per_question_max + 1)]
    with pytest.raises(media.TooManyMedia):
        media.missing(too_many)


def test_a_forbidden_head_means_missing_and_a_failing_s3_is_a_503() -> None:
    from botocore.stub import Stubber

    client = media._client()
    # Given S3 answers HeadObject with 403 (what it says for an absent key to a role without
    # ListBucket), then with 500
    with Stubber(client) as stub:
        stub.add_client_error("head_object", service_error_code="403", http_status_code=403)
        stub.add_client_error("head_object", service_error_code="InternalError", http_status_code=500)
        # Then the first is a missing id, and the second is a 503, never a verdict
        assert media.missing(["f" * 22]) == {"f" * 22}
        with pytest.raises(ServiceUnavailable):
            media.missing(["g" * 22])


def test_the_local_s3_refuses_an_expired_or_altered_presigned_url(admin: HandlerClient) -> None:
    # Given a real upload URL
    answer = admin.post(f"{API}/admin/media", {"content_type": "image/png", "bytes": len(PNG)})
    url = answer.data["upload_url"]
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    params = dict(query)
    signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    expires = timedelta(seconds=int(params["X-Amz-Expires"]))
    headers = {"host": parts.netloc, "content-type": "image/png", "content-length": str(len(PNG))}
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]

    def refusal(at: datetime, sent: dict[str, str] = headers, sent_query: list[tuple[str, str]] = query) -> str | None:
        return local_aws.presigned_refusal("PUT", parts.path, sent_query, sent, secret, at)

    # Then the local S3 takes it up to its last second and refuses it after, as S3 does
    assert refusal(signed_at + expires) is None
    assert refusal(signed_at + expires + timedelta(seconds=1)) == "expired"
    # And a longer expiry written into the URL breaks the signature
    longer = [(k, "604800" if k == "X-Amz-Expires" else v) for k, v in query]
    assert refusal(signed_at, sent_query=longer) == "signature"
    assert _send("PUT", parts._replace(query="&".join(f"{k}={urllib.request.quote(v, safe='')}"
                                                      for k, v in longer)).geturl(), PNG, "image/png")[0] == 403


def test_a_mock_test_papers_view_url_returns_the_image(admin: HandlerClient) -> None:
    # Given an uploaded image
    answer = admin.post(f"{API}/admin/media", {"content_type": "image/png", "bytes": len(PNG)})
    media_id = answer.data["media_id"]
    assert _send("PUT", answer.data["upload_url"], PNG, "image/png")[0] == 200
    # When a mock test's paper shows it (its URLs are signed by the mock tests function, with its role)
    with acting_as("MockTestsFunction"):
        url = media.view_url(media_id)
    # Then the URL returns the image
    status, _headers, body = _send("GET", url)
    assert status == 200 and body == PNG
