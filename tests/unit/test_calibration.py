"""mindly.domain.calibration: confidence calibration as API.md "Analytics" states it.

Confidence c (1..5) on a k-option question claims p = 1/k + (c - 1) * (1 - 1/k) / 4:

    k = 4: 0.25, 0.4375, 0.625, 0.8125, 1.0   (0.25 + (c - 1) x 0.1875, i.e. 4, 7, 10, 13, 16 sixteenths)
    k = 5: 0.2,  0.4,    0.6,   0.8,    1.0   (0.2 + (c - 1) x 0.2)

bias = mean p - accuracy, brier = mean (p - correct)^2, calibration_score = point-biserial r (null below
20 answers or with fewer than 3 right or 3 wrong). A topic with at least 10 answers is overconfident when
bias >= 0.15 and its upper 95% Wilson bound is below its mean p; underconfident when bias <= -0.15 and its
lower Wilson bound is above its mean p.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections.abc import Sequence

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mindly.domain import calibration
from mindly.domain.calibration import Answer

SUBJECTS = ["physics", "chemistry"]
TOPICS = ["optics", "kinematics", "acids"]


def answers_at(confidence: int, right: int, wrong: int, topic: str = "optics", subject: str = "physics",
               options: int = 4) -> list[Answer]:
    """``right`` right and ``wrong`` wrong answers, all at ``confidence`` in one topic."""
    return ([Answer(confidence, True, subject, topic, options)] * right
            + [Answer(confidence, False, subject, topic, options)] * wrong)


def flagged(answers: Sequence[Answer]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(overconfident, underconfident) topics of the report, as (subject, topic) pairs."""
    out = calibration.report(answers)
    return ([(row["subject"], row["topic"]) for row in out["overconfident_topics"]],
            [(row["subject"], row["topic"]) for row in out["underconfident_topics"]])


# --- probability ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("confidence", "expected"), [(1, 0.25), (2, 0.4375), (3, 0.625), (4, 0.8125), (5, 1.0)])
def test_a_4_option_confidence_means_api_md_probability(confidence: int, expected: float) -> None:
    # Given a 4-option question / When confidence c is rated / Then p = 0.25 + (c - 1) x 0.1875, exactly
    assert calibration.probability(confidence) == expected
    assert calibration.probability(confidence, 4) == expected


@pytest.mark.parametrize(("confidence", "expected"), [(1, 0.2), (2, 0.4), (3, 0.6), (4, 0.8), (5, 1.0)])
def test_a_5_option_confidence_starts_at_chance_one_in_five(confidence: int, expected: float) -> None:
    # Given a 5-option question / Then p = 1/5 + (c - 1) x (1 - 1/5) / 4 = 0.2 + (c - 1) x 0.2
    assert calibration.probability(confidence, 5) == pytest.approx(expected, abs=1e-12)


def test_a_2_option_question_starts_at_one_half() -> None:
    # 1/2 + (c - 1) x (1/2) / 4: 0.5, 0.625, 0.75, 0.875, 1.0
    assert [calibration.probability(c, 2) for c in range(1, 6)] == [0.5, 0.625, 0.75, 0.875, 1.0]


