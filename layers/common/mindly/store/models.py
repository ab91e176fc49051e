"""The four tables as pynamodb models.

Each table is single-table designed: a base model declares the keys, GSIs and TTL attribute the
table has (template.yaml declares the same; tests/unit/test_model_drift.py proves it) and every kind
of item is a subclass told apart by the ``kind`` discriminator. Later features add item kinds by
subclassing a table, never by adding tables.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, cast

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import MetaProtocol, Model

from mindly.config import get_settings
from mindly.exceptions import StoreBusy

# BatchGetItem: how often keys DynamoDB left unprocessed are asked for again, and the backoff cap of
# the first of those asks (doubling each time, at most 1 s; full jitter): at most 2.55 s of waiting.
UNPROCESSED_RETRIES = 6
UNPROCESSED_FIRST_CAP_SECONDS = 0.05
_sleep: Callable[[float], None] = time.sleep  # tests record the backoffs instead


def _meta(table_name: str) -> MetaProtocol:
    """The pynamodb Meta of a table: name and endpoint from the settings, short timeouts."""
    settings = get_settings()
    attrs: dict[str, Any] = {
        "table_name": table_name,
        "region": settings.aws_region,
        "host": settings.dynamodb_endpoint_url,
        "connect_timeout_seconds": 2,
        "read_timeout_seconds": settings.dynamodb_read_timeout_seconds,
        "max_retry_attempts": 3,
    }
    # A class whose attributes are the protocol's fields; pynamodb's metaclass fills in the rest.
    return cast("MetaProtocol", type("Meta", (), attrs))


def connection_of(model: type[Model]) -> Connection:
    """The low-level connection a table's model already holds, for transactions.

    A new ``Connection`` would build a new botocore client, which loads the service model from
    disk (about 0.2 s on every request); the model's own is built once per container.
    """
    return model._get_connection().connection


def batch_read(requests: list[tuple[type[Model], list[tuple[str, str]]]],
               consistent_read: bool = True) -> list[list[Any]]:
    """Items of several tables in one BatchGetItem (strongly consistent by default): for each
    (model, keys) request, the items found, as instances of the model's item kinds.

    Keys DynamoDB leaves unprocessed (it does under throttling, without an error) are asked for
    again after an exponential backoff with full jitter, as AWS advises; still unprocessed after
    ``UNPROCESSED_RETRIES`` asks, the read is StoreBusy (503 with Retry-After)."""
    wanted: dict[str, Any] = {}
    for model, keys in requests:
        if keys:
            entry = wanted.setdefault(model.Meta.table_name, {"Keys": [], "ConsistentRead": consistent_read})
            entry["Keys"] += [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in dict.fromkeys(keys)]
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in wanted}
    connection = connection_of(requests[0][0])
    retries = 0
    while wanted:
        if retries:
            if retries > UNPROCESSED_RETRIES:
                raise StoreBusy()
            _sleep(random.uniform(0, min(1.0, UNPROCESSED_FIRST_CAP_SECONDS * 2 ** (retries - 1))))
        answer = connection.dispatch("BatchGetItem", {"RequestItems": wanted})
        for table, items in answer.get("Responses", {}).items():
            found[table].extend(items)
        wanted = answer.get("UnprocessedKeys") or {}
        retries += 1
    results = []
    for model, _keys in requests:
        results.append([model.from_raw_data(raw) for raw in found.get(model.Meta.table_name, [])])
    return results


def newest_first_page(model: type[UsersTable | ContentTable | StudyTable], pk: str, prefix: str, limit: int,
                      start: dict[str, str] | None) -> tuple[list[Any], dict[str, str] | None]:
    """One page of a partition's items under ``prefix``, last sort key first: one Query of
    ``limit`` + 1 items (the extra one tells whether there is a next page); the next page's start
    is the last item's key."""
    exclusive_start = {name: {"S": value} for name, value in start.items()} if start else None
    items: list[Any] = list(model.query(pk, model.sk.startswith(prefix), scan_index_forward=False,
                                        limit=limit + 1, page_size=limit + 1, last_evaluated_key=exclusive_start))
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    return items, {"pk": items[-1].pk, "sk": items[-1].sk}


