"""mindly.domain.xp: XP per activity and the once-a-day goal bonus."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mindly.domain import xp
from mindly.domain.xp import ANSWER, REVIEW, DayTally


def run_day(events: list[tuple[str, bool | None]], goal: int,
            tally: DayTally | None = None) -> tuple[DayTally, list[int]]:
    """The day after ``events`` (kind, correct) against ``goal``, and what each one awarded."""
    tally, awarded = tally or DayTally(), []
    for kind, correct in events:
        tally, got = xp.apply_to_day(tally, kind, correct, goal)
        awarded.append(got)
    return tally, awarded


# --- hand-computed cases ------------------------------------------------------------------------


def test_the_rule_constants() -> None:
    assert (xp.CORRECT_ANSWER_XP, xp.CARD_REVIEW_XP, xp.DAILY_GOAL_BONUS_XP) == (10, 5, 50)


@pytest.mark.parametrize(("kind", "correct", "expected"), [
    (ANSWER, True, 10), (ANSWER, False, 0), (ANSWER, None, 0), (REVIEW, None, 5), (REVIEW, True, 5),
])
def test_xp_for_one_activity(kind: str, correct: bool | None, expected: int) -> None:
    # Given one activity, then it earns its own XP (no bonus)
    assert xp.xp_for(kind, correct) == expected


def test_an_unknown_activity_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown activity kind"):
        xp.xp_for("quiz", True)
    with pytest.raises(ValueError, match="unknown activity kind"):
        xp.apply_to_day(DayTally(), "quiz", True, 5)


def test_the_answer_that_meets_the_goal_pays_the_bonus_once() -> None:
    # Given a daily goal of 3 questions
    # When the student answers right, wrong, right, right
    tally, awarded = run_day([(ANSWER, True), (ANSWER, False), (ANSWER, True), (ANSWER, True)], goal=3)
    # Then the third answer earns its 10 plus the 50 bonus, and the fourth only its 10
    assert awarded == [10, 0, 60, 10]
    assert tally == DayTally(questions_answered=4, cards_reviewed=0, xp=80, goal_met=True)


def test_a_wrong_answer_can_meet_the_goal() -> None:
    # Given a goal of 2 and one answer already given
    # When the second answer is wrong
    tally, awarded = run_day([(ANSWER, True), (ANSWER, False)], goal=2)
    # Then it still meets the goal: the bonus alone is paid
    assert awarded == [10, 50]
    assert tally.goal_met and tally.xp == 60


def test_reviews_earn_xp_but_do_not_count_towards_the_goal() -> None:
    # Given a goal of 1 question
    # When the student only reviews flashcards
    tally, awarded = run_day([(REVIEW, None)] * 3, goal=1)
    # Then each review earns 5 and the goal is not met
    assert awarded == [5, 5, 5]
    assert tally == DayTally(questions_answered=0, cards_reviewed=3, xp=15, goal_met=False)
    # And the first answer then meets it
    tally, awarded_now = xp.apply_to_day(tally, ANSWER, False, 1)
    assert awarded_now == 50
    assert tally == DayTally(questions_answered=1, cards_reviewed=3, xp=65, goal_met=True)


def test_apply_to_day_leaves_the_given_tally_alone() -> None:
    before = DayTally(questions_answered=2, xp=20)
    after, _ = xp.apply_to_day(before, ANSWER, True, 20)
    assert before == DayTally(questions_answered=2, xp=20)
    assert after == DayTally(questions_answered=3, xp=30)


def test_lowering_the_goal_to_what_was_answered_pays_the_bonus_once() -> None:
    # Given 5 questions answered (all right) against a goal of 20
    tally, _ = run_day([(ANSWER, True)] * 5, goal=20)
    assert tally == DayTally(questions_answered=5, xp=50)
    # When the goal is lowered to 5
    tally, paid = xp.goal_reached_after_change(tally, 5)
    # Then the bonus is paid now
    assert paid == 50
    assert tally == DayTally(questions_answered=5, xp=100, goal_met=True)
    # And lowering it again, or raising and lowering it, pays nothing more
    for goal in (3, 1, 30, 5, 2):
        tally, paid = xp.goal_reached_after_change(tally, goal)
        assert paid == 0
    assert tally.xp == 100
    # And neither do later answers, whatever goal they are measured against
    for goal in (1, 6, 20):
        tally, awarded = xp.apply_to_day(tally, ANSWER, True, goal)
        assert awarded == 10
    assert tally == DayTally(questions_answered=8, xp=130, goal_met=True)


def test_lowering_the_goal_below_what_was_answered_pays_the_bonus() -> None:
    # Given 5 answers against a goal of 20
    tally, _ = run_day([(ANSWER, False)] * 5, goal=20)
    # When the goal is lowered to 4 (already passed)
    tally, paid = xp.goal_reached_after_change(tally, 4)
    # Then the bonus is paid
    assert paid == 50
    assert tally == DayTally(questions_answered=5, xp=50, goal_met=True)


def test_lowering_the_goal_but_not_to_what_was_answered_pays_nothing_yet() -> None:
    # Given 5 answers against a goal of 20
    tally, _ = run_day([(ANSWER, False)] * 5, goal=20)
    # When the goal is lowered to 6
    changed, paid = xp.goal_reached_after_change(tally, 6)
    # Then nothing is paid yet, and the sixth answer pays it
    assert (changed, paid) == (tally, 0)
    after, awarded = xp.apply_to_day(changed, ANSWER, True, 6)
    assert awarded == 60
    assert after.goal_met


def test_raising_the_goal_after_it_was_met_takes_nothing_back() -> None:
    # Given the goal of 2 met
    tally, _ = run_day([(ANSWER, True)] * 2, goal=2)
    assert tally.xp == 70
    # When the goal is raised to 10 and the student answers up to it
    tally, paid = xp.goal_reached_after_change(tally, 10)
    assert paid == 0
    tally, awarded = run_day([(ANSWER, True)] * 8, goal=10, tally=tally)
    # Then the bonus is not paid a second time, and nothing is taken back
    assert awarded == [10] * 8
    assert tally == DayTally(questions_answered=10, xp=150, goal_met=True)


@pytest.mark.parametrize(("goal", "valid"), [
    (0, False), (1, True), (20, True), (500, True), (501, False), (-5, False),
])
def test_valid_goal(goal: int, valid: bool) -> None:
    assert xp.valid_goal(goal) is valid
    assert xp.valid_goal(xp.DEFAULT_DAILY_GOAL)


# --- properties ---------------------------------------------------------------------------------

activities = st.one_of(
    st.tuples(st.just(ANSWER), st.booleans()),
    st.tuples(st.just(REVIEW), st.none()),
)
goals = st.integers(xp.MIN_DAILY_GOAL, 30)


@settings(max_examples=200, deadline=None)
@given(events=st.lists(activities, max_size=60), goal=goals)
def test_a_days_xp_is_ten_per_correct_answer_five_per_review_and_one_bonus(
        events: list[tuple[str, bool | None]], goal: int) -> None:
    # Given a random day of answers and reviews against a fixed goal
    # When they are applied one by one
    tally, awarded = run_day(events, goal)
    correct = sum(1 for kind, ok in events if kind == ANSWER and ok)
    answered = sum(1 for kind, _ in events if kind == ANSWER)
    reviews = sum(1 for kind, _ in events if kind == REVIEW)
    met = answered >= goal
    # Then the XP is 10 per correct answer, 5 per review and 50 once if the goal was met
    assert tally.xp == sum(awarded) == 10 * correct + 5 * reviews + (50 if met else 0)
    assert (tally.questions_answered, tally.cards_reviewed, tally.goal_met) == (answered, reviews, met)
    # And the bonus was paid by exactly one activity: the answer that reached the goal
    bonus_paid = [i for i, (event, got) in enumerate(zip(events, awarded, strict=True))
                  if got - xp.xp_for(*event) == 50]
    assert all(got - xp.xp_for(*event) in (0, 50) for event, got in zip(events, awarded, strict=True))
    if met:
        answer_indexes = [i for i, (kind, _) in enumerate(events) if kind == ANSWER]
        assert bonus_paid == [answer_indexes[goal - 1]]
    else:
        assert bonus_paid == []


goal_changes = st.tuples(st.just("goal"), goals)


@settings(max_examples=200, deadline=None)
@given(events=st.lists(st.one_of(activities, goal_changes), max_size=60), goal=goals)
def test_changing_the_goal_during_the_day_never_pays_the_bonus_twice(
        events: list[tuple[str, object]], goal: int) -> None:
    # Given a random day of answers, reviews and goal changes
    tally, total, bonuses = DayTally(), 0, 0
    answered = correct = reviews = 0
    ever_reached = False
    for kind, arg in events:
        # When each is applied (an activity against the goal in force, a change of goal as such)
        if kind == "goal":
            assert isinstance(arg, int)
            goal = arg
            tally, got = xp.goal_reached_after_change(tally, goal)
            bonus = got
        else:
            assert arg is None or isinstance(arg, bool)
            tally, got = xp.apply_to_day(tally, kind, arg, goal)
            bonus = got - xp.xp_for(kind, arg)
            answered += kind == ANSWER
            correct += kind == ANSWER and bool(arg)
            reviews += kind == REVIEW
        assert bonus in (0, 50)
        bonuses += bonus > 0
        total += got
        # Then the bonus is paid exactly when the goal in force is first reached, and never again
        reached_now = answered >= goal
        assert (bonus > 0) == (reached_now and not ever_reached)
        ever_reached = ever_reached or reached_now
        assert tally.goal_met == ever_reached
    assert bonuses == (1 if ever_reached else 0)
    # And the day's XP is the activities' own XP plus that single bonus
    assert tally.xp == total == 10 * correct + 5 * reviews + 50 * bonuses
    assert (tally.questions_answered, tally.cards_reviewed) == (answered, reviews)
