"""What a student knows: an online ability per topic and a difficulty per question (API.md "Adaptive practice").

The model is the one-parameter IRT (Rasch) model with a guessing floor, learned online as in Elo:

    P(correct) = c + (1 - c) * sigmoid(theta - b)

theta is the student's ability in the question's topic, b the question's difficulty, both on the
logit scale, and c the chance of guessing right: 1/k for a question offering k options (4-option and
5-option single-answer questions, and multiple-correct ones too, as API.md's calibration counts
them: the floor of a set answer is then generous, since a blind guess of a set is rarer than 1/k,
but the two reports agree on what chance is), 0 for a numeric question.

Learning. After an answer y (1 right, 0 wrong) with predicted P, each side takes one step along
the gradient of the answer's log-likelihood:

    g = (y - P) * w,   w = (P - c) / (P * (1 - c))      (w = 1 when c = 0: plain Elo)
    theta' = clip(theta + K_student(n) * g)             n = the student's answers in the topic so far
    b'     = clip(b     - K_question(m) * g)            m = the question's answers so far

w discounts a right answer by the chance it was a guess: on a 4-option question a right answer
from a weak student says little. The steps shrink with the evidence seen:

    K_student(n)  = max(STUDENT_STEP_FLOOR, STUDENT_STEP / (1 + n / STUDENT_STEP_HALF_LIFE))
    K_question(m) = QUESTION_STEP / (1 + m / QUESTION_STEP_HALF_LIFE)

(1.0, 8 answers, a floor of 0.1 for students, whose knowledge moves as they study; 0.3 and 20
answers for questions, which have many students behind them and do not change). theta and b stay
in [-4, 4] (BOUND): at the edges P is within 0.04% of its limits, and one unlucky streak cannot
send a value to where it takes hundreds of answers to come back.

Priors. A new student topic starts at theta = 0 (the average student on a medium question: an even
chance of knowing it). A new question starts from its bank label: easy -1.0, medium 0.0, hard 1.0
(DIFFICULTY_PRIORS), i.e. sigmoid 0.73, 0.5 and 0.27 for an average student before guessing.

Order independence of the question side. Every student's answer updates the question, so its side
is learned off the hot path from the answers' messages, which may arrive in any order and in
parallel. A message carries what the submit saw at answer time (the student's theta, the question's
b and answer count m then, the chance, the outcome), so its step -K_question(m) * g depends on
nothing that delivery order can change. The question keeps the sum of these steps, in integer
millionths (STEP_UNITS), and its answer count; b = clip(prior + sum / STEP_UNITS). Integers add
exactly in any order (and DynamoDB's ADD on a number is exact for them), so any permutation of the
same answers gives the same b bit for bit; the clip is applied when b is read, never to a partial
sum, for the same reason. When the question's values are current at every submit this is exactly
the sequential update above (to a millionth per answer); a lagging aggregate only means steps
computed from a slightly older b.

Mastery of a topic is the predicted chance on a median-difficulty question of that topic without
the guessing floor, sigmoid(theta - b_median): guessing is not knowing, and the figure means the
same whatever the topic's question types. b_median defaults to the medium prior, 0.
"""

from __future__ import annotations

import math
from typing import NamedTuple

BOUND = 4.0
PRIOR_ABILITY = 0.0
DIFFICULTY_PRIORS = {"easy": -1.0, "medium": 0.0, "hard": 1.0}
MEDIAN_DIFFICULTY = DIFFICULTY_PRIORS["medium"]
STUDENT_STEP = 1.0
STUDENT_STEP_HALF_LIFE = 8.0
STUDENT_STEP_FLOOR = 0.1
QUESTION_STEP = 0.3
QUESTION_STEP_HALF_LIFE = 20.0
STEP_UNITS = 1_000_000  # a question's summed steps are kept in millionths of a logit: integers add exactly


class Ability(NamedTuple):
    """A student's ability in one topic (logits) and how many of its answers it has learned from."""

    theta: float = PRIOR_ABILITY
    answers: int = 0


class Difficulty(NamedTuple):
    """A question's difficulty (logits) as the submit reads it, and how many answers it stands on."""

    b: float
    answers: int = 0


class QuestionAnswer(NamedTuple):
    """One answer as the question's side learns it: what the submit saw at answer time, carried in its message."""

    theta: float  # the student's ability in the topic before this answer
    seen: Difficulty  # the question's difficulty the submit read
    chance: float
    correct: bool


