"""The badge catalog: stored in the Content table, read once per container, seeded from the bundle.

The catalog is data (mindly/domain/badges.json, criteria as JSON); `python -m infra.cli seed-badges`
and the local stack store it. Functions read the stored catalog at most every few minutes. Until a
deployment has been seeded, the bundled catalog is used, and the log says so.
"""

from __future__ import annotations

import time
from typing import Any, TypedDict

from mindly.domain import badges as rules
from mindly.observability import logger
from mindly.store import progress as store

CACHE_SECONDS = 300


class _Cached(TypedDict):
    at: float
    catalog: tuple[rules.Badge, ...]


_cached: _Cached = {"at": float("-inf"), "catalog": ()}


def catalog(now: float | None = None) -> tuple[rules.Badge, ...]:
    """The badge catalog this container evaluates (stored one, refreshed every CACHE_SECONDS)."""
    now = time.monotonic() if now is None else now
    if now - _cached["at"] < CACHE_SECONDS:
        return _cached["catalog"]
    stored = store.badge_definitions()
    if stored:
        found = tuple(rules.parse_catalog([
            {"badge_id": item.badge_id, "name": item.name, "description": item.description,
             "criteria": item.criteria} for item in stored]))
    else:
        logger.warning("badge catalog not seeded: using the bundled catalog (run infra.cli seed-badges)")
        found = rules.bundled_catalog()
    _cached.update({"at": now, "catalog": found})
    return found


def forget_cached_catalog() -> None:
    """Make the next ``catalog()`` read the store again (after seeding, and in tests)."""
    _cached.update({"at": float("-inf"), "catalog": ()})


def seed(badges: tuple[rules.Badge, ...] | list[rules.Badge] | None = None) -> dict[str, int]:
    """Store the catalog (the bundled one by default); re-running it changes nothing."""
    entries = list(badges if badges is not None else rules.bundled_catalog())
    written = sum(store.save_badge_definition(b.badge_id, b.name, b.description, b.criteria, position)
                  for position, b in enumerate(entries))
    forget_cached_catalog()
    return {"badges": len(entries), "written": written, "unchanged": len(entries) - written}


def badges_view(user_id: str) -> dict[str, Any]:
    """GET /progress/badges: what the student holds and what is still to earn."""
    held = {item.badge_id: item.earned_at for item in store.earned_badges(user_id)}
    known = catalog()
    return {
        "earned": [{"badge_id": b.badge_id, "name": b.name, "description": b.description,
                    "earned_at": held[b.badge_id].strftime(store.INSTANT_FORMAT)}
                   for b in known if b.badge_id in held],
        "available": [{"badge_id": b.badge_id, "name": b.name, "description": b.description,
                       "criteria": b.criteria} for b in known if b.badge_id not in held],
    }
