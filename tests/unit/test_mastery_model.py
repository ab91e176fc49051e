"""mindly.domain.mastery: the online ability / difficulty model of adaptive practice, and its bench.

P = c + (1 - c) * sigmoid(theta - b); c = 1/k (0 for numeric). After an answer with slope
g = (y - P) * (P - c) / (P (1 - c)): theta += K_student(n) * g, b -= K_question(m) * g, both clipped to
[-4, 4]. The question's side is a sum of integer steps and a count, so delivery order cannot change it.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import mastery_model as bench
from mindly.domain import mastery
from mindly.domain.mastery import Ability, Difficulty, QuestionAnswer, QuestionEvidence

logits = st.floats(min_value=-mastery.BOUND, max_value=mastery.BOUND, allow_nan=False)
chances = st.sampled_from([0.0, 0.2, 0.25, 1 / 3, 0.5])
counts = st.integers(min_value=0, max_value=10_000)
question_answers = st.builds(QuestionAnswer, theta=logits, seen=st.builds(Difficulty, b=logits, answers=counts),
                             chance=chances, correct=st.booleans())


# --- prediction and the chance floor --------------------------------------------------------------


@pytest.mark.parametrize(("options", "chance"), [(4, 0.25), (5, 0.2), (2, 0.5), (0, 0.0)])
def test_the_mastery_chance_floor_is_one_over_the_options(options: int, chance: float) -> None:
    # Given a question with k options (0 for numeric) / Then its guessing floor is 1/k, 0 for numeric
    assert mastery.chance_of(options) == chance


@pytest.mark.parametrize("options", [1, -1])
def test_a_question_with_one_option_has_no_mastery_chance(options: int) -> None:
    # Given a question with fewer than 2 options (not numeric) / When its chance is asked / Then it is refused
    with pytest.raises(ValueError, match="at least 2 options"):
        mastery.chance_of(options)


@given(theta=logits, b=logits, chance=chances)
def test_a_mastery_prediction_stays_between_the_chance_floor_and_one(theta: float, b: float, chance: float) -> None:
    # Given any ability, difficulty and floor / When the chance of a right answer is predicted
    p = mastery.predict(Ability(theta), Difficulty(b), chance)
    # Then it is never below guessing and never above certainty
    assert chance <= p <= 1.0


def test_an_even_match_predicts_halfway_between_guessing_and_certainty() -> None:
    # Given theta = b / When predicted / Then P = c + (1 - c) / 2
    assert mastery.predict(Ability(0.7), Difficulty(0.7), 0.25) == pytest.approx(0.625, abs=1e-12)
    assert mastery.predict(Ability(0.7), Difficulty(0.7), 0.0) == pytest.approx(0.5, abs=1e-12)


def test_a_mastery_prediction_refuses_a_chance_of_certainty() -> None:
    # Given a floor of 1 (nothing to learn) or below 0 / When predicted / Then it is refused
    for chance in (1.0, -0.1):
        with pytest.raises(ValueError, match="chance"):
            mastery.predict(Ability(), Difficulty(0.0), chance)


# --- priors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("label", "b"), [("easy", -1.0), ("medium", 0.0), ("hard", 1.0)])
def test_a_new_question_starts_from_its_bank_label(label: str, b: float) -> None:
    # Given a question nobody has answered / Then its difficulty is its label's prior, on no answers
    assert mastery.prior_difficulty(label) == Difficulty(b, 0)
    assert mastery.difficulty_of(mastery.new_question(label)) == Difficulty(b, 0)


def test_an_unknown_difficulty_label_has_no_prior() -> None:
    # Given a label outside easy/medium/hard / When its prior is asked / Then it is refused
    with pytest.raises(ValueError, match="easy, medium, hard"):
        mastery.prior_difficulty("brutal")


def test_a_new_student_topic_starts_at_the_average_student() -> None:
    # Given no answers in a topic / Then theta is 0 and mastery an even chance on a median question
    assert Ability() == Ability(0.0, 0)
    assert mastery.mastery(Ability()) == 0.5


# --- updates move the right way, boundedly, by shrinking steps ------------------------------------


@given(theta=st.floats(min_value=-3.5, max_value=3.5), b=st.floats(min_value=-3.5, max_value=3.5),
       chance=chances, answers=st.integers(min_value=0, max_value=50))
def test_a_right_answer_raises_ability_and_lowers_difficulty(theta: float, b: float, chance: float,
                                                             answers: int) -> None:
    # Given a student topic and a question inside the bounds
    ability, seen = Ability(theta, answers), Difficulty(b, answers)
    # When the answer is right
    after = mastery.update_student(ability, seen, chance, True)
    term = mastery.question_term(QuestionAnswer(theta, seen, chance, True))
    # Then the ability does not fall, the difficulty does not rise, and both count the answer
    assert after.theta >= theta and after.answers == answers + 1
    assert term <= 0
    # And when it is wrong, the other way round, strictly
    assert mastery.update_student(ability, seen, chance, False).theta < theta
    assert mastery.question_term(QuestionAnswer(theta, seen, chance, False)) > 0


def test_a_right_answer_on_an_even_numeric_question_moves_by_the_plain_elo_step() -> None:
    # Given theta = b = 0 on a numeric question (no guessing) and a new student topic
    after = mastery.update_student(Ability(), Difficulty(0.0), 0.0, True)
    # Then theta moves by K_student(0) * (1 - 0.5) = 0.5, and the question by -K_question(0) * 0.5
    assert after == Ability(0.5, 1)
    assert mastery.question_term(QuestionAnswer(0.0, Difficulty(0.0), 0.0, True)) == -150_000


def test_a_right_guessable_answer_counts_for_less_than_a_right_numeric_one() -> None:
    # Given the same even match, once with 4 options and once numeric
    guessable = mastery.update_student(Ability(), Difficulty(0.0), 0.25, True)
    numeric = mastery.update_student(Ability(), Difficulty(0.0), 0.0, True)
    # Then the right answer that could have been a guess moves theta less
    assert 0 < guessable.theta < numeric.theta


@settings(max_examples=50)
@given(outcomes=st.lists(st.booleans(), min_size=1, max_size=300), chance=chances,
       start=st.sampled_from([-mastery.BOUND, 0.0, mastery.BOUND]))
def test_ability_and_difficulty_stay_inside_their_bounds(outcomes: list[bool], chance: float, start: float) -> None:
    # Given a student and a question starting anywhere up to the edges, and any run of answers
    ability, evidence = Ability(start), QuestionEvidence(-start)
    for correct in outcomes:
        seen = mastery.difficulty_of(evidence)
        evidence = mastery.update_question(evidence, QuestionAnswer(ability.theta, seen, chance, correct))
        ability = mastery.update_student(ability, seen, chance, correct)
        # Then neither ever leaves [-4, 4]
        assert -mastery.BOUND <= ability.theta <= mastery.BOUND
        assert -mastery.BOUND <= mastery.difficulty_of(evidence).b <= mastery.BOUND


def test_a_run_of_right_answers_stops_at_the_upper_bound() -> None:
    # Given 500 right numeric answers to the hardest questions there can be
    ability = Ability()
    for _ in range(500):
        ability = mastery.update_student(ability, Difficulty(mastery.BOUND), 0.0, True)
    # Then theta climbs to the bound and no further
    assert ability.theta == mastery.BOUND


def test_the_steps_shrink_with_the_answers_seen() -> None:
    # Given the step sizes after 0, 1, 2, ... answers
    student = [mastery.student_step(n) for n in range(200)]
    question = [mastery.question_step(n) for n in range(200)]
    # Then each is never larger than the one before, strictly smaller until the student floor
    assert all(later <= earlier for earlier, later in itertools.pairwise(student))
    assert student[0] == 1.0 and student[8] == 0.5 and student[-1] == mastery.STUDENT_STEP_FLOOR
    assert all(later < earlier for earlier, later in itertools.pairwise(question))
    assert question[0] == 0.3 and question[20] == pytest.approx(0.15)


def test_an_experienced_student_topic_moves_less_on_the_same_answer() -> None:
    # Given the same ability and question, once new and once after 40 answers
    new = mastery.update_student(Ability(0.0, 0), Difficulty(0.0), 0.25, False)
    seasoned = mastery.update_student(Ability(0.0, 40), Difficulty(0.0), 0.25, False)
    # Then the wrong answer costs the experienced one less
    assert new.theta < seasoned.theta < 0.0


# --- the question's side: any delivery order, the same difficulty ---------------------------------


@settings(max_examples=200)
@given(data=st.data(), answers=st.lists(question_answers, min_size=1, max_size=40),
       prior=st.sampled_from(sorted(mastery.DIFFICULTY_PRIORS.values())))
def test_a_questions_difficulty_does_not_depend_on_delivery_order(data: st.DataObject, answers: list[QuestionAnswer],
                                                                  prior: float) -> None:
    # Given the same answers' messages delivered in two orders
    shuffled = data.draw(st.permutations(answers))
    in_order, reordered = QuestionEvidence(prior), QuestionEvidence(prior)
    for answer, other in zip(answers, shuffled, strict=True):
        in_order = mastery.update_question(in_order, answer)
        reordered = mastery.update_question(reordered, other)
    # Then the learned state, and so the difficulty, is the same exactly
    assert in_order == reordered
    assert mastery.difficulty_of(in_order) == mastery.difficulty_of(reordered)


def test_current_messages_reproduce_the_sequential_update() -> None:
    # Given answers each computed from the question's difficulty as it stood just before them
    evidence, b = mastery.new_question("hard"), 1.0
    for index, correct in enumerate([True, False, True, True, False, True]):
        seen = mastery.difficulty_of(evidence)
        theta = 0.3 * index - 0.5
        slope = mastery.surprise(Ability(theta), Difficulty(b), 0.2, correct)
        b -= mastery.question_step(index) * slope
        evidence = mastery.update_question(evidence, QuestionAnswer(theta, seen, 0.2, correct))
        # Then the summed state follows b' = b - K_question(m) * g to a millionth per answer
        assert mastery.difficulty_of(evidence).b == pytest.approx(b, abs=1e-6 * (index + 1))
    assert evidence.answers == 6


def test_a_difficulty_is_clipped_when_read_not_when_summed() -> None:
    # Given a question whose summed steps push it past the lower bound, then back
    pushed = QuestionEvidence(prior=-3.0, steps=-2 * mastery.STEP_UNITS, answers=10)
    # Then it reads as the bound, and the sum keeps what it holds
    assert mastery.difficulty_of(pushed) == Difficulty(-mastery.BOUND, 10)
    assert mastery.difficulty_of(pushed._replace(steps=pushed.steps + 1_500_000)).b == pytest.approx(-3.5)


# --- mastery --------------------------------------------------------------------------------------


@given(theta=logits, median=logits)
def test_mastery_is_a_chance_between_zero_and_one(theta: float, median: float) -> None:
    # Given any ability and a topic's median difficulty / Then mastery is in [0, 1]
    assert 0.0 <= mastery.mastery(Ability(theta), median) <= 1.0


def test_mastery_grows_with_ability_and_ignores_guessing() -> None:
    # Given three abilities on a median question of b = 0
    low, mid, high = (mastery.mastery(Ability(theta)) for theta in (-2.0, 0.0, 2.0))
    # Then mastery is sigmoid(theta - b): increasing, 0.5 at an even match, below 1/4 for a weak student
    assert low < mid < high
    assert mid == 0.5 and low < 0.25


# --- the bench: measured prediction quality -------------------------------------------------------


def test_mastery_auc_counts_ties_as_half() -> None:
    # Given predictions with a tie between a right and a wrong answer
    predicted, outcomes = [0.1, 0.4, 0.4, 0.8], [False, False, True, True]
    # Then AUC is (1 + 1 + 0.5 + 1) / 4 pairs, and a perfect ranking is 1
    assert bench.auc(predicted, outcomes) == 0.875
    assert bench.auc([0.1, 0.2, 0.9], [False, True, True]) == 1.0


def test_mastery_log_loss_of_an_even_guess_is_log_two() -> None:
    # Given 0.5 on every answer / Then log loss is ln 2 whatever the outcomes
    assert bench.log_loss([0.5, 0.5], [True, False]) == pytest.approx(0.6931471805599453)


SMALL_RUN = bench.Config(students=120, topics=2, questions_per_topic=100, answers_per_topic=100, seed=7)


@pytest.fixture(scope="module")
def small_run() -> bench.Result:
    return bench.simulate(SMALL_RUN)


def test_the_model_meets_the_prediction_target_on_unseen_answers(small_run: bench.Result) -> None:
    # Given 24,000 simulated answers, each predicted before the model learned from it
    met, missed = bench.target_met(small_run)
    # Then AUC >= 0.75 and the log loss beats both running-accuracy baselines
    assert met, missed
    assert len(small_run.model.outcomes) == 24_000


def test_the_model_is_calibrated_on_unseen_answers(small_run: bench.Result) -> None:
    # Given the calibration table of the same run / Then each well-filled bin's success is within 0.05 of its prediction
    rows = bench.calibration_table(small_run.model.predicted, small_run.model.outcomes)
    assert all(abs(observed - mean_p) < 0.05 for _, count, mean_p, observed in rows if count >= 500)


def test_the_mastery_bench_is_deterministic_for_a_seed(small_run: bench.Result) -> None:
    # Given the same population and seed run again / Then every prediction is the same
    again = bench.simulate(SMALL_RUN)
    assert again.model.predicted == small_run.model.predicted
    assert again.answers_to_settle == small_run.answers_to_settle
