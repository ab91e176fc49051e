"""Pagination shared by every list: ``page``/``limit`` or an opaque ``cursor``.

A cursor is where DynamoDB stopped (the last key of a page), encoded for the URL. It is checked
against the partition the request reads, so a cursor from one filter cannot be replayed on another.
A page number without a cursor walks the pages before it (one Query each); ``next_cursor`` makes
every page one Query.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from mindly.exceptions import ValidationFailed

MAX_LIMIT = 100
MAX_PAGE = 50  # beyond this a client pages with next_cursor

Key = dict[str, str]
Fetch = Callable[[Key | None], tuple[list[Any], Key | None]]


def encode_cursor(key: Key | None) -> str | None:
    if key is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, required: dict[str, str]) -> Key:
    """The key a cursor holds; ValidationFailed when it is not one of ours or not for this
    partition (``required``: attribute -> value the key must carry)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed("cursor is not valid", field="cursor") from exc
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()) \
            or not {"pk", "sk"} <= set(raw) or len(raw) > 4:
        raise ValidationFailed("cursor is not valid", field="cursor")
    if any(raw.get(name) != value for name, value in required.items()):
        raise ValidationFailed("cursor belongs to another list or filter", field="cursor")
    return raw


def check_limits(page: int, limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    if not 1 <= page <= MAX_PAGE:
        raise ValidationFailed(f"page must be between 1 and {MAX_PAGE}; use next_cursor beyond", field="page")


def paginate(fetch: Fetch, page: int, limit: int, cursor: str | None, required: dict[str, str],
             render: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """A list answer: ``fetch(start)`` reads one page from ``start`` (None: the beginning)."""
    check_limits(page, limit)
    start = decode_cursor(cursor, required) if cursor else None
    items, last = fetch(start)
    if cursor is None:
        for _ in range(page - 1):
            if last is None:
                items = []
                break
            items, last = fetch(last)
    return {"items": [render(item) for item in items], "page": page, "limit": limit,
            "has_more": last is not None, "next_cursor": encode_cursor(last)}
