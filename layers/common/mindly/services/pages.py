"""Pagination shared by every list: ``page``/``limit`` or an opaque ``cursor``.

A cursor is where DynamoDB stopped (the last key of a page), sealed for its scope: the list, the
student and every filter of the request (mindly.services.cursors). Replayed on other filters, by
another student or changed by a byte, it is refused (422 on ``cursor``); base64-decoded, it shows
nothing of the table's keys. The page size is not part of the scope: a cursor is a position, and
resuming it with another ``limit`` neither skips nor repeats an item. A page number without a
cursor walks the pages before it (one Query each); ``next_cursor`` makes every page one Query.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mindly.config import get_settings
from mindly.exceptions import ValidationFailed
from mindly.services import cursors
from mindly.services.cursors import Scope as Scope  # the lists build theirs

MAX_LIMIT = 100
MAX_PAGE = 50  # beyond this a client pages with next_cursor

Key = cursors.Key
Fetch = Callable[[Key | None], tuple[list[Any], Key | None]]

def encode_cursor(key: Key | None, scope: Scope) -> str | None:
    """The cursor that resumes ``scope``'s list after ``key`` (None: there is nothing after)."""
    if key is None:
        return None
    return cursors.seal(key, scope, get_settings().require_cursor_secret())


def decode_cursor(cursor: str, scope: Scope, required: dict[str, str]) -> Key:
    """The key a cursor holds; ValidationFailed when it is not one of ours for this scope. The key
    must also lie in the partition the request reads (``required``: attribute -> value), a second
    check should a list ever forget a filter in its scope."""
    key = cursors.unseal(cursor, scope, get_settings().require_cursor_secret())
    if not {"pk", "sk"} <= set(key) or len(key) > 4 or any(key.get(name) != value
                                                           for name, value in required.items()):
        raise ValidationFailed(cursors.REFUSED, field="cursor")
    return key


def cursor_fits(cursor: str, scope: Scope, required: dict[str, str]) -> bool:
    """Whether ``cursor`` is one of ours for ``scope``: a list whose scope may be one of a few
    (a shuffled list begun yesterday keeps yesterday's order) tries each before paginating."""
    try:
        decode_cursor(cursor, scope, required)
    except ValidationFailed:
        return False
    return True


def check_limits(page: int, limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    if not 1 <= page <= MAX_PAGE:
        raise ValidationFailed(f"page must be between 1 and {MAX_PAGE}; use next_cursor beyond", field="page")


def paginate(fetch: Fetch, page: int, limit: int, cursor: str | None, scope: Scope, required: dict[str, str],
             render: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """A list answer: ``fetch(start)`` reads one page from ``start`` (None: the beginning); the
    cursor given and the ``next_cursor`` answered are sealed for ``scope``."""
    check_limits(page, limit)
    start = decode_cursor(cursor, scope, required) if cursor else None
    items, last = fetch(start)
    if cursor is None:
        for _ in range(page - 1):
            if last is None:
                items = []
                break
            items, last = fetch(last)
    return {"items": [render(item) for item in items], "page": page, "limit": limit,
            "has_more": last is not None, "next_cursor": encode_cursor(last, scope)}
