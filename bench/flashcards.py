"""What the due queue and a review cost, for a student holding many cards.

    .venv/bin/python -m bench.flashcards [--cards 5000 --due 40 --strict]

Starts the local stack in-process (as bench.request_costs does), writes the student's cards
straight into the Study table (``--due`` of them due today or earlier, the rest later), then sends
GET /flashcards/due and POST /flashcards/review through the dev server's router and records every
DynamoDB call: its operation, its index, and the items DynamoDB read for it (a Query's
``ScannedCount``, the items a GetItem / BatchGetItem returned).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WRITES = frozenset({"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})


@dataclass
class Call:
    operation: str
    index: str | None
    items_read: int


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)

    def of(self, operation: str, index: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.operation == operation and (index is None or c.index == index)]


def instrument(recorder: Recorder) -> None:
    from pynamodb.connection.base import Connection

    dispatch = Connection.dispatch

    def recorded(self: Any, operation: str, kwargs: dict[str, Any]) -> Any:
        try:
            answer = dispatch(self, operation, kwargs)
        except Exception:
            recorder.calls.append(Call(operation, kwargs.get("IndexName"), 0))
            raise
        if operation in ("Query", "Scan"):
            read = int(answer.get("ScannedCount", answer.get("Count", 0)))
        elif operation == "GetItem":
            read = 1 if answer.get("Item") else 0
        elif operation == "BatchGetItem":
            read = sum(len(items) for items in answer.get("Responses", {}).values())
        else:
            read = 0
        recorder.calls.append(Call(operation, kwargs.get("IndexName"), read))
        return answer

    Connection.dispatch = recorded  # type: ignore[method-assign]


@dataclass
class Row:
    what: str
    status: int
    calls: str
    items_read: int
    target: str
    ok: bool | None


def write_cards(user_id: str, count: int, due: int, today: Any) -> None:
    """``count`` cards of a GATE student, ``due`` of them due (1..30 days overdue), the rest due
    1..365 days from now."""
    from mindly.store import cards as card_store

    subjects = ["Algorithms", "Databases", "Operating System", "Computer Networks", "Theory of Computation"]
    with card_store.CardItem.batch_write() as batch:
        for n in range(count):
            flashcard_id = f"bench-{n:05d}"
            pk, sk = card_store.card_key(user_id, flashcard_id)
            card = card_store.CardItem(pk, sk, flashcard_id=flashcard_id, exam_type="GATE",
                                       subject=subjects[n % len(subjects)], topic="Bench", question=f"Q{n}",
                                       answer=f"A{n}", difficulty=3, ease_factor=2.5, interval=6, repetitions=2,
                                       state="review", version=1)
            offset = -(1 + n % 30) if n < due else 1 + n % 365
            card_store.schedule(card, user_id, today + timedelta(days=offset))
            batch.save(card)


def run(cards: int, due: int) -> list[Row]:
    sys.path[:0] = [str(REPO)]
    os.environ.setdefault("BCRYPT_ROUNDS", "4")
    os.environ.setdefault("JWT_SECRET", secrets.token_hex(32))
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from infra.dev_server import start_stack

    stack = start_stack(prefix="mindly-bench-cards", seed=False)
    rows: list[Row] = []
    try:
        from fastapi.testclient import TestClient

        from infra.seed import seed_content
        from mindly.domain import calendar

        seed_content()
        client = TestClient(stack.app)
        email = f"cards.{secrets.token_hex(4)}@example.com"
        registered = client.post("/api/v1/auth/register", json={"email": email, "password": "Bench-password-1",
                                                                  "name": "Card Bench"}).json()["data"]
        auth = {"Authorization": f"Bearer {registered['access_token']}"}
        user_id = registered["user"]["id"]
        client.put("/api/v1/profile", headers=auth, json={
            "exam_type": "GATE", "level": "advanced", "study_hours_per_day": 4, "target_date": "2035-01-01",
            "weak_subjects": [], "new_cards_per_day": 10}).raise_for_status()
        today = calendar.local_date(datetime.now(UTC), "Asia/Kolkata")
        print(f"writing {cards} cards ({due} due) ...", file=sys.stderr, flush=True)
        write_cards(user_id, cards, due, today)

        recorder = Recorder()
        instrument(recorder)
        answer = client.get("/api/v1/flashcards/due", headers=auth, params={"limit": 100})
        data = answer.json()["data"]
        due_reads = recorder.of("Query", "due")
        deck_reads = recorder.of("Query", "by_exam")
        batches = recorder.of("BatchGetItem")
        calls = ", ".join(f"{c.operation}{'(' + c.index + ')' if c.index else ''}" for c in recorder.calls)
        rows.append(Row("GET /flashcards/due: calls", answer.status_code, calls, sum(c.items_read for c in
                                                                                     recorder.calls),
                        "1 Query for due + at most 2 for new (+1 profile/day read)",
                        len(due_reads) == 1 and len(deck_reads) + max(0, len(batches) - 1) <= 2))
        rows.append(Row("  items read by the due Query", answer.status_code, f"total_due={data['total_due']}",
                        sum(c.items_read for c in due_reads), f"== cards due ({due})",
                        sum(c.items_read for c in due_reads) == due == data["total_due"]))
        from mindly.services import badges

        badges.catalog()  # as a warm container has it (read once, cached for 5 minutes)
        recorder.calls.clear()
        reviewed = client.post("/api/v1/flashcards/review", headers=auth,
                               json={"flashcard_id": "bench-00000", "rating": 4})
        reads = [c for c in recorder.calls if c.operation not in WRITES]
        writes = [c for c in recorder.calls if c.operation in WRITES]
        rows.append(Row("POST /flashcards/review", reviewed.status_code,
                        ", ".join(c.operation for c in recorder.calls), sum(c.items_read for c in reads),
                        "<= 1 read + 1 write call", len(reads) <= 1 and len(writes) <= 1))
    finally:
        stack.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=5000)
    parser.add_argument("--due", type=int, default=40)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    rows = run(args.cards, args.due)
    print(f"student holding {args.cards} cards, {args.due} due")
    print(f"{'request':<32} {'status':>6} {'items read':>10}  {'target':<58} calls")
    for row in rows:
        verdict = "" if row.ok is None else ("OK" if row.ok else "OVER")
        print(f"{row.what:<32} {row.status:>6} {row.items_read:>10}  {row.target + ' ' + verdict:<58} {row.calls}")
    return 1 if args.strict and not all(row.ok is not False for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
