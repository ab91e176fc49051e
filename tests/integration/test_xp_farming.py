"""XP cannot be farmed (issue 15, point 5), through the real handlers and the services they call.

Each farming route a hostile client used is tried here: repeating a right answer (the first submit
shows the key), reviewing cards ahead of their date, starting more new cards than the day allows,
and flipping the profile's time zone to re-open a day already counted (the daily-goal bonus and a
streak day). Legitimate study still earns exactly what the README promises, and the totals stay
exact under parallel requests.

Questions and cards live in GATE "Theory of Computation" under a source of their own.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import HandlerClient, register

from mindly.domain import calendar
from mindly.domain.content import content_id
from mindly.services import content, flashcards, questions
from mindly.services import profile as profiles
from mindly.services import progress as engine
from mindly.store import attempts as attempt_store
from mindly.store.progress import student_key

API = "/api/v1"
SOURCE = f"farming-{uuid.uuid4().hex[:8]}"
SUBJECT, TOPIC = "Theory of Computation", "Turing Machines and Undecidability"
QUESTIONS = 40  # the correct option of each is "A"
CARDS = 12
KOLKATA = "Asia/Kolkata"
# Twenty-six hours apart: at every instant their local dates differ (by one or two days).
BEHIND, AHEAD = "Etc/GMT+12", "Pacific/Kiritimati"


@pytest.fixture(scope="module")
def question_ids(local_aws: Any) -> list[str]:
    records = [{"source": SOURCE, "external_id": f"q{n}", "exam_type": "GATE", "subject": SUBJECT, "topic": TOPIC,
                "difficulty": "medium", "stem": f"Farming question {n}?",
                "options": {"A": f"right {n}", "B": f"wrong {n}", "C": f"other {n}", "D": f"last {n}"},
                "correct_option": "A", "explanation": "Because."} for n in range(QUESTIONS)]
    report = content.import_objects("question", records)
    assert not report["errors"], report
    return [content_id("question", SOURCE, f"q{n}") for n in range(QUESTIONS)]


@pytest.fixture(scope="module")
def card_ids(local_aws: Any) -> list[str]:
    records = [{"source": SOURCE, "external_id": f"c{n}", "exam_type": "GATE", "subject": SUBJECT, "topic": TOPIC,
                "question": f"Farming card {n}?", "answer": f"Answer {n}", "difficulty": 3} for n in range(CARDS)]
    report = content.import_objects("flashcard", records)
    assert not report["errors"], report
    return [content_id("flashcard", SOURCE, f"c{n}") for n in range(CARDS)]


class Student:
    """A registered student with a profile, and a client per function."""

    def __init__(self, fns: dict[str, Any], **profile: Any) -> None:
        answer = register(fns["auth"], name="Farhan Ali")
        assert answer.status == 201, answer
        self.user_id: str = answer.data["user"]["id"]
        self.token: str = answer.data["access_token"]
        self.fns = fns
        self.profile = {"exam_type": "GATE", "level": "advanced", "study_hours_per_day": 6,
                        "target_date": "2035-02-01", "weak_subjects": [], "timezone": KOLKATA, **profile}
        self.set_profile()

    def to(self, function: str) -> HandlerClient:
        return HandlerClient(self.fns[function], token=self.token)

    def set_profile(self, **changes: Any) -> None:
        self.profile.update(changes)
        answer = self.to("profile").put(f"{API}/profile", self.profile)
        assert answer.status == 200, answer

    def submit(self, question_id: str, option: str = "A", attempt_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"question_id": question_id, "selected_option": option, "confidence_rating": 3,
                                "time_taken_seconds": 30}
        if attempt_id:
            body["attempt_id"] = attempt_id
        answer = self.to("questions").post(f"{API}/questions/submit", body)
        assert answer.status == 200, answer
        return dict(answer.data)

    def review(self, flashcard_id: str, rating: int = 4) -> dict[str, Any]:
        answer = self.to("flashcards").post(f"{API}/flashcards/review", {"flashcard_id": flashcard_id,
                                                                        "rating": rating})
        assert answer.status == 200, answer
        return dict(answer.data)

    def progress(self) -> dict[str, Any]:
        answer = self.to("progress").get(f"{API}/progress")
        assert answer.status == 200, answer
        return dict(answer.data)


@pytest.fixture
def fns(auth_fn: Any, profile_fn: Any, questions_fn: Any, flashcards_fn: Any, progress_fn: Any) -> dict[str, Any]:
    return {"auth": auth_fn, "profile": profile_fn, "questions": questions_fn, "flashcards": flashcards_fn,
            "progress": progress_fn}


def _pool(workers: int) -> ThreadPoolExecutor:
    # Mangum runs the app on the calling thread's event loop: each worker thread gets its own.
    return ThreadPoolExecutor(max_workers=workers, initializer=lambda: asyncio.set_event_loop(asyncio.new_event_loop()))


# --- repeating a right answer -------------------------------------------------------------------------

def test_repeating_a_right_answer_earns_xp_once_and_counts_once_toward_the_goal(
        fns: dict[str, Any], question_ids: list[str]) -> None:
    # Given a student whose daily goal is 3 questions
    student = Student(fns, daily_goal=3)
    question = question_ids[0]
    # When they answer the same question right five times (new attempt ids: not retries)
    answers = [student.submit(question) for _ in range(5)]
    # Then only the first earns XP; the others say why they earned none
    assert [a["xp_awarded"] for a in answers] == [10, 0, 0, 0, 0]
    assert [a["xp_withheld"] for a in answers] == [None] + ["answered_before"] * 4
    assert all(a["is_correct"] for a in answers)
    # And the repeats are attempts like any other, but the goal counts the question once (no bonus)
    progress = student.progress()
    assert progress["xp_total"] == progress["xp_this_week"] == 10
    assert (progress["today"]["questions_answered"], progress["today"]["goal_questions"]) == (5, 1)
    assert progress["today"]["goal_met"] is False
    attempts = student.to("questions").get(f"{API}/questions/attempts", query={"limit": "10"}).data["items"]
    assert len(attempts) == 5
    # And two new questions then meet the goal of 3 distinct questions: +10 each, the bonus once
    assert [student.submit(q)["xp_awarded"] for q in question_ids[1:3]] == [10, 60]
    assert student.progress()["xp_total"] == 80


def test_a_wrong_answer_then_the_key_it_showed_earns_nothing(fns: dict[str, Any], question_ids: list[str]) -> None:
    # Given a student who answered a question wrong (the answer showed the correct option)
    student = Student(fns)
    wrong = student.submit(question_ids[3], option="B")
    assert (wrong["is_correct"], wrong["xp_awarded"], wrong["correct_option"]) == (False, 0, "A")
    # When they send the option it showed
    right = student.submit(question_ids[3], option="A")
    # Then it is right, but earns nothing: the first answer was the one that measured them
    assert (right["is_correct"], right["xp_awarded"], right["xp_withheld"]) == (True, 0, "answered_before")
    assert student.progress()["xp_total"] == 0
    # And the mistake still came back as a review card
    due = student.to("flashcards").get(f"{API}/flashcards/due").data["cards"]
    assert f"mistake-{question_ids[3]}" in {card["flashcard_id"] for card in due}


def test_a_question_counts_toward_the_goal_again_on_a_later_day(question_ids: list[str]) -> None:
    # Given a student who answered a question on one day (explicit instants, a zone of their own)
    user_id = f"farm-{uuid.uuid4().hex[:10]}"
    monday = date(2032, 3, 1)
    noon = calendar.day_starts_at(monday, KOLKATA) + timedelta(hours=12)
    first = questions.submit(user_id, None, question_ids[4], "A", 3, 20, None, KOLKATA, noon)
    # When they answer it again the next day, and once more that day
    next_day = noon + timedelta(days=1)
    again = questions.submit(user_id, None, question_ids[4], "A", 3, 20, None, KOLKATA, next_day)
    third = questions.submit(user_id, None, question_ids[4], "A", 3, 20, None, KOLKATA, next_day + timedelta(hours=1))
    # Then only the first earned XP, and the next day's first answer counted toward that day's goal
    assert [r["xp_awarded"] for r in (first, again, third)] == [10, 0, 0]
    view = engine.progress_view(engine.Student(user_id=user_id), KOLKATA, next_day + timedelta(hours=2))
    assert (view["today"]["questions_answered"], view["today"]["goal_questions"]) == (2, 1)
    assert view["current_streak"] == 2  # a repeat is still study: the day is active


def test_parallel_answers_to_one_question_earn_its_xp_once(fns: dict[str, Any], question_ids: list[str]) -> None:
    # Given 20 right answers to one question, each with its own attempt id, sent at once
    student = Student(fns, daily_goal=500)
    question = question_ids[5]
    with _pool(20) as pool:
        answers = list(pool.map(lambda _n: student.submit(question), range(20)))
    # Then exactly one is the question's first answer, and every attempt is recorded
    assert sorted(a["xp_awarded"] for a in answers) == [0] * 19 + [10]
    assert sum(a["xp_withheld"] == "answered_before" for a in answers) == 19
    progress = student.progress()
    assert progress["xp_total"] == progress["xp_this_week"] == 10
    assert (progress["today"]["questions_answered"], progress["today"]["goal_questions"]) == (20, 1)
    attempts = student.to("questions").get(f"{API}/questions/attempts", query={"limit": "50"}).data["items"]
    assert len(attempts) == 20
    # And the student's record of the question names one first attempt
    marker = attempt_store.AnsweredQuestionItem.get(*attempt_store.answered_key(student.user_id, question))
    assert marker.first_attempt_id in {a["attempt_id"] for a in answers}


# --- reviewing ahead, and new cards past the day's limit ----------------------------------------------

def test_reviewing_a_card_ahead_of_its_date_earns_nothing(fns: dict[str, Any], card_ids: list[str]) -> None:
    # Given a new card reviewed once (+5: it is due tomorrow now)
    student = Student(fns)
    card = card_ids[0]
    first = student.review(card)
    assert (first["xp_awarded"], first["xp_withheld"]) == (5, None)
    # When the student reviews it again and again today
    ahead = [student.review(card, rating) for rating in (5, 4, 1, 3, 5)]
    # Then the card is scheduled each time, but no review earns XP
    assert [a["xp_awarded"] for a in ahead] == [0] * 5
    assert {a["xp_withheld"] for a in ahead} == {"not_due"}
    assert ahead[1]["repetitions"] == 3
    progress = student.progress()
    assert (progress["xp_total"], progress["today"]["cards_reviewed"]) == (5, 6)


def test_a_card_earns_its_review_xp_again_once_it_is_due(card_ids: list[str]) -> None:
    # Given a card reviewed on one day (interval 1), at explicit instants
    user_id = f"farm-{uuid.uuid4().hex[:10]}"
    noon = calendar.day_starts_at(date(2032, 4, 5), KOLKATA) + timedelta(hours=12)
    card = card_ids[1]

    def review(at: datetime) -> dict[str, Any]:
        return flashcards.review(user_id, None, card, 4, None, None, KOLKATA, at)

    assert review(noon)["xp_awarded"] == 5
    # When it is reviewed late that evening (ahead: that review schedules it 6 days on), and then
    # on that date
    ahead = review(noon + timedelta(hours=11))
    assert (ahead["xp_withheld"], ahead["next_review_date"]) == ("not_due", "2032-04-11")
    due = review(calendar.day_starts_at(date(2032, 4, 11), KOLKATA) + timedelta(minutes=1))
    # Then it earned again only once it was due
    assert (due["xp_awarded"], due["xp_withheld"]) == (5, None)
    view = engine.progress_view(engine.Student(user_id=user_id), KOLKATA, noon + timedelta(days=6))
    assert view["xp_total"] == 10


def test_new_cards_earn_xp_only_within_the_days_new_card_limit(fns: dict[str, Any], card_ids: list[str]) -> None:
    # Given a student whose profile starts 2 new cards a day
    student = Student(fns, new_cards_per_day=2)
    # When they start four new cards today (reviewing cards taken from the catalog)
    answers = [student.review(card) for card in card_ids[2:6]]
    # Then the first two earn +5 and the others none, though all four are started
    assert [a["xp_awarded"] for a in answers] == [5, 5, 0, 0]
    assert [a["xp_withheld"] for a in answers] == [None, None, "new_card_limit", "new_card_limit"]
    assert [a["repetitions"] for a in answers] == [1, 1, 1, 1]
    assert student.progress()["xp_total"] == 10


def test_parallel_new_cards_respect_the_limit_exactly(fns: dict[str, Any], card_ids: list[str]) -> None:
    # Given a limit of 3 new cards a day and 6 new cards started at once
    student = Student(fns, new_cards_per_day=3)
    with _pool(6) as pool:
        answers = list(pool.map(student.review, card_ids[6:12]))
    # Then exactly three earned +5
    assert sorted(a["xp_awarded"] for a in answers) == [0, 0, 0, 5, 5, 5]
    progress = student.progress()
    assert (progress["xp_total"], progress["today"]["cards_reviewed"]) == (15, 6)


def test_parallel_reviews_ahead_of_one_card_earn_nothing(fns: dict[str, Any], card_ids: list[str]) -> None:
    # Given a card reviewed once (due tomorrow), then reviewed 6 times at once
    student = Student(fns)
    card = card_ids[0]
    assert student.review(card)["xp_awarded"] == 5
    with _pool(6) as pool:
        answers = list(pool.map(lambda _n: student.review(card), range(6)))
    # Then all six applied (one after another) and none earned XP
    assert sorted(a["repetitions"] for a in answers) == list(range(2, 8))
    assert {a["xp_awarded"] for a in answers} == {0}
    assert student.progress()["xp_total"] == 5


# --- flipping the time zone ---------------------------------------------------------------------------

@pytest.mark.parametrize(("first_zone", "flipped"), [(BEHIND, AHEAD), (AHEAD, BEHIND)], ids=["east", "west"])
def test_flipping_the_time_zone_pays_no_second_daily_bonus_and_adds_no_streak_day(
        fns: dict[str, Any], question_ids: list[str], first_zone: str, flipped: str) -> None:
    # Given a student with a goal of one question, who met it today in one zone
    student = Student(fns, daily_goal=1, timezone=first_zone)
    offset = 6 if first_zone == BEHIND else 9
    met = student.submit(question_ids[offset])
    assert met["xp_awarded"] == 60
    before = student.progress()
    assert (before["current_streak"], before["today"]["goal_met"]) == (1, True)
    # When they switch to a zone whose local date is another day, meet the goal there, and switch back
    student.set_profile(timezone=flipped)
    there = student.submit(question_ids[offset + 1])
    flipped_view = student.progress()
    student.set_profile(timezone=first_zone)
    back = student.submit(question_ids[offset + 2])
    # Then the other zone's date is a new DAY, but the same stretch of time: no bonus, no streak day
    assert flipped_view["today"]["date"] != before["today"]["date"]
    assert (there["xp_awarded"], back["xp_awarded"]) == (10, 10)
    assert flipped_view["today"]["goal_met"] is False
    assert flipped_view["current_streak"] == 1
    after = student.progress()
    assert (after["xp_total"], after["current_streak"], after["longest_streak"]) == (80, 1, 1)


def test_a_goal_lowered_after_a_time_zone_flip_pays_nothing(fns: dict[str, Any], question_ids: list[str]) -> None:
    # Given a student who met the goal of one question today, then switched to a zone a day ahead
    student = Student(fns, daily_goal=1, timezone=BEHIND)
    assert student.submit(question_ids[12])["xp_awarded"] == 60
    student.set_profile(timezone=AHEAD, daily_goal=5)
    assert student.submit(question_ids[13])["xp_awarded"] == 10
    # When they lower that day's goal to what it has answered
    lowered = student.to("progress").put(f"{API}/progress/daily-goal", {"target_questions": 1})
    # Then the day is not paid: it overlaps the day already paid
    assert lowered.status == 200, lowered
    assert (lowered.data["goal_met"], lowered.data["xp"]) == (False, 10)
    assert student.progress()["xp_total"] == 70


def test_a_day_after_the_paid_day_ended_pays_again_after_a_move(question_ids: list[str]) -> None:
    # Given a student in New York who met the goal of one question on 2032-05-03 (their day ends
    # at 04:00 UTC on 05-04), and who then moves to Kolkata
    user_id = f"farm-{uuid.uuid4().hex[:10]}"
    new_york = engine.Student(user_id=user_id, timezone="America/New_York", daily_goal=1)
    kolkata = new_york._replace(timezone=KOLKATA)

    def answer(student: engine.Student, at: datetime) -> engine.Recorded:
        activity = engine.Activity(key=uuid.uuid4().hex, kind="answer", at=at, correct=True, exam="GATE")
        return engine.record_activity(student, activity, KOLKATA)

    assert answer(new_york, datetime(2032, 5, 3, 20, 0, tzinfo=UTC)).xp_awarded == 60
    # When they study on Kolkata's 05-04 before New York's 05-03 ended (02:00 UTC), and after it
    during = answer(kolkata, datetime(2032, 5, 4, 2, 0, tzinfo=UTC))
    later = answer(kolkata, datetime(2032, 5, 4, 5, 0, tzinfo=UTC))
    # Then that Kolkata day overlaps the paid one: no bonus, nor a streak day, on it
    assert (during.xp_awarded, later.xp_awarded) == (10, 10)
    assert during.current_streak == later.current_streak == 1
    # And the next Kolkata day, wholly after, pays and grows the streak as any day does
    next_day = answer(kolkata, datetime(2032, 5, 5, 5, 0, tzinfo=UTC))
    assert (next_day.xp_awarded, next_day.current_streak) == (60, 2)


# --- legitimate study ---------------------------------------------------------------------------------

def test_legitimate_study_earns_exactly_what_the_rules_promise(question_ids: list[str], card_ids: list[str]) -> None:
    # Given a student in Kolkata (goal 3 questions, 2 new cards a day) studying two days running
    user_id = f"farm-{uuid.uuid4().hex[:10]}"
    profiles.put_profile(user_id, "GATE", "advanced", 3, date(2035, 1, 1), [], 3, KOLKATA, new_cards_per_day=2)
    monday = calendar.day_starts_at(date(2032, 6, 7), KOLKATA) + timedelta(hours=9)
    tuesday = monday + timedelta(days=1)

    def submit(question: str, option: str, at: datetime) -> int:
        return int(questions.submit(user_id, None, question, option, 3, 40, None, KOLKATA, at)["xp_awarded"])

    def review(card: str, at: datetime) -> int:
        return int(flashcards.review(user_id, None, card, 4, None, 30, KOLKATA, at)["xp_awarded"])

    # Monday: three new questions (right, wrong, right: the third meets the goal), two new cards,
    # and the mistake card the wrong answer made (due the same day)
    monday_xp = [submit(question_ids[20], "A", monday), submit(question_ids[21], "B", monday),
                 submit(question_ids[22], "A", monday), review(card_ids[0], monday), review(card_ids[1], monday),
                 review(f"mistake-{question_ids[21]}", monday)]
    assert monday_xp == [10, 0, 60, 5, 5, 5]
    # Tuesday: the three cards are due again (interval 1), and three more new questions, all right
    tuesday_xp = [review(card_ids[0], tuesday), review(card_ids[1], tuesday),
                  review(f"mistake-{question_ids[21]}", tuesday), submit(question_ids[23], "A", tuesday),
                  submit(question_ids[24], "A", tuesday), submit(question_ids[25], "A", tuesday)]
    assert tuesday_xp == [5, 5, 5, 10, 10, 60]
    # Then the totals are exactly those: 85 + 95, a two-day streak, and the week's XP the same
    view = engine.progress_view(engine.student_of(user_id), KOLKATA, tuesday)
    assert (view["xp_total"], view["xp_this_week"], view["current_streak"]) == (180, 180, 2)
    assert view["today"] == {"date": "2032-06-08", "questions_answered": 3, "goal_questions": 3,
                             "cards_reviewed": 3, "xp": 95, "daily_goal": 3, "goal_met": True}
    stored = attempt_store.AttemptItem.query(student_key(user_id), attempt_store.AttemptItem.sk.startswith("ATTEMPT#"))
    assert len(list(stored)) == 6


# --- the rule itself: however zones are switched, a counted day takes a day of real time --------------

ZONES = ("Asia/Kolkata", "America/New_York", "Pacific/Kiritimati", "Etc/GMT+12", "Pacific/Chatham",
         "Asia/Kathmandu", "UTC", "Australia/Lord_Howe")


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 26 * 60), st.sampled_from(ZONES)), min_size=1, max_size=60))
def test_switching_zones_never_counts_more_days_than_real_time_holds(steps: list[tuple[int, str]]) -> None:
    # Given activities at instants minutes apart, each in whichever zone the student chose then
    from mindly.domain import streaks, xp

    at = datetime(2032, 3, 1, tzinfo=UTC)
    first = at
    streak, paid_until, grown, bonuses = streaks.Streak(), None, 0, 0
    for minutes, zone in steps:
        at += timedelta(minutes=minutes)
        today = calendar.local_date(at, zone)
        starts, ends = calendar.day_starts_at(today, zone), calendar.day_starts_at(today + timedelta(days=1), zone)
        # When each one records a streak day and would meet the goal (the bonus rule's gate)
        streak, change = streaks.record_activity(streak, today, starts, ends)
        grown += change is not streaks.Change.UNCHANGED
        if xp.bonus_open(starts, paid_until):
            bonuses, paid_until = bonuses + 1, ends
    # Then each counted day and each bonus took a local day (at least 23 hours) of its own
    most = 2 + (at - first) / timedelta(hours=23)
    assert grown <= most and bonuses <= most
