"""The weekly leaderboard: served from Redis, rebuilt from DynamoDB when Redis lost it."""

from __future__ import annotations

from typing import Any

from mindly.cache import leaderboard as boards
from mindly.cache.client import get_redis
from mindly.domain import ranking
from mindly.exceptions import CacheError
from mindly.observability import logger
from mindly.services.progress import Mirror
from mindly.store import progress as store


def _from_entries(week: str, exam: str | None, user_id: str,
                  entries: list[tuple[str, int, str | None]]) -> boards.Board:
    order = ranking.ranked(entries)
    top = [boards.Standing(rank=i + 1, user_id=uid, xp=xp, name=name or "")
           for i, (uid, xp, name) in enumerate(order[:boards.TOP])]
    mine = next(((i + 1, xp) for i, (uid, xp, _n) in enumerate(order) if uid == user_id), None)
    return boards.Board(week, exam, top, mine[0] if mine else None, mine[1] if mine else 0)


def _rebuilt(week: str, exam: str | None, user_id: str, redis: Any) -> boards.Board:
    """The board from DynamoDB (the source of truth), loaded back into Redis when it is there."""
    if redis is not None:
        try:
            boards.begin_rebuild(redis, week, exam)
        except CacheError:
            redis = None
    entries = store.week_entries(week, exam)
    if redis is not None:
        try:
            boards.load(redis, week, exam, entries)
        except CacheError:
            logger.warning("leaderboard rebuild not cached: redis unavailable", extra={"week": week})
    return _from_entries(week, exam, user_id, entries)


def weekly(user_id: str, week: str, exam: str | None) -> dict[str, Any]:
    """Top ten and the caller's rank: one Redis round trip when the board is warm."""
    redis = None
    board: boards.Board | None = None
    try:
        redis = get_redis()
        board = boards.read(redis, week, exam, user_id)
    except CacheError:
        logger.warning("leaderboard read from DynamoDB: redis unavailable", extra={"week": week})
        redis = None
    if board is None:
        board = _rebuilt(week, exam, user_id, redis)
    return {
        "week": week,
        "top": [{"rank": s.rank, "user_id": s.user_id, "name": s.name, "xp": s.xp} for s in board.top],
        "me": {"rank": board.my_rank, "xp": board.my_xp},
    }


def mirror_award(name: str | None) -> Mirror:
    """The ``mirror`` callback record_activity uses to keep the Redis boards in step."""

    def mirror(week: str, totals: dict[str | None, int], user_id: str) -> None:
        boards.set_totals(get_redis(), week, totals, user_id, name)

    return mirror


def forget_on_change(week: str, totals: dict[str | None, int], user_id: str) -> None:
    """A ``mirror`` for changes that lower a total (an undone review): the boards only take higher
    totals, so the touched boards are dropped and rebuilt from DynamoDB on their next read."""
    redis = get_redis()
    for exam in totals:
        boards.forget(redis, week, exam)
