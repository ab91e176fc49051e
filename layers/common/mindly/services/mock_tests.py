"""Mock tests sat under an exam's real pattern (API.md "Mock tests"; storage: mindly.store.mock_tests).

Assembly. ``POST /mock-tests`` draws the paper from the bank's ``by_exam`` index: one Query per
subject of the pattern (one page each while a subject's questions fit DynamoDB's 1 MB, about 1,000
of them), plus one Query of the student's ``ANSWERED#`` markers so unseen questions come first;
mindly.domain.mock_assembly decides. The mock_test_id seeds the choice, and the paper is stored
under it, so the same id again answers the same paper.

The clock is the server's. A save is one GetItem of the paper and one transaction whose condition
check on the paper (in progress, before the deadline, inside the section's window) DynamoDB
evaluates: a save after the deadline, or after the paper was closed, fails atomically.

Finishing (a submit, the first read after the deadline, or the sweep) is idempotent and survives a
crash at any point:
1. close: in_progress -> closing, conditional, so no save commits afterwards and exactly one
   closing time (and ``auto_submitted``) is kept;
2. score from the frozen answers (pure: mindly.domain.mock_scoring), and keep a plan on the paper
   (the figures that depend on what the student had done before: answers counting toward today's
   goal), once;
3. write the attempts, subject/topic counters, question statistics, ``ANSWERED#`` markers and
   mistake cards in chunks of ``CHUNK_QUESTIONS`` questions, each one transaction with a guard
   item, so a chunk is applied once whatever the retries;
4. one activity through the progress engine (streak, XP, the day's goal), in the same transaction
   as the paper's result, its list line and its record in ``GET /analytics/tests``.
Every step reads what the last one left, so any finisher, in any order or in parallel, converges to
the same result.

XP (README "Fair XP"): +10 for each right answer to a question the student had never answered
before (the first answer is the marker's ``first_attempt_id``, set once, whoever is first, so a
practice answer racing the finish cannot earn the same question twice); every question of the paper
is marked answered (the review shows its key), so practising it later earns nothing. A finished
test counts its answered questions toward the daily goal, each once a local day, as practice does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from mindly.domain import content, exam_patterns, mock_assembly
from mindly.domain.content import DIFFICULTIES
from mindly.exceptions import (
    Conflict,
    DeadlinePassed,
    InsufficientContent,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from mindly.observability import count
from mindly.services import pages, question_views
from mindly.store import attempts as attempt_store
from mindly.store import content as content_store
from mindly.store import mock_tests as store
from mindly.store.errors import OutcomeUnknown
from mindly.store.models import ContentTable, batch_read
from mindly.store.progress import instant_text, student_key

MOCK_TEST_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CHUNK_QUESTIONS = 15  # 15 x (attempt, marker, statistics shard, card) + 30 counters + guard < 100 items
BATCH_KEYS = 100  # BatchGetItem's limit
SWEEP_LIMIT = 100  # papers a sweep finishes per shard and run (the next run takes the rest)


class Entry(NamedTuple):
    """One question of a stored paper."""

    number: int
    section: str
    group_index: int
    subject: str
    question_id: str
    difficulty: str
    version: int
    question_type: str
    letters: str  # the options offered ("" for numeric)

    def paper_question(self) -> mock_assembly.PaperQuestion:
        return mock_assembly.PaperQuestion(self.number, self.section, self.group_index, self.subject,
                                           self.question_id, self.difficulty)


class Given(NamedTuple):
    """A save's answer fields as sent (at most one set)."""

    selected_option: str | None = None
    selected_options: list[str] | None = None
    numeric_answer: float | None = None
    clear: bool = False


# --- patterns --------------------------------------------------------------------------------------

def patterns() -> list[dict[str, Any]]:
    """GET /mock-tests/patterns."""
    return [exam_patterns.public_view(pattern) for pattern in exam_patterns.bundled_patterns()]


def _pattern(pattern_id: str, subjects: list[str] | None) -> exam_patterns.ExamPattern:
    pattern = exam_patterns.find_pattern(pattern_id)
    if pattern is None:
        raise ValidationFailed(f"no pattern '{pattern_id[:60]}'; see GET /mock-tests/patterns", field="pattern_id")
    if subjects is None:
        return pattern
    try:
        return exam_patterns.for_subjects(pattern, subjects)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="subjects") from exc