@pytest.mark.parametrize("confidence", [0, 6, -1, 10])
def test_a_confidence_outside_1_to_5_is_rejected(confidence: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.5"):
        calibration.probability(confidence)


@pytest.mark.parametrize("options", [1, -4])
def test_fewer_than_2_options_is_rejected(options: int) -> None:
    with pytest.raises(ValueError, match="2 options"):
        calibration.probability(3, options)


def test_a_numeric_question_has_chance_zero_so_each_step_claims_a_quarter() -> None:
    # Given a numeric question (0 options: nothing to guess among)
    # Then c = 1 claims 0 and c = 5 certainty, in steps of 1/4 (API.md: p = (c - 1) / 4)
    assert [calibration.probability(c, 0) for c in range(1, 6)] == [0.0, 0.25, 0.5, 0.75, 1.0]


@given(options=st.integers(2, 50))
def test_probability_goes_from_chance_to_certainty_in_equal_steps(options: int) -> None:
    ps = [calibration.probability(c, options) for c in range(1, 6)]
    assert ps[0] == pytest.approx(1 / options, abs=1e-12)
    assert ps[4] == 1.0
    steps = [b - a for a, b in itertools.pairwise(ps)]
    assert all(step == pytest.approx((1 - 1 / options) / 4, abs=1e-12) for step in steps)


# --- Wilson interval ------------------------------------------------------------------------------
#
# centre = (p + z^2/2n) / (1 + z^2/n), half = z / (1 + z^2/n) x sqrt(p(1 - p)/n + z^2/4n^2), z = 1.959964,
# z^2 = 3.841459. With n = 10: 1 + z^2/n = 1.3841459 and z^2/2n = 0.1920729, z^2/4n^2 = 0.0096036.


def test_wilson_interval_of_7_out_of_10() -> None:
    # p = 0.7: centre = (0.7 + 0.1920729) / 1.3841459 = 0.8920729 / 1.3841459 = 0.6444934
    #          half = 1.959964 / 1.3841459 x sqrt(0.21 / 10 + 0.0096036) = 1.4160082 x sqrt(0.0306036)
    #               = 1.4160082 x 0.1749389 = 0.2477153
    # so (0.6444934 - 0.2477153, 0.6444934 + 0.2477153) = (0.3967781, 0.8922087)
    low, high = calibration.wilson_interval(7, 10)
    assert low == pytest.approx(0.3967781, abs=1e-6)
    assert high == pytest.approx(0.8922087, abs=1e-6)


def test_wilson_interval_of_0_out_of_10_starts_at_exactly_0() -> None:
    # p = 0: centre = 0.1920729 / 1.3841459 = 0.1387664, half = 1.4160082 x sqrt(0.0096036) = 0.1387664
    # so (0, 2 x 0.1387664) = (0, 0.2775328)
    low, high = calibration.wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.2775328, abs=1e-6)


def test_wilson_interval_of_10_out_of_10_ends_at_exactly_1() -> None:
    # p = 1: centre = 1.1920729 / 1.3841459 = 0.8612336, half = 0.1387664 (as above)
    # so (0.8612336 - 0.1387664, 1) = (0.7224672, 1); in floats centre + half is 0.9999999999999999
    low, high = calibration.wilson_interval(10, 10)
    assert low == pytest.approx(0.7224672, abs=1e-6)
    assert high == 1.0


def test_wilson_interval_with_no_trials_is_everything() -> None:
    assert calibration.wilson_interval(0, 0) == (0.0, 1.0)


def test_a_wider_z_gives_a_wider_interval() -> None:
    narrow, wide = calibration.wilson_interval(7, 10, z=1.0), calibration.wilson_interval(7, 10)
    assert wide[0] < narrow[0] < 0.7 < narrow[1] < wide[1]


@pytest.mark.parametrize(("successes", "n"), [(11, 10), (-1, 10), (0, -1)])
def test_impossible_counts_are_rejected(successes: int, n: int) -> None:
    with pytest.raises(ValueError):
        calibration.wilson_interval(successes, n)


