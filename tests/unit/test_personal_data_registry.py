"""Every kind of stored data is classified in one place (mindly.services.account), so the export and
the account deletion cannot silently miss a kind someone adds later."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import mindly
import mindly.store
from mindly.services import account
from mindly.store.models import TABLE_MODELS

LAYER = Path(mindly.__file__).parent
# A Redis key built from the environment prefix: key("<namespace>", ...) / redis_key("<namespace>", ...).
_REDIS_KEY = re.compile(r'(?<![\w.])(?:redis_)?key\(\s*"([a-z-]+)"')
# A rate-limit bucket: per_ip("<bucket>", ...), enforce(request, "<bucket>", ...), _per_email(request, "<bucket>"...
_BUCKET = re.compile(r'(?:per_ip\(|enforce\(\s*request,\s*|_per_email\(\s*request,\s*)"([a-z-]+)"')


def _item_kinds() -> set[tuple[str, str]]:
    for module in pkgutil.iter_modules(mindly.store.__path__):
        importlib.import_module(f"mindly.store.{module.name}")
    found = set()
    for table, base in TABLE_MODELS.items():
        for value in base.kind._class_map.values():  # type: ignore[attr-defined]  # pynamodb's registry of subclasses
            found.add((table, str(value)))
    return found


def _sources() -> list[str]:
    files = [*LAYER.rglob("*.py"), *(LAYER.parents[2] / "functions").rglob("app.py")]
    return [path.read_text() for path in files]


def test_every_item_kind_of_every_table_is_classified() -> None:
    # Given every pynamodb item class of every table (each store module imported)
    kinds = _item_kinds()
    # Then each is classified, and nothing is classified that no longer exists
    assert sorted(kinds - set(account.ITEM_KINDS)) == [], "classify these in mindly.services.account.ITEM_KINDS"
    assert sorted(set(account.ITEM_KINDS) - kinds) == []


def test_classifications_are_consistent() -> None:
    # Given the registry
    for (table, kind), entry in account.ITEM_KINDS.items():
        # Then each kind is one of the three, with a reason
        assert entry.where in (account.PARTITION, account.EXPLICIT, account.NOT_PERSONAL), (table, kind)
        assert entry.why.strip(), (table, kind)
        # And an exported kind goes to a known section, every withheld attribute saying why
        assert entry.section is None or entry.section in account.SECTIONS, (table, kind)
        assert all(name in account.WITHHELD_REASONS for name in entry.withheld), (table, kind)
        # And a student partition exists only in the tables the sweep walks
        if entry.where == account.PARTITION:
            assert table in ("UsersTable", "StudyTable"), (table, kind)
    # And the password hash is never exported
    assert "password_hash" in account.ITEM_KINDS[("UsersTable", "user")].withheld


def test_every_redis_key_namespace_and_rate_limit_bucket_is_classified() -> None:
    # Given every Redis key the code builds and every rate-limit bucket it counts in
    sources = _sources()
    namespaces = {name for text in sources for name in _REDIS_KEY.findall(text)}
    buckets = {name for text in sources for name in _BUCKET.findall(text)} | {"user"}  # hit_unless_revoked's
    # Then the search found the known ones (it is not blind)
    assert {"lb", "lbnames", "revoked", "rl", "analytics", "owned", "groq"} <= namespaces
    assert {"login", "login-account", "register", "refresh", "bad-token"} <= buckets
    # And every one is classified, with nothing stale
    assert sorted(namespaces - set(account.REDIS_KEYS)) == [], "classify these in account.REDIS_KEYS"
    assert sorted(set(account.REDIS_KEYS) - namespaces) == []
    assert sorted(buckets - set(account.RATE_LIMIT_BUCKETS)) == [], "classify these in RATE_LIMIT_BUCKETS"
    # And the buckets keyed by the user are the ones the sweep deletes
    explicit = {name for name, entry in account.RATE_LIMIT_BUCKETS.items() if entry.where == account.EXPLICIT}
    assert explicit == set(account.USER_KEYED_BUCKETS)


def test_owned_cache_keys_outlive_every_cache_that_joins_them() -> None:
    # Given the caches that name a student as their owner (analytics) and the owned set's TTL
    from mindly.cache.client import OWNED_KEYS_TTL_SECONDS
    from mindly.services import analytics

    # Then the set lives longer than any key it lists, so the sweep finds every one still alive
    assert max(analytics.CURRENT_CACHE_SECONDS, analytics.FINISHED_WEEK_CACHE_SECONDS) < OWNED_KEYS_TTL_SECONDS
