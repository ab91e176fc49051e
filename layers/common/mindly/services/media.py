"""Question images: handing an admin a place to upload one (API.md "Question types, passages,
formatting, media"). The bytes go from the admin's client straight to the media bucket."""

from __future__ import annotations

from typing import Any

from mindly.store import media as store

# What the admin route accepts, as the store defines it.
ContentType = store.ContentType
MAX_MEDIA_BYTES = store.MAX_MEDIA_BYTES


def upload_target(content_type: str, size: int) -> dict[str, Any]:
    """A new media id with a presigned PUT for one image of exactly this type and size:
    ``{media_id, upload_url, expires_in}``. Nothing is stored until the upload arrives; a question
    may name the id once it has (the import checks with ``mindly.store.media.missing``)."""
    media_id, url, expires_in = store.upload_target(content_type, size)
    return {"media_id": media_id, "upload_url": url, "expires_in": expires_in}
