"""A 20,000-question bank on the local stack: import throughput, and what practice and submit cost in it.

Starts the local stack in this process (moto and the local Upstash endpoint, as bench.request_costs
does), generates a bank (``generate_bank``: single, multiple and numeric questions, passages shared
by 3-5 questions, LaTeX, media, over every exam, subject, topic and difficulty) and imports it
through ``mindly.services.content.import_records``, the path of ``infra.cli import`` and the admin
API, exactly as it is (one record at a time). Then it re-imports a stated sample of the bank
unchanged (all skipped) and with 5 % of it changed (updated), imports the real banks of
``../shared/datasets/`` (UPSC Prelims, JEEBench), and with the whole bank in place measures, with
bench.request_costs' counter, practice pages (first and deep cursor pages, several filters), a
submit of each question type and the attempts page.

    .venv/bin/python -m bench.question_bank [--questions 20000] [--sample 2000] [--strict]

Time is printed, never asserted. ``--strict`` exits 1 when a request row is OVER or an import
count is not what the bank implies.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import time
from collections import Counter as Tally
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bench import request_costs
from bench.request_costs import AUTH, Row, exactly, measure

REPO = Path(__file__).resolve().parent.parent
DATASETS = REPO.parent / "shared" / "datasets"  # ../shared/datasets, as the import tests read it
REAL_BANKS = (("UPSC Prelims (upsc-pyq/upsc_prelims.csv)", "upsc-pyq/upsc_prelims.csv", "upsc"),
              ("JEEBench (jeebench/dataset.json)", "jeebench/dataset.json", "jeebench"))

SOURCE = "bench-bank"
BANK_SIZE = 20_000
# Re-importing costs two DynamoDB calls a question against moto (the refused create, then the read
# of the stored hash), about 13 ms here: the whole bank twice more would take ~9 minutes, so the
# re-imports run on a stated sample of it (the first records, passages and all).
RE_IMPORT_SAMPLE = 2_000
CHANGED_SHARE = 0.05
PAGE_LIMIT = 20
DEEP_PAGE = 10  # the cursor page measured after page 1 (or the last page, when a filter has fewer)
# moto answers a Query on an index by reading every item of the table (then sorting the matches),
# so on a 20,000-question table one Query takes seconds, not DynamoDB's milliseconds: past the
# 2 s read timeout of the settings. The bench waits for it (only the time, never the count, moves).
BENCH_READ_TIMEOUT_SECONDS = "30"
MEDIA_IMAGES = 12

# The bank's mix. Shares of the questions outside passage groups; a passage group is 3-5 questions
# sharing one passage, mostly reading comprehension (CSAT, CAT VARC), the rest anywhere.
TYPE_SHARES = (("single", 0.65), ("multiple", 0.20), ("numeric", 0.15))
PASSAGE_GROUP_CHANCE = 0.035  # a new group starts at ~3.5 % of positions: ~12 % of questions in one
READING_TOPICS = (("UPSC", "CSAT", "Reading Comprehension"), ("UPSC", "CSAT", "Data Interpretation"),
                  ("CAT", "Verbal Ability and Reading Comprehension", "Reading Comprehension"),
                  ("CAT", "Data Interpretation and Logical Reasoning", "Caselets"))
LATEX_EXAMS = frozenset({"JEE", "GATE", "NEET"})
LATEX_SHARE = 0.4  # of those exams' questions
MEDIA_SHARE = 0.01
EXPLANATION_SHARE = 0.75
YEAR_SHARE = 0.3
DIFFICULTY_WEIGHTS = (("easy", 0.3), ("medium", 0.45), ("hard", 0.25))

WORDS = ("the", "value", "system", "given", "which", "following", "statement", "correct", "process", "rate",
         "energy", "policy", "India", "state", "function", "change", "average", "data", "result", "model",
         "effect", "table", "increase", "constant", "region", "total", "number", "reason", "first", "second",
         "market", "river", "reaction", "surface", "council", "measure", "growth", "structure", "order",
         "report", "series", "period", "element", "pressure", "law", "court", "agreement", "sample", "field")
FORMULAS = (r"$\frac{a+b}{2}$", r"$x^2 - 5x + 6 = 0$", r"$\int_0^1 x^2\,dx$", r"$\sqrt{2}\,\mathrm{m\,s^{-1}}$",
            r"$\vec{F} = m\vec{a}$", r"$\lim_{n\to\infty} \left(1+\frac{1}{n}\right)^n$",
            r"$\mathrm{H_2SO_4}$", r"$\Delta G = \Delta H - T\Delta S$", r"$\binom{n}{k}$",
            r"$$\sum_{i=1}^{n} i = \frac{n(n+1)}{2}$$")


def _choose(rng: random.Random, shares: Sequence[tuple[str, float]]) -> str:
    return rng.choices([name for name, _ in shares], weights=[weight for _, weight in shares])[0]


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize()


class _Placements:
    """Every (exam, subject, topic) of the syllabus, drawn uniformly by exam, then subject, then topic."""

    def __init__(self) -> None:
        from mindly.domain import syllabus

        self.exams = {exam: {s.name: s.topics for s in syllabus.subjects(exam)} for exam in syllabus.EXAM_TYPES}

    def draw(self, rng: random.Random) -> tuple[str, str, str]:
        exam = rng.choice(sorted(self.exams))
        subject = rng.choice(sorted(self.exams[exam]))
        return exam, subject, rng.choice(self.exams[exam][subject])


def _options(rng: random.Random, latex: bool, n: int) -> dict[str, str]:
    """Four (or, for some CAT-style questions, five) distinct options."""
    count = 5 if rng.random() < 0.1 else 4
    start, step = rng.randint(1, 90), rng.randint(1, 7)
    values = [start + k * step for k in range(count)]
    rng.shuffle(values)
    letters = "ABCDE"[:count]
    if latex:
        return {letter: f"${value}\\sqrt{{{n % 7 + 2}}}$" for letter, value in zip(letters, values, strict=True)}
    return {letter: f"{_sentence(rng, 2, 6)} ({value})" for letter, value in zip(letters, values, strict=True)}


def _question(rng: random.Random, n: int, placement: tuple[str, str, str], kind: str,
              passage: dict[str, str] | None, media_ids: Sequence[str]) -> dict[str, Any]:
    exam, subject, topic = placement
    latex = exam in LATEX_EXAMS and passage is None and rng.random() < LATEX_SHARE
    stem = f"Q{n}. {_sentence(rng, 25, 60)}"
    if latex:
        stem += f" {rng.choice(FORMULAS)} {_sentence(rng, 4, 10).lower()}"
    record: dict[str, Any] = {
        "source": SOURCE, "external_id": f"gen-{n:06d}", "exam_type": exam, "subject": subject, "topic": topic,
        "difficulty": _choose(rng, DIFFICULTY_WEIGHTS), "type": kind, "format": "latex" if latex else "text",
        "stem": stem + "?",
        "explanation": _sentence(rng, 12, 30) + "." if rng.random() < EXPLANATION_SHARE else None}
    if kind == "numeric":
        if rng.random() < 0.5:
            record["answer"] = {"value": round(rng.uniform(0, 500), 2), "tolerance": 0.01}
        else:
            low = rng.randint(0, 100)
            record["answer"] = {"min": low, "max": low + rng.randint(0, 2)}
    else:
        record["options"] = _options(rng, latex, n)
        letters = sorted(record["options"])
        if kind == "single":
            record["correct_option"] = rng.choice(letters)
        else:
            record["correct_options"] = sorted(rng.sample(letters, rng.randint(2, 3)))
    if passage is not None:
        record["passage"] = passage
    if media_ids and rng.random() < MEDIA_SHARE:
        record["media"] = [{"media_id": rng.choice(media_ids), "alt": "the figure the question refers to"}]
    if rng.random() < YEAR_SHARE:
        year = rng.randint(2010, 2024)
        record.update(year=year, paper=f"{exam} {year} Paper {rng.randint(1, 2)}")
    return record


def generate_bank(count: int = BANK_SIZE, seed: int = 7, media_ids: Sequence[str] = ()) -> list[dict[str, Any]]:
    """``count`` question records in import form, the same for the same ``seed``: types by
    TYPE_SHARES, about 12 % in passage groups of 3-5 questions (one passage text each, same exam,
    subject and topic), LaTeX in ~40 % of JEE/GATE/NEET questions, ~1 % naming one of ``media_ids``
    (none when empty), every exam, subject, topic and difficulty."""
    rng = random.Random(seed)
    places = _Placements()
    records: list[dict[str, Any]] = []
    groups = 0
    while len(records) < count:
        n = len(records)
        if rng.random() < PASSAGE_GROUP_CHANCE and count - n >= 3:
            groups += 1
            placement = rng.choice(READING_TOPICS) if rng.random() < 0.6 else places.draw(rng)
            text = " ".join(_sentence(rng, 12, 24) + "." for _ in range(rng.randint(6, 10)))
            passage = {"passage_id": f"passage-{groups:05d}", "text": text}
            for _ in range(min(rng.randint(3, 5), count - n)):
                kind = "multiple" if rng.random() < 0.2 else "single"
                records.append(_question(rng, len(records), placement, kind, passage, ()))
        else:
            records.append(_question(rng, n, places.draw(rng), _choose(rng, TYPE_SHARES), None, media_ids))
    return records


def with_changes(records: Sequence[dict[str, Any]], share: float = CHANGED_SHARE) -> tuple[list[dict[str, Any]], int]:
    """A copy of ``records`` with every ``1/share``-th stem edited (what a corrected file holds),
    and how many changed."""
    every = max(1, round(1 / share))
    changed = [{**record, "stem": record["stem"] + " (revised)"} if index % every == 0 else record
               for index, record in enumerate(records)]
    return changed, len(range(0, len(records), every))


def bank_mix(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the bank holds: counts by type, exam and difficulty, passages, LaTeX and media."""
    with_passage = [record for record in records if "passage" in record]
    return {"questions": len(records), "types": dict(Tally(record.get("type", "single") for record in records)),
            "exams": dict(Tally(record["exam_type"] for record in records)),
            "difficulties": dict(Tally(record["difficulty"] for record in records)),
            "topics": len({(r["exam_type"], r["subject"], r["topic"]) for r in records}),
            "in_passages": len(with_passage),
            "passages": len({record["passage"]["passage_id"] for record in with_passage}),
            "latex": sum(record.get("format") == "latex" for record in records),
            "with_media": sum("media" in record for record in records)}


