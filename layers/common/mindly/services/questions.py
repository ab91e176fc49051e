"""MCQ practice: the practice list, submitting an answer, and the student's attempts.

A submit is one read and one write: one BatchGetItem across tables fetches the question, the
profile, the student's record of having answered this question before and everything the progress
engine needs (mindly.services.progress.prefetch_keys), then one transaction records the activity
and the attempt together, so the attempt exists exactly when its XP counted, and a retried
``attempt_id`` records nothing twice.

A question earns XP on the student's first answer to it only (that answer showed the correct
option), and counts toward the daily goal once a local day; later answers are attempts like any
other (accuracy, calibration, the streak) with ``xp_withheld: answered_before``.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from mindly.config import get_settings
from mindly.domain import calendar, syllabus, xp
from mindly.domain.content import DIFFICULTIES, OPTION_LETTERS
from mindly.exceptions import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from mindly.observability import count
from mindly.services import explanations, pages
from mindly.services import profile as profiles
from mindly.services import progress as engine
from mindly.store import analytics as analytics_store
from mindly.store import attempts as attempt_store
from mindly.store import cards as card_store
from mindly.store import content as content_store
from mindly.store import users
from mindly.store.models import ContentTable, StudyTable, UsersTable, batch_read
from mindly.store.progress import ExtraConflict, student_key

ATTEMPT_ID_MAX = 128
MAX_SUBMIT_ATTEMPTS = 5


def _filters(exam: str, subject: str | None, topic: str | None, difficulty: str | None) -> tuple[
        str | None, str | None, str | None]:
    """Subject and topic in syllabus spelling, difficulty lower case; a topic alone finds its subject."""
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


def practice_view(item: content_store.QuestionItem) -> dict[str, Any]:
    """A question as practice shows it: never the answer or the explanation."""
    return {"question_id": item.question_id, "exam_type": item.exam_type, "subject": item.subject,
            "topic": item.topic, "difficulty": item.difficulty, "stem": item.stem,
            "options": dict(sorted(item.options.as_dict().items()))}


def practice(user_id: str, exam: str | None, subject: str | None, topic: str | None, difficulty: str | None,
             page: int, limit: int, cursor: str | None) -> dict[str, Any]:
    """GET /questions/practice: one Query a page (see mindly.store.content for the indexes)."""
    code = profiles.exam_for(user_id, exam)
    subject, topic, level = _filters(code, subject, topic, difficulty)
    attribute, partition = content_store.index_hash_key("question", code, level)

    def fetch(start: pages.Key | None) -> tuple[list[Any], pages.Key | None]:
        found = content_store.query_page("question", code, subject, topic, level, limit, start)
        return found.items, found.last_key

    scope = pages.Scope("questions/practice", user_id,
                        {"exam": code, "subject": subject, "topic": topic, "difficulty": level})
    return pages.paginate(fetch, page, limit, cursor, scope, {attribute: partition}, practice_view)


def _attempt_view(item: attempt_store.AttemptItem) -> dict[str, Any]:
    return {"attempt_id": item.attempt_id, "question_id": item.question_id, "exam_type": item.exam_type,
            "subject": item.subject, "topic": item.topic, "selected_option": item.selected_option,
            "correct_option": item.correct_option, "is_correct": bool(item.is_correct),
            "confidence_rating": int(item.confidence_rating), "time_taken_seconds": int(item.time_taken_seconds),
            "attempted_at": item.attempted_at.strftime("%Y-%m-%dT%H:%M:%SZ")}


def attempts(user_id: str, page: int, limit: int, cursor: str | None) -> dict[str, Any]:
    """GET /questions/attempts: the student's own attempts, newest first, one Query a page."""

    def fetch(start: pages.Key | None) -> tuple[list[Any], pages.Key | None]:
        return attempt_store.attempts_page(user_id, limit, start)

    return pages.paginate(fetch, page, limit, cursor, pages.Scope("questions/attempts", user_id),
                          {"pk": student_key(user_id)}, _attempt_view)


def submit(user_id: str, name: str | None, question_id: str, selected_option: str, confidence_rating: int,
           time_taken_seconds: int, attempt_id: str | None, leaderboard_zone: str, now: datetime,
           mirror: engine.Mirror | None = None) -> dict[str, Any]:
    """POST /questions/submit (see the module docstring)."""
    attempt_id = attempt_id or uuid.uuid4().hex
    if not 1 <= len(attempt_id) <= ATTEMPT_ID_MAX or not attempt_id.isprintable():
        raise ValidationFailed("attempt_id must be 1..128 printable characters", field="attempt_id")
    key = f"attempt:{attempt_id}"
    deadline = time.monotonic() + get_settings().explanation_budget_seconds
    for _ in range(MAX_SUBMIT_ATTEMPTS):
        try:
            return _submit_once(user_id, name, question_id, selected_option, confidence_rating, time_taken_seconds,
                                attempt_id, key, leaderboard_zone, now, mirror, deadline)
        except ExtraConflict:
            # Another answer to this question committed meanwhile (its mistake card, or its record
            # of the question answered): read again, and this answer is no longer the first.
            continue
    raise ServiceUnavailable("Too many simultaneous answers; try again")