def _paper_pattern(paper: store.MockPaperItem) -> exam_patterns.ExamPattern:
    return _pattern(str(paper.pattern_id), [str(subject) for subject in paper.subjects] if paper.subjects else None)


def _entries(paper: store.MockPaperItem) -> list[Entry]:
    return [Entry(*row) for row in paper.questions]


# --- assembly --------------------------------------------------------------------------------------

def _seen_questions(user_id: str) -> set[str]:
    """Every question the student has answered (the ``ANSWERED#`` markers): one Query, paged."""
    found = attempt_store.AnsweredQuestionItem.query(
        student_key(user_id), attempt_store.AnsweredQuestionItem.sk.startswith(attempt_store.ANSWERED_PREFIX))
    return {str(item.question_id) for item in found}


def _candidates(pattern: exam_patterns.ExamPattern, seen: set[str]) -> tuple[
        dict[mock_assembly.CandidateKey, list[mock_assembly.Candidate]], dict[str, content_store.QuestionItem]]:
    """The bank's active questions for every pool of the pattern, by (section, subject, type,
    difficulty), and the items by id: one Query of the ``by_exam`` index per subject (its practice
    partition holds only active questions)."""
    candidates: dict[mock_assembly.CandidateKey, list[mock_assembly.Candidate]] = {}
    items: dict[str, content_store.QuestionItem] = {}
    for section in pattern.sections:
        kinds = {group.question_type for group in section.groups}
        for subject in section.subjects:
            found = content_store.QuestionItem.by_exam.query(
                content_store.bank_partition(pattern.exam_type, retired=False),
                content_store.QuestionItem.gsi1_sk.startswith(f"{subject}{content_store.SEPARATOR}"))
            for item in found:
                kind = item.question_type or "single"
                if (not isinstance(item, content_store.QuestionItem) or kind not in kinds or item.retired_at
                        or item.difficulty not in DIFFICULTIES):
                    continue
                items[item.question_id] = item
                candidates.setdefault((section.name, subject, kind, item.difficulty), []).append(
                    mock_assembly.Candidate(item.question_id, item.question_id in seen))
    return candidates, items


def _entry(question: mock_assembly.PaperQuestion, item: content_store.QuestionItem) -> list[Any]:
    kind = item.question_type or "single"
    letters = "" if kind == "numeric" else "".join(sorted(item.options.as_dict())) if item.options else ""
    return list(Entry(question.number, question.section, question.group_index, question.subject,
                      question.question_id, question.difficulty, int(item.version or 1), kind, letters))


def create(user_id: str, pattern_id: str, mock_test_id: str, subjects: list[str] | None,
           now: datetime) -> tuple[int, dict[str, Any]]:
    """POST /mock-tests: ``(201, paper)`` for a new test, ``(200, paper)`` for the same id again."""
    if not MOCK_TEST_ID.match(mock_test_id):
        raise ValidationFailed("mock_test_id must be 1..64 letters, digits, '-' or '_'", field="mock_test_id")
    pattern = _pattern(pattern_id, subjects)
    state = store.read_paper(user_id, mock_test_id)
    if state.paper is not None:
        return 200, _existing(state, pattern_id, subjects, now)
    candidates, items = _candidates(pattern, _seen_questions(user_id))
    try:
        chosen = mock_assembly.assemble_paper(pattern, candidates, seed=mock_test_id)
    except mock_assembly.InsufficientContent as short:
        raise InsufficientContent(
            f"The bank cannot fill {pattern.name}: " + "; ".join(
                f"{m.section} / {m.subject} / {m.question_type}: {m.available} of {m.needed}" for m in short.missing),
            errors=[{"code": InsufficientContent.code, "field": "pattern_id",
                     "message": f"{m.section} / {m.subject} / {m.question_type}: {m.available} of {m.needed}",
                     "missing": m.view()} for m in short.missing]) from short
    start = now.astimezone(UTC).replace(microsecond=0)
    windows = exam_patterns.section_windows(pattern)
    paper = store.MockPaperItem(
        *store.paper_key(user_id, mock_test_id), mock_test_id=mock_test_id, user_id=user_id, pattern_id=pattern_id,
        exam_type=pattern.exam_type, subjects=list(dict.fromkeys(subjects)) if subjects else None,
        status=store.IN_PROGRESS, started_at=start, list_sk=store.list_sort_key(now, mock_test_id),
        deadline=instant_text(start + timedelta(minutes=pattern.duration_minutes)),
        window_starts=[instant_text(start + timedelta(minutes=w[0])) if w else "" for w in windows],
        window_ends=[instant_text(start + timedelta(minutes=w[1])) if w else "" for w in windows],
        questions=[_entry(question, items[question.question_id]) for question in chosen])
    store.schedule_deadline(paper)
    if not store.create_paper(paper, store.list_item(paper, exam_patterns.shown(pattern.max_score))):
        return 200, _existing(store.read_paper(user_id, mock_test_id), pattern_id, subjects, now)
    count("MockTestsStarted", pattern=pattern_id)
    chosen_items = [items[question.question_id] for question in chosen]
    return 201, _paper_view(paper, {}, chosen_items, now)