def jsonl(records: Sequence[dict[str, Any]]) -> str:
    """The records as a JSON Lines file (what ``infra.cli import --format jsonl`` reads)."""
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


# --- imports -----------------------------------------------------------------------------------------

@dataclass
class ImportRow:
    phase: str
    records: int
    imported: int
    updated: int
    skipped: int
    rejected: int
    seconds: float
    dynamodb: int
    writes: int
    s3: int
    note: str = ""

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def calls_per_record(self) -> float:
        return self.dynamodb / self.records if self.records else 0.0


class Progress:
    """Shows an import's progress on stderr and keeps when each 1,000 records were done, to tell
    whether importing slows as the table grows."""

    STEP = 1000

    def __init__(self, label: str) -> None:
        self.label = label
        self.marks = [time.perf_counter()]

    def __call__(self, done: int, total: int) -> None:
        if done % self.STEP == 0:
            self.marks.append(time.perf_counter())
        if done % self.STEP == 0 or done == total:
            print(f"\r{self.label}: {done:,}/{total:,}", end="\n" if done == total else "", file=sys.stderr,
                  flush=True)

    def first_and_last(self) -> str:
        """Questions a second over the first and the last 1,000 records ("" below 3,000 records)."""
        if len(self.marks) < 4:
            return ""
        first, last = self.marks[1] - self.marks[0], self.marks[-1] - self.marks[-2]
        return f"first 1,000: {self.STEP / first:.0f}/s, last 1,000: {self.STEP / last:.0f}/s"