@settings(max_examples=300)
@given(counts=st.integers(0, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_the_wilson_interval_holds_the_observed_share(counts: tuple[int, int]) -> None:
    successes, n = counts
    low, high = calibration.wilson_interval(successes, n)
    share = successes / n if n else 0.5
    assert 0.0 <= low <= share <= high <= 1.0


# --- point-biserial -------------------------------------------------------------------------------


def test_point_biserial_of_a_small_example() -> None:
    # x = 5, 4, 3, 2, 1 and y = 1, 1, 0, 1, 0 (n = 5)
    #   sum x = 15, sum y = 3, sum xy = 5 + 4 + 2 = 11, sum x^2 = 55, sum y^2 = 3
    #   r = (n sum xy - sum x sum y) / sqrt((n sum x^2 - (sum x)^2) (n sum y^2 - (sum y)^2))
    #     = (55 - 45) / sqrt((275 - 225) (15 - 9)) = 10 / sqrt(50 x 6) = 10 / sqrt(300) = 1 / sqrt(3) = 0.5773503
    r = calibration.point_biserial([5, 4, 3, 2, 1], [True, True, False, True, False])
    assert r == pytest.approx(1 / math.sqrt(3), abs=1e-12)


def test_point_biserial_is_negative_when_confidence_predicts_mistakes() -> None:
    # x = 1, 5 and y = 1, 0: two points on a falling line, r = -1
    assert calibration.point_biserial([1, 5], [True, False]) == pytest.approx(-1.0)


@pytest.mark.parametrize(("confidences", "corrects"), [
    ([], []),                                   # no answers
    ([3], [True]),                              # one answer
    ([3, 3, 3], [True, False, True]),           # confidence never varies
    ([1, 4, 5], [True, True, True]),            # always right
    ([1, 4, 5], [False, False, False]),         # always wrong
])
def test_point_biserial_is_undefined_without_variance(confidences: list[int], corrects: list[bool]) -> None:
    assert calibration.point_biserial(confidences, corrects) is None


def test_point_biserial_needs_as_many_corrects_as_confidences() -> None:
    with pytest.raises(ValueError):
        calibration.point_biserial([1, 2, 3], [True, False])


@settings(max_examples=200)
@given(pairs=st.lists(st.tuples(st.integers(1, 5), st.booleans()), min_size=2, max_size=60))
def test_point_biserial_is_the_pearson_correlation(pairs: list[tuple[int, bool]]) -> None:
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    assume(len(set(xs)) > 1 and len(set(ys)) > 1)
    r = calibration.point_biserial(xs, ys)
    assert r is not None
    assert -1.0 <= r <= 1.0
    assert r == pytest.approx(statistics.correlation(xs, [float(y) for y in ys]), abs=1e-9)


# --- the report: hand-computed --------------------------------------------------------------------


def test_a_small_report_by_hand() -> None:
    # Given five answers:
    #   c = 5 right (4 options): p = 1.0,    (p - 1)^2 = 0
    #   c = 4 wrong (4 options): p = 0.8125, (p - 0)^2 = 0.66015625
    #   c = 3 right (4 options): p = 0.625,  (p - 1)^2 = 0.140625
    #   c = 1 wrong (4 options): p = 0.25,   (p - 0)^2 = 0.0625
    #   c = 2 right (5 options): p = 0.4,    (p - 1)^2 = 0.36
    answers = [Answer(5, True, "physics", "optics"), Answer(4, False, "physics", "optics"),
               Answer(3, True, "physics", "kinematics"), Answer(1, False, "chemistry", "acids"),
               Answer(2, True, "chemistry", "acids", options=5)]
    # When the report is made
    out = calibration.report(answers)
    # Then mean p = (1 + 0.8125 + 0.625 + 0.25 + 0.4) / 5 = 3.0875 / 5 = 0.6175, accuracy = 3 / 5 = 0.6,
    # bias = 0.6175 - 0.6 = 0.0175, brier = (0 + 0.66015625 + 0.140625 + 0.0625 + 0.36) / 5
    #      = 1.22328125 / 5 = 0.24465625 -> 0.2447
    assert out == {
        "attempts": 5,
        "accuracy": 0.6,
        "mean_confidence": 0.6175,
        "bias": 0.0175,
        "brier": 0.2447,
        "calibration_score": None,  # 5 < 20 answers
        "curve": [
            {"confidence": 1, "probability": 0.25, "attempts": 1, "accuracy": 0.0},
            {"confidence": 2, "probability": 0.4, "attempts": 1, "accuracy": 1.0},  # the 5-option p
            {"confidence": 3, "probability": 0.625, "attempts": 1, "accuracy": 1.0},
            {"confidence": 4, "probability": 0.8125, "attempts": 1, "accuracy": 0.0},
            {"confidence": 5, "probability": 1.0, "attempts": 1, "accuracy": 1.0},
        ],
        "overconfident_topics": [],  # no topic has 10 answers
        "underconfident_topics": [],
    }


def test_the_curve_averages_p_over_questions_with_different_option_counts() -> None:
    # Given at c = 3 one 4-option answer (p = 0.625) and three 5-option answers (p = 0.6), 2 right of 4
    answers = answers_at(3, 1, 0) + answers_at(3, 1, 2, options=5)
    # When the report is made
    row = calibration.report(answers)["curve"][2]
    # Then that level claims (0.625 + 3 x 0.6) / 4 = 2.425 / 4 = 0.60625 -> 0.6062 or 0.6063 (float ties)
    assert row["confidence"] == 3
    assert row["probability"] == pytest.approx(0.60625, abs=1e-4 + 1e-12)
    assert (row["attempts"], row["accuracy"]) == (4, 0.5)


def test_an_empty_report_is_all_null_with_an_empty_curve() -> None:
    out = calibration.report([])
    assert out == {
        "attempts": 0, "accuracy": None, "mean_confidence": None, "bias": None, "brier": None,
        "calibration_score": None,
        "curve": [{"confidence": c, "probability": p, "attempts": 0, "accuracy": None}
                  for c, p in zip(range(1, 6), [0.25, 0.4375, 0.625, 0.8125, 1.0], strict=True)],
        "overconfident_topics": [], "underconfident_topics": [],
    }


def test_a_report_of_one_answer() -> None:
    # Given one wrong answer at c = 4 on a 4-option question: p = 0.8125
    out = calibration.report([Answer(4, False, "physics", "optics")])
    # Then accuracy 0, bias 0.8125 - 0 = 0.8125, brier 0.8125^2 = 0.66015625 -> 0.6602, no score, no topics
    assert (out["attempts"], out["accuracy"], out["mean_confidence"], out["bias"], out["brier"]) == (
        1, 0.0, 0.8125, 0.8125, 0.6602)
    assert out["calibration_score"] is None
    assert [row["attempts"] for row in out["curve"]] == [0, 0, 0, 1, 0]
    assert out["curve"][3]["accuracy"] == 0.0
    assert out["overconfident_topics"] == out["underconfident_topics"] == []


# --- the report: the calibration score's minimums -------------------------------------------------

# The point-biserial example above: x = 5, 4, 3, 2, 1 and y = 1, 1, 0, 1, 0 gives r = 1/sqrt(3). Repeating
# the whole data set n times multiplies every centred sum by n, so r stays 1/sqrt(3) = 0.57735 -> 0.5774.
BLOCK = [Answer(5, True, "physics", "optics"), Answer(4, True, "physics", "optics"),
         Answer(3, False, "physics", "optics"), Answer(2, True, "physics", "optics"),
         Answer(1, False, "physics", "optics")]


def test_the_calibration_score_needs_20_answers() -> None:
    # Given the block four times: 20 answers, 12 right and 8 wrong
    twenty = BLOCK * 4
    # Then the score is 1/sqrt(3) rounded
    assert calibration.report(twenty)["calibration_score"] == 0.5774
    # and with one answer less (19; still 11+ right and 7+ wrong) it is null
    assert calibration.report(twenty[:19])["calibration_score"] is None


def test_the_calibration_score_needs_3_wrong_answers() -> None:
    # Given 20 answers: right ones at c = 5, wrong ones at c = 1 (so r = 1 whenever it is defined)
    three_wrong = answers_at(5, 17, 0) + answers_at(1, 0, 3)
    two_wrong = answers_at(5, 18, 0) + answers_at(1, 0, 2)
    # Then 17 right / 3 wrong gives a score and 18 right / 2 wrong does not
    assert calibration.report(three_wrong)["calibration_score"] == 1.0
    assert calibration.report(two_wrong)["calibration_score"] is None


def test_the_calibration_score_needs_3_right_answers() -> None:
    three_right = answers_at(5, 3, 0) + answers_at(1, 0, 17)
    two_right = answers_at(5, 2, 0) + answers_at(1, 0, 18)
    assert calibration.report(three_right)["calibration_score"] == 1.0
    assert calibration.report(two_right)["calibration_score"] is None


def test_the_calibration_score_is_null_when_confidence_never_varies() -> None:
    # 20 answers, 10 right and 10 wrong, all at c = 3: r is undefined
    assert calibration.report(answers_at(3, 10, 10))["calibration_score"] is None


# --- the report: topics ---------------------------------------------------------------------------


def test_a_topic_needs_10_answers_to_be_judged() -> None:
    # Given always c = 5 and always wrong: bias = 1 - 0 = 1, Wilson upper bound of 0/10 = 0.2775 < 1
    # Then 9 answers are not judged and 10 are flagged overconfident
    assert flagged(answers_at(5, 0, 9)) == ([], [])
    assert flagged(answers_at(5, 0, 10)) == ([("physics", "optics")], [])


def test_an_overconfident_topic_row() -> None:
    # Given 10 answers at c = 5 (4 options), 0 right: mean p 1, accuracy 0, bias 1, Wilson (0, 0.2775328)
    out = calibration.report(answers_at(5, 0, 10))
    # Then the row carries the topic's figures
    assert out["overconfident_topics"] == [{
        "subject": "physics", "topic": "optics", "attempts": 10, "accuracy": 0.0, "mean_confidence": 1.0,
        "bias": 1.0, "wilson_low": 0.0, "wilson_high": 0.2775,
    }]


def test_an_underconfident_topic_row() -> None:
    # Given 10 answers at c = 1 (4 options), all right: mean p 0.25, accuracy 1, bias -0.75,
    # Wilson (0.7224672, 1) whose lower bound is above 0.25
    out = calibration.report(answers_at(1, 10, 0, topic="acids", subject="chemistry"))
    assert out["underconfident_topics"] == [{
        "subject": "chemistry", "topic": "acids", "attempts": 10, "accuracy": 1.0, "mean_confidence": 0.25,
        "bias": -0.75, "wilson_low": 0.7225, "wilson_high": 1.0,
    }]
    assert out["overconfident_topics"] == []


def test_a_large_bias_on_few_answers_is_not_flagged_when_it_could_be_chance() -> None:
    # Given 10 answers at c = 3 (p = 0.625) with 4 right: bias 0.625 - 0.4 = 0.225 >= 0.15,
    # but the Wilson upper bound of 4/10 is 0.6873 >= 0.625
    assert flagged(answers_at(3, 4, 6)) == ([], [])
    # When the same share holds over 100 answers (40 right) the upper bound is 0.4980 < 0.625: flagged
    assert flagged(answers_at(3, 40, 60)) == ([("physics", "optics")], [])


def test_a_bias_of_exactly_0_15_is_overconfident() -> None:
    # Given 100 answers on 5-option questions: 75 at c = 5 (p = 1) and 25 at c = 4 (p = 0.8), 80 right
    answers = answers_at(5, 75, 0, options=5) + answers_at(4, 5, 20, options=5)
    # Then mean p = (75 + 25 x 0.8) / 100 = 95 / 100 = 0.95, accuracy 0.8, bias 0.15 exactly on paper
    # (in floats 0.95 - 0.8 = 0.1499999999999999, below 0.15), and Wilson upper of 80/100 = 0.8666 < 0.95
    assert 0.95 - 0.8 < 0.15
    over, under = flagged(answers)
    assert (over, under) == ([("physics", "optics")], [])
    assert calibration.report(answers)["overconfident_topics"][0]["bias"] == 0.15


def test_a_bias_just_under_0_15_is_not_overconfident() -> None:
    # Given the same but 81 right: bias 0.95 - 0.81 = 0.14 (Wilson upper of 81/100 = 0.8749 < 0.95)
    answers = answers_at(5, 75, 0, options=5) + answers_at(4, 6, 19, options=5)
    assert flagged(answers) == ([], [])


def test_a_bias_of_exactly_minus_0_15_is_underconfident() -> None:
    # Given 100 answers at c = 4 on 5-option questions (p = 0.8), 95 right: bias 0.8 - 0.95 = -0.15 on paper
    # (in floats -0.1499999999999999), and Wilson lower of 95/100 = 0.8882 > 0.8
    answers = answers_at(4, 95, 5, options=5)
    assert 0.8 - 0.95 > -0.15
    assert flagged(answers) == ([], [("physics", "optics")])
    assert calibration.report(answers)["underconfident_topics"][0]["bias"] == -0.15


def test_a_bias_just_above_minus_0_15_is_not_underconfident() -> None:
    # 94 right: bias 0.8 - 0.94 = -0.14 (Wilson lower of 94/100 = 0.8752 > 0.8)
    assert flagged(answers_at(4, 94, 6, options=5)) == ([], [])


def test_topics_are_grouped_by_subject_and_topic() -> None:
    # Given 5 wrong answers at c = 5 in physics/optics and 5 in chemistry/optics: same topic name, other subject
    answers = answers_at(5, 0, 5) + answers_at(5, 0, 5, subject="chemistry")
    # Then neither group reaches 10 answers
    assert flagged(answers) == ([], [])


def test_flagged_topics_are_sorted_by_bias_then_subject_and_topic() -> None:
    # Given overconfident topics with bias 1 (c = 5, none right), 0.8125 (c = 4, none right) and two
    # with bias 1 in other subjects/topics; and underconfident ones with bias -0.75 (c = 1) and -0.5625 (c = 2)
    answers = (answers_at(4, 0, 10, topic="kinematics") + answers_at(5, 0, 10, topic="optics")
               + answers_at(5, 0, 10, topic="acids", subject="chemistry") + answers_at(5, 0, 10, topic="acids")
               + answers_at(2, 10, 0, topic="waves") + answers_at(1, 10, 0, topic="gases", subject="chemistry"))
    out = calibration.report(answers)
    # Then the overconfident are by bias descending, ties by (subject, topic)
    assert [(r["subject"], r["topic"], r["bias"]) for r in out["overconfident_topics"]] == [
        ("chemistry", "acids", 1.0), ("physics", "acids", 1.0), ("physics", "optics", 1.0),
        ("physics", "kinematics", 0.8125)]
    # and the underconfident by bias ascending: -0.75, then 0.4375 - 1 = -0.5625
    assert [(r["subject"], r["topic"], r["bias"]) for r in out["underconfident_topics"]] == [
        ("chemistry", "gases", -0.75), ("physics", "waves", -0.5625)]


# --- properties -----------------------------------------------------------------------------------

answer_st = st.builds(Answer, confidence=st.integers(1, 5), correct=st.booleans(),
                      subject=st.sampled_from(SUBJECTS), topic=st.sampled_from(TOPICS), options=st.sampled_from([4, 5]))
topic_st = st.tuples(st.sampled_from(SUBJECTS), st.sampled_from(TOPICS))


@settings(max_examples=200)
@given(answers=st.lists(answer_st, min_size=1, max_size=80))
def test_brier_is_between_0_and_1_and_bias_between_minus_1_and_1(answers: list[Answer]) -> None:
    out = calibration.report(answers)
    assert 0.0 <= out["brier"] <= 1.0
    assert -1.0 <= out["bias"] <= 1.0
    # each of the three is rounded to 4 places, so they can disagree by up to 3 x 0.00005
    assert out["bias"] == pytest.approx(out["mean_confidence"] - out["accuracy"], abs=1.5e-4 + 1e-12)
    assert len(out["curve"]) == 5
    assert sum(row["attempts"] for row in out["curve"]) == len(answers)
    for row in out["overconfident_topics"] + out["underconfident_topics"]:
        assert row["attempts"] >= calibration.MIN_TOPIC_ATTEMPTS


def calibrated_block(confidence: int, options: int, subject: str, topic: str) -> list[Answer]:
    """The smallest set of answers at one level whose share right is exactly p: p = r / 16 on 4 options
    (4, 7, 10, 13, 16 right of 16), p = c / 5 on 5 options (c right of 5)."""
    size = 16 if options == 4 else 5
    right = round(calibration.probability(confidence, options) * size)
    assert right == calibration.probability(confidence, options) * size  # exact: the block is calibrated
    return answers_at(confidence, right, size - right, topic=topic, subject=subject, options=options)


# Per topic, a list of (confidence, options, how many blocks)
calibrated_st = st.dictionaries(
    topic_st,
    st.lists(st.tuples(st.integers(1, 5), st.sampled_from([4, 5]), st.integers(1, 3)), min_size=1, max_size=6),
    min_size=1,
)


@settings(max_examples=100, deadline=None)
@given(plan=calibrated_st, randomness=st.randoms(use_true_random=False))
def test_a_perfectly_calibrated_student_has_no_bias_and_no_flagged_topics(
        plan: dict[tuple[str, str], list[tuple[int, int, int]]], randomness: random.Random) -> None:
    # Given a student whose share right at every level, in every topic, is exactly the p they claimed
    answers = [answer for (subject, topic), blocks in plan.items() for confidence, options, count in blocks
               for _ in range(count) for answer in calibrated_block(confidence, options, subject, topic)]
    randomness.shuffle(answers)
    # When the report is made
    out = calibration.report(answers)
    # Then the bias is nil, every level's accuracy is its claimed probability, and no topic is flagged
    assert abs(out["bias"]) < 1e-9
    assert out["mean_confidence"] == pytest.approx(out["accuracy"], abs=1e-4 + 1e-12)
    for row in out["curve"]:
        if row["attempts"]:
            assert row["accuracy"] == pytest.approx(row["probability"], abs=1e-4 + 1e-12)
    assert out["overconfident_topics"] == out["underconfident_topics"] == []


sizes_st = st.dictionaries(topic_st, st.integers(calibration.MIN_TOPIC_ATTEMPTS, 40), min_size=1)


@settings(max_examples=100, deadline=None)
@given(sizes=sizes_st, options=st.sampled_from([4, 5]))
def test_always_certain_and_always_wrong_is_overconfident_in_every_topic(sizes: dict[tuple[str, str], int],
                                                                        options: int) -> None:
    answers = [answer for (subject, topic), n in sizes.items()
               for answer in answers_at(5, 0, n, topic=topic, subject=subject, options=options)]
    over, under = flagged(answers)
    assert sorted(over) == sorted(sizes)
    assert under == []


@settings(max_examples=100, deadline=None)
@given(sizes=sizes_st, options=st.sampled_from([4, 5]))
def test_always_guessing_and_always_right_is_underconfident_in_every_topic(sizes: dict[tuple[str, str], int],
                                                                          options: int) -> None:
    answers = [answer for (subject, topic), n in sizes.items()
               for answer in answers_at(1, n, 0, topic=topic, subject=subject, options=options)]
    over, under = flagged(answers)
    assert sorted(under) == sorted(sizes)
    assert over == []


@settings(max_examples=200, deadline=None)
@given(answers=st.lists(answer_st, max_size=120), randomness=st.randoms(use_true_random=False))
def test_the_report_does_not_depend_on_the_order_of_the_answers(answers: list[Answer],
                                                               randomness: random.Random) -> None:
    shuffled = list(answers)
    randomness.shuffle(shuffled)
    assert calibration.report(shuffled) == calibration.report(answers)