def _existing(state: store.PaperState, pattern_id: str, subjects: list[str] | None, now: datetime) -> dict[str, Any]:
    paper = state.paper
    assert paper is not None
    asked = list(dict.fromkeys(subjects)) if subjects else None
    if paper.pattern_id != pattern_id or (list(paper.subjects) if paper.subjects else None) != asked:
        raise Conflict("mock_test_id was already used for another test", field="mock_test_id")
    return _view(state, now)


# --- views -----------------------------------------------------------------------------------------

def _question_items(question_ids: Iterable[str]) -> dict[str, content_store.QuestionItem]:
    """The question items of a paper, in BatchGetItems of at most 100 keys."""
    keys = [content_store.question_key(question_id) for question_id in dict.fromkeys(question_ids)]
    found: dict[str, content_store.QuestionItem] = {}
    for start in range(0, len(keys), BATCH_KEYS):
        [items] = batch_read([(ContentTable, keys[start:start + BATCH_KEYS])], consistent_read=False)
        found.update({item.question_id: item for item in items if isinstance(item, content_store.QuestionItem)})
    return found


def _answer_view(item: store.MockAnswerItem | None) -> dict[str, Any] | None:
    if item is None:
        return None
    view: dict[str, Any] = {"number": int(item.number), "time_spent_seconds": int(item.time_spent_seconds),
                            "marked_for_review": bool(item.marked_for_review),
                            "confidence_rating": (None if item.confidence_rating is None
                                                  else int(item.confidence_rating)),
                            "saved_at": instant_text(item.saved_at), "answered": _response(item) is not None}
    if item.selected_option is not None:
        view["selected_option"] = item.selected_option
    if item.selected_options is not None:
        view["selected_options"] = [str(letter) for letter in item.selected_options]
    if item.numeric_answer is not None:
        view["numeric_answer"] = content.json_number(Decimal(item.numeric_answer))
    return view


def _section_views(paper: store.MockPaperItem, now: datetime, render: Any) -> list[dict[str, Any]]:
    """The paper's sections; a section with its own clock shows its questions once it has opened."""
    pattern = _paper_pattern(paper)
    at = instant_text(now)
    entries = _entries(paper)
    views = []
    for index, section in enumerate(pattern.sections):
        view: dict[str, Any] = {"name": section.name}
        opens, ends = paper.window_starts[index], paper.window_ends[index]
        if ends:
            view["starts_at"], view["ends_at"] = opens, ends
        shown = not opens or opens <= at or paper.status != store.IN_PROGRESS
        view["questions"] = [render(entry) for entry in entries if entry.section == section.name] if shown else []
        views.append(view)
    return views


def _paper_view(paper: store.MockPaperItem, answers: dict[int, store.MockAnswerItem],
                items: Iterable[content_store.QuestionItem], now: datetime) -> dict[str, Any]:
    """An in-progress paper as the student sees it: practice items and saved answers, no key."""
    by_id = {item.question_id: item for item in items}
    passages = content_store.passages([item.passage_id for item in by_id.values() if item.passage_id])

    def render(entry: Entry) -> dict[str, Any]:
        item = by_id.get(entry.question_id)
        return {"number": entry.number,
                "question": question_views.practice_view(item, passages) if item is not None else None,
                "answer": _answer_view(answers.get(entry.number))}

    return {"mock_test_id": paper.mock_test_id, "pattern_id": paper.pattern_id, "exam_type": paper.exam_type,
            "status": store.IN_PROGRESS, "started_at": instant_text(paper.started_at), "deadline": paper.deadline,
            "sections": _section_views(paper, now, render)}