def import_phase(counter: request_costs.Counter, phase: str, text: str, fmt: str, note: str = "") -> ImportRow:
    """Read ``text`` as ``fmt`` (not timed), then import it (timed, calls counted)."""
    from mindly.domain.content_formats import read_records
    from mindly.services import content

    records = read_records(text, fmt, "question")
    progress = Progress(phase)
    counter.reset()
    started = time.perf_counter()
    report = content.import_records("question", records, progress)
    seconds = time.perf_counter() - started
    note = "; ".join(part for part in (note, progress.first_and_last()) if part)
    return ImportRow(phase, len(records), report["imported"], report["updated"], report["skipped"],
                     len(report["errors"]), seconds, counter.dynamodb, counter.writes, counter.s3, note)


def real_bank_rows(counter: request_costs.Counter) -> tuple[list[ImportRow], list[str]]:
    """The real banks' import throughput; a file that is absent is a note, not a row."""
    rows, notes = [], []
    for label, relative, fmt in REAL_BANKS:
        path = DATASETS / relative
        if not path.is_file():
            notes.append(f"{label}: skipped, {path} is absent")
            continue
        rows.append(import_phase(counter, label, path.read_text(encoding="utf-8"), fmt))
    return rows, notes


def print_imports(rows: Sequence[ImportRow]) -> None:
    width = max(len(row.phase) for row in rows)
    print(f"{'import':<{width}} {'records':>8} {'imported':>8} {'updated':>7} {'skipped':>7} {'rejected':>8} "
          f"{'seconds':>8} {'questions/s':>11} {'DynamoDB calls':>14} {'calls/question':>14} {'writes':>7} "
          f"{'S3 calls':>8}")
    for row in rows:
        print(f"{row.phase:<{width}} {row.records:>8,} {row.imported:>8,} {row.updated:>7,} {row.skipped:>7,} "
              f"{row.rejected:>8,} {row.seconds:>8.1f} {row.per_second:>11.0f} {row.dynamodb:>14,} "
              f"{row.calls_per_record:>14.2f} {row.writes:>7,} {row.s3:>8,}  {row.note}".rstrip())


