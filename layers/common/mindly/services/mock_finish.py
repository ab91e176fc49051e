"""Finishing a mock test (mindly.services.mock_tests; README "Mock tests"): closing it, scoring the
frozen answers, writing what a finished test feeds in guarded chunks, and the one activity that
records its result; and the scheduled sweep.

Finishing is idempotent and survives a crash at any point:
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
"""

from __future__ import annotations

import contextlib
import math
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from mindly.config import get_settings
from mindly.domain import calendar, content, exam_patterns, mock_scoring, xp
from mindly.exceptions import ServiceUnavailable
from mindly.observability import count, logger
from mindly.services import progress as engine
from mindly.services import questions as practice
from mindly.services.mock_tests import BATCH_KEYS, Entry, _entries, _paper_pattern, _question_items, _response
from mindly.store import analytics as analytics_store
from mindly.store import attempts as attempt_store
from mindly.store import cards as card_store
from mindly.store import content as content_store
from mindly.store import mock_tests as store
from mindly.store import question_stats as question_stats_store
from mindly.store.errors import OutcomeUnknown
from mindly.store.models import StudyTable, batch_read
from mindly.store.progress import ExtraConflict, instant_text, student_key

CHUNK_QUESTIONS = 15  # 15 x (attempt, marker, statistics shard, card) + 30 counters + guard < 100 items
SWEEP_LIMIT = 100  # papers a sweep finishes per shard and run (the next run takes the rest)


