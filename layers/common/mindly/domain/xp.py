"""XP and the daily goal, as plain values (API.md "Progress and gamification").

+10 for a correct answer, +5 for a reviewed flashcard, +50 once per local day when the day's goal
(questions answered) is met. A day's bonus is paid at most once, whatever happens to the goal later.
"""

from __future__ import annotations

from typing import NamedTuple

CORRECT_ANSWER_XP = 10
CARD_REVIEW_XP = 5
DAILY_GOAL_BONUS_XP = 50
DEFAULT_DAILY_GOAL = 20
MIN_DAILY_GOAL, MAX_DAILY_GOAL = 1, 500

ANSWER = "answer"
REVIEW = "review"
UNDO_REVIEW = "undo_review"  # takes back one review: its XP and its count, on the review's own day
ACTIVITY_KINDS = (ANSWER, REVIEW, UNDO_REVIEW)


class DayTally(NamedTuple):
    """One local day of a student: what was done and earned, and whether the goal bonus was paid."""

    questions_answered: int = 0
    cards_reviewed: int = 0
    xp: int = 0
    goal_met: bool = False


def xp_for(kind: str, correct: bool | None) -> int:
    """The XP an activity earns by itself (without the goal bonus)."""
    if kind == ANSWER:
        return CORRECT_ANSWER_XP if correct else 0
    if kind == REVIEW:
        return CARD_REVIEW_XP
    if kind == UNDO_REVIEW:
        return -CARD_REVIEW_XP
    raise ValueError(f"unknown activity kind {kind!r}")


def apply_to_day(tally: DayTally, kind: str, correct: bool | None, daily_goal: int) -> tuple[DayTally, int]:
    """The day after one more activity, and the XP the activity awarded (bonus included)."""
    earned = xp_for(kind, correct)
    answered = tally.questions_answered + (1 if kind == ANSWER else 0)
    reviewed = max(0, tally.cards_reviewed + (1 if kind == REVIEW else -1 if kind == UNDO_REVIEW else 0))
    bonus = DAILY_GOAL_BONUS_XP if not tally.goal_met and answered >= daily_goal else 0
    awarded = earned + bonus
    return DayTally(answered, reviewed, tally.xp + awarded, tally.goal_met or bonus > 0), awarded


def goal_reached_after_change(tally: DayTally, new_goal: int) -> tuple[DayTally, int]:
    """The day after its goal changes to ``new_goal``: lowering it to what was already answered
    pays the bonus now (once); a day already paid is never paid again."""
    if tally.goal_met or tally.questions_answered < new_goal:
        return tally, 0
    return tally._replace(xp=tally.xp + DAILY_GOAL_BONUS_XP, goal_met=True), DAILY_GOAL_BONUS_XP


def valid_goal(goal: int) -> bool:
    return MIN_DAILY_GOAL <= goal <= MAX_DAILY_GOAL