def _index_meta(name: str) -> type:
    return type("Meta", (), {"index_name": name, "projection": AllProjection()})


# --- Users: accounts, email guards, refresh-token sessions, profiles -------------------------------

class ReminderDueIndex(GlobalSecondaryIndex[Any]):
    """Streak reminders (sparse: only a student whose reminder is on carries it): pk
    ``REMIND#<UTC hour>#<shard>``, sk ``<instant>#<user id>``, the instant being when the next
    reminder is due (mindly.store.notifications)."""

    Meta = _index_meta("reminder_due")
    remind_pk = UnicodeAttribute(hash_key=True)
    remind_sk = UnicodeAttribute(range_key=True)


class UsersTable(Model):
    Meta = _meta(get_settings().users_table)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    expires_at = TTLAttribute(null=True)
    remind_pk = UnicodeAttribute(null=True)
    remind_sk = UnicodeAttribute(null=True)
    reminder_due = ReminderDueIndex()


class UserItem(UsersTable, discriminator="user"):
    """``USER#<id> / ACCOUNT``."""

    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute(default="student")
    password_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    # Set when the student opened a verification link; absent on accounts made before it existed.
    email_verified = BooleanAttribute(null=True)
    password_changed_at = UTCDateTimeAttribute(null=True)


class LinkTokenItem(UsersTable, discriminator="link_token"):
    """``USER#<id> / TOKEN#<purpose>#<sha-256 hex of the secret>``: a single-use token mailed in a
    link (purpose ``verify`` or ``reset``). Only the hash is stored, so the table yields no usable
    link; ``expires_at`` is the TTL and is checked on use too (TTL deletion lags by hours)."""

    purpose = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class LoginGuardItem(UsersTable, discriminator="login_guard"):
    """``USER#<id> / LOGINGUARD#<scope>``: the login attempts an account allows in a window, as a
    fixed row of slots (scope ``ALL`` for the account as a whole, else one client network's hash).

    A slot holds the microsecond time of the attempt that took it (0: never used); an attempt takes a
    slot whose time has left the window with a conditional write before the password is checked, so
    no more attempts are in flight or failed than there are slots. ``known_clients`` (on ``ALL``) are
    the hashes of networks that signed in to the account recently, with when they last did.
    """

    slots: ListAttribute[int] = ListAttribute(of=NumberAttribute, default=list)  # type: ignore[arg-type]  # pynamodb types `of` as the element value, not its Attribute class
    known_clients: MapAttribute[str, int] = MapAttribute(null=True)


class EmailItem(UsersTable, discriminator="email"):
    """``EMAIL#<normalized email> / EMAIL``: makes an email unique (written with the user, in one
    transaction, only if absent) and finds the user at login."""

    user_id = UnicodeAttribute()


class SessionItem(UsersTable, discriminator="session"):
    """``USER#<id> / SESSION#<family>``: one login, followed through refresh-token rotation."""

    user_id = UnicodeAttribute()
    family = UnicodeAttribute()
    current_jti = UnicodeAttribute()
    # The jti the last rotation replaced: presented again within the reuse window (rotated_at is
    # the current token's iat, expires_at its exp) it is answered the current token, re-issued.
    previous_jti = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    rotated_at = UTCDateTimeAttribute(null=True)
    revoked = BooleanAttribute(default=False)
    revoked_reason = UnicodeAttribute(null=True)


class ProfileItem(UsersTable, discriminator="profile"):
    """``USER#<id> / PROFILE``: what the student is preparing for."""

    exam_type = UnicodeAttribute()
    level = UnicodeAttribute()
    study_hours_per_day = NumberAttribute()
    target_date = UnicodeAttribute()
    weak_subjects: ListAttribute[str] = ListAttribute(of=UnicodeAttribute, default=list)  # type: ignore[arg-type]  # pynamodb types `of` as the element value, not its Attribute class
    daily_goal = NumberAttribute(default=20)
    timezone = UnicodeAttribute(default="Asia/Kolkata")
    new_cards_per_day = NumberAttribute(default=20)
    scheduler = UnicodeAttribute(default="sm2")  # "sm2" or "fsrs"
    # exam -> the deck sort key after which the student's new cards continue
    deck_positions: MapAttribute[str, str] = MapAttribute(null=True)
    updated_at = UTCDateTimeAttribute()