def finish(user_id: str, name: str | None, state: store.PaperState, now: datetime, requested: bool,
            ) -> store.PaperState:
    """Finish a paper (see the module docstring) and return its state as finished."""
    paper = state.paper
    assert paper is not None
    if paper.status == store.IN_PROGRESS:
        deadline = datetime.strptime(paper.deadline, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        late = now >= deadline
        try:
            store.close_paper(paper, min(now, deadline), auto_submitted=late or not requested)
        except store.NotInProgress:
            pass  # another finisher closed it: go on from what it kept
        except OutcomeUnknown as exc:
            raise ServiceUnavailable("The test could not be closed; try again") from exc
        state = store.read_paper(user_id, str(paper.mock_test_id))
    assert state.paper is not None
    if state.paper.status == store.FINISHED:
        return state
    try:
        _complete(user_id, name, state)
    except (OutcomeUnknown, store.NotInProgress) as exc:
        logger.warning("mock test finish interrupted", extra={"mock_test_id": paper.mock_test_id})
        raise ServiceUnavailable("The test could not be finished yet; try again") from exc
    finished = store.read_paper(user_id, str(paper.mock_test_id))
    if finished.paper is None or finished.paper.status != store.FINISHED:
        raise ServiceUnavailable("The test could not be finished yet; try again")
    return finished


def _attempt_id(mock_test_id: str, number: int) -> str:
    return f"mock-{mock_test_id}-{number:03d}"


class _Scored(NamedTuple):
    pattern: exam_patterns.ExamPattern
    entries: list[Entry]
    questions: dict[str, content.Question]
    items: dict[str, content_store.QuestionItem]
    result: mock_scoring.MockResult
    responses: dict[int, content.Response | None]


def _score(state: store.PaperState) -> _Scored:
    paper = state.paper
    assert paper is not None
    pattern = _paper_pattern(paper)
    entries = _entries(paper)
    items = _question_items(entry.question_id for entry in entries)
    missing = [entry.question_id for entry in entries if entry.question_id not in items]
    if missing:
        raise ServiceUnavailable(f"questions of the paper are missing from the bank: {', '.join(missing[:3])}")
    questions = {question_id: content_store.question_of(item) for question_id, item in items.items()}
    responses = {number: _response(answer) for number, answer in state.answers.items()}
    for entry in entries:
        question = questions[entry.question_id]
        if question.question_type != entry.question_type:
            # An admin changed the question's type during the test: the answer given no longer fits,
            # so the question is voided (unattempted) rather than marked against another kind of key.
            questions[entry.question_id] = question._replace(question_type=entry.question_type)
            responses[entry.number] = None
    marked = mock_scoring.marked_paper(pattern, [entry.paper_question() for entry in entries], questions)
    answers = {number: mock_scoring.SavedAnswer(responses[number], int(answer.time_spent_seconds))
               for number, answer in state.answers.items()}
    return _Scored(pattern, entries, questions, items, mock_scoring.score_paper(pattern, marked, answers), responses)


def _study_items(keys: list[tuple[str, str]]) -> list[Any]:
    found: list[Any] = []
    for start in range(0, len(keys), BATCH_KEYS):
        [items] = batch_read([(StudyTable, keys[start:start + BATCH_KEYS])])
        found.extend(items)
    return found


def _markers(user_id: str, entries: list[Entry]) -> dict[str, attempt_store.AnsweredQuestionItem]:
    keys = [attempt_store.answered_key(user_id, entry.question_id) for entry in entries]
    return {str(item.question_id): item for item in _study_items(keys)
            if isinstance(item, attempt_store.AnsweredQuestionItem)}


def _complete(user_id: str, name: str | None, state: store.PaperState) -> None:
    paper = state.paper
    assert paper is not None and paper.closed_at is not None
    scored = _score(state)
    student = engine.student_of(user_id, name)
    closed_at: datetime = paper.closed_at
    today = calendar.local_date(closed_at, student.timezone)
    outcomes = {score.number: score for score in scored.result.questions}
    attempted = [entry for entry in scored.entries if outcomes[entry.number].outcome != "unattempted"]
    plan = paper.plan
    if plan is None:
        markers = _markers(user_id, attempted)
        goal = sum(1 for entry in attempted if entry.question_id not in markers
                   or markers[entry.question_id].goal_day != today.isoformat())
        plan = store.store_plan(paper, {"goal_answers": goal, "today": today.isoformat()})
    today = date.fromisoformat(plan["today"])
    _write_chunks(user_id, paper, scored, outcomes, state.answers, state.chunks, student.timezone, today)
    # XP: right answers whose marker names this test's attempt as the question's first answer.
    markers = _markers(user_id, scored.entries)
    first_right = sum(1 for entry in scored.entries if outcomes[entry.number].outcome == "correct"
                      and entry.question_id in markers
                      and markers[entry.question_id].first_attempt_id == _attempt_id(str(paper.mock_test_id),
                                                                                     entry.number))
    _record(user_id, student, paper, scored, int(plan["goal_answers"]), first_right * xp.CORRECT_ANSWER_XP, today)


def _write_chunks(user_id: str, paper: store.MockPaperItem, scored: _Scored,
                  outcomes: dict[int, mock_scoring.QuestionScore], answers: dict[int, store.MockAnswerItem],
                  done: set[int], zone: str, today: date) -> None:
    closed_at = paper.closed_at
    assert closed_at is not None
    mock_test_id = str(paper.mock_test_id)
    for chunk, start in enumerate(range(0, len(scored.entries), CHUNK_QUESTIONS)):
        if chunk in done:
            continue
        entries = scored.entries[start:start + CHUNK_QUESTIONS]
        for _ in range(store.MAX_TRANSACTION_RETRIES):
            held = card_store.held_cards(user_id, [f"{card_store.MISTAKE_PREFIX}{e.question_id}" for e in entries])
            puts, updates = _chunk_items(user_id, mock_test_id, scored, outcomes, answers, entries, held, closed_at,
                                         zone, today)
            try:
                store.write_chunk(user_id, mock_test_id, chunk, puts, updates, closed_at)
                break
            except store.ChunkConflict:
                continue  # a practice answer made one of these mistake cards meanwhile: read again
        else:
            raise OutcomeUnknown(mock_test_id)


def _chunk_items(user_id: str, mock_test_id: str, scored: _Scored, outcomes: dict[int, mock_scoring.QuestionScore],
                 answers: dict[int, store.MockAnswerItem], entries: list[Entry], held: set[str], at: datetime,
                 zone: str, today: date) -> tuple[list[Any], list[tuple[Any, list[Any]]]]:
    """One chunk's writes: for each question its marker; for each answered one its attempt and
    statistics shard, and a mistake card when it was not right; the chunk's subject/topic counters."""
    marker_model = attempt_store.AnsweredQuestionItem
    puts: list[Any] = []
    updates: list[tuple[Any, list[Any]]] = []
    rows: list[tuple[str, str, bool, int]] = []
    for entry in entries:
        question = scored.questions[entry.question_id]
        score = outcomes[entry.number]
        attempt_id = _attempt_id(mock_test_id, entry.number)
        answered = score.outcome != "unattempted"
        marker = marker_model(*attempt_store.answered_key(user_id, entry.question_id))
        updates.append((marker, [
            marker_model.kind.set(marker_model), marker_model.question_id.set(entry.question_id),
            marker_model.first_attempt_id.set(marker_model.first_attempt_id | attempt_id),
            marker_model.first_answered_at.set(marker_model.first_answered_at | at),
            marker_model.goal_day.set(today.isoformat() if answered else marker_model.goal_day | today.isoformat())]))
        if not answered:
            continue
        correct = score.outcome == "correct"
        response = scored.responses.get(entry.number)
        assert response is not None
        saved = answers[entry.number]
        attempt = practice.attempt_item(user_id, attempt_id, scored.items[entry.question_id], question, response,
                                        correct, None if saved.confidence_rating is None
                                        else int(saved.confidence_rating), score.time_spent_seconds, at)
        puts.append(attempt)
        shard = question_stats_store.answer_increment(entry.question_id, user_id, attempt_id, correct,
                                                      score.time_spent_seconds)
        updates.append((shard.item, shard.actions))
        rows.append((question.subject, question.topic, correct, score.time_spent_seconds))
        flashcard_id = f"{card_store.MISTAKE_PREFIX}{entry.question_id}"
        if not correct and flashcard_id not in held:
            card = practice.mistake_card(user_id, question, at, zone)
            puts.append((card, card_store.CardItem.pk.does_not_exist()))
    for increment in analytics_store.summed_counters(user_id, scored.pattern.exam_type, rows):
        updates.append((increment.item, increment.actions))
    return puts, updates


def _chapters(scored: _Scored, outcomes: dict[int, mock_scoring.QuestionScore]) -> list[dict[str, Any]]:
    chapters: dict[tuple[str, str], list[int]] = {}
    for entry in scored.entries:
        question = scored.questions[entry.question_id]
        tally = chapters.setdefault((question.subject, question.topic), [0, 0])
        tally[0] += 1 if outcomes[entry.number].outcome == "correct" else 0
        tally[1] += 1
    return [{"subject": subject, "chapter": topic, "correct": right, "total": total}
            for (subject, topic), (right, total) in sorted(chapters.items())]


def _record(user_id: str, student: engine.Student, paper: store.MockPaperItem, scored: _Scored, goal_answers: int,
            earned: int, today: date) -> None:
    """The activity, with the paper's result, its list line and its analytics record, in one transaction."""
    closed_at = paper.closed_at
    assert closed_at is not None
    result = scored.result
    mock_test_id = str(paper.mock_test_id)
    outcomes = {score.number: score for score in result.questions}
    view = {"mock_test_id": mock_test_id, "pattern_id": paper.pattern_id, "exam_type": paper.exam_type,
            "status": store.FINISHED, "started_at": instant_text(paper.started_at),
            "finished_at": instant_text(closed_at), **mock_scoring.result_view(result),
            "auto_submitted": bool(paper.auto_submitted), "xp_awarded": 0}
    activity = engine.Activity(
        key=f"mock:{mock_test_id}", kind=xp.MOCK_TEST, at=closed_at, exam=str(paper.exam_type),
        details={"mock_test_id": mock_test_id}, seconds=result.time_spent_seconds, answers=result.attempted,
        answers_correct=result.count("correct"), goal_answers=goal_answers, earned_xp=earned)
    finished = store.MockPaperItem(paper.pk, paper.sk, **{
        name: getattr(paper, name) for name in store.MockPaperItem.get_attributes()
        if name not in ("pk", "sk", "kind", "deadline_pk", "deadline_sk")})
    finished.status = store.FINISHED
    entry = store.list_item(paper, exam_patterns.shown(result.max_score))
    entry.status, entry.finished_at, entry.auto_submitted = store.FINISHED, closed_at, bool(paper.auto_submitted)
    entry.score = exam_patterns.shown(result.score)
    entry.percent = exam_patterns.shown(result.percent)
    record = analytics_store.MockTestItem(
        student_key(user_id), analytics_store.mock_sort_key(today.isoformat(), mock_test_id), test_id=mock_test_id,
        test_name=scored.pattern.name, exam_type=paper.exam_type, taken_on=today.isoformat(),
        total_questions=len(scored.entries), correct=result.count("correct"),
        wrong=result.count("wrong") + result.count("partial"),
        time_taken_minutes=math.ceil((closed_at - paper.started_at).total_seconds() / 60),
        max_score=exam_patterns.shown(result.max_score), score=exam_patterns.shown(result.score),
        chapters=_chapters(scored, outcomes), recorded_at=closed_at, sat_here=True)
    # XP is known only once the engine applied the day's rules (the goal bonus): the result is
    # written with the activity's own figure, and the bonus shows in GET /progress.
    view["xp_awarded"] = earned
    finished.result = {**view, "outcomes": [[score.number, score.outcome, exam_patterns.shown(score.marks)]
                                            for score in result.questions]}
    extra: list[Any] = [(finished, store.MockPaperItem.status == store.CLOSING), entry,
                        *analytics_store.record_items(record)]
    from mindly.services import leaderboard  # the Redis boards: imported when a test finishes only
    with contextlib.suppress(ExtraConflict):  # another finisher wrote the result first: the caller reads it
        engine.record_activity(student, activity, get_settings().leaderboard_timezone,
                               leaderboard.mirror_award(student.name), extra=extra)
    count("MockTestsFinished", pattern=str(paper.pattern_id), auto="yes" if paper.auto_submitted else "no")


# --- the sweep ----------------------------------------------------------------------------------------

def sweep(now: datetime) -> dict[str, int]:
    """The scheduled sweep: finish every test whose deadline has passed (found through the sparse
    ``deadline`` index; at most SWEEP_LIMIT per shard a run). A test that fails to finish is left
    for the next run or the student's next read."""
    finished = failed = 0
    for shard in range(store.DEADLINE_SHARDS):
        for paper in store.expired(shard, now, SWEEP_LIMIT):
            try:
                state = store.read_paper(str(paper.user_id), str(paper.mock_test_id))
                if state.paper is not None and state.paper.status != store.FINISHED:
                    finish(str(paper.user_id), None, state, now, requested=False)
                finished += 1
            except Exception:  # one test's failure must not stop the sweep of the others
                failed += 1
                logger.exception("sweep could not finish a mock test", extra={"mock_test_id": paper.mock_test_id})
    return {"finished": finished, "failed": failed}
