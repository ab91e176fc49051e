"""How well mindly.domain.mastery predicts answers it has not seen, on simulated students.

Students with known abilities (a general level plus a per-topic offset) answer questions with known
difficulties (each drawn around its bank label's prior, so the labels are informative but rough),
a mix of 4-option, 5-option and numeric questions. Every answer is drawn from the true model,
P = c + (1 - c) * sigmoid(theta - b), guessing floor included. Answers come in a random interleaving
of all students (so questions learn from many students while each student learns), and each is
first predicted, then learned from (the online protocol: no answer is predicted by a model that
has seen it). The questions learn as the deployed side does, from QuestionAnswer messages summed
into QuestionEvidence.

Printed: log loss, AUC (rank-based, exact with ties) and Brier of the model, of two baselines run
the same way (the student's running accuracy in the topic, and the question's running accuracy,
each starting from Laplace's (right + 1) / (answers + 2)) and of the truth itself (the ceiling); a
calibration table of predicted vs observed success; and how many answers a new student needs before
the model's predicted chance on a reference question (4 options, b = 0) is within 0.1 of the true
one, and stays there.

    .venv/bin/python -m bench.mastery_model [--students 400] [--seed 7] [--other-seeds 4] [--strict]

Deterministic for a seed; about 20 seconds with the summary of further seeds (4 by default).
``--strict`` exits 1 when the target (AUC >= 0.75 and a lower log loss than both baselines) is
missed on ``--seed``.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parent.parent
LAYER = REPO / "layers" / "common"
if str(LAYER) not in sys.path:  # run as `python -m bench.mastery_model` from the repository
    sys.path.insert(0, str(LAYER))

from mindly.domain import mastery  # noqa: E402
from mindly.domain.mastery import Ability, Difficulty, QuestionAnswer, QuestionEvidence  # noqa: E402

TARGET_AUC = 0.75
CLOSE_ENOUGH = 0.1
REFERENCE = Difficulty(0.0)
REFERENCE_CHANCE = mastery.chance_of(4)
LABEL_SHARES = (("easy", 0.3), ("medium", 0.4), ("hard", 0.3))
OPTION_SHARES = ((4, 0.5), (5, 0.25), (0, 0.25))  # k options; 0 = numeric
CALIBRATION_BINS = 10
T = TypeVar("T")
OTHER_SEEDS = 4
EXPERIENCE_BANDS = ((0, 10), (10, 30), (30, 60), (60, 10**9))


@dataclass(frozen=True)
class Config:
    """The simulated population: sizes, spreads (logits) and the seed."""

    students: int = 400
    topics: int = 4
    questions_per_topic: int = 150
    answers_per_topic: int = 100  # each student, each topic, distinct questions
    student_spread: float = 1.0  # sd of a student's general level
    topic_spread: float = 0.5  # sd of a student's offset in one topic
    label_spread: float = 0.6  # sd of a question's true b around its label's prior
    seed: int = 7


@dataclass(frozen=True)
class TrueQuestion:
    topic: int
    b: float
    label: str
    chance: float


@dataclass
class Scores:
    """One predictor's predictions and the outcomes they were made for, in answer order."""

    name: str
    predicted: list[float] = field(default_factory=list)
    outcomes: list[bool] = field(default_factory=list)

    def add(self, p: float, correct: bool) -> None:
        self.predicted.append(p)
        self.outcomes.append(correct)


@dataclass
class Result:
    """What one simulation measured: every predictor's scores and the answers each student topic needed."""

    model: Scores
    student_baseline: Scores
    question_baseline: Scores
    truth: Scores
    answers_to_settle: list[int]  # per student topic; answers_per_topic + 1 when it never settled
    answers_per_topic: int
    experience: list[int] = field(default_factory=list)  # per answer: the student topic's answers before it


