"""Spaced repetition: the day's due cards, new cards from the deck, reviews and the catalog.

A review is one read and one write: one BatchGetItem across tables (the flashcard, the student's
card, the profile and what the progress engine needs), then one transaction writing the card (under
its version: two reviews of one card racing never lose an update), the review log entry and the
activity (+5 XP), so the same ``review_id`` twice applies once.

A review earns its +5 only for a card that was due (on or after its next review date) or a new
card within the day's new-card limit; reviewing ahead still schedules the card, with
``xp_withheld`` saying why it earned nothing. The card's version condition makes "was due" exact.
An undo takes back what the review earned, and a repeated undo reports 0.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from mindly.domain import calendar, fsrs_schedule, sm2, syllabus, xp
from mindly.exceptions import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from mindly.observability import count
from mindly.services import leaderboard, pages
from mindly.services import profile as profiles
from mindly.services import progress as engine
from mindly.store import cards as card_store
from mindly.store import content as content_store
from mindly.store import users
from mindly.store.models import ContentTable, StudyTable, UsersTable, batch_read
from mindly.store.progress import ExtraConflict, Removal, student_key

MAX_REVIEW_ATTEMPTS = 10
REVIEW_ID_MAX = 128
NEW_CARD_CANDIDATES = 100  # deck cards looked at for new ones: at most one Query and one BatchGetItem


def _card_view(card: card_store.CardItem) -> dict[str, Any]:
    return {"flashcard_id": card.flashcard_id, "exam_type": card.exam_type, "subject": card.subject,
            "topic": card.topic, "question": card.question, "answer": card.answer,
            "difficulty": int(card.difficulty), "state": card.state, "ease_factor": float(card.ease_factor),
            "interval": int(card.interval), "repetitions": int(card.repetitions),
            "next_review_date": card.next_review_date}


def _new_card_view(item: content_store.FlashcardItem, today: date) -> dict[str, Any]:
    return {"flashcard_id": item.flashcard_id, "exam_type": item.exam_type, "subject": item.subject,
            "topic": item.topic, "question": item.question, "answer": item.answer,
            "difficulty": int(item.difficulty), "state": sm2.NEW, "ease_factor": sm2.INITIAL_EASE,
            "interval": 0, "repetitions": 0, "next_review_date": today.isoformat()}


def _today(profile: Any, now: datetime) -> date:
    return calendar.local_date(now, profile.timezone if profile else profiles.DEFAULT_TIMEZONE)


def _subject(exam: str | None, subject: str | None) -> str | None:
    if not subject:
        return None
    found = syllabus.canonical_subject(exam, subject) if exam else None
    if found is None:
        raise ValidationFailed(f"'{subject[:60]}' is not a subject of {exam or 'your exam'}", field="subject")
    return found


def _new_cards(user_id: str, profile: Any, day: Any, subject: str | None, today: date) -> list[dict[str, Any]]:
    """Deck cards the student does not hold yet, up to the daily new-card limit less the new cards
    already started today: one Query of the deck and one BatchGetItem of the student's copies."""
    if profile is None:
        return []
    started_today = int(day.new_cards or 0) if day is not None else 0
    quota = max(0, int(profile.new_cards_per_day) - started_today)
    if quota == 0:
        return []
    exam = str(profile.exam_type)
    positions = profile.deck_positions.as_dict() if profile.deck_positions is not None else {}
    position = None if subject else positions.get(exam)
    start = content_store.deck_start_key(exam, position) if position else None
    page = content_store.query_page("flashcard", exam, subject, None, None, NEW_CARD_CANDIDATES, start)
    held = card_store.held_cards(user_id, [item.flashcard_id for item in page.items])
    fresh = [item for item in page.items if item.flashcard_id not in held]
    if not subject:
        _advance_deck_position(user_id, exam, positions, page.items, held)
    return [_new_card_view(item, today) for item in fresh[:quota]]


def _advance_deck_position(user_id: str, exam: str, positions: dict[str, str], candidates: list[Any],
                           held: set[str]) -> None:
    """Move the student's place in the deck past the cards at its front they all hold, so the next
    read starts at the first card they may not have (cards are started in any order, so only
    the leading run of held cards is skipped for good). One write, only when the place moves."""
    passed = None
    for item in candidates:
        if item.flashcard_id not in held:
            break
        passed = item.gsi1_sk
    if passed is not None:
        users.set_deck_positions(user_id, {**positions, exam: passed})