# --- Content: questions and flashcards ---------------------------------------------------------------

class ByExamIndex(GlobalSecondaryIndex[Any]):
    """Practice filters: pk ``EXAM#<exam>`` (questions) or ``DECK#<exam>`` (flashcards),
    sk ``<subject>#<topic>#<id>``, so begins_with narrows to a subject, then a topic."""

    Meta = _index_meta("by_exam")
    gsi1_pk = UnicodeAttribute(hash_key=True)
    gsi1_sk = UnicodeAttribute(range_key=True)


class ByDifficultyIndex(GlobalSecondaryIndex[Any]):
    """The same filters with a difficulty: pk ``EXAM#<exam>#<difficulty>``, sk
    ``<subject>#<topic>#<id>`` (questions only)."""

    Meta = _index_meta("by_difficulty")
    gsi2_pk = UnicodeAttribute(hash_key=True)
    gsi2_sk = UnicodeAttribute(range_key=True)


class ContentTable(Model):
    Meta = _meta(get_settings().content_table)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    expires_at = TTLAttribute(null=True)
    gsi1_pk = UnicodeAttribute(null=True)
    gsi1_sk = UnicodeAttribute(null=True)
    gsi2_pk = UnicodeAttribute(null=True)
    gsi2_sk = UnicodeAttribute(null=True)
    by_exam = ByExamIndex()
    by_difficulty = ByDifficultyIndex()


# --- Study: per-student state (cards, attempts, progress, leaderboard, roadmap jobs) -----------------

class DueIndex(GlobalSecondaryIndex[Any]):
    """Sparse: only scheduled cards carry it. pk ``USER#<id>``, sk ``<next_review_date>#<card>``."""

    Meta = _index_meta("due")
    due_pk = UnicodeAttribute(hash_key=True)
    due_sk = UnicodeAttribute(range_key=True)


class WeeklyXpIndex(GlobalSecondaryIndex[Any]):
    """Write-sharded leaderboard rebuild: pk ``LB#<week>#<shard>``, sk the week's XP."""

    Meta = _index_meta("weekly_xp")
    lb_pk = UnicodeAttribute(hash_key=True)
    lb_sk = NumberAttribute(range_key=True)


class ActiveByDayIndex(GlobalSecondaryIndex[Any]):
    """Streak job (sparse: only running streaks carry it): pk ``ACTIVE#<UTC date>#<shard>``, sk
    ``<instant>#<user id>``, the instant being when the streak next needs settling."""

    Meta = _index_meta("active_by_day")
    active_pk = UnicodeAttribute(hash_key=True)
    active_sk = UnicodeAttribute(range_key=True)


class DeadlineIndex(GlobalSecondaryIndex[Any]):
    """Mock-test sweep (sparse: only papers in progress carry it): pk ``DEADLINE#<shard>``, sk
    ``<deadline>#<user id>#<mock test id>``."""

    Meta = _index_meta("deadline")
    deadline_pk = UnicodeAttribute(hash_key=True)
    deadline_sk = UnicodeAttribute(range_key=True)


class StudyTable(Model):
    Meta = _meta(get_settings().study_table)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    expires_at = TTLAttribute(null=True)
    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    lb_pk = UnicodeAttribute(null=True)
    lb_sk = NumberAttribute(null=True)
    active_pk = UnicodeAttribute(null=True)
    active_sk = UnicodeAttribute(null=True)
    deadline_pk = UnicodeAttribute(null=True)
    deadline_sk = UnicodeAttribute(null=True)
    due = DueIndex()
    weekly_xp = WeeklyXpIndex()
    active_by_day = ActiveByDayIndex()
    deadline_index = DeadlineIndex()


TABLE_MODELS: dict[str, type[Model]] = {
    "UsersTable": UsersTable,
    "ContentTable": ContentTable,
    "StudyTable": StudyTable,
}
"""template.yaml logical id -> base model: every table of the stack has one."""

