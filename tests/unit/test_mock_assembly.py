"""mindly.domain.mock_assembly: choosing a paper from the bank's candidates for a pattern."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mindly.domain import exam_patterns, mock_assembly, mock_scoring
from mindly.domain.content import NumericAnswer, Question, Response
from mindly.domain.exam_patterns import ExamPattern
from mindly.domain.mock_assembly import Candidate, InsufficientContent, Missing

Key = tuple[str, str, str, str]


def bundled(pattern_id: str) -> ExamPattern:
    pattern = exam_patterns.find_pattern(pattern_id)
    assert pattern is not None
    return pattern


def bank(pattern: ExamPattern, per_level: int | None = None, seen_every: int = 0,
         levels: Iterable[str] = ("easy", "medium", "hard")) -> dict[Key, list[Candidate]]:
    """Candidates for every pool of the pattern: ``per_level`` per difficulty (default: as many as
    the pool needs), every ``seen_every``-th one already seen."""
    candidates: dict[Key, list[Candidate]] = {}
    for (section, subject, kind), needed in mock_assembly.needs(pattern).items():
        for level in levels:
            count = needed if per_level is None else per_level
            candidates[(section, subject, kind, level)] = [
                Candidate(f"{section}|{subject}|{kind}|{level}|{n}", bool(seen_every) and n % seen_every == 0)
                for n in range(count)]
    return candidates


def make_question(question_id: str, kind: str, exam: str, subject: str) -> Question:
    """A question of ``kind`` keyed B (single), {A, C} (multiple) or 9.8 (numeric)."""
    options = {"A": "one", "B": "two", "C": "three", "D": "four"}
    if kind == "numeric":
        return Question(question_id, "test", question_id, exam, subject, "topic", "medium", "stem", {}, None, None,
                        "numeric", (), NumericAnswer(Decimal("9.8"), Decimal("9.8")))
    if kind == "multiple":
        return Question(question_id, "test", question_id, exam, subject, "topic", "medium", "stem", options, None,
                        None, "multiple", ("A", "C"))
    return Question(question_id, "test", question_id, exam, subject, "topic", "medium", "stem", options, "B", None)


def level_of(question_id: str) -> str:
    return question_id.split("|")[3]


@pytest.mark.parametrize("pattern_id", [p.pattern_id for p in exam_patterns.bundled_patterns()])
def test_assembled_paper_meets_the_pattern_counts_by_section_group_type_and_subject(pattern_id: str) -> None:
    # Given ample candidates for every pool of the pattern
    pattern = bundled(pattern_id)
    # When the paper is assembled
    paper = mock_assembly.assemble_paper(pattern, bank(pattern), seed="mock-1")
    # Then it is numbered 1..N, holds each group's count, each question once, from the section's subjects
    assert [q.number for q in paper] == list(range(1, pattern.question_count + 1))
    assert len({q.question_id for q in paper}) == len(paper)
    held = Counter((q.section, q.group_index) for q in paper)
    assert held == {(s.name, i): g.count for s in pattern.sections for i, g in enumerate(s.groups)}
    for question in paper:
        section = pattern.section(question.section)
        assert question.subject in section.subjects
        assert question.question_id.split("|")[:3] == [question.section, question.subject,
                                                       section.groups[question.group_index].question_type]
    # And sections come in pattern order
    order = [s.name for s in pattern.sections]
    assert [order.index(q.section) for q in paper] == sorted(order.index(q.section) for q in paper)


def test_subject_split_follows_the_documented_weighting() -> None:
    # Given the patterns with several subjects in a section
    gate, gs1 = bundled("gate-cs"), bundled("upsc-gs1")
    # When split / Then GATE's General Aptitude is all 10 of its section and the technical 55 follow
    # the syllabus weightage (Sainte-Lague over 13/6/9/11/9/8/5/9/7/8), and GS Paper I's 100 likewise
    gate_needs = Counter[str]()
    for (_section, subject, _kind), count in mock_assembly.needs(gate).items():
        gate_needs[subject] += count
    assert gate_needs == {"General Aptitude": 10, "Engineering Mathematics": 8, "Digital Logic": 4,
                          "Computer Organization and Architecture": 6, "Programming and Data Structures": 7,
                          "Algorithms": 6, "Theory of Computation": 5, "Compiler Design": 3,
                          "Operating System": 6, "Databases": 5, "Computer Networks": 5}
    assert {subject: count for (_, subject, _), count in mock_assembly.needs(gs1).items()} == {
        "History": 17, "Geography": 14, "Polity": 17, "Economy": 15, "Environment": 14,
        "Science and Technology": 11, "Current Affairs": 12}
    # And single-subject sections take everything from their subject (JEE: 20 + 5 each)
    assert mock_assembly.needs(bundled("jee-main-paper-1")) == {
        (s, s, kind): count for s in ("Physics", "Chemistry", "Mathematics")
        for kind, count in (("single", 20), ("numeric", 5))}


def test_subject_split_never_takes_a_question_back_between_groups() -> None:
    split = mock_assembly.subject_split(bundled("gate-cs"))
    for (section, index), shares in split.items():
        group = bundled("gate-cs").section(section).groups[index]
        assert sum(shares.values()) == group.count and min(shares.values()) >= 0


@pytest.mark.parametrize(("needed", "expected"), [
    (10, (3, 5, 2)), (100, (30, 50, 20)), (45, (13, 23, 9)), (5, (1, 3, 1)), (3, (1, 1, 1)), (1, (0, 1, 0)),
    (2, (1, 1, 0)), (22, (7, 11, 4)),
])
def test_difficulty_targets_are_30_50_20_rounded_with_ties_to_medium(needed: int,
                                                                     expected: tuple[int, int, int]) -> None:
    targets = mock_assembly.difficulty_targets(needed)
    assert (targets["easy"], targets["medium"], targets["hard"]) == expected
    assert sum(targets.values()) == needed


def test_difficulty_spread_is_met_when_every_level_has_enough() -> None:
    # Given NEET with 45 unseen candidates per difficulty in every subject
    pattern = bundled("neet-ug")
    paper = mock_assembly.assemble_paper(pattern, bank(pattern), seed="spread")
    # Then each subject's 45 are 13 easy, 23 medium, 9 hard
    for section in pattern.sections:
        levels = Counter(level_of(q.question_id) for q in paper if q.section == section.name)
        assert levels == {"easy": 13, "medium": 23, "hard": 9}
        assert Counter(q.difficulty for q in paper if q.section == section.name) == levels


def test_a_level_that_runs_short_is_filled_from_the_nearest() -> None:
    # Given CSAT with no hard questions and only 10 easy ones (80 needed: 24 / 40 / 16)
    pattern = bundled("upsc-csat")
    candidates = bank(pattern, per_level=80, levels=("medium",))
    candidates[("CSAT", "CSAT", "single", "easy")] = [Candidate(f"CSAT|CSAT|single|easy|{n}") for n in range(10)]
    # When assembled
    paper = mock_assembly.assemble_paper(pattern, candidates, seed="short-levels")
    # Then every easy one is used and medium makes up the rest
    assert Counter(q.difficulty for q in paper) == {"easy": 10, "medium": 70}


def test_unseen_questions_come_before_seen_ones_even_across_difficulties() -> None:
    # Given CSAT pools where every other question is seen, 60 unseen of 120
    pattern = bundled("upsc-csat")
    candidates = bank(pattern, per_level=40, seen_every=2)
    seen = {c.question_id for pool in candidates.values() for c in pool if c.seen}
    unseen = {c.question_id for pool in candidates.values() for c in pool if not c.seen}
    assert len(unseen) == 60
    # When assembled (80 needed)
    paper = mock_assembly.assemble_paper(pattern, candidates, seed="unseen")
    chosen = {q.question_id for q in paper}
    # Then all 60 unseen are in, and only 20 seen ones
    assert unseen <= chosen and len(chosen & seen) == 20


def test_unseen_outrank_the_spread() -> None:
    # Given 80 unseen medium questions and seen ones of every level
    pattern = bundled("upsc-csat")
    candidates = bank(pattern, per_level=80, seen_every=1)
    candidates[("CSAT", "CSAT", "single", "medium")] = [Candidate(f"CSAT|CSAT|single|medium|u{n}") for n in range(80)]
    # When assembled / Then the paper is the 80 unseen, though all medium
    paper = mock_assembly.assemble_paper(pattern, candidates, seed="unseen-spread")
    assert all("|u" in q.question_id for q in paper)


def test_same_seed_and_candidates_give_the_same_paper_whatever_their_order() -> None:
    # Given a GATE bank with twice what each pool needs
    pattern = bundled("gate-cs")
    candidates = bank(pattern, per_level=None)
    reordered = {key: list(reversed(pool)) for key, pool in reversed(list(candidates.items()))}
    # When assembled twice with the same seed, once from reordered candidates, and once with another seed
    first = mock_assembly.assemble_paper(pattern, candidates, seed="3f6c-mock")
    second = mock_assembly.assemble_paper(pattern, reordered, seed="3f6c-mock")
    other = mock_assembly.assemble_paper(pattern, candidates, seed="another-mock")
    # Then the first two are identical and the other seed draws differently
    assert first == second
    assert {q.question_id for q in first} != {q.question_id for q in other}


def test_easier_questions_go_to_the_lower_mark_group() -> None:
    # Given GATE General Aptitude: five 1-mark and five 2-mark MCQs from one pool of 3 easy / 5 medium / 2 hard
    pattern = bundled("gate-cs")
    paper = mock_assembly.assemble_paper(pattern, bank(pattern), seed="marks")
    rank = {"easy": 0, "medium": 1, "hard": 2}
    one_mark = [rank[q.difficulty] for q in paper if q.section == "General Aptitude" and q.group_index == 0]
    two_mark = [rank[q.difficulty] for q in paper if q.section == "General Aptitude" and q.group_index == 1]
    # Then no 1-mark question is harder than any 2-mark one
    assert max(one_mark) <= min(two_mark)
    assert sorted(one_mark + two_mark) == [0, 0, 0, 1, 1, 1, 1, 1, 2, 2]


def test_missing_content_is_reported_exactly_and_nothing_is_chosen() -> None:
    # Given NEET with only 40 Physics questions (over three levels) and no Zoology at all
    pattern = bundled("neet-ug")
    candidates = bank(pattern)
    for level, count in (("easy", 10), ("medium", 20), ("hard", 10)):
        key = ("Physics", "Physics", "single", level)
        candidates[key] = candidates[key][:count]
    for level in ("easy", "medium", "hard"):
        del candidates[("Zoology", "Zoology", "single", level)]
    # When assembled / Then InsufficientContent lists both pools, in pattern order, in API.md's shape
    with pytest.raises(InsufficientContent) as short:
        mock_assembly.assemble_paper(pattern, candidates, seed="short")
    assert short.value.missing == (Missing("Physics", "Physics", "single", 45, 40),
                                   Missing("Zoology", "Zoology", "single", 45, 0))
    assert [m.view() for m in short.value.missing] == [
        {"section": "Physics", "subject": "Physics", "type": "single", "needed": 45, "available": 40},
        {"section": "Zoology", "subject": "Zoology", "type": "single", "needed": 45, "available": 0}]


def test_a_question_listed_under_two_difficulties_counts_once() -> None:
    # Given CSAT with 79 distinct questions, one of them listed as both easy and medium
    pattern = bundled("upsc-csat")
    pool = [Candidate(f"q{n}") for n in range(79)]
    candidates = {("CSAT", "CSAT", "single", "easy"): pool[:40], ("CSAT", "CSAT", "single", "medium"): pool[39:]}
    # When assembled / Then 79 are available, not 80
    with pytest.raises(InsufficientContent) as short:
        mock_assembly.assemble_paper(pattern, candidates, seed="dup")
    assert short.value.missing == (Missing("CSAT", "CSAT", "single", 80, 79),)


def test_bad_candidates_are_refused() -> None:
    pattern = bundled("upsc-csat")
    with pytest.raises(ValueError, match="difficulty 'expert'"):
        mock_assembly.assemble_paper(pattern, {("CSAT", "CSAT", "single", "expert"): [Candidate("q")]}, seed="s")
    twice = {("CSAT", "CSAT", "single", "easy"): [Candidate("q")],
             ("CSAT", "CSAT", "multiple", "easy"): [Candidate("q")]}
    with pytest.raises(ValueError, match="two pools"):
        mock_assembly.assemble_paper(pattern, twice, seed="s")


def test_assembled_paper_scores_through_marked_paper() -> None:
    # Given an assembled CAT paper and its questions
    pattern = bundled("cat")
    paper = mock_assembly.assemble_paper(pattern, bank(pattern), seed="score-it")
    questions = {q.question_id: make_question(q.question_id, pattern.section(q.section).groups[q.group_index]
                                              .question_type, "CAT", q.subject) for q in paper}
    marked = mock_scoring.marked_paper(pattern, paper, questions)
    # When the first VARC question is answered right and nothing else / Then 3 of 204
    first = next(m for m in marked if m.question.question_type == "single")
    answers = {first.number: mock_scoring.SavedAnswer(Response(option="B"), 40)}
    result = mock_scoring.score_paper(pattern, marked, answers)
    assert (result.score, result.max_score, result.attempted) == (3, 204, 1)


@settings(max_examples=40, deadline=None)
@given(seed=st.text(min_size=1, max_size=12), surplus=st.integers(0, 30), seen_share=st.integers(0, 4),
       shuffle=st.integers(0, 10_000))
def test_any_surplus_bank_fills_csat_unseen_first_deterministically(seed: str, surplus: int, seen_share: int,
                                                                    shuffle: int) -> None:
    # Given a CSAT pool of 80 + surplus questions, some seen, in any order
    pattern = bundled("upsc-csat")
    levels = ("easy", "medium", "hard")
    pool = [(f"q{n}", levels[n % 3], seen_share > 0 and n % (seen_share + 1) == 0) for n in range(80 + surplus)]
    random.Random(shuffle).shuffle(pool)
    candidates: dict[Key, list[Candidate]] = {}
    for question_id, level, seen in pool:
        candidates.setdefault(("CSAT", "CSAT", "single", level), []).append(Candidate(question_id, seen))
    # When assembled twice
    paper = mock_assembly.assemble_paper(pattern, candidates, seed)
    # Then it has 80 distinct questions, as many unseen as there are (up to 80), the same each time
    assert len({q.question_id for q in paper}) == 80
    unseen = sum(1 for _, _, seen in pool if not seen)
    chosen_unseen = sum(1 for q in paper if not dict((i, s) for i, _, s in pool)[q.question_id])
    assert chosen_unseen == min(80, unseen)
    assert mock_assembly.assemble_paper(pattern, candidates, seed) == paper