class QuestionEvidence(NamedTuple):
    """A question's learned state: its prior, the sum of its answers' steps (millionths) and their count.

    A sum and a count are sufficient statistics: they do not depend on the order the answers came in.
    """

    prior: float
    steps: int = 0
    answers: int = 0


def chance_of(options: int) -> float:
    """The guessing floor c of a question offering ``options`` options: 1/k, 0 for a numeric question
    (``Question.chance_options`` gives k, 0 for numeric)."""
    if options == 0:
        return 0.0
    if options < 2:
        raise ValueError("a question needs at least 2 options (0 for a numeric question)")
    return 1.0 / options


def prior_difficulty(label: str) -> Difficulty:
    """A new question's difficulty from its bank label (easy, medium, hard), learned from no answer yet."""
    try:
        return Difficulty(DIFFICULTY_PRIORS[label], 0)
    except KeyError:
        raise ValueError(f"difficulty must be one of {', '.join(DIFFICULTY_PRIORS)}") from None


def new_question(label: str) -> QuestionEvidence:
    """The learned state of a question nobody has answered yet: its label's prior, no steps."""
    return QuestionEvidence(prior_difficulty(label).b)


def predict(ability: Ability, difficulty: Difficulty, chance: float) -> float:
    """P(correct) = c + (1 - c) * sigmoid(theta - b): always in [c, 1]."""
    _check_chance(chance)
    return chance + (1.0 - chance) * _sigmoid(ability.theta - difficulty.b)


def student_step(answers: int) -> float:
    """K_student(n) = max(0.1, 1.0 / (1 + n / 8)): how far one answer moves a topic's ability after n answers."""
    return max(STUDENT_STEP_FLOOR, STUDENT_STEP / (1.0 + answers / STUDENT_STEP_HALF_LIFE))


def question_step(answers: int) -> float:
    """K_question(m) = 0.3 / (1 + m / 20): how far one answer moves a difficulty after m answers."""
    return QUESTION_STEP / (1.0 + answers / QUESTION_STEP_HALF_LIFE)


def surprise(ability: Ability, difficulty: Difficulty, chance: float, correct: bool) -> float:
    """g = (y - P) * (P - c) / (P * (1 - c)): the log-likelihood's slope in theta for this answer.

    Positive for a right answer, negative for a wrong one; a right answer counts for less the more
    likely it was a guess.
    """
    p = predict(ability, difficulty, chance)
    weight = (p - chance) / (p * (1.0 - chance))
    return ((1.0 if correct else 0.0) - p) * weight


def update_student(ability: Ability, difficulty: Difficulty, chance: float, correct: bool) -> Ability:
    """The topic ability after one answer to a question of ``difficulty``: theta + K_student(n) * g, clipped."""
    step = student_step(ability.answers) * surprise(ability, difficulty, chance, correct)
    return Ability(_clip(ability.theta + step), ability.answers + 1)


def question_term(answer: QuestionAnswer) -> int:
    """One answer's step of its question's difficulty, -K_question(m) * g, in millionths (rounded).

    Computed from the message alone, so it is the same whenever and in whatever order it is delivered.
    """
    g = surprise(Ability(answer.theta), answer.seen, answer.chance, answer.correct)
    return round(-question_step(answer.seen.answers) * g * STEP_UNITS)


def update_question(evidence: QuestionEvidence, answer: QuestionAnswer) -> QuestionEvidence:
    """The question's state with one more answer: its step added to the sum, its count up by one."""
    return QuestionEvidence(evidence.prior, evidence.steps + question_term(answer), evidence.answers + 1)


def difficulty_of(evidence: QuestionEvidence) -> Difficulty:
    """The difficulty a question's state stands for: clip(prior + sum of steps), and its answer count."""
    return Difficulty(_clip(evidence.prior + evidence.steps / STEP_UNITS), evidence.answers)


def mastery(ability: Ability, median_difficulty: float = MEDIAN_DIFFICULTY) -> float:
    """A topic's mastery (0..1): the predicted chance on a median-difficulty question without the
    guessing floor, sigmoid(theta - b_median)."""
    return predict(ability, Difficulty(median_difficulty), 0.0)


def _check_chance(chance: float) -> None:
    if not 0.0 <= chance < 1.0:
        raise ValueError("chance must be in [0, 1)")


def _sigmoid(x: float) -> float:
    # Written both ways so exp never overflows, whatever the sign of x.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _clip(value: float) -> float:
    return max(-BOUND, min(BOUND, value))
