"""Weekly leaderboards: a Redis sorted set per ISO week (and per week and exam).

Members are user ids, scores the student's XP of the week. Scores are written as absolute weekly
totals with ``ZADD GT`` (a week's XP only grows), never as increments, so a mirror that is
retried, or that races a rebuild, can only ever leave the right total. Equal scores are ordered
by user id, as Redis orders them (ZREVRANGE: member descending), and the DynamoDB fallback sorts the
same way, so ties come out the same on every read and after every rebuild. Display names live in a
hash beside the sets. Boards expire three weeks after they were last written.

A board is only served once it is complete: a ``ready`` marker says so. Rebuilding from DynamoDB
first raises a short ``building`` marker, then reads DynamoDB, then loads what it read and sets
``ready``. An award committed after the read started finds the ``building`` marker and writes its
total into the board itself, so it is never lost by the rebuild; an award with neither marker is
left to the next rebuild (DynamoDB has it already), which keeps a board from holding one student.

Redis outages. An award whose mirror fails (Redis unreachable) is counted in DynamoDB all the same,
and while Redis is down boards are read from DynamoDB; but once Redis is back, the board it still
holds lacks that award. So the container that failed remembers the totals it could not write and
writes them (``ZADD GT``: late is harmless) before its next board write or read; and since that
container may never run again, ``ready`` lasts only READY_SECONDS: every board is rebuilt from
DynamoDB at least that often, which bounds how long any lost mirror can show.
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

from upstash_redis import Redis

from mindly.cache.client import key
from mindly.exceptions import CacheError

BOARD_TTL_SECONDS = 21 * 24 * 3600
BUILD_MARKER_SECONDS = 60
READY_SECONDS = 15 * 60
TOP = 10
MAX_UNMIRRORED = 1000

# KEYS: board, ready marker, names. ARGV: user id, how many.
# Returns {0} when the board is not ready, else {1, n, id, score, name (n times), my rank, my score}.
_READ_SCRIPT = """
if redis.call('EXISTS', KEYS[2]) == 0 then return {0} end
local top = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
local out = {1, #top / 2}
for i = 1, #top, 2 do
  out[#out + 1] = top[i]
  out[#out + 1] = top[i + 1]
  out[#out + 1] = redis.call('HGET', KEYS[3], top[i]) or ''
end
local rank = redis.call('ZREVRANK', KEYS[1], ARGV[1])
out[#out + 1] = rank and tostring(rank + 1) or ''
out[#out + 1] = redis.call('ZSCORE', KEYS[1], ARGV[1]) or ''
return out
"""

# KEYS: names, then (board, ready, building) per board. ARGV: user id, name, ttl, then a total per board.
_SET_TOTALS_SCRIPT = """
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
end
local written = 0
for i = 0, (#KEYS - 1) / 3 - 1 do
  local board, ready, building = KEYS[2 + 3 * i], KEYS[3 + 3 * i], KEYS[4 + 3 * i]
  if redis.call('EXISTS', ready) == 1 or redis.call('EXISTS', building) == 1 then
    redis.call('ZADD', board, 'GT', tonumber(ARGV[4 + i]), ARGV[1])
    redis.call('EXPIRE', board, tonumber(ARGV[3]))
    written = written + 1
  end
end
return written
"""


class Standing(NamedTuple):
    rank: int
    user_id: str
    name: str
    xp: int


class Board(NamedTuple):
    week: str
    exam: str | None
    top: list[Standing]
    my_rank: int | None
    my_xp: int


def board_key(week: str, exam: str | None) -> str:
    return key("lb", week, exam) if exam else key("lb", week)


def _ready_key(week: str, exam: str | None) -> str:
    return key("lbready", week, exam) if exam else key("lbready", week)


def _building_key(week: str, exam: str | None) -> str:
    return key("lbbuild", week, exam) if exam else key("lbbuild", week)


def _names_key(week: str) -> str:
    return key("lbnames", week)


# Totals this container could not mirror because Redis was unreachable, by (week, user id).
_unmirrored: dict[tuple[str, str], tuple[dict[str | None, int], str | None]] = {}
_unmirrored_lock = threading.Lock()


def _remember(week: str, totals: dict[str | None, int], user_id: str, name: str | None) -> None:
    with _unmirrored_lock:
        earlier, earlier_name = _unmirrored.pop((week, user_id), ({}, None))
        merged = dict(earlier)
        for exam, xp in totals.items():
            merged[exam] = max(int(xp), merged.get(exam, 0))
        _unmirrored[(week, user_id)] = (merged, name or earlier_name)
        while len(_unmirrored) > MAX_UNMIRRORED:  # a long outage: the oldest are left to READY_SECONDS
            _unmirrored.pop(next(iter(_unmirrored)))


def unmirrored() -> int:
    """How many students' totals this container still has to write to the boards."""
    return len(_unmirrored)


def _catch_up(redis: Redis) -> None:
    """Write the totals this container could not mirror during a Redis outage (no round trip when
    there are none). CacheError when Redis is still unreachable."""
    if not _unmirrored:
        return
    with _unmirrored_lock:
        pending = list(_unmirrored.items())
    for (week, user_id), entry in pending:
        _write_totals(redis, week, entry[0], user_id, entry[1])
        with _unmirrored_lock:
            if _unmirrored.get((week, user_id)) == entry:
                del _unmirrored[(week, user_id)]


def set_totals(redis: Redis, week: str, totals: dict[str | None, int], user_id: str, name: str | None) -> int:
    """Mirror a student's new weekly totals (one per board) onto the boards that are ready or being
    rebuilt; one round trip (after any this container still owes the boards). Returns how many
    boards were written. CacheError when Redis is unreachable; the totals are then remembered and
    written on this container's next board write or read."""
    try:
        _catch_up(redis)
        return _write_totals(redis, week, totals, user_id, name)
    except CacheError:
        _remember(week, totals, user_id, name)
        raise


def _write_totals(redis: Redis, week: str, totals: dict[str | None, int], user_id: str, name: str | None) -> int:
    boards = list(totals)
    keys = [_names_key(week)]
    for exam in boards:
        keys += [board_key(week, exam), _ready_key(week, exam), _building_key(week, exam)]
    args: list[Any] = [user_id, name or "", BOARD_TTL_SECONDS, *(int(totals[exam]) for exam in boards)]
    try:
        return int(redis.eval(_SET_TOTALS_SCRIPT, keys, args))
    except Exception as exc:  # httpx errors, UpstashError: the SDK has no common base
        raise CacheError("leaderboard unavailable") from exc


def read(redis: Redis, week: str, exam: str | None, user_id: str) -> Board | None:
    """The board in one round trip, or None when Redis does not hold a complete one."""
    _catch_up(redis)
    try:
        raw: list[Any] = redis.eval(_READ_SCRIPT, [board_key(week, exam), _ready_key(week, exam), _names_key(week)],
                                    [user_id, str(TOP)])
    except Exception as exc:
        raise CacheError("leaderboard unavailable") from exc
    if not raw or int(raw[0]) == 0:
        return None
    count = int(raw[1])
    top = [Standing(rank=i + 1, user_id=str(raw[2 + 3 * i]), xp=int(float(raw[3 + 3 * i])),
                    name=str(raw[4 + 3 * i] or "")) for i in range(count)]
    rank, score = raw[2 + 3 * count], raw[3 + 3 * count]
    return Board(week, exam, top, int(rank) if rank else None, int(float(score)) if score else 0)


def begin_rebuild(redis: Redis, week: str, exam: str | None) -> None:
    """Raise the ``building`` marker; call before reading DynamoDB (see the module docstring)."""
    try:
        redis.set(_building_key(week, exam), "1", ex=BUILD_MARKER_SECONDS)
    except Exception as exc:
        raise CacheError("leaderboard unavailable") from exc


def load(redis: Redis, week: str, exam: str | None, entries: list[tuple[str, int, str | None]]) -> None:
    """Merge ``entries`` (user id, xp, name) read from DynamoDB into the board and mark it ready.

    ``ZADD GT`` keeps any higher total an award wrote while the rebuild was reading.
    """
    board = board_key(week, exam)
    transaction = redis.multi()
    for start in range(0, len(entries), 500):
        chunk = entries[start:start + 500]
        transaction.zadd(board, {user_id: xp for user_id, xp, _ in chunk}, gt=True)
        names = {user_id: name for user_id, _, name in chunk if name}
        if names:
            transaction.hset(_names_key(week), values=names)
    transaction.expire(board, BOARD_TTL_SECONDS)
    transaction.expire(_names_key(week), BOARD_TTL_SECONDS)
    transaction.set(_ready_key(week, exam), "1", ex=READY_SECONDS)
    transaction.delete(_building_key(week, exam))
    try:
        transaction.exec()
    except Exception as exc:
        raise CacheError("leaderboard unavailable") from exc


def forget(redis: Redis, week: str, exam: str | None) -> None:
    """Drop a board (as if Redis had lost it); the next read rebuilds it from DynamoDB."""
    try:
        redis.delete(board_key(week, exam), _ready_key(week, exam), _building_key(week, exam))
    except Exception as exc:
        raise CacheError("leaderboard unavailable") from exc
