"""MCQ practice: the practice list, submitting an answer, and the student's attempts.

A submit is one read and one write: one BatchGetItem across tables fetches the question, the
profile, the student's record of having answered this question before and everything the progress
engine needs (mindly.services.progress.prefetch_keys), then one transaction records the activity
and the attempt together, so the attempt exists exactly when its XP counted, and a retried
``attempt_id`` records nothing twice. The same read and write carry the adaptive model
(mindly.domain.mastery): the read includes the student's mastery items, and the transaction writes
the topic's new ability (mindly.store.mastery) and adds the answer's step of the question's
difficulty to one of its statistics shards, for the hourly fold (mindly.services.question_fold).

A question earns XP on the student's first answer to it only (that answer showed the correct
option), and counts toward the daily goal once a local day; later answers are attempts like any
other (accuracy, calibration, the streak) with ``xp_withheld: answered_before``.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from mindly.config import get_settings
from mindly.domain import calendar, content, mastery, syllabus, xp
from mindly.domain.content import DIFFICULTIES
from mindly.exceptions import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from mindly.observability import count
from mindly.services import pages, practice_pages
from mindly.services import profile as profiles
from mindly.services import progress as engine
from mindly.services.question_views import ANSWER_FIELDS, NUMERIC_SLOT, practice_view
from mindly.services.question_views import key_fields as _key_fields
from mindly.store import analytics as analytics_store
from mindly.store import attempts as attempt_store
from mindly.store import cards as card_store
from mindly.store import content as content_store
from mindly.store import mastery as mastery_store
from mindly.store import question_stats as question_stats_store
from mindly.store import users
from mindly.store.models import ContentTable, StudyTable, UsersTable, batch_read
from mindly.store.progress import ExtraConflict, student_key

ATTEMPT_ID_MAX = 128
MAX_SUBMIT_ATTEMPTS = 60  # rounds of reading again after a conflict on the answer's own items (within a time budget)


def practice_filters(exam: str, subject: str | None, topic: str | None, difficulty: str | None) -> tuple[
        str | None, str | None, str | None]:
    """The practice filters checked and spelled as the syllabus spells them (subject and topic),
    difficulty lower case; a topic alone finds its subject. ValidationFailed (422) on the field
    that names nothing (GET /practice/next refuses what the practice list refuses, with this)."""
    canonical_subject = None
    if subject:
        canonical_subject = syllabus.canonical_subject(exam, subject)
        if canonical_subject is None:
            raise ValidationFailed(f"'{subject[:60]}' is not a subject of {exam}", field="subject")
    canonical_topic = None
    if topic:
        candidates = [s.name for s in syllabus.subjects(exam)
                      if (canonical_subject in (None, s.name)) and syllabus.canonical_topic(exam, s.name, topic)]
        if not candidates:
            raise ValidationFailed(f"'{topic[:60]}' is not a topic of {canonical_subject or exam}", field="topic")
        if len(candidates) > 1:
            raise ValidationFailed(f"topic '{topic[:60]}' is in several subjects; pass subject= too", field="topic")
        canonical_subject = candidates[0]
        canonical_topic = syllabus.canonical_topic(exam, canonical_subject, topic)
    level = difficulty.lower() if difficulty else None
    if level is not None and level not in DIFFICULTIES:
        raise ValidationFailed(f"difficulty must be one of {', '.join(DIFFICULTIES)}", field="difficulty")
    return canonical_subject, canonical_topic, level


def practice(user_id: str, exam: str | None, subject: str | None, topic: str | None, difficulty: str | None,
             page: int, limit: int, cursor: str | None, unanswered: bool = False, order: str = "bank",
             now: datetime | None = None) -> dict[str, Any]:
    """GET /questions/practice: one Query a page (see mindly.store.content for the indexes), and
    one BatchGetItem for the passages of the page when it shows any. ``unanswered`` drops the
    questions the student has answered (the same BatchGetItem reads the page's markers);
    ``order="shuffled"`` rotates the list's start per student and day (India time, the default
    zone: no profile read). Both are part of the cursor's scope (mindly.services.practice_pages)."""
    code = profiles.exam_for(user_id, exam)
    subject, topic, level = practice_filters(code, subject, topic, difficulty)
    attribute, partition = content_store.index_hash_key("question", code, level)
    required = {attribute: partition}
    filters: dict[str, str | None] = {"exam": code, "subject": subject, "topic": topic, "difficulty": level}
    if unanswered:  # only when asked, so the cursors of the plain list stay as they were
        filters["unanswered"] = "true"
    read = practice_pages.bank_order(code, subject, topic, level, limit)
    if order == "shuffled":
        today = calendar.local_date(now or datetime.now(UTC), get_settings().default_timezone)
        # A cursor of a list begun before midnight carries on in yesterday's order.
        day = next((d for d in (today, today - timedelta(days=1)) if cursor and pages.cursor_fits(
            cursor, pages.Scope("questions/practice", user_id, {**filters, "order": "shuffled",
                                                                "day": d.isoformat()}), required)), today)
        filters.update(order="shuffled", day=day.isoformat())
        read = practice_pages.rotated(code, subject, topic, level, limit, user_id, day)
    passages: dict[str, content_store.PassageItem] = {}

    def fetch(start: pages.Key | None) -> tuple[list[Any], pages.Key | None]:
        found = read(start)
        if unanswered:
            kept, shown = practice_pages.unanswered_only(user_id, found.items)
            passages.update(shown)
            return kept, found.last_key
        passages.update(content_store.passages([item.passage_id for item in found.items if item.passage_id]))
        return found.items, found.last_key

    scope = pages.Scope("questions/practice", user_id, filters)
    return pages.paginate(fetch, page, limit, cursor, scope, required, lambda item: practice_view(item, passages))