# --- requests on the full bank -----------------------------------------------------------------------

def _register(client: Any) -> dict[str, str]:
    body = {"email": f"bank.{secrets.token_hex(4)}@example.com", "password": "Bench-password-1",
            "name": "Bank Student"}
    data = client.post("/api/v1/auth/register", json=body).json()["data"]
    return {"Authorization": f"Bearer {data['access_token']}"}


def practice_filters(records: Sequence[dict[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    """The filters measured: an exam, exam + subject, exam + subject + topic, exam + difficulty,
    exam + subject + difficulty, and the reading-comprehension topic that holds most passages."""
    first = records[0]
    reading = Tally((r["exam_type"], r["subject"], r["topic"]) for r in records if "passage" in r).most_common(1)
    exam, subject, topic = reading[0][0] if reading else (first["exam_type"], first["subject"], first["topic"])
    return [
        ("exam", {"exam": "JEE"}),
        ("exam+subject", {"exam": "JEE", "subject": "Physics"}),
        ("exam+subject+topic", {"exam": "GATE", "subject": "Algorithms", "topic": "Greedy"}),
        ("exam+difficulty", {"exam": "UPSC", "difficulty": "hard"}),
        ("exam+subject+difficulty", {"exam": "NEET", "subject": "Botany", "difficulty": "medium"}),
        ("passages topic", {"exam": exam, "subject": subject, "topic": topic}),
    ]


def _walk(client: Any, api: str, params: dict[str, Any], auth: dict[str, str], query: dict[str, Any]) -> Any:
    return client.get(api, params={**params, **query}, headers=auth)


def practice_rows(rows: list[Row], counter: request_costs.Counter, client: Any, auth: dict[str, str],
                  records: Sequence[dict[str, Any]]) -> None:
    """Page 1 and a deep cursor page of each filter: one Query, plus one BatchGetItem exactly when
    the page shows passages (however many)."""
    api = "/api/v1/questions/practice"

    def cost(answer: Any) -> tuple[str, request_costs.Check]:
        # the expected count follows from what the page shows, known once it is answered
        passages = {item["passage"]["passage_id"] for item in answer.json()["data"]["items"] if item["passage"]}
        if passages:
            shown = f"{len(passages)} passage{'s' if len(passages) > 1 else ''}"
            return f"1 Query + 1 BatchGetItem ({shown}), {AUTH}", exactly(2, 1, writes=0)
        return f"1 Query (no passage on the page), {AUTH}", exactly(1, 1, writes=0)

    def page(label: str, params: dict[str, Any]) -> Any:
        answer = measure(rows, counter, label, lambda: client.get(api, params=params, headers=auth))
        target, check = cost(answer)
        rows[-1].target, rows[-1].ok = target, check(counter)
        return answer

    for name, filters in practice_filters(records):
        params: dict[str, Any] = {**filters, "limit": PAGE_LIMIT}
        first = page(f"practice {name}: page 1", params).json()["data"]
        walk = partial(_walk, client, api, params, auth)
        cursor, position = deep_cursor(walk, first["next_cursor"], PAGE_LIMIT, (DEEP_PAGE - 1) * PAGE_LIMIT)
        if cursor:
            page(f"  from item {position + 1:,} (cursor)", {**params, "cursor": cursor})


def deep_cursor(get: Callable[[dict[str, Any]], Any], cursor: str | None, done: int,
                target: int) -> tuple[str | None, int]:
    """Walk (unmeasured) from ``cursor``, ``done`` items in, to the cursor ``target`` items in (or
    the last one there is, when the list is shorter): ``(cursor, items before it)``. A cursor is a
    position, not a page size, so the walk reads up to 100 items a request: moto reads the whole
    index for every Query, so each request saved is about a second on the full bank."""
    from mindly.services.pages import MAX_LIMIT

    while cursor and done < target:
        data = get({"cursor": cursor, "limit": min(MAX_LIMIT, target - done)}).json()["data"]
        if not data["next_cursor"]:
            break  # the rest of the list starts at this cursor: measure from here
        cursor, done = data["next_cursor"], done + len(data["items"])
    return cursor, done


def answer_of(record: dict[str, Any]) -> dict[str, Any]:
    """The right answer to a generated record, in the submit field of its type."""
    kind = record.get("type", "single")
    if kind == "numeric":
        key = record["answer"]
        return {"numeric_answer": key["value"] if "value" in key else key["min"]}
    if kind == "multiple":
        return {"selected_options": list(reversed(record["correct_options"]))}  # a set: order is ignored
    return {"selected_option": record["correct_option"]}


def submit_rows(rows: list[Row], counter: request_costs.Counter, client: Any, auth: dict[str, str],
                records: Sequence[dict[str, Any]]) -> None:
    """A right first answer to a question of each type (one with a passage for single), then the
    attempts page."""
    from mindly.domain.content import content_id

    picks = [("single, passage", next(r for r in records if "passage" in r and r.get("type") == "single")),
             ("multiple", next(r for r in records if r.get("type") == "multiple" and "passage" not in r)),
             ("numeric", next(r for r in records if r.get("type") == "numeric"))]
    for label, record in picks:
        body = {"question_id": content_id("question", record["source"], record["external_id"]),
                "confidence_rating": 4, "time_taken_seconds": 35, "attempt_id": secrets.token_hex(8),
                **answer_of(record)}
        answered = measure(rows, counter, f"POST /questions/submit ({label})",
                           partial(client.post, "/api/v1/questions/submit", json=body, headers=auth),
                           "1 BatchGetItem + 1 TransactWriteItems; Redis: 1 mirror + 1 auth",
                           exactly(2, 2, writes=1))
        assert answered.json()["data"]["is_correct"] is True, answered.text[:300]
    measure(rows, counter, "GET /questions/attempts", lambda: client.get("/api/v1/questions/attempts",
                                                                         headers=auth),
            "DynamoDB = 1 Query, " + AUTH, exactly(1, 1, writes=0))


def mock_test_rows(rows: list[Row], counter: request_costs.Counter, client: Any, auth: dict[str, str]) -> None:
    """Full mock tests assembled from the whole bank (assembly reads one Query per subject: JEE Main
    has 3 subjects, UPSC GS Paper I 7), then a JEE Main paper answered in full and submitted (75
    questions: 5 finishing chunks)."""
    from mindly.store import content as content_store

    api = "/api/v1/mock-tests"
    for pattern_id, subjects in (("jee-main-paper-1", 3), ("upsc-gs1", 7)):
        started = measure(rows, counter, f"POST /mock-tests ({pattern_id})", partial(
            client.post, api, json={"pattern_id": pattern_id}, headers=auth),
            f"DynamoDB = 3 + {subjects} subjects (+ a page past each 1 MB, + 1 BatchGetItem of passages), "
            + AUTH, request_costs.within(dynamodb=3 + 2 * subjects + 1, redis=1, writes=1))
        assert started.status_code == 201, started.text[:300]
    paper = client.post(api, json={"pattern_id": "jee-main-paper-1"}, headers=auth).json()["data"]
    test_id = paper["mock_test_id"]
    for section in paper["sections"]:
        for item in section["questions"]:
            stored = content_store.get_question(item["question"]["question_id"])
            assert stored is not None
            question = content_store.question_of(stored)
            given = ({"numeric_answer": float(question.answer.value or question.answer.low)}
                     if question.answer is not None else {"selected_option": question.correct_option})
            client.put(f"{api}/{test_id}/answers/{item['number']}", json={**given, "time_spent_seconds": 90},
                       headers=auth).raise_for_status()
    chunks = 5
    measure(rows, counter, "POST /mock-tests/{id}/submit (JEE Main, 75 answers)", partial(
        client.post, f"{api}/{test_id}/submit", headers=auth),
        f"DynamoDB = 11 + 2 a chunk of 15 ({chunks} chunks), " + "Redis: 1 mirror + 1 auth",
        exactly(11 + 2 * chunks, 2, writes=3 + chunks))


# --- the run -----------------------------------------------------------------------------------------

def upload_images(count: int) -> list[str]:
    """Upload ``count`` small PNGs (unmeasured) as an admin does: the presigned PUT that
    POST /admin/media hands out (``mindly.store.media.upload_target``), sent to moto's S3; their ids."""
    import httpx

    from mindly.store import media as media_store

    image = b"\x89PNG\r\n\x1a\n" + bytes(32)
    ids = []
    for _ in range(count):
        media_id, url, _expires = media_store.upload_target("image/png", len(image))
        httpx.put(url, content=image, headers={"Content-Type": "image/png"}).raise_for_status()
        ids.append(media_id)
    return ids


def expected(rows: Sequence[ImportRow], size: int, sample: int, changed: int) -> list[str]:
    """What the imports must report: everything imported once, the sample skipped, the changed
    share updated."""
    wrong = []
    first, again, edited = rows[0], rows[1], rows[2]
    if (first.imported, first.rejected) != (size, 0):
        wrong.append(f"the bank imported {first.imported:,} of {size:,} ({first.rejected} rejected)")
    if again.skipped != sample:
        wrong.append(f"the unchanged re-import skipped {again.skipped:,} of {sample:,}")
    if (edited.updated, edited.skipped) != (changed, sample - changed):
        wrong.append(f"the changed re-import updated {edited.updated:,} (expected {changed:,})")
    return wrong


def run(size: int, sample: int, seed: int) -> tuple[list[ImportRow], list[str], list[Row], list[str], dict[str, Any]]:
    sys.path[:0] = [str(REPO)]
    os.environ.setdefault("BCRYPT_ROUNDS", "4")
    os.environ.setdefault("JWT_SECRET", secrets.token_hex(32))
    os.environ.setdefault("CURSOR_SECRET", secrets.token_hex(32))
    os.environ.setdefault("DYNAMODB_READ_TIMEOUT_SECONDS", BENCH_READ_TIMEOUT_SECONDS)
    from infra.dev_server import start_stack

    stack = start_stack(prefix="mindly-bench-bank", seed=False)
    from fastapi.testclient import TestClient

    counter = request_costs.Counter()
    request_costs.instrument(counter)
    try:
        records = generate_bank(size, seed, upload_images(MEDIA_IMAGES))
        mix = bank_mix(records)
        sample = min(sample, size)
        edited, changed = with_changes(records[:sample])
        scope = "" if sample == size else f"sample: the first {sample:,} of the bank"
        imports = [import_phase(counter, f"generated bank ({size:,})", jsonl(records), "jsonl"),
                   import_phase(counter, "re-import, unchanged", jsonl(records[:sample]), "jsonl", scope),
                   import_phase(counter, f"re-import, {CHANGED_SHARE:.0%} changed", jsonl(edited), "jsonl", scope)]
        wrong = expected(imports, size, sample, changed)
        real, notes = real_bank_rows(counter)
        imports += real

        from mindly.services import badges

        badges.seed()
        badges.catalog()  # a warm container has the catalog cached (bench.request_costs does the same)
        client = TestClient(stack.app)
        auth = _register(client)
        rows: list[Row] = []
        practice_rows(rows, counter, client, auth, records)
        submit_rows(rows, counter, client, auth, records)
        mock_test_rows(rows, counter, client, auth)
    finally:
        stack.stop()
    return imports, notes, rows, wrong, mix


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=BANK_SIZE, help="questions in the generated bank")
    parser.add_argument("--sample", type=int, default=RE_IMPORT_SAMPLE,
                        help="records re-imported (unchanged, then 5 %% changed); the whole bank when larger")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a row is OVER or an import count is wrong")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    imports, notes, rows, wrong, mix = run(args.questions, args.sample, args.seed)
    print(f"bank: {json.dumps(mix)}")
    print()
    print_imports(imports)
    for note in notes:
        print(f"note: {note}")
    print()
    request_costs.print_rows(rows)
    for problem in wrong:
        print(f"WRONG: {problem}")
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")
    failed = bool(wrong) or any(row.ok is False for row in rows)
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
