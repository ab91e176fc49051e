"""XP and the daily goal, as plain values (API.md "Progress and gamification").

+10 for a correct answer, +5 for a reviewed flashcard, +50 once per local day when the day's goal
(questions answered) is met. A day's bonus is paid at most once, whatever happens to the goal later.

Fair play (the weekly leaderboard measures study, not repetition): a question earns XP on the
student's first answer to it only, because every answer shows the correct option; a card earns
its review XP only when it was due (a new card: within the day's new-card limit); the goal counts
a question once a day; and a day whose stretch of time overlaps the last day paid (seen from
another time zone) cannot pay the bonus again. An activity that earns nothing by these rules still
counts as study everywhere else (attempts, accuracy, calibration, the streak).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

CORRECT_ANSWER_XP = 10
CARD_REVIEW_XP = 5
DAILY_GOAL_BONUS_XP = 50
DEFAULT_DAILY_GOAL = 20
MIN_DAILY_GOAL, MAX_DAILY_GOAL = 1, 500

ANSWER = "answer"
REVIEW = "review"
UNDO_REVIEW = "undo_review"  # takes back one review: its XP and its count, on the review's own day
MOCK_TEST = "mock_test"  # a finished mock test: all its answers at once, its XP decided by the caller
ACTIVITY_KINDS = (ANSWER, REVIEW, UNDO_REVIEW, MOCK_TEST)

# Why an activity earned none of its own XP (the answers' ``xp_withheld``).
ANSWERED_BEFORE = "answered_before"  # the question was answered before: that answer showed the key
NOT_DUE = "not_due"  # a card reviewed ahead of its next review date
NEW_CARD_LIMIT = "new_card_limit"  # a new card started past the day's new-card limit
DUPLICATE = "duplicate"  # a repeat (retry or racing copy) of an answer or review already recorded
WITHHELD_REASONS = (ANSWERED_BEFORE, NOT_DUE, NEW_CARD_LIMIT, DUPLICATE)


class DayTally(NamedTuple):
    """One local day of a student: what was done and earned, and whether the goal bonus was paid.

    ``goal_questions`` is what the goal counts: the distinct questions answered that day. None
    means every answer so far was a question's first of the day (so it equals
    ``questions_answered``; days recorded before the rule existed read the same way).
    """

    questions_answered: int = 0
    cards_reviewed: int = 0
    xp: int = 0
    goal_met: bool = False
    goal_questions: int | None = None

    @property
    def toward_goal(self) -> int:
        """The questions the day's goal is measured against."""
        return self.questions_answered if self.goal_questions is None else self.goal_questions


def xp_for(kind: str, correct: bool | None) -> int:
    """The XP an activity earns by itself (without the goal bonus) under the ordinary rule."""
    if kind == ANSWER:
        return CORRECT_ANSWER_XP if correct else 0
    if kind == REVIEW:
        return CARD_REVIEW_XP
    if kind == UNDO_REVIEW:
        return -CARD_REVIEW_XP
    if kind == MOCK_TEST:
        return 0  # its XP is the first-time right answers the caller counted (``earned``)
    raise ValueError(f"unknown activity kind {kind!r}")


def review_withheld(due_on: date | None, today: date, new_card: bool, new_cards_started: int,
                    new_card_limit: int) -> str | None:
    """Why a review earns no XP, or None when it earns its +5: a held card reviewed before its
    next review date, or a new card past the day's new-card limit (``new_cards_started`` new
    cards were started that day before this one)."""
    if new_card:
        return NEW_CARD_LIMIT if new_cards_started >= new_card_limit else None
    if due_on is not None and due_on > today:
        return NOT_DUE
    return None


def bonus_open(day_starts_at: datetime, paid_until: datetime | None) -> bool:
    """Whether a local day may still pay the goal bonus: only a day that began once the last day
    paid had ended (``paid_until``, a UTC instant). In one zone that is every later day; after a
    change of zone, a day overlapping the one already paid is the same stretch of time, not a new
    day (the student waits for the paid day's end, wherever they are now)."""
    return paid_until is None or day_starts_at >= paid_until


def apply_to_day(tally: DayTally, kind: str, correct: bool | None, daily_goal: int, *, earned: int | None = None,
                 counts_for_goal: bool = True, may_pay_bonus: bool = True, answers: int = 1,
                 goal_answers: int | None = None) -> tuple[DayTally, int]:
    """The day after one more activity, and the XP the activity awarded (bonus included).

    ``earned``: the activity's own XP when a fair-play rule set it (default: ``xp_for``).
    ``counts_for_goal``: False for an answer to a question already answered that day.
    ``may_pay_bonus``: False when the day overlaps the last day paid (``bonus_open``).
    ``answers`` / ``goal_answers`` (a mock test only): the questions it answered, and how many of
    them count toward the goal (those not answered before that local day; default: all).
    """
    own = xp_for(kind, correct) if earned is None else earned
    is_answer = kind in (ANSWER, MOCK_TEST)
    count = answers if kind == MOCK_TEST else 1
    mock_toward = count if goal_answers is None else goal_answers
    toward = mock_toward if kind == MOCK_TEST else (1 if counts_for_goal else 0)
    answered = tally.questions_answered + (count if is_answer else 0)
    goal_questions = tally.goal_questions
    if is_answer and toward != count:
        goal_questions = tally.toward_goal + toward
    elif is_answer and goal_questions is not None:
        goal_questions += toward
    reviewed = max(0, tally.cards_reviewed + (1 if kind == REVIEW else -1 if kind == UNDO_REVIEW else 0))
    after = DayTally(answered, reviewed, tally.xp, tally.goal_met, goal_questions)
    bonus = DAILY_GOAL_BONUS_XP if may_pay_bonus and not tally.goal_met and after.toward_goal >= daily_goal else 0
    awarded = own + bonus
    return after._replace(xp=tally.xp + awarded, goal_met=tally.goal_met or bonus > 0), awarded


def goal_reached_after_change(tally: DayTally, new_goal: int, may_pay_bonus: bool = True) -> tuple[DayTally, int]:
    """The day after its goal changes to ``new_goal``: lowering it to what was already answered
    pays the bonus now (once); a day already paid is never paid again."""
    if tally.goal_met or tally.toward_goal < new_goal or not may_pay_bonus:
        return tally, 0
    return tally._replace(xp=tally.xp + DAILY_GOAL_BONUS_XP, goal_met=True), DAILY_GOAL_BONUS_XP


def valid_goal(goal: int) -> bool:
    return MIN_DAILY_GOAL <= goal <= MAX_DAILY_GOAL
