"""The student's own data: export it (GET /account/export), delete all of it (DELETE /account).

Where a student's data lives is written down once, here: ``ITEM_KINDS`` classifies every kind of
item of every table, ``REDIS_KEYS`` every Redis key namespace and ``RATE_LIMIT_BUCKETS`` every
rate-limit bucket (tests/unit/test_personal_data_registry.py fails on one that is not listed, so a
new kind is classified when it is added). Both features walk the student's partitions
(``USER#<id>`` in the Users and Study tables) kind-blind, so a kind added later is exported (under
``other`` until it has a section) and deleted without code here; items outside the partitions are
reached through the ``OWNS#`` pointers in them (mindly.store.account) or, for the leaderboards,
through the student's ``WEEK#`` items.

Deletion: the DELETE checks the password as a login does (the same login guards), then, in one
transaction, marks the account deleting and deletes the account and its email guard (login then
fails as for an unknown email, and the email can register again), queues the sweep and revokes
every session. The worker (functions/account_worker) sweeps at most ``batches`` pages of 25 items a
message and queues its own continuation; what it deletes is whatever is still there, so a crash
anywhere is finished by the message coming back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pynamodb.attributes import JSONAttribute
from pynamodb.models import Model

from mindly.cache import leaderboard as boards
from mindly.cache import revocation
from mindly.cache.client import get_redis, key, owned_keys_key
from mindly.config import Settings, get_settings
from mindly.exceptions import AuthenticationFailed, CacheError, MindlyError, ServiceUnavailable
from mindly.services import auth, push
from mindly.store import account as store
from mindly.store import notifications as notification_store
from mindly.store import users
from mindly.store.models import TABLE_MODELS, StudyTable, UsersTable

PARTITION = "student partition"  # in USER#<id> of the Users or Study table: swept and exported
EXPLICIT = "deleted explicitly"  # elsewhere, found through the student's partition
NOT_PERSONAL = "not personal"

PAGE_ITEMS = store.BATCH_WRITE_ITEMS  # one sweep batch: one Query page, one BatchWriteItem
EXPORT_PAGE_ITEMS = 500
# Lambda fails a synchronous response over 6 MB (6,291,456 bytes); the envelope, the headers and
# JSON escaping need some of it.
MAX_EXPORT_BYTES = 5_000_000
# upstash-ratelimit keys a window as <identifier>:<window number> and keeps it 2 windows + 1 s, so
# at most the windows from two before the current one to the next (another clock ahead) exist.
RATE_LIMIT_WINDOWS = (-2, -1, 0, 1)


class Kind(NamedTuple):
    """Where one kind of item or key stands: ``where`` (PARTITION, EXPLICIT or NOT_PERSONAL), why,
    the export section it goes to (None: not exported) and the attributes the export withholds."""

    where: str
    why: str
    section: str | None = None
    withheld: tuple[str, ...] = ()


_SECRET = "a secret of the login system, useless to the student and dangerous to leak"

ITEM_KINDS: dict[tuple[str, str], Kind] = {
    # Users table
    ("UsersTable", "user"): Kind(PARTITION, "the account; deleted first, with the email guard", "user",
                                 ("password_hash",)),
    ("UsersTable", "profile"): Kind(PARTITION, "what the student prepares for", "profile"),
    ("UsersTable", "session"): Kind(PARTITION, "one login; revoked in Redis when deleted", "sessions",
                                    ("current_jti", "previous_jti")),
    ("UsersTable", "login_guard"): Kind(PARTITION, "recent login attempts and known networks (hashed)",
                                        "security"),
    ("UsersTable", "link_token"): Kind(PARTITION, "a mailed verification or reset token", "security", ("sk",)),
    ("UsersTable", "account_deletion"): Kind(PARTITION, "the deletion marker, the sweep's last item"),
    ("UsersTable", "email"): Kind(EXPLICIT, "EMAIL#<email>, deleted with the account in one transaction"),
    ("UsersTable", "notification_settings"): Kind(PARTITION, "reminder and channel preferences and the push "
                                                             "devices (their SNS endpoints are deleted first; "
                                                             "its sparse reminder index entry goes with it)",
                                                  "notifications"),
    ("UsersTable", "inbox"): Kind(PARTITION, "an in-app notification", "notifications"),
    ("UsersTable", "reminder_cursor"): Kind(NOT_PERSONAL, "the reminder job's progress"),
    # Study table: the student's partition
    ("StudyTable", "progress"): Kind(PARTITION, "totals and streak", "progress"),
    ("StudyTable", "day"): Kind(PARTITION, "a day's counters", "progress"),
    ("StudyTable", "week"): Kind(PARTITION, "a week's XP; its leaderboard entries go with it", "progress"),
    ("StudyTable", "activity"): Kind(PARTITION, "a recorded activity (30 days)", "progress"),
    ("StudyTable", "subject_stats"): Kind(PARTITION, "answers in a subject", "progress"),
    ("StudyTable", "topic_stats"): Kind(PARTITION, "answers in a topic", "progress"),
    ("StudyTable", "answered_question"): Kind(PARTITION, "a question answered", "progress"),
    ("StudyTable", "attempt"): Kind(PARTITION, "an answer to a question", "attempts"),
    ("StudyTable", "card"): Kind(PARTITION, "a flashcard's schedule (mistake cards too)", "cards"),
    ("StudyTable", "review"): Kind(PARTITION, "a flashcard review", "reviews"),
    ("StudyTable", "badge"): Kind(PARTITION, "a badge earned", "badges"),
    ("StudyTable", "mock_test"): Kind(PARTITION, "a recorded mock test", "mock_tests"),
    ("StudyTable", "mock_guard"): Kind(PARTITION, "a mock test id's guard", "mock_tests"),
    ("StudyTable", "mock_counter"): Kind(PARTITION, "how many mock tests", "mock_tests"),
    ("StudyTable", "roadmap_job"): Kind(PARTITION, "a roadmap job", "roadmaps"),
    ("StudyTable", "roadmap_latest"): Kind(PARTITION, "the latest roadmap", "roadmaps"),
    ("StudyTable", "roadmap_quota"): Kind(PARTITION, "roadmap jobs started that day", "roadmaps"),
    ("StudyTable", "roadmap_request"): Kind(PARTITION, "a roadmap request of the day", "roadmaps"),
    ("StudyTable", "mastery"): Kind(PARTITION, "the model's ability per topic of an exam", "progress"),
    ("StudyTable", "mock_paper"): Kind(PARTITION, "a mock test sat here (its deadline index entry goes with "
                                                  "it)", "mock_tests"),
    ("StudyTable", "mock_answer"): Kind(PARTITION, "an answer saved in a mock test", "mock_tests"),
    ("StudyTable", "mock_chunk"): Kind(PARTITION, "a written part of a mock test's finish", "mock_tests"),
    ("StudyTable", "mock_entry"): Kind(PARTITION, "a mock test in the student's list", "mock_tests"),
    ("StudyTable", "owned_item"): Kind(PARTITION, "a pointer to the student's item elsewhere; the item is "
                                                  "exported in its own section and deleted before it"),
    # Study table: elsewhere
    ("StudyTable", "week_final"): Kind(EXPLICIT, "a finished week's top ten: the student's row is removed "
                                                 "(found through their WEEK# items)"),
    ("StudyTable", "job_cursor"): Kind(NOT_PERSONAL, "the streak job's progress"),
    ("StudyTable", "fold_cursor"): Kind(NOT_PERSONAL, "the question-statistics fold's progress"),
    # Content table
    ("ContentTable", "question_report"): Kind(EXPLICIT, "a report the student made, found through its OWNS# "
                                                        "pointer", "reports", ("resolved_by",)),
    ("ContentTable", "open_report"): Kind(EXPLICIT, "the open report's guard, deleted with the report"),
    ("ContentTable", "question"): Kind(NOT_PERSONAL, "the question bank"),
    ("ContentTable", "passage"): Kind(NOT_PERSONAL, "the question bank"),
    ("ContentTable", "flashcard"): Kind(NOT_PERSONAL, "the flashcard deck"),
    ("ContentTable", "explanation"): Kind(NOT_PERSONAL, "an explanation of a (question, option), shared"),
    ("ContentTable", "badge_definition"): Kind(NOT_PERSONAL, "the badge catalog"),
    ("ContentTable", "question_stats"): Kind(NOT_PERSONAL, "a question's summed counters, no user id"),
}
"""(table logical id, kind discriminator) -> how the export and the deletion treat it."""

REDIS_KEYS: dict[str, Kind] = {
    "lb": Kind(EXPLICIT, "weekly boards: the student's member removed from every board of every week "
                         "they have a WEEK# item for"),
    "lbnames": Kind(EXPLICIT, "the boards' display names: the student's field removed with the member"),
    "lbready": Kind(NOT_PERSONAL, "a board's ready marker"),
    "lbbuild": Kind(NOT_PERSONAL, "a board's rebuild marker"),
    "owned": Kind(EXPLICIT, "the set of the student's cache keys; deleted with every key it lists"),
    "analytics": Kind(EXPLICIT, "the student's cached reports, listed in their owned set"),
    "rl": Kind(EXPLICIT, "rate-limit windows; see RATE_LIMIT_BUCKETS"),
    "revoked": Kind(NOT_PERSONAL, "blacklisted token and session ids (random, no user id): what ends the "
                                  "student's sessions, expiring with the last access token"),
    "roadmap": Kind(NOT_PERSONAL, "a generated roadmap keyed by a digest of the request, shared by every "
                                  "student asking the same; no user id"),
    "groq": Kind(NOT_PERSONAL, "Groq response cache, key rotation and breaker"),
}
"""First part of a Redis key after the environment prefix (mindly.cache.client.key) -> its kind."""

_NETWORK = "keyed by a client network, never a user id; gone 2 windows + 1 s after its window"
RATE_LIMIT_BUCKETS: dict[str, Kind] = {
    "user": Kind(EXPLICIT, "keyed by the user id: its windows are deleted"),
    "verify-email-request": Kind(EXPLICIT, "keyed by the user id: its windows are deleted"),
    "login": Kind(NOT_PERSONAL, _NETWORK),
    "register": Kind(NOT_PERSONAL, _NETWORK),
    "refresh": Kind(NOT_PERSONAL, _NETWORK),
    "bad-token": Kind(NOT_PERSONAL, _NETWORK),
    "password-forgot": Kind(NOT_PERSONAL, _NETWORK),
    "email-link": Kind(NOT_PERSONAL, _NETWORK),
    "login-account": Kind(NOT_PERSONAL, "keyed by a client network and a hash of the typed email, never the "
                                        "user id; gone 121 s after its window"),
    "password-forgot-email": Kind(NOT_PERSONAL, "keyed by a hash of the typed email, never the user id; gone "
                                                "2 h + 1 s after its window"),
}
"""Rate-limit bucket (``rl:<bucket>:<identifier>``) -> its kind."""

# The buckets keyed by the user id (the EXPLICIT ones above), each with its window in seconds.
USER_KEYED_BUCKETS = {"user": 60, "verify-email-request": 3600}


WITHHELD_REASONS = {
    "password_hash": "the bcrypt hash of the password: " + _SECRET,
    "current_jti": "the id of the session's current refresh token: " + _SECRET,
    "previous_jti": "the id of the refresh token it replaced: " + _SECRET,
    "sk": "of a mailed token, its sort key holds the token's hash: " + _SECRET,
    "resolved_by": "the administrator who resolved the report: another person's id",
}
SECTIONS = ("user", "profile", "progress", "attempts", "reviews", "cards", "mock_tests", "roadmaps", "badges",
            "reports", "notifications", "sessions", "security")


class ExportTooLarge(MindlyError):
    code = "EXPORT_TOO_LARGE"
    status = 413
    default_message = "The export is too large to answer in one response"


# Items some UpdateItem creates without setting ``kind`` (an ADD on an absent item), known by the
# start of their sort key.
UNTYPED_SORT_KEYS: dict[tuple[str, str], str] = {("StudyTable", "ROADMAP_QUOTA#"): "roadmap_quota"}


def _kind_name(table: str, raw: store.RawItem) -> str:
    named = store.kind_of(raw)
    if named:
        return named
    sort_key = store.key_of(raw)[1]
    return next((kind for (where, prefix), kind in UNTYPED_SORT_KEYS.items()
                 if where == table and sort_key.startswith(prefix)), "")


def kind_of(table: str, raw: store.RawItem) -> Kind | None:
    """The registered kind of a raw item of ``table`` (None: a kind nobody classified yet)."""
    return ITEM_KINDS.get((table, _kind_name(table, raw)))


def _model_of(table: str, raw: store.RawItem) -> type[Model] | None:
    discriminator: Any = getattr(TABLE_MODELS[table], "kind")  # noqa: B009 (the attribute, not a value)
    found: type[Model] | None = discriminator._discriminator_map.get(_kind_name(table, raw))
    return found


def _exported(table: str, raw: store.RawItem) -> dict[str, Any]:
    """An item as the export shows it: its attributes as plain values (JSON attributes decoded),
    without the partition key (the student's own id), index keys and withheld attributes."""
    kind = kind_of(table, raw)
    withheld = set(kind.withheld if kind else ())
    model = _model_of(table, raw)
    json_names = {attribute.attr_name for attribute in (model.get_attributes().values() if model else [])
                  if isinstance(attribute, JSONAttribute)}
    view: dict[str, Any] = {}
    for name, value in store.plain_item(raw).items():
        if name in withheld or name == "pk" or name.endswith(("_pk", "_sk")):
            continue
        if name in json_names and isinstance(value, str):
            value = json.loads(value)
        view[name] = value
    return view


def export(user_id: str) -> dict[str, Any]:
    """GET /account/export: every item of the student's partitions (every page of each Query) and
    the items elsewhere their OWNS# pointers name, by section; kinds without a section under
    ``other``. ExportTooLarge (413) as soon as what was read passes MAX_EXPORT_BYTES: a response
    Lambda would fail anyway, so the read stops there instead of running on."""
    max_bytes = MAX_EXPORT_BYTES
    sections: dict[str, Any] = {name: [] for name in SECTIONS if name not in ("user", "profile")}
    sections |= {"user": None, "profile": None, "other": []}
    size = 0
    pointers: list[store.RawItem] = []

    def add(table: str, raw: store.RawItem) -> None:
        nonlocal size
        view = _exported(table, raw)
        size += len(json.dumps(view, separators=(",", ":")))
        if size > max_bytes:
            raise ExportTooLarge(f"The export is over {max_bytes} bytes; ask support for a file export")
        kind = kind_of(table, raw)
        section = kind.section if kind else "other"
        if kind is None:
            view["table"] = table
        if section in ("user", "profile"):
            sections[section] = view
        elif section is not None:
            sections[section].append(view)

    for table, model in (("UsersTable", UsersTable), ("StudyTable", StudyTable)):
        start: dict[str, Any] | None = None
        while True:
            page, start = store.partition_page(model, user_id, EXPORT_PAGE_ITEMS, start)
            for raw in page:
                if store.kind_of(raw) == "owned_item":
                    pointers.append(raw)
                add(table, raw)
            if start is None:
                break
    for table, raw in store.read_owned(pointers):
        if store.plain(raw.get("user_id", {"NULL": True})) == user_id:  # only ever the student's own
            add(table, raw)
    withheld = sorted({name for kind in ITEM_KINDS.values() if kind.section for name in kind.withheld})
    return {**sections, "withheld": [{"attribute": name, "reason": WITHHELD_REASONS[name]} for name in withheld]}


# --- deletion --------------------------------------------------------------------------------------

Enqueue = Callable[[dict[str, Any]], None]


def request_deletion(settings: Settings, user_id: str, password: str, client: str, enqueue: Enqueue,
                     now: datetime) -> None:
    """DELETE /account. The password is checked by the login path itself, so it takes a slot of
    the same login guards and a wrong one is 401 (423 when they are full) exactly as a login
    would be. Then: marked deleting (account and email guard gone), the sweep queued, every
    session revoked. A repeat once the deletion was requested only queues the sweep and revokes
    again (the password already said yes), so a request that failed halfway is finished by
    sending it again."""
    if store.deletion_of(user_id) is None:
        user = users.get_user(user_id)
        if user is None:
            raise AuthenticationFailed("Account no longer exists")
        auth.login(settings, str(user.email), password, client)
        store.begin_deletion(user, now)
    enqueue({"user_id": user_id})
    _revoke_sessions(settings, [raw for raw in _all_of(UsersTable, user_id) if store.kind_of(raw) == "session"])


def _all_of(model: type[Model], user_id: str) -> Iterable[store.RawItem]:
    start: dict[str, Any] | None = None
    while True:
        page, start = store.partition_page(model, user_id, EXPORT_PAGE_ITEMS, start)
        yield from page
        if start is None:
            return


def _revoke_sessions(settings: Settings, sessions: list[store.RawItem]) -> None:
    """Blacklist the sessions' access tokens (one pipeline); CacheError (503) when Redis cannot."""
    if sessions:
        revocation.revoke(get_redis(), {revocation.session_key(raw["family"]["S"]): settings.access_token_ttl_seconds
                                        for raw in sessions})


def continue_deletion(settings: Settings, user_id: str, batches: int) -> bool:
    """Sweep at most ``batches`` batches of the student's items; True once nothing of theirs is
    left (nothing to do either when no deletion was requested: a stray message deletes nothing).

    Each batch is one Query page of 25 items of the Study partition (then the Users one): what
    those items lead to elsewhere goes first (reports, leaderboard rows, session revocations, the
    devices' SNS push endpoints), then
    the page is deleted in one BatchWriteItem. The marker goes last, after the Redis keys."""
    if store.deletion_of(user_id) is None:
        return True
    done = 0
    for table, model in (("StudyTable", StudyTable), ("UsersTable", UsersTable)):
        while True:
            page, _ = store.partition_page(model, user_id, PAGE_ITEMS)
            page = [raw for raw in page if store.kind_of(raw) != "account_deletion"]
            if not page:
                break
            if done == batches:
                return False
            _before_deleting(settings, table, user_id, page)
            store.delete_keys(model, [store.key_of(raw) for raw in page])
            done += 1
    _delete_redis_keys(user_id)
    store.finish_deletion(user_id)
    return True


def _before_deleting(settings: Settings, table: str, user_id: str, page: list[store.RawItem]) -> None:
    """What a page's items lead to outside the partition, removed while the items still say where."""
    by_kind: dict[str, list[store.RawItem]] = {}
    for raw in page:
        by_kind.setdefault(store.kind_of(raw), []).append(raw)
    for raw in by_kind.get("owned_item", []):
        _delete_owned(raw, user_id)
    weeks = [(raw["week"]["S"], store.plain(raw["exam"]) if "exam" in raw else None)
             for raw in by_kind.get("week", [])]
    if weeks:
        _leave_boards(user_id, weeks)
        store.remove_from_week_finals(user_id, weeks)
    if table == "UsersTable":
        _revoke_sessions(settings, by_kind.get("session", []))
        _delete_push_endpoints(user_id, by_kind.get("notification_settings", []))


def _delete_push_endpoints(user_id: str, settings_items: list[store.RawItem]) -> None:
    """The SNS platform endpoints of the student's devices, deleted while their settings item still
    lists them: an endpoint left behind keeps the device's token in SNS for good and could still
    be sent to. SNS's DeleteEndpoint is idempotent, so a retried batch deletes again harmlessly; an
    endpoint another account registered the same token for since is theirs and stays."""
    for raw in settings_items:
        for device in notification_store.devices_of(store.notification_settings_of(raw)).values():
            push.delete_endpoint(str(device["endpoint_arn"]), owner=user_id)


def _delete_owned(pointer: store.RawItem, user_id: str) -> None:
    """Delete the item an OWNS# pointer names: a report with its guard and counter, anything else
    by its key."""
    table, pk, sk = pointer["table"]["S"], pointer["item_pk"]["S"], pointer["item_sk"]["S"]
    if pointer["item_kind"]["S"] == "question_report":
        store.delete_report((pk, sk), user_id)
    else:
        store.delete_one(TABLE_MODELS[table], (pk, sk))


def _leave_boards(user_id: str, weeks: list[tuple[str, str | None]]) -> None:
    """The student's member and display name off the Redis boards of these (week, exam) pairs, in
    one pipeline. CacheError when Redis cannot be reached: the batch is tried again."""
    pipeline = get_redis().pipeline()
    for week, exam in weeks:
        pipeline.zrem(boards.board_key(week, exam), user_id)
        pipeline.hdel(key("lbnames", week), user_id)
    try:
        pipeline.exec()
    except Exception as exc:  # httpx errors, UpstashError: the SDK has no common base
        raise CacheError("leaderboard unavailable") from exc


def _delete_redis_keys(user_id: str) -> None:
    """The student's cache keys (their owned set and every key in it) and their rate-limit windows."""
    redis = get_redis()
    now_ms = int(time.time() * 1000)
    try:
        owned = [str(name) for name in redis.smembers(owned_keys_key(user_id))]
        names = [*owned, owned_keys_key(user_id)]
        for bucket, seconds in USER_KEYED_BUCKETS.items():
            window = now_ms // (seconds * 1000)
            names += [f"{key('rl', bucket, user_id)}:{window + offset}" for offset in RATE_LIMIT_WINDOWS]
        for first in range(0, len(names), 500):
            redis.delete(*names[first:first + 500])
    except Exception as exc:
        raise CacheError("Redis unavailable") from exc


def process_message(settings: Settings, message: dict[str, Any], enqueue: Enqueue) -> str:
    """One sweep message: ``done`` when the student is gone, else ``continued`` (the next message
    queued by ``enqueue``). Raises (the message comes back) on any failure."""
    user_id = message.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise ValueError("not an account deletion message")
    if continue_deletion(settings, user_id, settings.account_deletion_batches_per_message):
        return "done"
    enqueue({"user_id": user_id})
    return "continued"


_SQS: dict[str, Any] = {}


def sqs_enqueue(body: dict[str, Any]) -> None:
    """Send a sweep message to the account deletion queue."""
    settings = get_settings()
    if not settings.account_deletion_queue_url:
        raise ServiceUnavailable("The account deletion queue is not configured")
    if "client" not in _SQS:
        import botocore.session

        _SQS["client"] = botocore.session.get_session().create_client(
            "sqs", region_name=settings.aws_region, endpoint_url=settings.sqs_endpoint_url)
    _SQS["client"].send_message(QueueUrl=settings.account_deletion_queue_url, MessageBody=json.dumps(body))


def utc_now() -> datetime:
    return datetime.now(tz=UTC)
