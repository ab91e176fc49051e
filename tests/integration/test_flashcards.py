"""Spaced repetition through the flashcards function's real handler (API.md "Flashcards"): reviews
(SM-2, FSRS), the due queue and new cards, mistakes coming back as cards, and the catalog.

The deck used here is JEE's (no other test imports JEE flashcards); cards are made due by reviewing
them through the service at an earlier instant.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from support import HandlerClient, register

from mindly.domain import calendar, fsrs_schedule, sm2
from mindly.domain.content_formats import RawRecord
from mindly.services import content, flashcards
from mindly.store import cards as card_store
from mindly.store import content as content_store
from mindly.store import users

API = "/api/v1"
ZONE = "Asia/Kolkata"
SOURCE = f"fc-test-{uuid.uuid4().hex[:8]}"
SUBJECTS = ("Physics", "Chemistry", "Mathematics")
TOPICS = {"Physics": "Kinematics", "Chemistry": "Mole Concept", "Mathematics": "Probability"}


SUBJECT_OF: dict[str, str] = {}


@pytest.fixture(scope="module")
def deck() -> list[str]:
    """Twelve JEE cards, four per subject; returns their ids in deck order (SUBJECT_OF: their subjects)."""
    records = [{"source": SOURCE, "external_id": f"c{n:02d}", "exam_type": "JEE", "subject": SUBJECTS[n % 3],
                "topic": TOPICS[SUBJECTS[n % 3]], "question": f"Card {n}?", "answer": f"Answer {n}",
                "difficulty": 1 + n % 5} for n in range(12)]
    report = content.import_records("flashcard", [RawRecord(i, r) for i, r in enumerate(records)])
    assert report["errors"] == []
    page = flashcards.catalog("nobody", "JEE", None, None, 1, 100, None)
    mine = [item for item in page["items"] if item["question"].startswith("Card ")]
    SUBJECT_OF.update({item["flashcard_id"]: item["subject"] for item in mine})
    return [item["flashcard_id"] for item in mine]


@pytest.fixture
def student(auth_fn: Any, profile_fn: Any, flashcards_fn: Any, deck: list[str]) -> tuple[HandlerClient, str]:
    answer = register(auth_fn, name="Nikhil")
    token = answer.data["access_token"]
    body = {"exam_type": "JEE", "level": "advanced", "study_hours_per_day": 5, "target_date": "2035-04-01",
            "weak_subjects": [], "new_cards_per_day": 3}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", body).status == 200
    user_id = answer.data["user"]["id"]
    # The JEE deck is shared with other tests' cards, which may sort before this module's: start the
    # student's place in the deck just before this module's first card, so its front is `deck`.
    first = content_store.FlashcardItem.get(*content_store.flashcard_key(deck[0]))
    before = content_store.deck_key_before("JEE", str(first.gsi1_sk))
    if before is not None:
        users.set_deck_positions(user_id, {"JEE": before})
    return HandlerClient(flashcards_fn, token=token), user_id


def _review_at(user_id: str, flashcard_id: str, rating: int, at: datetime, review_id: str | None = None
               ) -> dict[str, Any]:
    return flashcards.review(user_id, "Nikhil", flashcard_id, rating, review_id, None, ZONE, at)


def _today() -> date:
    return calendar.local_date(datetime.now(UTC), ZONE)


# --- reviews ---------------------------------------------------------------------------------------

def test_reviews_follow_sm2_and_award_xp(student: tuple[HandlerClient, str], deck: list[str],
                                         progress_fn: Any) -> None:
    client, _ = student
    card = deck[0]
    first = client.post(f"{API}/flashcards/review", {"flashcard_id": card, "rating": 4})
    assert first.status == 200, first
    today = _today()
    assert first.data == {"flashcard_id": card, "ease_factor": 2.5, "interval": 1, "repetitions": 1,
                          "next_review_date": (today + timedelta(days=1)).isoformat(), "xp_awarded": 5,
                          "xp_withheld": None, "xp_recorded": 5}
    second = client.post(f"{API}/flashcards/review", {"flashcard_id": card, "rating": 5})
    assert (second.data["interval"], second.data["repetitions"], second.data["ease_factor"]) == (6, 2, 2.6)
    failed = client.post(f"{API}/flashcards/review", {"flashcard_id": card, "rating": 1})
    # A failure: interval 1, repetitions 0, and the EF update still applies (2.6 - 0.54)
    assert (failed.data["interval"], failed.data["repetitions"], failed.data["ease_factor"]) == (1, 0, 2.06)
    # The second and third reviews came before the card was due again: counted, but no XP
    assert (second.data["xp_awarded"], failed.data["xp_awarded"]) == (0, 0)
    assert second.data["xp_withheld"] == failed.data["xp_withheld"] == "not_due"
    progress = HandlerClient(progress_fn, token=client.token).get(f"{API}/progress").data
    assert (progress["xp_total"], progress["today"]["cards_reviewed"]) == (5, 3)


def test_the_same_review_id_applies_once(student: tuple[HandlerClient, str], deck: list[str]) -> None:
    client, _ = student
    body = {"flashcard_id": deck[1], "rating": 4, "review_id": str(uuid.uuid4())}
    first = client.post(f"{API}/flashcards/review", body)
    again = client.post(f"{API}/flashcards/review", body)
    assert first.status == again.status == 200
    # the retry answers as the first did, except that it earned nothing itself
    assert again.data == {**first.data, "xp_awarded": 0, "xp_withheld": "duplicate"}
    assert first.data["xp_awarded"] == 5 and again.data["repetitions"] == 1


def test_bad_reviews_are_refused(student: tuple[HandlerClient, str], deck: list[str]) -> None:
    client, _ = student
    assert client.post(f"{API}/flashcards/review", {"flashcard_id": "nope", "rating": 3}).status == 404
    for rating in (0, 6, "4", None):
        answer = client.post(f"{API}/flashcards/review", {"flashcard_id": deck[0], "rating": rating})
        assert answer.status == 422, (rating, answer)
        assert answer.json["errors"][0]["code"] == "VALIDATION_ERROR"


def test_racing_reviews_of_one_card_lose_no_update(student: tuple[HandlerClient, str], deck: list[str]) -> None:
    # Given five different reviews of the same card sent at once
    client, user_id = student
    card = deck[2]
    with ThreadPoolExecutor(max_workers=5,
                            initializer=lambda: asyncio.set_event_loop(asyncio.new_event_loop())) as pool:
        answers = list(pool.map(lambda _i: client.post(f"{API}/flashcards/review",
                                                       {"flashcard_id": card, "rating": 4}), range(5)))
    # Then all five applied, one after another
    assert {a.status for a in answers} == {200}
    assert sorted(a.data["repetitions"] for a in answers) == [1, 2, 3, 4, 5]
    stored = card_store.CardItem.get(*card_store.card_key(user_id, card))
    assert (int(stored.repetitions), int(stored.version)) == (5, 5)
    log = list(card_store.ReviewItem.query(card_store.card_key(user_id, card)[0],
                                           card_store.ReviewItem.sk.startswith("REVIEW#")))
    assert len([r for r in log if r.flashcard_id == card]) == 5


# --- the due queue ------------------------------------------------------------------------------------

def test_due_cards_most_overdue_first_with_new_cards_up_to_the_limit(student: tuple[HandlerClient, str],
                                                                     deck: list[str]) -> None:
    client, user_id = student
    now = datetime.now(UTC)
    # Given three cards reviewed long ago (due 9, 5 and 2 days ago) and one reviewed today (not due);
    # the deck is in subject order, so take one card of each subject
    by_subject = {SUBJECT_OF[card]: card for card in reversed(deck)}
    deck = [by_subject["Chemistry"], by_subject["Mathematics"], by_subject["Physics"],
            next(card for card in deck if card not in by_subject.values())]
    for card, days_ago in ((deck[0], 3), (deck[1], 10), (deck[2], 6)):
        _review_at(user_id, card, 4, now - timedelta(days=days_ago))
    _review_at(user_id, deck[3], 4, now)
    answer = client.get(f"{API}/flashcards/due")
    assert answer.status == 200, answer
    data = answer.data
    due_ids = [c["flashcard_id"] for c in data["cards"][:data["total_due"]]]
    # Then the due cards come most overdue first, counted by subject
    assert due_ids == [deck[1], deck[2], deck[0]] and data["total_due"] == 3
    assert data["by_subject"] == dict(Counter(SUBJECT_OF[card] for card in deck[:3]))
    # And new cards fill up to the limit (3 a day, one already started today), never a held card
    new = data["cards"][data["total_due"]:]
    assert data["new_cards"] == len(new) == 2
    assert {c["state"] for c in new} == {"new"} and not {c["flashcard_id"] for c in new} & set(deck[:4])
    # And one subject narrows both
    physics = client.get(f"{API}/flashcards/due", query={"subject": "physics"}).data
    assert {c["subject"] for c in physics["cards"]} == {"Physics"}
    assert physics["total_due"] == sum(1 for card in deck[:3] if SUBJECT_OF[card] == "Physics")
    # And the by-subject view groups the whole day's due cards, most overdue first
    grouped = client.get(f"{API}/flashcards/due/by-subject").data
    expected: dict[str, list[str]] = {}
    for card in due_ids:
        expected.setdefault(SUBJECT_OF[card], []).append(card)
    assert {s: [c["flashcard_id"] for c in cards] for s, cards in grouped["subjects"].items()} == expected


def test_a_wrong_answer_comes_back_as_a_review_card(student: tuple[HandlerClient, str], questions_fn: Any) -> None:
    client, _ = student
    record = {"source": SOURCE, "external_id": "q-1", "exam_type": "JEE", "subject": "Physics",
              "topic": "Optics", "difficulty": "easy", "stem": "A convex lens of focal length 20 cm has power?",
              "options": {"A": "+5 D", "B": "-5 D", "C": "+0.05 D", "D": "+20 D"}, "correct_option": "A",
              "explanation": "P = 1/f in metres = 1/0.2 = +5 D."}
    assert content.import_records("question", [RawRecord(0, record)])["errors"] == []
    from mindly.domain.content import content_id

    qid = content_id("question", SOURCE, "q-1")
    quiz = HandlerClient(questions_fn, token=client.token)
    wrong = quiz.post(f"{API}/questions/submit", {"question_id": qid, "selected_option": "B", "confidence_rating": 5,
                                                  "time_taken_seconds": 9})
    assert wrong.status == 200 and wrong.data["is_correct"] is False
    due = client.get(f"{API}/flashcards/due").data
    mistakes = [c for c in due["cards"] if c["flashcard_id"] == f"mistake-{qid}"]
    assert len(mistakes) == 1
    assert mistakes[0]["question"] == record["stem"] and mistakes[0]["answer"].startswith("A) +5 D.")
    # Answering it right later keeps the card; reviewing it schedules it like any other
    quiz.post(f"{API}/questions/submit", {"question_id": qid, "selected_option": "A", "confidence_rating": 3,
                                          "time_taken_seconds": 5})
    reviewed = client.post(f"{API}/flashcards/review", {"flashcard_id": f"mistake-{qid}", "rating": 4})
    assert reviewed.status == 200 and reviewed.data["interval"] == 1
    # A second wrong answer does not reset it
    quiz.post(f"{API}/questions/submit", {"question_id": qid, "selected_option": "C", "confidence_rating": 2,
                                          "time_taken_seconds": 5})
    assert reviewed.data["repetitions"] == 1
    again = client.post(f"{API}/flashcards/review", {"flashcard_id": f"mistake-{qid}", "rating": 4})
    assert again.data["repetitions"] == 2


# --- FSRS ----------------------------------------------------------------------------------------------

def test_a_student_can_switch_to_fsrs_and_back(student: tuple[HandlerClient, str], deck: list[str],
                                               profile_fn: Any) -> None:
    client, user_id = student
    profiles = HandlerClient(profile_fn, token=client.token)
    body = {"exam_type": "JEE", "level": "advanced", "study_hours_per_day": 5, "target_date": "2035-04-01",
            "weak_subjects": []}
    assert profiles.put(f"{API}/profile", {**body, "scheduler": "fsrs"}).data["scheduler"] == "fsrs"
    card = deck[5]
    first = client.post(f"{API}/flashcards/review", {"flashcard_id": card, "rating": 5})
    _state, interval, next_date = fsrs_schedule.review(None, 5, datetime.now(UTC), _today())
    assert (first.data["interval"], first.data["next_review_date"]) == (interval, next_date.isoformat())
    # Switching back to SM-2 keeps the card's history: the SM-2 state went on being kept
    assert profiles.put(f"{API}/profile", {**body, "scheduler": "sm2"}).data["scheduler"] == "sm2"
    second = client.post(f"{API}/flashcards/review", {"flashcard_id": card, "rating": 4})
    assert (second.data["repetitions"], second.data["interval"]) == (2, 6)
    log = [r for r in card_store.ReviewItem.query(card_store.card_key(user_id, card)[0],
                                                  card_store.ReviewItem.sk.startswith("REVIEW#"))
           if r.flashcard_id == card]
    assert [r.scheduler for r in log] == ["fsrs", "sm2"]
    assert profiles.put(f"{API}/profile", {**body, "scheduler": "anki"}).status == 422


# --- the catalog -------------------------------------------------------------------------------------------

def test_the_catalog_browses_the_deck_with_filters_and_pages(student: tuple[HandlerClient, str],
                                                             deck: list[str]) -> None:
    client, _ = student
    physics = client.get(f"{API}/flashcards", query={"subject": "Physics", "topic": "Kinematics", "limit": "2"})
    assert physics.status == 200, physics
    assert physics.data["has_more"] is True and len(physics.data["items"]) == 2
    rest = client.get(f"{API}/flashcards", query={"subject": "Physics", "topic": "Kinematics", "limit": "2",
                                                  "cursor": physics.data["next_cursor"]})
    ids = [c["flashcard_id"] for c in physics.data["items"] + rest.data["items"]]
    assert len(ids) == len(set(ids)) == 4
    assert client.get(f"{API}/flashcards", query={"exam": "MBA"}).status == 422
    assert client.get(f"{API}/flashcards", query={"topic": "Optics"}).status == 422


def test_sm2_rule_matches_the_domain_for_a_review_sequence(student: tuple[HandlerClient, str],
                                                           deck: list[str]) -> None:
    client, _ = student
    expected = sm2.CardSchedule()
    for rating in (5, 4, 3, 2, 4, 5):
        expected = sm2.review(expected, rating, _today())
        got = client.post(f"{API}/flashcards/review", {"flashcard_id": deck[7], "rating": rating}).data
        assert (got["ease_factor"], got["interval"], got["repetitions"]) == (
            expected.ease_factor, expected.interval, expected.repetitions)


# --- undo ----------------------------------------------------------------------------------------------

def test_undo_reverts_the_last_review_and_its_xp(student: tuple[HandlerClient, str], deck: list[str],
                                                 progress_fn: Any) -> None:
    client, user_id = student
    progress = HandlerClient(progress_fn, token=client.token)
    card = deck[9]
    # Given two reviews of a card, the second named
    client.post(f"{API}/flashcards/review", {"flashcard_id": card, "rating": 4})
    named = str(uuid.uuid4())
    second = client.post(f"{API}/flashcards/review", {"flashcard_id": card, "rating": 5, "review_id": named})
    assert second.data["repetitions"] == 2
    # When the last one is undone (twice: a retried request)
    undone = client.post(f"{API}/flashcards/review/undo", {"review_id": named})
    retried = client.post(f"{API}/flashcards/review/undo", {"review_id": named})
    # Then the card is as after the first review, and the count of one review is taken back with
    # the XP it earned (none: it came before the card was due again)
    assert undone.status == 200, undone
    assert (undone.data["repetitions"], undone.data["interval"], undone.data["xp_awarded"]) == (1, 1, 0)
    assert retried.status == 200 and retried.data["already_undone"] is True and retried.data["xp_awarded"] == 0
    stored = card_store.get_card(user_id, card)
    assert stored is not None and (int(stored.repetitions), float(stored.ease_factor)) == (1, 2.5)
    today = progress.get(f"{API}/progress").data
    assert (today["xp_total"], today["today"]["cards_reviewed"]) == (5, 1)
    # And undoing the first review too makes the card new again (offered as a new card)
    first_undone = client.post(f"{API}/flashcards/review/undo")
    assert first_undone.status == 200 and first_undone.data["repetitions"] == 0
    assert first_undone.data["xp_awarded"] == -5  # the +5 the first review earned
    assert card_store.get_card(user_id, card) is None
    assert progress.get(f"{API}/progress").data["xp_total"] == 0
    assert card_store.held_cards(user_id, [card]) == set()
    assert client.get(f"{API}/flashcards/due").data["new_cards"] == 3  # the day's limit is whole again
    # And with nothing left to undo, the answer says so
    assert client.post(f"{API}/flashcards/review/undo").status == 404


def test_undoing_the_review_that_started_a_card_gives_it_back_to_the_unfiltered_deck(
        student: tuple[HandlerClient, str], deck: list[str]) -> None:
    client, user_id = student
    first = deck[0]

    def offered(query: dict[str, str] | None = None) -> list[str]:
        cards = client.get(f"{API}/flashcards/due", query=query).data["cards"]
        return [card["flashcard_id"] for card in cards if card["state"] == "new"]

    # Given a student who started the deck's first card, and whose place in the deck then moved past it
    assert client.post(f"{API}/flashcards/review", {"flashcard_id": first, "rating": 4}).status == 200
    assert first not in offered()
    positions = users.get_profile(user_id).deck_positions  # type: ignore[union-attr]  # the student has one
    assert positions is not None and positions.as_dict()["JEE"].endswith(first)
    # When that review is undone
    assert client.post(f"{API}/flashcards/review/undo").status == 200
    # Then the card is a new card again in the unfiltered due list, first as in the deck's order,
    # and under its subject
    assert offered()[0] == first
    assert first in offered({"subject": SUBJECT_OF[first]})
    # And a second read still offers it (the place in the deck did not move past it again)
    assert offered()[0] == first


def test_undo_only_within_ten_minutes(student: tuple[HandlerClient, str], deck: list[str]) -> None:
    _client, user_id = student
    at = datetime.now(UTC) - timedelta(minutes=11)
    _review_at(user_id, deck[10], 4, at)
    from mindly.exceptions import Conflict

    with pytest.raises(Conflict):
        flashcards.undo_review(user_id, "Nikhil", None, ZONE, datetime.now(UTC))
    assert flashcards.undo_review(user_id, "Nikhil", None, ZONE, at + timedelta(minutes=9))["undone"] is True


def test_new_cards_continue_past_the_front_of_the_deck_the_student_holds(
        student: tuple[HandlerClient, str], deck: list[str], profile_fn: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    client, user_id = student
    # Given a small candidate window, and a student who started the first three deck cards yesterday
    monkeypatch.setattr(flashcards, "NEW_CARD_CANDIDATES", 3)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    for card in deck[:3]:
        _review_at(user_id, card, 5, yesterday)
    # When they read their due cards twice (the first read finds the front of the deck held)
    client.get(f"{API}/flashcards/due")
    offered = [c["flashcard_id"] for c in client.get(f"{API}/flashcards/due").data["cards"] if c["state"] == "new"]
    # Then the new cards come from past the held front, never a held card
    assert offered and not set(offered) & set(deck[:3])
    assert offered[0] == deck[3]
    # And a later profile update keeps the student's place in the deck
    updated = HandlerClient(profile_fn, token=client.token).put(f"{API}/profile", {
        "exam_type": "JEE", "level": "advanced", "study_hours_per_day": 4, "target_date": "2035-04-01",
        "weak_subjects": []})
    assert updated.status == 200
    again = [c["flashcard_id"] for c in client.get(f"{API}/flashcards/due").data["cards"] if c["state"] == "new"]
    assert again[0] == deck[3]