def _view(state: store.PaperState, now: datetime) -> dict[str, Any]:
    paper = state.paper
    assert paper is not None
    if paper.status == store.FINISHED:
        return _review(state)
    items = _question_items(entry.question_id for entry in _entries(paper))
    return _paper_view(paper, state.answers, items.values(), now)


def _review(state: store.PaperState) -> dict[str, Any]:
    """A finished test: its result, and every question with the key, the explanation, the
    student's answer and what it scored."""
    paper = state.paper
    assert paper is not None and paper.result is not None
    result: dict[str, Any] = dict(paper.result)
    outcomes = {int(number): (outcome, marks) for number, outcome, marks in result.pop("outcomes", [])}
    items = _question_items(entry.question_id for entry in _entries(paper))
    passages = content_store.passages([item.passage_id for item in items.values() if item.passage_id])

    def render(entry: Entry) -> dict[str, Any]:
        item = items.get(entry.question_id)
        outcome, marks = outcomes.get(entry.number, ("unattempted", 0))
        view: dict[str, Any] = {"number": entry.number, "question": None, "answer": _answer_view(
            state.answers.get(entry.number)), "outcome": outcome, "marks": marks, "explanation": None}
        if item is not None:
            question = content_store.question_of(item)
            key = question_views.key_fields(question)
            if "answer" in key:  # the numeric key: "answer" is the student's saved answer here
                key["answer_key"] = key.pop("answer")
            view.update(question=question_views.practice_view(item, passages), explanation=question.explanation, **key)
        return view

    return {**result, "review": _section_views(paper, paper.closed_at or paper.started_at, render)}


def get(user_id: str, mock_test_id: str, now: datetime) -> dict[str, Any]:
    """GET /mock-tests/{id}: the paper in progress, or the result and review (a test past its
    deadline is finished here first, with the answers saved so far)."""
    state = store.read_paper(user_id, mock_test_id)
    if state.paper is None:
        raise NotFound("No such mock test")
    if state.paper.status == store.IN_PROGRESS and instant_text(now) < state.paper.deadline:
        return _view(state, now)
    if state.paper.status != store.FINISHED:
        state = _finish(user_id, None, state, now, requested=False)
    return _view(state, now)


def tests(user_id: str, page: int, limit: int, cursor: str | None) -> dict[str, Any]:
    """GET /mock-tests: the student's tests, newest first, one Query a page."""

    def fetch(start: pages.Key | None) -> tuple[list[Any], pages.Key | None]:
        return store.tests_page(user_id, limit, start)

    def render(item: store.MockListItem) -> dict[str, Any]:
        return {"mock_test_id": item.mock_test_id, "pattern_id": item.pattern_id, "exam_type": item.exam_type,
                "status": item.status, "started_at": instant_text(item.started_at), "deadline": item.deadline,
                "finished_at": instant_text(item.finished_at) if item.finished_at else None,
                "score": None if item.score is None else content.json_number(Decimal(str(item.score))),
                "max_score": content.json_number(Decimal(str(item.max_score))),
                "percent": None if item.percent is None else content.json_number(Decimal(str(item.percent))),
                "auto_submitted": item.auto_submitted}

    return pages.paginate(fetch, page, limit, cursor, pages.Scope("mock-tests", user_id),
                          {"pk": student_key(user_id)}, render)


# --- saving answers --------------------------------------------------------------------------------