def _attempt_view(item: attempt_store.AttemptItem) -> dict[str, Any]:
    kind = item.question_type or "single"
    view: dict[str, Any] = {
        "attempt_id": item.attempt_id, "question_id": item.question_id, "exam_type": item.exam_type,
        "subject": item.subject, "topic": item.topic, "type": kind, "is_correct": bool(item.is_correct),
        "confidence_rating": None if item.confidence_rating is None else int(item.confidence_rating),
        "time_taken_seconds": int(item.time_taken_seconds),
        "attempted_at": item.attempted_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "question_version": int(item.question_version or 1)}
    view.update(_answer_fields(kind, item))
    return view


def _answer_fields(kind: str, item: attempt_store.AttemptItem) -> dict[str, Any]:
    """What the student gave and the key it was graded against, in the fields of its type."""
    if kind == "numeric":
        given = content.decimal_of(item.numeric_answer)
        return {"numeric_answer": content.json_number(given) if given is not None else None,
                "answer": _answer_record(item.answer.as_dict() if item.answer else None)}
    if kind == "multiple":
        return {"selected_options": [str(letter) for letter in item.selected_options or []],
                "correct_options": [str(letter) for letter in item.correct_options or []]}
    return {"selected_option": item.selected_option, "correct_option": item.correct_option}


