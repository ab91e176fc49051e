"""The media bucket: question images under ``media/<media_id>`` in the stack's S3 bucket.

Nothing here streams bytes through a function. An admin gets a presigned PUT (``upload_target``)
and sends the image straight to S3; a student gets a presigned GET (``view_url``). Presigning is
local HMAC work (SigV4 query signing), no AWS call; only ``missing`` calls S3 (HeadObject).

What an upload URL fixes. botocore signs every header the request carries when it presigns, so
``ContentType`` and ``ContentLength`` become the signed headers ``content-type`` and
``content-length`` (``X-Amz-SignedHeaders=content-length;content-type;host``): S3 recomputes the
signature from the headers the PUT really sends, and a PUT of another type or another number of
bytes is refused with 403 SignatureDoesNotMatch. The size check is exact, not a maximum: a client
announces the size it will send, and the URL is good for that file only.

SVG can carry script. An SVG opened as a document (navigated to, framed) runs it, in the bucket's
origin; drawn by ``<img>`` or a native image view it never does. Every view URL therefore asks S3
to answer ``Content-Disposition: attachment`` (``response-content-disposition``, part of the signed
query): image elements and app image loaders ignore the disposition and draw the picture, while a
browser that navigates to the URL downloads the file instead of rendering it. The stored type is
the one the upload signature fixed, one of ``CONTENT_TYPES``, never a client's later choice.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import Any, Literal, get_args

from mindly.aws_clients import ContainerClient
from mindly.config import Settings, get_settings
from mindly.exceptions import ServiceUnavailable

MEDIA_PREFIX = "media/"
# What an admin may upload (API.md: POST /admin/media) and how large it may be.
ContentType = Literal["image/png", "image/jpeg", "image/webp", "image/svg+xml"]
CONTENT_TYPES: tuple[str, ...] = get_args(ContentType)
MAX_MEDIA_BYTES = 2_000_000
# New ids are secrets.token_urlsafe(16): 128 random bits as 22 url-safe characters, unguessable and
# safe in a key. Any id of the shape question records may name (mindly.domain.content) is looked up.
_MEDIA_ID_BYTES = 16
MEDIA_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
_MEDIA_ID = re.compile(MEDIA_ID_PATTERN)
# Served as a download when navigated to, drawn as usual by image elements (module docstring).
VIEW_DISPOSITION = "attachment"
# HeadObject's answers that mean "no such object". Without s3:ListBucket (which the functions are
# not granted) S3 answers 403 instead of 404 for a key that does not exist.
_ABSENT_STATUSES = frozenset({403, 404})


def _s3_config(settings: Settings) -> dict[str, Any]:
    # Path-style on the local endpoint (an IP address has no bucket subdomains); virtual-hosted
    # on AWS, which with an explicit style also picks the regional endpoint
    # (bucket.s3.<region>.amazonaws.com) over the global one that may redirect a new bucket.
    style: Literal["path", "virtual"] = "path" if settings.s3_endpoint_url else "virtual"
    return {"signature_version": "s3v4", "s3": {"addressing_style": style},
            "connect_timeout": 2, "read_timeout": 2, "retries": {"mode": "standard", "max_attempts": 3}}


# One S3 client per container (mindly.aws_clients).
_client = ContainerClient("s3", lambda settings: settings.s3_endpoint_url, _s3_config)
# Drops the S3 client (its connections and the credentials it read); the next use makes one.
forget_client = _client.forget


class TooManyMedia(ValueError):
    """More media ids than one question may name (``media_per_question_max``)."""


def is_media_id(value: object) -> bool:
    """Whether ``value`` has the shape of a media id (8..64 letters, digits, ``-`` or ``_``)."""
    return isinstance(value, str) and _MEDIA_ID.fullmatch(value) is not None


def media_key(media_id: str) -> str:
    """The object key of a media id; refuses anything that is not one (no path games in keys)."""
    if not is_media_id(media_id):
        raise ValueError(f"not a media id: {media_id!r}")
    return MEDIA_PREFIX + media_id


def upload_target(content_type: str, size: int) -> tuple[str, str, int]:
    """A new media id and a presigned PUT for exactly one image of ``content_type`` and ``size``
    bytes at ``media/<media_id>``: ``(media_id, url, expires_in seconds)``. The caller has checked
    both against ``CONTENT_TYPES`` and ``MAX_MEDIA_BYTES``; they are checked again here, since a URL
    signed for anything else would be a hole."""
    if content_type not in CONTENT_TYPES:
        raise ValueError(f"content type {content_type!r} is not one of {CONTENT_TYPES}")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_MEDIA_BYTES:
        raise ValueError(f"size must be 1..{MAX_MEDIA_BYTES} bytes")
    settings = get_settings()
    media_id = secrets.token_urlsafe(_MEDIA_ID_BYTES)
    expires_in = settings.media_upload_expiry_seconds
    url = _client().generate_presigned_url(
        "put_object",
        Params={"Bucket": _bucket(), "Key": media_key(media_id), "ContentType": content_type,
                "ContentLength": size},
        ExpiresIn=expires_in)
    return media_id, str(url), expires_in


def view_url(media_id: str) -> str:
    """A presigned GET of one image, good for ``media_view_expiry_seconds``, answered as an
    attachment (module docstring: why SVG is safe that way). No AWS call: a page of questions
    signs its images for nothing. Whether the object exists is the import's check (``missing``)."""
    url = _client().generate_presigned_url(
        "get_object",
        Params={"Bucket": _bucket(), "Key": media_key(media_id),
                "ResponseContentDisposition": VIEW_DISPOSITION},
        ExpiresIn=get_settings().media_view_expiry_seconds)
    return str(url)


def missing(media_ids: Iterable[str]) -> set[str]:
    """The ids among ``media_ids`` with no object in the bucket: one HeadObject per distinct
    well-formed id (a malformed one cannot exist and costs no call). Refuses more distinct ids than
    one question may name (``TooManyMedia``), so a record cannot turn an import into thousands of
    calls; S3 failing to answer is a ``ServiceUnavailable``, never a verdict of "missing"."""
    wanted = set(media_ids)
    limit = get_settings().media_per_question_max
    if len(wanted) > limit:
        raise TooManyMedia(f"at most {limit} media ids a question, not {len(wanted)}")
    absent = {media_id for media_id in wanted if not is_media_id(media_id)}
    for media_id in sorted(wanted - absent):
        if not _exists(media_key(media_id)):
            absent.add(media_id)
    return absent


def _exists(key: str) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        _client().head_object(Bucket=_bucket(), Key=key)
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status in _ABSENT_STATUSES:
            return False
        raise ServiceUnavailable("The media store did not answer; try again shortly") from exc
    except BotoCoreError as exc:  # no answer at all: connection refused, timeout
        raise ServiceUnavailable("The media store did not answer; try again shortly") from exc
    return True


def _bucket() -> str:
    bucket = get_settings().media_bucket
    if not bucket:
        raise ServiceUnavailable("The media bucket is not configured")
    return bucket