def _return_to_deck(user_id: str, profile: Any, card: card_store.CardItem) -> None:
    """Move the student's place in the deck back before ``card``, whose first review is being
    undone, so the unfiltered due list offers it again (it resumes after that place, and a card the
    student held may have been skipped for good). Done before the undo itself: a place too early
    only costs the next read a few held cards, while one past the card would lose it."""
    exam = str(card.exam_type)
    positions = profile.deck_positions.as_dict() if profile is not None and profile.deck_positions else {}
    position, key = positions.get(exam), card.deck_sort_key
    if position is None or key is None or position < key:
        return
    before = content_store.deck_key_before(exam, key)
    moved = {name: value for name, value in positions.items() if name != exam}
    if before is not None:
        moved[exam] = before
    users.set_deck_positions(user_id, moved)


def _profile_and_day(user_id: str, now: datetime) -> tuple[Any, Any, date]:
    """The profile and the student's DAY item of their local today, in one BatchGetItem (the DAY
    is asked for on the three dates a local today can be, the zone being in the profile)."""
    utc_day = now.astimezone(UTC).date()
    days = [utc_day + timedelta(days=offset) for offset in (-1, 0, 1)]
    found_profile, found_days = batch_read([
        (UsersTable, [(users.user_key(user_id), "PROFILE")]),
        (StudyTable, [(student_key(user_id), f"DAY#{day.isoformat()}") for day in days]),
    ])
    profile = next(iter(found_profile), None)
    today = _today(profile, now)
    day = next((item for item in found_days if getattr(item, "day", None) == today.isoformat()), None)
    return profile, day, today


def due(user_id: str, subject: str | None, limit: int, now: datetime) -> dict[str, Any]:
    """GET /flashcards/due: one read (profile and today), one Query for the due cards, and for new
    cards one deck Query and one BatchGetItem."""
    profile, day, today = _profile_and_day(user_id, now)
    exam = str(profile.exam_type) if profile else None
    wanted = _subject(exam, subject) if subject else None
    cards = card_store.due_cards(user_id, today, wanted)
    new = _new_cards(user_id, profile, day, wanted, today)
    by_subject = Counter(card.subject for card in cards)
    return {
        "date": today.isoformat(),
        "total_due": len(cards),
        "new_cards": len(new),
        "by_subject": dict(sorted(by_subject.items())),
        "cards": ([_card_view(card) for card in cards] + new)[:limit],
    }


def due_by_subject(user_id: str, now: datetime) -> dict[str, Any]:
    """GET /flashcards/due/by-subject: the whole day's due cards grouped by subject."""
    profile = users.get_profile(user_id)
    today = _today(profile, now)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for card in card_store.due_cards(user_id, today):
        grouped.setdefault(card.subject, []).append(_card_view(card))
    return {"date": today.isoformat(), "subjects": dict(sorted(grouped.items()))}


def _schedule_from(card: card_store.CardItem) -> sm2.CardSchedule:
    return sm2.CardSchedule(ease_factor=float(card.ease_factor), interval=int(card.interval),
                            repetitions=int(card.repetitions), state=card.state, lapses=int(card.lapses))


def _copy_of(item: content_store.FlashcardItem, user_id: str) -> card_store.CardItem:
    pk, sk = card_store.card_key(user_id, item.flashcard_id)
    return card_store.CardItem(pk, sk, flashcard_id=item.flashcard_id, origin="deck", exam_type=item.exam_type,
                               subject=item.subject, topic=item.topic, question=item.question, answer=item.answer,
                               difficulty=int(item.difficulty), deck_sort_key=item.gsi1_sk)


def _apply_review(card: card_store.CardItem, user_id: str, rating: int, scheduler: str, now: datetime,
                  today: date) -> None:
    """Both schedulers' state after the review; the student's scheduler sets the next date."""
    after = sm2.review(_schedule_from(card), rating, today)
    fsrs_state, fsrs_interval, fsrs_next = fsrs_schedule.review(card.fsrs, rating, now, today)
    card.ease_factor, card.repetitions = after.ease_factor, after.repetitions
    card.state, card.lapses, card.fsrs = after.state, after.lapses, fsrs_state
    card.interval = fsrs_interval if scheduler == "fsrs" else after.interval
    next_review = fsrs_next if scheduler == "fsrs" else after.next_review_date
    card.last_reviewed_at = now
    card.version = int(card.version or 0) + 1
    card_store.schedule(card, user_id, next_review)