def _answer_record(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored numeric key (exact strings) in its API form, ``{value, tolerance}`` or ``{min, max}``."""
    if raw is None:
        return None
    answer = content.NumericAnswer(Decimal(raw["low"]), Decimal(raw["high"]),
                                   Decimal(raw["value"]) if "value" in raw else None,
                                   Decimal(raw["tolerance"]) if "tolerance" in raw else None)
    return answer.record()


def attempts(user_id: str, page: int, limit: int, cursor: str | None) -> dict[str, Any]:
    """GET /questions/attempts: the student's own attempts, newest first, one Query a page."""

    def fetch(start: pages.Key | None) -> tuple[list[Any], pages.Key | None]:
        return attempt_store.attempts_page(user_id, limit, start)

    return pages.paginate(fetch, page, limit, cursor, pages.Scope("questions/attempts", user_id),
                          {"pk": student_key(user_id)}, _attempt_view)


class Given(NamedTuple):
    """The answer fields of a submit as sent: exactly one must be set, the one of the question's type."""

    selected_option: str | None = None
    selected_options: list[str] | None = None
    numeric_answer: float | None = None

    def slot(self) -> str | None:
        """The kept explanation this answer would read, known before the question is (for the batch)."""
        if self.numeric_answer is not None:
            return NUMERIC_SLOT
        if self.selected_options is not None:
            return "".join(sorted({letter.strip().upper() for letter in self.selected_options}))
        return self.selected_option.strip().upper() if self.selected_option is not None else None




def read_response(question: content.Question, given: Given) -> content.Response:
    """The answer in the field of the question's type, checked against its options; 422 on the
    field otherwise (a field of another type, none, or several)."""
    expected = ANSWER_FIELDS[question.question_type]
    sent = [name for name, value in given._asdict().items() if value is not None]
    if sent != [expected]:
        wrong = next((name for name in sent if name != expected), expected)
        raise ValidationFailed(f"a {question.question_type} question is answered with {expected} only", field=wrong)
    if question.question_type == "numeric":
        number = content.decimal_of(given.numeric_answer)
        if number is None:
            raise ValidationFailed("numeric_answer must be a finite number", field="numeric_answer")
        return content.Response(number=number)
    letters = ([given.selected_option] if question.question_type == "single" and given.selected_option is not None
               else given.selected_options) or []
    chosen = sorted({letter.strip().upper() for letter in letters})
    stray = [letter for letter in chosen if letter not in question.options]
    if stray or not chosen:
        raise ValidationFailed(f"{expected} must be among {', '.join(sorted(question.options))}", field=expected)
    if question.question_type == "single":
        return content.Response(option=chosen[0])
    return content.Response(options=tuple(chosen))


def submit(user_id: str, name: str | None, question_id: str, given: str | Given, confidence_rating: int,
           time_taken_seconds: int, attempt_id: str | None, leaderboard_zone: str, now: datetime,
           mirror: engine.Mirror | None = None) -> dict[str, Any]:
    """POST /questions/submit (see the module docstring); ``given`` as a string is a selected option."""
    answer = Given(selected_option=given) if isinstance(given, str) else given
    attempt_id = attempt_id or uuid.uuid4().hex
    if not 1 <= len(attempt_id) <= ATTEMPT_ID_MAX or not attempt_id.isprintable():
        raise ValidationFailed("attempt_id must be 1..128 printable characters", field="attempt_id")
    key = f"attempt:{attempt_id}"
    deadline = time.monotonic() + get_settings().explanation_budget_seconds
    # The activity's retry budget for these rounds too: a burst of copies of one answer settles well
    # within it, and a round that starts late stops at its own budget check.
    give_up = time.monotonic() + get_settings().activity_retry_budget_seconds
    for attempt in range(MAX_SUBMIT_ATTEMPTS):
        if attempt and time.monotonic() > give_up:
            break
        try:
            return _submit_once(user_id, name, question_id, answer, confidence_rating, time_taken_seconds,
                                attempt_id, key, leaderboard_zone, now, mirror, deadline)
        except ExtraConflict:
            # Another answer of this student committed meanwhile (its mistake card, its record of the
            # question answered, or its topic's mastery): read again, after a jittered pause so that
            # a burst of parallel answers settles in a few rounds.
            engine.back_off(attempt)
    raise ServiceUnavailable("Too many simultaneous answers; try again")


def _attempt(user_id: str, attempt_id: str, item: content_store.QuestionItem, question: content.Question,
             response: content.Response, correct: bool, confidence_rating: int | None, time_taken_seconds: int,
             now: datetime) -> attempt_store.AttemptItem:
    """The attempt, with the answer and the key of its question's version in the fields of its type."""
    kind = question.question_type
    fields: dict[str, Any] = {}
    if kind == "single":
        fields.update(selected_option=response.option, correct_option=question.correct_option)
    elif kind == "multiple":
        fields.update(selected_options=list(response.options), correct_options=list(question.correct_options))
    else:
        fields.update(numeric_answer=str(response.number), answer=item.answer.as_dict() if item.answer else None)
    return attempt_store.AttemptItem(
        student_key(user_id), attempt_store.attempt_sort_key(now, attempt_id), attempt_id=attempt_id,
        question_id=question.question_id, exam_type=question.exam_type, subject=question.subject,
        topic=question.topic, is_correct=correct, confidence_rating=confidence_rating,
        time_taken_seconds=time_taken_seconds, attempted_at=now, option_count=question.chance_options,
        question_type=None if kind == "single" else kind, question_version=int(item.version or 1), **fields)


def _submit_once(user_id: str, name: str | None, question_id: str, given: Given, confidence_rating: int,
                 time_taken_seconds: int, attempt_id: str, key: str, leaderboard_zone: str, now: datetime,
                 mirror: engine.Mirror | None, deadline: float) -> dict[str, Any]:
    q_pk, q_sk = content_store.question_key(question_id)
    mistake_key = card_store.card_key(user_id, f"{card_store.MISTAKE_PREFIX}{question_id}")
    study_keys = [mistake_key, attempt_store.answered_key(user_id, question_id),
                  *engine.prefetch_keys(user_id, key, now, leaderboard_zone),
                  # the question's exam is not known yet: the abilities of every exam
                  *mastery_store.mastery_keys(user_id)]
    slot = given.slot()
    found_questions, found_profiles, study_items = batch_read([
        # the question, and the explanation kept for this wrong answer (when it is one)
        (ContentTable, [(q_pk, q_sk), *([content_store.explanation_key(question_id, slot)] if slot else [])]),
        (UsersTable, [(users.user_key(user_id), "PROFILE")]),
        (StudyTable, study_keys),
    ])
    item = next((q for q in found_questions if isinstance(q, content_store.QuestionItem)), None)
    if item is None:
        raise NotFound("No such question")
    question = content_store.question_of(item)
    response = read_response(question, given)
    profile = next(iter(found_profiles), None)
    student = engine.Student(user_id=user_id, timezone=profile.timezone if profile else profiles.DEFAULT_TIMEZONE,
                             daily_goal=int(profile.daily_goal) if profile else profiles.DEFAULT_DAILY_GOAL,
                             name=name or None)
    correct = content.is_right(question, response)
    attempt = _attempt(user_id, attempt_id, item, question, response, correct, confidence_rating,
                       time_taken_seconds, now)
    abilities, step = _learning(user_id, item, question, correct, study_items, now)
    extra: list[Any] = [attempt, *analytics_store.attempt_counters(
        user_id, question.exam_type, question.subject, question.topic, correct, time_taken_seconds),
        # the question's own statistics: one of its shards, counted exactly when the attempt is,
        # with the answer's step of the question's difficulty for the fold
        question_stats_store.answer_increment(question_id, user_id, attempt_id, correct, time_taken_seconds,
                                              question_stats_store.LearnedStep(step, now)),
        abilities]
    standing = attempt_store.answer_standing(user_id, question_id, attempt_id, study_items, now,
                                             calendar.local_date(now, student.timezone))
    if standing.marker is not None:
        extra.append(standing.marker)
    held = any(isinstance(found, card_store.CardItem) for found in study_items)
    if not correct and not held:
        # A mistake comes back as a review card (once; answering right later keeps it).
        card = _mistake_card(user_id, question, now, student.timezone)
        extra.append((card, card_store.CardItem.pk.does_not_exist()))
    details = {"question_id": question_id, "is_correct": correct, "answer": response.key()}
    if question.question_type == "single":
        details["selected_option"] = response.option  # the form recorded before the question types
    activity = engine.Activity(key=key, kind="answer", at=now, correct=correct, exam=question.exam_type,
                               subject=question.subject, details=details, seconds=time_taken_seconds,
                               answered_before=standing.answered_before, counts_for_goal=standing.counts_for_goal)
    recorded = engine.record_activity(student, activity, leaderboard_zone, mirror, extra=extra,
                                      prefetched=study_items)
    first = recorded.details or {}
    if recorded.duplicate and first.get("question_id") not in (None, question_id):
        raise Conflict("attempt_id was already used for another question", field="attempt_id")
    is_correct = bool(first.get("is_correct", correct))
    chosen = str(first.get("answer", first.get("selected_option", response.key())))
    if not recorded.duplicate:  # a retried attempt_id counts once
        count("AnswersSubmitted", outcome="correct" if is_correct else "wrong")
    if is_correct:
        ai_explanation, status = None, "not_needed"
    else:
        # Imported at the first wrong answer: the Groq client and the prompts are that path's alone.
        from mindly.services import explanations

        wanted = explanations.explanation_slot(question.question_type, chosen)
        kept = next((found for found in found_questions if isinstance(found, content_store.ExplanationItem)
                     and found.option == wanted), None)
        ai_explanation, status = explanations.explain(question, chosen, kept, deadline)
    return {
        "attempt_id": attempt_id,
        "is_correct": is_correct,
        **_key_fields(question),
        "explanation": question.explanation,
        # A repeat of a recorded attempt (a retry, or a copy racing it) earned nothing itself: it
        # says 0, so a client summing xp_awarded gets the truth, and says why; xp_recorded is what
        # the attempt earned when it was recorded (a client whose first answer was lost learns it).
        "xp_awarded": 0 if recorded.duplicate else recorded.xp_awarded,
        "xp_withheld": xp.DUPLICATE if recorded.duplicate else recorded.xp_withheld,
        "xp_recorded": recorded.xp_awarded,
        "ai_explanation": ai_explanation,
        "ai_explanation_status": status,
    }


def _learning(user_id: str, item: content_store.QuestionItem, question: content.Question, correct: bool,
              study_items: list[Any], now: datetime) -> tuple[tuple[Any, Any], int]:
    """What the answer teaches the model (mindly.domain.mastery): the student's item for the
    question's exam with the topic's new ability, under the condition that it is still as read
    (written in the answer's transaction: a concurrent answer's write cancels it, and the submit
    reads again), and the answer's step of the question's difficulty, computed from what this
    submit saw, so the fold gives the same difficulty whatever order the steps arrive in."""
    chance = mastery.chance_of(question.chance_options)
    read = mastery_store.mastery_of(study_items, question.exam_type)
    before = mastery_store.ability_in(read, question.subject, question.topic)
    seen = mastery_store.learned_difficulty(item)
    after = mastery.update_student(before, seen, chance, correct)
    step = mastery.question_term(mastery.QuestionAnswer(before.theta, seen, chance, correct))
    write = mastery_store.mastery_write(user_id, question.exam_type, read, question.subject, question.topic,
                                        after, now)
    return write, step


def _mistake_card(user_id: str, question: content.Question, now: datetime, zone: str) -> card_store.CardItem:
    """The review card a wrong answer becomes: the stem, with the key (of any type) and the
    explanation as its answer, due today (scheduled like any card from its first review on)."""
    flashcard_id = f"{card_store.MISTAKE_PREFIX}{question.question_id}"
    pk, sk = card_store.card_key(user_id, flashcard_id)
    answer = content.key_text(question) + (f". {question.explanation}" if question.explanation else "")
    card = card_store.CardItem(pk, sk, flashcard_id=flashcard_id, origin="mistake", exam_type=question.exam_type,
                               subject=question.subject, topic=question.topic, question=question.stem,
                               answer=answer, difficulty=3)
    card_store.schedule(card, user_id, calendar.local_date(now, zone))
    return card


# What a mock test's finish (mindly.services.mock_tests) records for its answers, made as practice makes them.
attempt_item = _attempt  # its confidence is None when the student rated none
mistake_card = _mistake_card
