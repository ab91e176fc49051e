"""mindly.domain.mock_scoring: every bundled pattern scored on hand-worked papers, exactly."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mindly.domain import exam_patterns, mock_scoring
from mindly.domain.content import NumericAnswer, Question, Response
from mindly.domain.exam_patterns import ExamPattern
from mindly.domain.mock_scoring import MarkedQuestion, SavedAnswer

OPTIONS = {"A": "one", "B": "two", "C": "three", "D": "four"}
# Every synthetic question has the same key by type: single B, multiple {A, C}, numeric 9.8 +/- 0.05.
RIGHT = {"single": Response(option="B"), "multiple": Response(options=("C", "A")),
         "numeric": Response(number=Decimal("9.8"))}
WRONG = {"single": Response(option="D"), "multiple": Response(options=("A", "B")),
         "numeric": Response(number=Decimal("9.86"))}


def bundled(pattern_id: str) -> ExamPattern:
    pattern = exam_patterns.find_pattern(pattern_id)
    assert pattern is not None
    return pattern


def make_question(question_id: str, kind: str, exam: str, subject: str,
                  correct_options: tuple[str, ...] = ("A", "C")) -> Question:
    if kind == "numeric":
        answer = NumericAnswer(Decimal("9.75"), Decimal("9.85"), Decimal("9.8"), Decimal("0.05"))
        return Question(question_id, "test", question_id, exam, subject, "topic", "medium", "stem", {}, None, None,
                        "numeric", (), answer)
    if kind == "multiple":
        return Question(question_id, "test", question_id, exam, subject, "topic", "medium", "stem", dict(OPTIONS),
                        None, None, "multiple", correct_options)
    return Question(question_id, "test", question_id, exam, subject, "topic", "medium", "stem", dict(OPTIONS), "B",
                    None)


def paper_for(pattern: ExamPattern) -> list[MarkedQuestion]:
    """A full paper for the pattern, numbered through sections and groups in order."""
    paper: list[MarkedQuestion] = []
    for section in pattern.sections:
        for group in section.groups:
            for _ in range(group.count):
                number = len(paper) + 1
                paper.append(MarkedQuestion(number, section.name, group, make_question(
                    f"q{number}", group.question_type, pattern.exam_type, section.subjects[0])))
    return paper


def sit(paper: Sequence[MarkedQuestion], plan: Mapping[tuple[str, int], Sequence[str | None]],
        pattern: ExamPattern, seconds: int = 0) -> dict[int, SavedAnswer]:
    """Answers by plan: per (section name, group index), one entry per question in order:
    'right', 'wrong' or None (blank); groups not in the plan stay blank."""
    answers: dict[int, SavedAnswer] = {}
    position: dict[tuple[str, int], int] = {}
    for item in paper:
        key = (item.section, pattern.section(item.section).groups.index(item.group))
        index = position.get(key, 0)
        position[key] = index + 1
        outcomes = plan.get(key, ())
        outcome = outcomes[index] if index < len(outcomes) else None
        if outcome is not None:
            response = (RIGHT if outcome == "right" else WRONG)[item.question.question_type]
            answers[item.number] = SavedAnswer(response, seconds)
    return answers


def mix(right: int = 0, wrong: int = 0, blank: int = 0) -> list[str | None]:
    return ["right"] * right + ["wrong"] * wrong + [None] * blank


def score(pattern_id: str, plan: Mapping[tuple[str, int], Sequence[str | None]],
          seconds: int = 0) -> mock_scoring.MockResult:
    pattern = bundled(pattern_id)
    paper = paper_for(pattern)
    return mock_scoring.score_paper(pattern, paper, sit(paper, plan, pattern, seconds))


def by_section(result: mock_scoring.MockResult) -> dict[str, tuple[Any, ...]]:
    return {s.name: (s.score, s.correct, s.wrong, s.unattempted) for s in result.sections}


# --- hand-worked papers, one per pattern -----------------------------------------------------------


def test_neet_ten_wrong_and_nothing_right_is_minus_ten() -> None:
    # Given a NEET paper with 10 Physics questions answered wrong and everything else blank
    # When scored
    result = score("neet-ug", {("Physics", 0): mix(wrong=10)})
    # Then the total is -10 of 720 (negative totals stand), shown -1.39 percent
    assert result.score == -10 and result.max_score == 720
    assert by_section(result) == {"Physics": (-10, 0, 10, 35), "Chemistry": (0, 0, 0, 45),
                                  "Botany": (0, 0, 0, 45), "Zoology": (0, 0, 0, 45)}
    view = mock_scoring.result_view(result)
    assert (view["score"], view["percent"], view["attempted"], view["accuracy"]) == (-10, -1.39, 10, 0)


def test_neet_hand_worked_mixed_paper() -> None:
    # Given Physics 40 right 3 wrong 2 blank (157), Chemistry 30 right 10 wrong 5 blank (110),
    # Botany all right (180), Zoology 20 right 20 wrong 5 blank (60)
    result = score("neet-ug", {("Physics", 0): mix(40, 3, 2), ("Chemistry", 0): mix(30, 10, 5),
                               ("Botany", 0): mix(45), ("Zoology", 0): mix(20, 20, 5)})
    # Then 507 of 720, 70.42 percent, 135 of 168 attempted right
    assert [s.score for s in result.sections] == [157, 110, 180, 60]
    assert result.score == 507
    view = mock_scoring.result_view(result)
    assert (view["percent"], view["attempted"], view["accuracy"]) == (70.42, 168, 0.8036)


def test_upsc_gs1_three_wrong_is_exactly_minus_1_98() -> None:
    # Given GS Paper I with 3 wrong answers and 97 blank
    result = score("upsc-gs1", {("General Studies Paper I", 0): mix(wrong=3)})
    # Then the total is exactly -1.98 (3 x -0.66, no float drift), shown -1.98
    assert result.score == Fraction("-1.98")
    assert mock_scoring.result_view(result)["score"] == -1.98


def test_upsc_gs1_sixty_right_thirty_wrong_is_exactly_100_2() -> None:
    result = score("upsc-gs1", {("General Studies Paper I", 0): mix(60, 30, 10)})
    assert result.score == Fraction("100.2")  # 120 - 19.8
    assert mock_scoring.result_view(result)["percent"] == 50.1


def test_upsc_csat_hand_worked() -> None:
    # Given CSAT with 50 right and 20 wrong: 125 - 16.6
    result = score("upsc-csat", {("CSAT", 0): mix(50, 20, 10)})
    # Then 108.4 exactly, 54.2 percent
    assert result.score == Fraction("108.4")
    assert mock_scoring.result_view(result)["percent"] == 54.2
    # And one right, one wrong is 2.5 - 0.83 = 1.67
    assert score("upsc-csat", {("CSAT", 0): mix(1, 1)}).score == Fraction("1.67")


def test_gate_two_mark_mcq_wrong_is_exactly_minus_two_thirds() -> None:
    # Given GATE with only one 2-mark General Aptitude MCQ answered, wrong
    result = score("gate-cs", {("General Aptitude", 1): mix(wrong=1)})
    # Then the total is -2/3 exactly, shown -0.67
    assert result.score == Fraction(-2, 3)
    assert mock_scoring.result_view(result)["score"] == -0.67


def test_gate_three_one_mark_mcqs_wrong_are_exactly_minus_one() -> None:
    result = score("gate-cs", {("Engineering Mathematics and Computer Science", 0): mix(wrong=3)})
    assert result.score == -1  # three thirds make one, exactly


def test_gate_hand_worked_paper_with_msq_and_nat_free_of_penalty() -> None:
    # Given GA: 5 one-mark right; 3 two-mark right, 2 wrong          -> 5 + 6 - 4/3     = 29/3
    # and the subject: 1-mark MCQ 10 right 3 wrong                    -> 10 - 1
    #                  1-mark MSQ 2 right 3 wrong (no penalty)        -> 2
    #                  1-mark NAT 7 right                             -> 7
    #                  2-mark MCQ 10 right 5 wrong 2 blank            -> 20 - 10/3
    #                  2-mark MSQ 5 wrong (no penalty)                -> 0
    #                  2-mark NAT 4 right 4 wrong (no penalty)        -> 8      together 128/3
    technical = "Engineering Mathematics and Computer Science"
    result = score("gate-cs", {
        ("General Aptitude", 0): mix(5), ("General Aptitude", 1): mix(3, 2),
        (technical, 0): mix(10, 3), (technical, 1): mix(2, 3), (technical, 2): mix(7),
        (technical, 3): mix(10, 5, 2), (technical, 4): mix(wrong=5), (technical, 5): mix(4, 4)})
    # Then the total is 157/3 exactly; sections show 9.67 and 42.67, the total 52.33 (rounded once)
    assert [s.score for s in result.sections] == [Fraction(29, 3), Fraction(128, 3)]
    assert result.score == Fraction(157, 3)
    view = mock_scoring.result_view(result)
    assert [s["score"] for s in view["sections"]] == [9.67, 42.67]
    assert view["score"] == 52.33 and view["percent"] == 52.33
    assert [(s["correct"], s["wrong"], s["unattempted"]) for s in view["sections"]] == [(8, 2, 0), (33, 20, 2)]


def test_jee_main_hand_worked_paper_with_numeric_tolerance_and_penalty() -> None:
    # Given Physics: 15 single right, 3 wrong, 2 blank (60 - 3); numeric 4 right, 1 wrong (16 - 1)
    # and Mathematics: every numeric answered wrong (5 x -1); Chemistry left blank
    result = score("jee-main-paper-1", {("Physics", 0): mix(15, 3, 2), ("Physics", 1): mix(4, 1),
                                        ("Mathematics", 1): mix(wrong=5)})
    # Then 72 + 0 - 5 = 67: NTA's 2025 bulletin marks numeric answers -1 when wrong, as MCQs
    assert by_section(result) == {"Physics": (72, 19, 4, 2), "Chemistry": (0, 0, 0, 25),
                                  "Mathematics": (-5, 0, 5, 20)}
    assert result.score == 67


@pytest.mark.parametrize(("given", "outcome"), [
    ("9.8", "correct"), ("9.75", "correct"), ("9.85", "correct"), ("9.80000", "correct"),
    ("9.7499", "wrong"), ("9.851", "wrong"), ("-9.8", "wrong"),
])
def test_numeric_answer_is_right_within_the_key_tolerance_exactly(given: str, outcome: str) -> None:
    # Given a JEE numeric question keyed 9.8 +/- 0.05 / When answered / Then the range's edges count, exactly
    group = bundled("jee-main-paper-1").sections[0].groups[1]
    question = make_question("n1", "numeric", "JEE", "Physics")
    assert mock_scoring.mark(group, question, Response(number=Decimal(given))) == (
        outcome, Fraction(4) if outcome == "correct" else Fraction(-1))


def test_cat_hand_worked_paper_type_in_answers_lose_nothing() -> None:
    # Given VARC: 20 MCQ right, 2 wrong (60 - 2); TITA 1 right, 1 wrong (3)       -> 61
    #       DILR: 6 MCQ right, 6 wrong (18 - 6); TITA 5 right, 5 wrong (15)       -> 27
    #       QA: MCQs blank; all 8 TITA wrong                                       -> 0
    result = score("cat", {("VARC", 0): mix(20, 2), ("VARC", 1): mix(1, 1), ("DILR", 0): mix(6, 6),
                           ("DILR", 1): mix(5, 5), ("QA", 1): mix(wrong=8)})
    # Then 88 of 204
    assert by_section(result) == {"VARC": (61, 21, 3, 0), "DILR": (27, 11, 11, 0), "QA": (0, 0, 8, 14)}
    assert [s.max_score for s in result.sections] == [72, 66, 66]
    assert (result.score, result.max_score) == (88, 204)


@pytest.mark.parametrize(("chosen", "outcome"), [
    (("A", "C"), "correct"), (("C", "A", "A"), "correct"),  # a set: order and repeats do not matter
    (("A",), "wrong"), (("A", "B", "C"), "wrong"), (("B", "D"), "wrong"), ((), "unattempted"),
])
def test_gate_msq_is_all_or_nothing_without_penalty(chosen: tuple[str, ...], outcome: str) -> None:
    # Given a 2-mark GATE MSQ keyed {A, C} (no partial rule) / When answered
    group = bundled("gate-cs").sections[1].groups[4]
    question = make_question("m1", "multiple", "GATE", "Algorithms")
    # Then only the exact set scores; a subset is wrong, and wrong costs nothing
    marks = {"correct": Fraction(2), "wrong": Fraction(0), "unattempted": Fraction(0)}[outcome]
    assert mock_scoring.mark(group, question, Response(options=chosen)) == (outcome, marks)


# --- the partial rule ------------------------------------------------------------------------------


def advanced_pattern() -> ExamPattern:
    """A JEE Advanced style test: six multiple-correct questions, +4 / +1 per right option / -2."""
    (pattern,) = exam_patterns.parse_patterns({"patterns": [{
        "pattern_id": "jee-advanced-test", "exam_type": "JEE", "name": "partial rule", "duration_minutes": 30,
        "source": {"citation": "test", "url": "https://example.test"},
        "official_totals": {"questions": 6, "max_score": 24},
        "sections": [{"name": "Physics", "subjects": ["Physics"], "questions": [
            {"type": "multiple", "count": 6, "marks_correct": 4, "marks_wrong": -2, "marks_unattempted": 0,
             "partial_marks_per_option": 1}]}]}]})
    return pattern


def test_partial_rule_scores_each_right_option_when_no_wrong_one_is_chosen() -> None:
    # Given six multiple-correct questions under the partial rule, keys {A, B, C} and one {A, B, C, D}
    pattern = advanced_pattern()
    group = pattern.sections[0].groups[0]
    keys = [("A", "B", "C")] * 5 + [("A", "B", "C", "D")]
    paper = [MarkedQuestion(n + 1, "Physics", group, make_question(f"p{n}", "multiple", "JEE", "Physics", key))
             for n, key in enumerate(keys)]
    answers = {1: SavedAnswer(Response(options=("A", "B", "C")), 60),   # all right: +4
               2: SavedAnswer(Response(options=("A", "B")), 60),        # two right, none wrong: +2
               3: SavedAnswer(Response(options=("C",)), 60),            # one right: +1
               4: SavedAnswer(Response(options=("A", "B", "D")), 60),   # a wrong one chosen: -2
               6: SavedAnswer(Response(options=("A", "B", "D")), 60)}   # three of four right: +3
    # When scored (question 5 blank)
    result = mock_scoring.score_paper(pattern, paper, answers)
    # Then 4 + 2 + 1 - 2 + 0 + 3 = 8; partial answers count as attempted, neither correct nor wrong
    assert [(q.outcome, q.marks) for q in result.questions] == [
        ("correct", 4), ("partial", 2), ("partial", 1), ("wrong", -2), ("unattempted", 0), ("partial", 3)]
    assert result.score == 8
    section = result.sections[0]
    assert (section.correct, section.partial, section.wrong, section.unattempted) == (1, 3, 1, 1)
    assert result.attempted == 5 and result.accuracy == Fraction(1, 5)
    assert mock_scoring.result_view(result)["sections"][0]["partial"] == 3


def test_partial_rule_superset_is_wrong() -> None:
    pattern = advanced_pattern()
    group = pattern.sections[0].groups[0]
    question = make_question("p", "multiple", "JEE", "Physics", ("A", "B"))
    assert mock_scoring.mark(group, question, Response(options=("A", "B", "C"))) == ("wrong", -2)


# --- attempts, time, the view ------------------------------------------------------------------------


def test_time_per_question_is_all_time_over_attempted_questions() -> None:
    # Given NEET with 4 answers of 90 s each and one blank question visited for 30 s
    pattern = bundled("neet-ug")
    paper = paper_for(pattern)
    answers = sit(paper, {("Physics", 0): mix(3, 1)}, pattern, seconds=90)
    answers[50] = SavedAnswer(None, 30)  # cleared after looking
    # When scored
    result = mock_scoring.score_paper(pattern, paper, answers)
    # Then 390 s over 4 attempted = 97.5 s; the section times add up; 3 of 4 right
    assert result.time_spent_seconds == 390
    assert [s.time_spent_seconds for s in result.sections] == [360, 30, 0, 0]
    view = mock_scoring.result_view(result)
    assert (view["time_per_question_seconds"], view["accuracy"], view["attempted"]) == (97.5, 0.75, 4)


def test_nothing_attempted_has_no_accuracy_or_pace() -> None:
    result = score("cat", {})
    view = mock_scoring.result_view(result)
    assert (view["score"], view["percent"], view["accuracy"], view["time_per_question_seconds"]) == (0, 0, None, None)
    assert set(view) == {"score", "max_score", "percent", "sections", "accuracy", "attempted",
                         "time_per_question_seconds"}
    assert set(view["sections"][0]) == {"name", "score", "max_score", "correct", "partial", "wrong", "unattempted",
                                        "time_spent_seconds"}


def test_an_answer_in_another_types_field_counts_as_unattempted() -> None:
    # Given a single-correct question answered with a number, and a numeric one with an option
    group = bundled("cat").sections[0].groups[0]
    assert mock_scoring.mark(group, make_question("s", "single", "CAT", "Quantitative Aptitude"),
                             Response(number=Decimal(2))) == ("unattempted", 0)
    numeric_group = bundled("cat").sections[0].groups[1]
    assert mock_scoring.mark(numeric_group, make_question("n", "numeric", "CAT", "Quantitative Aptitude"),
                             Response(option="B")) == ("unattempted", 0)
    # And an option the question does not have is simply wrong
    assert mock_scoring.mark(group, make_question("s", "single", "CAT", "Quantitative Aptitude"),
                             Response(option="E")) == ("wrong", -1)


def test_paper_that_does_not_fit_its_pattern_is_refused() -> None:
    # Given CAT papers that are short, mistyped, renumbered twice, or answered outside the paper
    pattern = bundled("cat")
    paper = paper_for(pattern)
    retyped = paper[0]._replace(question=make_question("x", "numeric", "CAT", "Quantitative Aptitude"))
    cases: list[tuple[list[MarkedQuestion], dict[int, SavedAnswer], str]] = [
        (paper[:-1], {}, "does not hold"),
        ([retyped, *paper[1:]], {}, "is numeric, its group single"),
        ([*paper, paper[0]], {}, "appears twice"),
        (paper, {999: SavedAnswer(RIGHT["single"])}, "not in the paper"),
        (paper, {1: SavedAnswer(RIGHT["single"], -5)}, "negative"),
    ]
    # When scored / Then each is a ValueError, never a quiet score
    for items, answers, message in cases:
        with pytest.raises(ValueError, match=message):
            mock_scoring.score_paper(pattern, items, answers)


# --- properties ------------------------------------------------------------------------------------

PATTERN_IDS = [p.pattern_id for p in exam_patterns.bundled_patterns()]


@settings(max_examples=60, deadline=None)
@given(pattern_id=st.sampled_from(PATTERN_IDS), seed=st.integers(0, 2**32 - 1),
       weights=st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 5)))
def test_any_paper_scores_between_its_extremes_in_any_order(pattern_id: str, seed: int,
                                                            weights: tuple[int, int, int]) -> None:
    # Given any mix of right, wrong and blank answers on any bundled pattern
    pattern = bundled(pattern_id)
    paper = paper_for(pattern)
    rng = random.Random(seed)
    outcomes = rng.choices(["right", "wrong", None], weights=[w + 1 for w in weights], k=len(paper))
    answers = {item.number: SavedAnswer((RIGHT if o == "right" else WRONG)[item.question.question_type],
                                        rng.randint(0, 300))
               for item, o in zip(paper, outcomes, strict=True) if o is not None}
    # When scored, and scored again with the paper and the answers in another order
    result = mock_scoring.score_paper(pattern, paper, answers)
    shuffled_paper, shuffled_answers = list(paper), list(answers.items())
    rng.shuffle(shuffled_paper)
    rng.shuffle(shuffled_answers)
    again = mock_scoring.score_paper(pattern, shuffled_paper, dict(shuffled_answers))
    # Then the score lies between the most negative total and the maximum, is the sum of its
    # sections and of its questions, and the order changed nothing
    assert pattern.min_score <= result.score <= pattern.max_score
    assert result.score == sum((s.score for s in result.sections), Fraction(0))
    assert result.score == sum((q.marks for q in result.questions), Fraction(0))
    assert again == result
    assert result.attempted == len(answers)


def test_all_right_is_max_and_all_wrong_is_min_for_every_pattern() -> None:
    for pattern in exam_patterns.bundled_patterns():
        paper = paper_for(pattern)
        best = mock_scoring.score_paper(pattern, paper, {i.number: SavedAnswer(RIGHT[i.question.question_type])
                                                         for i in paper})
        worst = mock_scoring.score_paper(pattern, paper, {i.number: SavedAnswer(WRONG[i.question.question_type])
                                                          for i in paper})
        assert (best.score, worst.score) == (pattern.max_score, pattern.min_score), pattern.pattern_id
        assert mock_scoring.result_view(best)["percent"] == 100
