"""Leaderboard order, shared by the Redis board, its DynamoDB rebuild and the stored week finals."""

from __future__ import annotations

from typing import Any

Entry = tuple[str, int, str | None]  # user id, XP, display name


def ranked(entries: list[Entry]) -> list[Entry]:
    """Entries in board order: XP, then user id, both descending. That is the order Redis reads a
    sorted set high to low, so every path agrees on ties."""
    return sorted(entries, key=lambda entry: (entry[1], entry[0]), reverse=True)


def standings(entries: list[Entry], count: int) -> list[dict[str, Any]]:
    """The first ``count`` places as the API shows them."""
    return [{"rank": i + 1, "user_id": uid, "name": name or "", "xp": xp}
            for i, (uid, xp, name) in enumerate(ranked(entries)[:count])]