def review(user_id: str, name: str | None, flashcard_id: str, rating: int, review_id: str | None,
           time_taken_seconds: int | None, leaderboard_zone: str, now: datetime,
           mirror: engine.Mirror | None = None) -> dict[str, Any]:
    """POST /flashcards/review (see the module docstring)."""
    if rating not in sm2.RATINGS:
        raise ValidationFailed("rating must be between 1 and 5", field="rating")
    review_id = review_id or uuid.uuid4().hex
    if not 1 <= len(review_id) <= REVIEW_ID_MAX or not review_id.isprintable():
        raise ValidationFailed("review_id must be 1..128 printable characters", field="review_id")
    key = f"review:{review_id}"
    for _ in range(MAX_REVIEW_ATTEMPTS):
        card_pk, card_sk = card_store.card_key(user_id, flashcard_id)
        found_content, found_profile, study = batch_read([
            (ContentTable, [content_store.flashcard_key(flashcard_id)]),
            (UsersTable, [(users.user_key(user_id), "PROFILE")]),
            (StudyTable, [(card_pk, card_sk), *engine.prefetch_keys(user_id, key, now, leaderboard_zone)]),
        ])
        card = next((item for item in study if isinstance(item, card_store.CardItem)), None)
        deck = next((item for item in found_content if isinstance(item, content_store.FlashcardItem)), None)
        expected = None if card is None else int(card.version)
        if card is None:
            if deck is None:
                raise NotFound("No such flashcard")
            card = _copy_of(deck, user_id)
        profile = next(iter(found_profile), None)
        zone = profile.timezone if profile else profiles.DEFAULT_TIMEZONE
        scheduler = profile.scheduler if profile else "sm2"
        today = calendar.local_date(now, zone)
        before = card_store.card_state(card)
        _apply_review(card, user_id, rating, scheduler, now, today)
        log = card_store.ReviewItem(card_pk, card_store.review_sort_key(now, flashcard_id), review_id=review_id,
                                    flashcard_id=flashcard_id, rating=rating, scheduler=scheduler, reviewed_at=now,
                                    time_taken_seconds=time_taken_seconds, before=before,
                                    after=card_store.card_state(card))
        condition = (card_store.CardItem.pk.does_not_exist() if expected is None
                     else card_store.CardItem.version == expected)
        answer = {"flashcard_id": flashcard_id, "ease_factor": float(card.ease_factor),
                  "interval": int(card.interval), "repetitions": int(card.repetitions),
                  "next_review_date": card.next_review_date}
        student = engine.Student(user_id=user_id, timezone=zone,
                                 daily_goal=int(profile.daily_goal) if profile else profiles.DEFAULT_DAILY_GOAL,
                                 name=name or None,
                                 new_cards_per_day=int(profile.new_cards_per_day) if profile
                                 else profiles.DEFAULT_NEW_CARDS)
        due_on = before.get("next_review_date") if expected is not None else None
        activity = engine.Activity(key=key, kind="review", at=now, exam=card.exam_type, subject=card.subject,
                                   details=answer, first_review=expected is None and card.origin == "deck",
                                   seconds=int(time_taken_seconds or 0),
                                   due_on=date.fromisoformat(due_on) if due_on else None)
        try:
            recorded = engine.record_activity(student, activity, leaderboard_zone, mirror,
                                              extra=[(card, condition), log], prefetched=study)
        except ExtraConflict:
            continue  # another review of this card won: read it again
        first = recorded.details or answer
        if recorded.duplicate and first.get("flashcard_id") not in (None, flashcard_id):
            raise ValidationFailed("review_id was already used for another card", field="review_id")
        if not recorded.duplicate:  # a retried review counts once
            count("FlashcardReviews")
        # A repeat earned nothing itself: 0, so a client summing xp_awarded gets the truth;
        # xp_recorded is what the review earned when it was recorded.
        if recorded.duplicate:
            return {**first, "xp_awarded": 0, "xp_withheld": xp.DUPLICATE, "xp_recorded": recorded.xp_awarded}
        return {**first, "xp_awarded": recorded.xp_awarded, "xp_withheld": recorded.xp_withheld,
                "xp_recorded": recorded.xp_awarded}
    raise ServiceUnavailable("This card is being reviewed elsewhere; try again")


UNDO_WINDOW = timedelta(minutes=10)