def _read_given(entry: Entry, given: Given) -> content.Response | None:
    """The saved response in the field of the question's type (None: no answer); 422 otherwise."""
    sent = [name for name, value in given._asdict().items() if value not in (None, False)]
    if len(sent) > 1:
        raise ValidationFailed("send one of selected_option, selected_options, numeric_answer or clear",
                               field=sent[1])
    if not sent or sent == ["clear"]:
        return None
    expected = question_views.ANSWER_FIELDS[entry.question_type]
    if sent != [expected]:
        raise ValidationFailed(f"a {entry.question_type} question is answered with {expected} only", field=sent[0])
    if entry.question_type == "numeric":
        number = content.decimal_of(given.numeric_answer)
        if number is None:
            raise ValidationFailed("numeric_answer must be a finite number", field="numeric_answer")
        return content.Response(number=number)
    letters = [given.selected_option] if given.selected_option is not None else (given.selected_options or [])
    chosen = sorted({letter.strip().upper() for letter in letters})
    if not chosen or any(letter not in entry.letters for letter in chosen):
        raise ValidationFailed(f"{expected} must be among {', '.join(entry.letters)}", field=expected)
    if entry.question_type == "single":
        return content.Response(option=chosen[0])
    return content.Response(options=tuple(chosen))


def save_answer(user_id: str, mock_test_id: str, number: int, given: Given, time_spent_seconds: int,
                marked_for_review: bool, confidence_rating: int | None, now: datetime) -> dict[str, Any]:
    """PUT /mock-tests/{id}/answers/{number}: the question's answer as the student leaves it now
    (the last save before the deadline counts)."""
    state = store.read_paper(user_id, mock_test_id)
    paper = state.paper
    if paper is None:
        raise NotFound("No such mock test")
    entry = next((e for e in _entries(paper) if e.number == number), None)
    if entry is None:
        raise NotFound(f"This test has no question {number}")
    response = _read_given(entry, given)
    pattern = _paper_pattern(paper)
    index = [section.name for section in pattern.sections].index(entry.section)
    at = instant_text(now)
    if paper.status != store.IN_PROGRESS:
        raise DeadlinePassed("The test is finished")
    if at >= paper.deadline:
        raise DeadlinePassed()
    if paper.window_ends[index] and not paper.window_starts[index] <= at < paper.window_ends[index]:
        raise DeadlinePassed(f"Section {entry.section} is not open now"
                             if at < paper.window_starts[index] else f"Section {entry.section}'s time is over")
    item = store.MockAnswerItem(
        student_key(user_id), store.answer_sort_key(mock_test_id, number), mock_test_id=mock_test_id, number=number,
        selected_option=response.option if response else None,
        selected_options=list(response.options) if response and response.options else None,
        numeric_answer=str(response.number) if response and response.number is not None else None,
        cleared=response is None, time_spent_seconds=time_spent_seconds, marked_for_review=marked_for_review,
        confidence_rating=confidence_rating, saved_at=now)
    try:
        store.save_answer(paper, item, index, now)
    except store.DeadlinePassed as exc:
        raise DeadlinePassed("The test's time is over, or it was submitted") from exc
    except OutcomeUnknown as exc:
        raise ServiceUnavailable("The answer may not have been saved; save it again") from exc
    view = _answer_view(item)
    assert view is not None
    return view


# --- finishing ---------------------------------------------------------------------------------------

def submit(user_id: str, name: str | None, mock_test_id: str, now: datetime) -> dict[str, Any]:
    """POST /mock-tests/{id}/submit: the result (the same one again for a repeat)."""
    state = store.read_paper(user_id, mock_test_id)
    if state.paper is None:
        raise NotFound("No such mock test")
    if state.paper.status != store.FINISHED:
        state = _finish(user_id, name, state, now, requested=True)
    return _result_view(state.paper)


def _result_view(paper: store.MockPaperItem | None) -> dict[str, Any]:
    assert paper is not None and paper.result is not None
    return {key: value for key, value in dict(paper.result).items() if key != "outcomes"}


def _finish(user_id: str, name: str | None, state: store.PaperState, now: datetime, requested: bool,
            ) -> store.PaperState:
    """Finish a paper (mindly.services.mock_finish, imported only when a test finishes: a save or a
    read of a test in progress never loads the progress engine and the finishing writes)."""
    from mindly.services import mock_finish

    return mock_finish.finish(user_id, name, state, now, requested)


def _response(item: store.MockAnswerItem | None) -> content.Response | None:
    if item is None or item.cleared:
        return None
    if item.numeric_answer:
        return content.Response(number=Decimal(item.numeric_answer))
    if item.selected_options:
        return content.Response(options=tuple(str(letter) for letter in item.selected_options))
    if item.selected_option:
        return content.Response(option=item.selected_option)
    return None