def log_loss(predicted: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Mean -log P(observed outcome); predictions are kept off 0 and 1 by 1e-12 (never reached by the model)."""
    terms = [-math.log(max(1e-12, p if y else 1.0 - p)) for p, y in zip(predicted, outcomes, strict=True)]
    return math.fsum(terms) / len(terms)


def brier(predicted: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Mean squared error of the predicted chance against the 0/1 outcome."""
    return math.fsum((p - (1.0 if y else 0.0)) ** 2 for p, y in zip(predicted, outcomes, strict=True)) / len(predicted)


def auc(predicted: Sequence[float], outcomes: Sequence[bool]) -> float:
    """The exact area under the ROC curve: the Mann-Whitney U of the right answers' ranks.

    Ranks of tied predictions are averaged, so a tie counts one half, as the U statistic does.
    """
    order = sorted(range(len(predicted)), key=predicted.__getitem__)
    ranks = [0.0] * len(predicted)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and predicted[order[end + 1]] == predicted[order[start]]:
            end += 1
        mean_rank = (start + end) / 2 + 1  # ranks are 1-based
        for position in range(start, end + 1):
            ranks[order[position]] = mean_rank
        start = end + 1
    right = sum(1 for y in outcomes if y)
    wrong = len(outcomes) - right
    if not right or not wrong:
        raise ValueError("AUC needs both right and wrong answers")
    rank_sum = math.fsum(rank for rank, y in zip(ranks, outcomes, strict=True) if y)
    return (rank_sum - right * (right + 1) / 2) / (right * wrong)


def calibration_table(predicted: Sequence[float], outcomes: Sequence[bool]) -> list[tuple[str, int, float, float]]:
    """(bin, answers, mean predicted, observed success) for ten equal-width bins of the prediction."""
    bins: list[list[tuple[float, bool]]] = [[] for _ in range(CALIBRATION_BINS)]
    for p, y in zip(predicted, outcomes, strict=True):
        bins[min(int(p * CALIBRATION_BINS), CALIBRATION_BINS - 1)].append((p, y))
    rows = []
    for index, members in enumerate(bins):
        if members:
            label = f"{index / CALIBRATION_BINS:.1f}-{(index + 1) / CALIBRATION_BINS:.1f}"
            rows.append((label, len(members), statistics.fmean(p for p, _ in members),
                         sum(1 for _, y in members if y) / len(members)))
    return rows


def _draw(rng: random.Random, shares: Sequence[tuple[T, float]]) -> T:
    return rng.choices([value for value, _ in shares], weights=[weight for _, weight in shares])[0]


def _bank(config: Config, rng: random.Random) -> list[TrueQuestion]:
    questions = []
    for topic in range(config.topics):
        for _ in range(config.questions_per_topic):
            label = _draw(rng, LABEL_SHARES)
            options = _draw(rng, OPTION_SHARES)
            b = mastery.DIFFICULTY_PRIORS[label] + rng.gauss(0.0, config.label_spread)
            questions.append(TrueQuestion(topic, b, label, mastery.chance_of(options)))
    return questions


def _schedule(config: Config, bank: Sequence[TrueQuestion], rng: random.Random) -> list[tuple[int, int]]:
    """(student, question index) in delivery order: each student's questions shuffled, all students interleaved."""
    by_topic = [[i for i, q in enumerate(bank) if q.topic == topic] for topic in range(config.topics)]
    queues = []
    for student in range(config.students):
        mine = [i for pool in by_topic for i in rng.sample(pool, config.answers_per_topic)]
        rng.shuffle(mine)
        queues.append([(student, i) for i in mine])
    # Interleave: at each turn a student drawn in proportion to the answers they have left.
    order: list[tuple[int, int]] = []
    pending = [queue[::-1] for queue in queues]
    owners = [student for student, queue in enumerate(pending) for _ in queue]
    rng.shuffle(owners)
    for student in owners:
        order.append(pending[student].pop())
    return order


def simulate(config: Config) -> Result:
    """Run the online protocol on one simulated population (see the module docstring)."""
    rng = random.Random(config.seed)
    bank = _bank(config, rng)
    true_theta = []
    for _ in range(config.students):
        level = rng.gauss(0.0, config.student_spread)
        true_theta.append([level + rng.gauss(0.0, config.topic_spread) for _ in range(config.topics)])
    schedule = _schedule(config, bank, rng)

    abilities: dict[tuple[int, int], Ability] = {}
    evidence = [mastery.new_question(q.label) for q in bank]
    student_tally: dict[tuple[int, int], tuple[int, int]] = {}
    question_tally = [(0, 0)] * len(bank)
    settled: dict[tuple[int, int], int] = {}  # the answer count after which the reference chance stayed close
    result = Result(Scores("model (mastery)"), Scores("student's running accuracy"),
                    Scores("question's running accuracy"), Scores("truth (ceiling)"), [], config.answers_per_topic)

    for student, index in schedule:
        question = bank[index]
        key = (student, question.topic)
        theta = true_theta[student][question.topic]
        true_p = question.chance + (1 - question.chance) * _sigmoid(theta - question.b)
        correct = rng.random() < true_p

        ability = abilities.get(key, Ability())
        seen = mastery.difficulty_of(evidence[index])
        result.model.add(mastery.predict(ability, seen, question.chance), correct)
        right, answered = student_tally.get(key, (0, 0))
        result.student_baseline.add((right + 1) / (answered + 2), correct)
        q_right, q_answered = question_tally[index]
        result.question_baseline.add((q_right + 1) / (q_answered + 2), correct)
        result.truth.add(true_p, correct)
        result.experience.append(ability.answers)

        abilities[key] = learned = mastery.update_student(ability, seen, question.chance, correct)
        message = QuestionAnswer(ability.theta, seen, question.chance, correct)
        evidence[index] = _learn_question(evidence[index], message)
        student_tally[key] = (right + (1 if correct else 0), answered + 1)
        question_tally[index] = (q_right + (1 if correct else 0), q_answered + 1)
        _track_settling(settled, key, learned, theta)

    result.answers_to_settle.extend(settled.get((s, t), config.answers_per_topic + 1)
                                    for s in range(config.students) for t in range(config.topics))
    return result


def _learn_question(state: QuestionEvidence, answer: QuestionAnswer) -> QuestionEvidence:
    # The deployed side adds each message's term to a stored sum; here the sum is updated at once.
    return mastery.update_question(state, answer)


def _track_settling(settled: dict[tuple[int, int], int], key: tuple[int, int], learned: Ability, theta: float) -> None:
    """Keep, per student topic, the first answer count from which the reference chance has stayed within 0.1."""
    truth = mastery.predict(Ability(theta), REFERENCE, REFERENCE_CHANCE)
    close = abs(mastery.predict(learned, REFERENCE, REFERENCE_CHANCE) - truth) <= CLOSE_ENOUGH
    if not close:
        settled.pop(key, None)
    elif key not in settled:
        settled[key] = learned.answers


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def target_met(result: Result) -> tuple[bool, list[str]]:
    """Whether the model reaches AUC >= 0.75 and beats both baselines on log loss, and what it missed."""
    model_loss = log_loss(result.model.predicted, result.model.outcomes)
    missed = []
    model_auc = auc(result.model.predicted, result.model.outcomes)
    if model_auc < TARGET_AUC:
        missed.append(f"AUC {model_auc:.4f} < {TARGET_AUC}")
    for baseline in (result.student_baseline, result.question_baseline):
        loss = log_loss(baseline.predicted, baseline.outcomes)
        if model_loss >= loss:
            missed.append(f"log loss {model_loss:.4f} not below {baseline.name}'s {loss:.4f}")
    return not missed, missed


def percentile(values: Sequence[int], share: float) -> float:
    """The ``share`` quantile of ``values`` by the nearest-rank rule (an observed value, never interpolated)."""
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(share * len(ordered)) - 1)])