def _submit_once(user_id: str, name: str | None, question_id: str, selected_option: str, confidence_rating: int,
                 time_taken_seconds: int, attempt_id: str, key: str, leaderboard_zone: str, now: datetime,
                 mirror: engine.Mirror | None, deadline: float) -> dict[str, Any]:
    q_pk, q_sk = content_store.question_key(question_id)
    mistake_key = card_store.card_key(user_id, f"{card_store.MISTAKE_PREFIX}{question_id}")
    study_keys = [mistake_key, attempt_store.answered_key(user_id, question_id),
                  *engine.prefetch_keys(user_id, key, now, leaderboard_zone)]
    found_questions, found_profiles, study_items = batch_read([
        # the question, and the explanation kept for choosing this option (when it is one)
        (ContentTable, [(q_pk, q_sk), *([content_store.explanation_key(question_id, selected_option.strip().upper())]
                                        if selected_option.strip().upper() in OPTION_LETTERS else [])]),
        (UsersTable, [(users.user_key(user_id), "PROFILE")]),
        (StudyTable, study_keys),
    ])
    question = next((q for q in found_questions if isinstance(q, content_store.QuestionItem)), None)
    if question is None:
        raise NotFound("No such question")
    choice = selected_option.strip().upper()
    options = question.options.as_dict()
    if choice not in options:
        raise ValidationFailed(f"selected_option must be one of {', '.join(sorted(options))}",
                               field="selected_option")
    profile = next(iter(found_profiles), None)
    student = engine.Student(user_id=user_id, timezone=profile.timezone if profile else profiles.DEFAULT_TIMEZONE,
                             daily_goal=int(profile.daily_goal) if profile else profiles.DEFAULT_DAILY_GOAL,
                             name=name or None)
    correct = choice == question.correct_option
    attempt = attempt_store.AttemptItem(
        student_key(user_id), attempt_store.attempt_sort_key(now, attempt_id), attempt_id=attempt_id,
        question_id=question_id, exam_type=question.exam_type, subject=question.subject, topic=question.topic,
        selected_option=choice, correct_option=question.correct_option, is_correct=correct,
        confidence_rating=confidence_rating, time_taken_seconds=time_taken_seconds, attempted_at=now,
        option_count=len(options))
    extra: list[Any] = [attempt, *analytics_store.attempt_counters(
        user_id, question.exam_type, question.subject, question.topic, correct, time_taken_seconds)]
    standing = attempt_store.answer_standing(user_id, question_id, attempt_id, study_items, now,
                                             calendar.local_date(now, student.timezone))
    if standing.marker is not None:
        extra.append(standing.marker)
    held = any(isinstance(item, card_store.CardItem) for item in study_items)
    if not correct and not held:
        # A mistake comes back as a review card (once; answering right later keeps it).
        card = _mistake_card(user_id, question, now, student.timezone)
        extra.append((card, card_store.CardItem.pk.does_not_exist()))
    activity = engine.Activity(key=key, kind="answer", at=now, correct=correct, exam=question.exam_type,
                               subject=question.subject,
                               details={"question_id": question_id, "selected_option": choice, "is_correct": correct},
                               seconds=time_taken_seconds, answered_before=standing.answered_before,
                               counts_for_goal=standing.counts_for_goal)
    recorded = engine.record_activity(student, activity, leaderboard_zone, mirror, extra=extra,
                                      prefetched=study_items)
    first = recorded.details or {}
    if recorded.duplicate and first.get("question_id") not in (None, question_id):
        raise Conflict("attempt_id was already used for another question", field="attempt_id")
    is_correct = bool(first.get("is_correct", correct))
    chosen = str(first.get("selected_option", choice))
    if not recorded.duplicate:  # a retried attempt_id counts once
        count("AnswersSubmitted", outcome="correct" if is_correct else "wrong")
    if is_correct:
        ai_explanation, status = None, "not_needed"
    else:
        kept = next((item for item in found_questions if isinstance(item, content_store.ExplanationItem)
                     and item.option == chosen), None)
        ai_explanation, status = explanations.explain(question, chosen, kept, deadline)
    return {
        "attempt_id": attempt_id,
        "is_correct": is_correct,
        "correct_option": question.correct_option,
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


def _mistake_card(user_id: str, question: content_store.QuestionItem, now: datetime,
                  zone: str) -> card_store.CardItem:
    """The review card a wrong answer becomes: the stem, with the correct option and explanation as
    its answer, due today (scheduled like any card from its first review on)."""
    flashcard_id = f"{card_store.MISTAKE_PREFIX}{question.question_id}"
    pk, sk = card_store.card_key(user_id, flashcard_id)
    options = question.options.as_dict()
    answer = f"{question.correct_option}) {options[question.correct_option]}. {question.explanation}"
    card = card_store.CardItem(pk, sk, flashcard_id=flashcard_id, origin="mistake", exam_type=question.exam_type,
                               subject=question.subject, topic=question.topic, question=question.stem,
                               answer=answer, difficulty=3)
    card_store.schedule(card, user_id, calendar.local_date(now, zone))
    return card