def undo_review(user_id: str, name: str | None, review_id: str | None, leaderboard_zone: str,
                now: datetime) -> dict[str, Any]:
    """POST /flashcards/review/undo: revert the student's last review (or the one named), card state
    and XP, within UNDO_WINDOW of it. Naming the review makes a retried undo safe; without one,
    each call takes back the latest review not yet undone."""
    reviews = card_store.recent_reviews(user_id)
    if review_id is not None:
        target = next((r for r in reviews if r.review_id == review_id), None)
        if target is not None and target.undone_at is not None:
            return _undo_answer(target, 0, already=True)
    else:
        target = next((r for r in reviews if r.undone_at is None), None)
    if target is None:
        raise NotFound("No review to undo")
    if now - target.reviewed_at > UNDO_WINDOW:
        raise Conflict("A review can be undone only within 10 minutes")
    card = card_store.get_card(user_id, target.flashcard_id)

    def schedule_of(state: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in state.items() if k != "version"}

    if card is None or schedule_of(card_store.card_state(card)) != schedule_of(target.after):
        # Either a later review changed the card, or an undo of this very review (a duplicate
        # racing this one) already put it back: the review itself says which.
        undone = card_store.undone_at(user_id, target)
        if undone is not None:
            return _undo_answer(target, 0, already=True)
        raise Conflict("The card was reviewed again since; undo that review first")
    current = int(card.version)
    started = int(target.before["version"]) == 0
    profile = users.get_profile(user_id)
    if started:
        restored: Any = Removal(card, card_store.CardItem.version == current)
        if card.origin == "deck":
            _return_to_deck(user_id, profile, card)
    else:
        card_store.restore(card, user_id, target.before, current + 1)
        restored = (card, card_store.CardItem.version == current)
    target.undone_at = now
    mark = (target, card_store.ReviewItem.undone_at.does_not_exist())
    student = engine.Student(user_id=user_id, timezone=profile.timezone if profile else profiles.DEFAULT_TIMEZONE,
                             name=name or None)
    activity = engine.Activity(key=f"undo:{target.review_id}", kind="undo_review", at=target.reviewed_at,
                               exam=card.exam_type, subject=card.subject,
                               first_review=started and card.origin == "deck", undoes=f"review:{target.review_id}")
    try:
        recorded = engine.record_activity(student, activity, leaderboard_zone, leaderboard.forget_on_change,
                                          extra=[restored, mark])
    except ExtraConflict as exc:
        raise Conflict("The card changed while undoing; try again") from exc
    # An undo another request recorded first took the XP back: this one takes back nothing, as a
    # later retry says too, so a client summing xp_awarded gets the truth.
    return _undo_answer(target, 0 if recorded.duplicate else recorded.xp_awarded, already=recorded.duplicate)


def _undo_answer(review: card_store.ReviewItem, xp_awarded: int, already: bool) -> dict[str, Any]:
    before = review.before
    return {"review_id": review.review_id, "flashcard_id": review.flashcard_id, "undone": True,
            "already_undone": already, "ease_factor": float(before["ease_factor"]), "interval": int(before["interval"]),
            "repetitions": int(before["repetitions"]), "next_review_date": before.get("next_review_date"),
            "xp_awarded": xp_awarded}


def catalog(user_id: str, exam: str | None, subject: str | None, topic: str | None, page: int, limit: int,
            cursor: str | None) -> dict[str, Any]:
    """GET /flashcards: the deck of ``exam`` (default the profile's), filtered and paginated (one
    Query a page)."""
    code = profiles.exam_for(user_id, exam)
    wanted = _subject(code, subject)
    wanted_topic = None
    if topic:
        if wanted is None:
            raise ValidationFailed("topic needs subject", field="topic")
        wanted_topic = syllabus.canonical_topic(code, wanted, topic)
        if wanted_topic is None:
            raise ValidationFailed(f"'{topic[:60]}' is not a topic of {wanted}", field="topic")
    attribute, partition = content_store.index_hash_key("flashcard", code, None)

    def fetch(start: pages.Key | None) -> tuple[list[Any], pages.Key | None]:
        found = content_store.query_page("flashcard", code, wanted, wanted_topic, None, limit, start)
        return found.items, found.last_key

    def render(item: content_store.FlashcardItem) -> dict[str, Any]:
        return {"flashcard_id": item.flashcard_id, "exam_type": item.exam_type, "subject": item.subject,
                "topic": item.topic, "question": item.question, "answer": item.answer,
                "difficulty": int(item.difficulty)}

    scope = pages.Scope("flashcards", user_id, {"exam": code, "subject": wanted, "topic": wanted_topic})
    return pages.paginate(fetch, page, limit, cursor, scope, {attribute: partition}, render)