def report(config: Config, result: Result) -> str:
    """The printed tables of one simulation."""
    lines = [f"# mastery model: {config.students} students x {config.topics} topics x {config.answers_per_topic} "
             f"answers, {config.topics * config.questions_per_topic} questions (4-opt/5-opt/numeric "
             f"50/25/25 %), seed {config.seed}", "",
             "| predictor | answers | log loss | AUC | Brier |", "|---|---:|---:|---:|---:|"]
    for scores in (result.model, result.student_baseline, result.question_baseline, result.truth):
        p, y = scores.predicted, scores.outcomes
        lines.append(f"| {scores.name} | {len(y):,} | {log_loss(p, y):.4f} | {auc(p, y):.4f} | {brier(p, y):.4f} |")
    met, missed = target_met(result)
    lines += ["", f"target (AUC >= {TARGET_AUC}, log loss below both baselines): "
              + ("MET" if met else "MISSED: " + "; ".join(missed)), "",
              "calibration of the model (answers it had not seen):", "",
              "| predicted | answers | mean predicted | observed |", "|---|---:|---:|---:|"]
    for label, count, mean_p, observed in calibration_table(result.model.predicted, result.model.outcomes):
        lines.append(f"| {label} | {count:,} | {mean_p:.3f} | {observed:.3f} |")
    lines += ["", "the model by how many answers the student topic had already given:", "",
              "| answers before | predictions | log loss | AUC | truth's AUC |", "|---|---:|---:|---:|---:|"]
    for low, high in EXPERIENCE_BANDS:
        chosen = [i for i, seen in enumerate(result.experience) if low <= seen < high]
        if chosen:
            model_p = [result.model.predicted[i] for i in chosen]
            truth_p = [result.truth.predicted[i] for i in chosen]
            outcomes = [result.model.outcomes[i] for i in chosen]
            band = f"{low}-{high - 1}" if high < 10**9 else f"{low}+"
            lines.append(f"| {band} | {len(chosen):,} | {log_loss(model_p, outcomes):.4f} "
                         f"| {auc(model_p, outcomes):.4f} | {auc(truth_p, outcomes):.4f} |")
    settle = result.answers_to_settle
    never = sum(1 for n in settle if n > result.answers_per_topic)
    lines += ["", f"answers a new student topic needs before the predicted chance on a reference question "
              f"(4 options, b = 0) is within {CLOSE_ENOUGH} of the truth and stays there "
              f"({len(settle):,} student topics, {result.answers_per_topic} answers each):", "",
              "| median | 90th percentile | never within the run |", "|---:|---:|---:|",
              f"| {percentile(settle, 0.5):.0f} | {_capped(percentile(settle, 0.9), result.answers_per_topic)} | "
              f"{never:,} ({never / len(settle):.1%}) |"]
    return "\n".join(lines)


def _capped(value: float, limit: int) -> str:
    return f"> {limit}" if value > limit else f"{value:.0f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--students", type=int, default=Config.students)
    parser.add_argument("--seed", type=int, default=Config.seed)
    parser.add_argument("--other-seeds", type=int, default=OTHER_SEEDS,
                        help="how many further seeds to summarise (the spread of the same population)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed on --seed")
    args = parser.parse_args(argv)
    config = Config(students=args.students, seed=args.seed)
    result = simulate(config)
    print(report(config, result))
    if args.other_seeds:
        print()
        print(seed_summary([replace(config, seed=config.seed + i) for i in range(args.other_seeds + 1)]))
    met, _ = target_met(result)
    return 1 if args.strict and not met else 0


def seed_summary(configs: Sequence[Config]) -> str:
    """One row per seed: the model's AUC and log loss against the baselines' and the truth's."""
    lines = ["the same population, other seeds:", "",
             "| seed | model AUC | truth AUC | model log loss | student baseline | question baseline | target |",
             "|---:|---:|---:|---:|---:|---:|---|"]
    for config in configs:
        result = simulate(config)
        met, _ = target_met(result)
        losses = [log_loss(s.predicted, s.outcomes) for s in (result.model, result.student_baseline,
                                                              result.question_baseline)]
        lines.append(f"| {config.seed} | {auc(result.model.predicted, result.model.outcomes):.4f} "
                     f"| {auc(result.truth.predicted, result.truth.outcomes):.4f} | {losses[0]:.4f} "
                     f"| {losses[1]:.4f} | {losses[2]:.4f} | {'met' if met else 'missed'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
