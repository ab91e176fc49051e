"""mindly.domain.badges: badge criteria as JSON data, one engine evaluating them, the bundled catalog."""

from __future__ import annotations

import copy
import json
import operator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mindly.domain import badges
from mindly.domain.badges import Badge, InvalidCriteria

EXAMS = ("UPSC", "GATE", "JEE", "CAT", "NEET")


def cmp(metric: str, op: str, value: float) -> dict[str, Any]:
    return {"metric": metric, "op": op, "value": value}


def master(exam: str) -> dict[str, Any]:
    return {"all": [cmp(f"exam.{exam}.answered", ">=", 200), cmp(f"exam.{exam}.accuracy", ">=", 0.8)]}


def nested(levels: int) -> dict[str, Any]:
    """A comparison wrapped in ``levels`` single-part 'all' combinators."""
    criteria: dict[str, Any] = cmp("questions_answered", ">=", 1)
    for _ in range(levels):
        criteria = {"all": [criteria]}
    return criteria


# --- the engine on hand-written facts -----------------------------------------------------------


@pytest.mark.parametrize(("facts", "expected"), [
    ({"exam.GATE.answered": 200, "exam.GATE.accuracy": 0.8}, True),  # both thresholds exactly
    ({"exam.GATE.answered": 350, "exam.GATE.accuracy": 0.95}, True),
    ({"exam.GATE.answered": 199, "exam.GATE.accuracy": 1.0}, False),  # one question short
    ({"exam.GATE.answered": 200, "exam.GATE.accuracy": 0.79}, False),  # accuracy just short
    ({"exam.GATE.answered": 10_000, "exam.GATE.accuracy": 0.7999}, False),
    ({"exam.GATE.answered": 200}, False),  # accuracy missing counts as 0
    ({"exam.GATE.accuracy": 1.0}, False),  # answered missing counts as 0
    ({"exam.JEE.answered": 500, "exam.JEE.accuracy": 0.99}, False),  # another exam's figures
    ({}, False),
])
def test_exam_master_needs_both_200_answered_and_80_percent(facts: dict[str, float], expected: bool) -> None:
    # Given the GATE Master criterion and a student's facts
    # When the engine evaluates it
    # Then it holds only when both the count and the accuracy reach their thresholds
    badges.validate(master("GATE"))
    assert badges.satisfied(master("GATE"), facts) is expected


@pytest.mark.parametrize(("op", "value", "fact", "expected"), [
    (">=", 7, 7, True), (">=", 7, 6, False),
    (">", 7, 7, False), (">", 7, 8, True),
    ("<=", 7, 7, True), ("<=", 7, 8, False),
    ("<", 7, 7, False), ("<", 7, 6, True),
    ("==", 7, 7, True), ("==", 7, 7.0, True), ("==", 7, 6, False),
    (">=", 0.5, 0.5, True), (">=", 0.5, 0.49, False),
])
def test_each_comparison_operator(op: str, value: float, fact: float, expected: bool) -> None:
    # Given a single comparison, when it is evaluated against one fact, then the operator decides
    assert badges.satisfied(cmp("m", op, value), {"m": fact}) is expected


def test_a_missing_metric_counts_as_zero() -> None:
    # Given no figure at all for a metric
    # Then it compares as 0
    assert badges.satisfied(cmp("cards_reviewed", "==", 0), {})
    assert badges.satisfied(cmp("cards_reviewed", "<", 1), {"other": 5})
    assert not badges.satisfied(cmp("cards_reviewed", ">=", 1), {})


def test_any_needs_one_part_all_needs_every_part() -> None:
    either = {"any": [cmp("a", ">=", 1), cmp("b", ">=", 1)]}
    both = {"all": [cmp("a", ">=", 1), cmp("b", ">=", 1)]}
    assert badges.satisfied(either, {"b": 1}) and not badges.satisfied(both, {"b": 1})
    assert badges.satisfied(both, {"a": 1, "b": 2})
    assert not badges.satisfied(either, {})
    nested_mix = {"all": [cmp("a", ">=", 1), {"any": [cmp("b", ">=", 1), cmp("c", ">=", 1)]}]}
    badges.validate(nested_mix)
    assert badges.satisfied(nested_mix, {"a": 1, "c": 1})
    assert not badges.satisfied(nested_mix, {"b": 1, "c": 1})


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("criteria", [
    cmp("longest_streak", ">=", 7),
    cmp("exam.GATE.accuracy", ">=", 0.8),
    cmp("x", "==", 0),
    cmp("x", "<", -3.5),
    master("NEET"),
    {"any": [cmp("a", ">", 1)]},
    {"all": [cmp("a", ">", 1), {"any": [cmp("b", "<=", 2), cmp("c", "==", 3)]}]},
    nested(3),
])
def test_well_formed_criteria_are_accepted(criteria: dict[str, Any]) -> None:
    badges.validate(criteria)


@pytest.mark.parametrize("criteria", [
    # unknown operators
    cmp("x", "=>", 1), cmp("x", "!=", 1), cmp("x", "ge", 1), cmp("x", "", 1), {"metric": "x", "op": None, "value": 1},
    # missing keys
    {"metric": "x", "op": ">="}, {"metric": "x", "value": 1}, {"op": ">=", "value": 1}, {},
    # values that are not numbers (bool is an int in Python, but not a number here)
    cmp("x", ">=", True), cmp("x", "==", False), cmp("x", ">=", "7"), cmp("x", ">=", None),  # type: ignore[arg-type]
    cmp("x", ">=", [7]),  # type: ignore[arg-type]
    # numbers JSON can carry that no student can meet, or that everyone meets
    cmp("x", ">=", float("nan")), cmp("x", ">=", float("-inf")), cmp("x", "<", float("inf")),
    # metrics that are not names
    cmp("", ">=", 1), cmp("   ", ">=", 1),
    {"metric": 3, "op": ">=", "value": 1}, {"metric": None, "op": ">=", "value": 1},
    # extra keys
    {"metric": "x", "op": ">=", "value": 1, "unit": "days"},
    {"all": [cmp("x", ">=", 1)], "metric": "x"},
    {"all": [cmp("x", ">=", 1)], "any": [cmp("x", ">=", 1)]},
    {"any": [cmp("x", ">=", 1)], "note": "extra"},
    # empty or non-list combinators
    {"all": []}, {"any": []}, {"all": cmp("x", ">=", 1)}, {"any": None}, {"all": "x >= 1"},
    # a malformed part inside a combinator
    {"all": [cmp("x", ">=", 1), cmp("y", "~", 1)]},
    {"any": [cmp("x", ">=", 1), {"all": []}]},
    {"all": [cmp("x", ">=", 1), "y >= 1"]},
    # not an object at all
    None, [], [cmp("x", ">=", 1)], "longest_streak >= 7", 7,
    # too deep
    nested(20),
])
def test_malformed_criteria_are_rejected(criteria: Any) -> None:
    # Given a malformed criterion
    # When it is validated
    # Then it is rejected with InvalidCriteria (a ValueError)
    with pytest.raises(InvalidCriteria):
        badges.validate(criteria)


def test_deep_nesting_is_rejected_before_recursion_runs_out() -> None:
    # Given a criterion nested far beyond any sensible depth
    # When it is validated
    # Then the engine refuses it as too deep (not with a RecursionError)
    with pytest.raises(InvalidCriteria, match="nested too deeply"):
        badges.validate(nested(5_000))


def test_invalid_criteria_is_a_value_error() -> None:
    assert issubclass(InvalidCriteria, ValueError)


# --- earned() -----------------------------------------------------------------------------------

CATALOG = [
    Badge("questions-500", "Five Hundred", "500 questions", cmp("questions_answered", ">=", 500)),
    Badge("streak-7", "Week", "7-day streak", cmp("longest_streak", ">=", 7)),
    Badge("questions-100", "Hundred", "100 questions", cmp("questions_answered", ">=", 100)),
    Badge("gate-master", "GATE Master", "GATE", master("GATE")),
    Badge("cards-1000", "Cards", "1000 cards", cmp("cards_reviewed", ">=", 1000)),
]


def ids(found: list[Badge]) -> list[str]:
    return [badge.badge_id for badge in found]


def test_earned_keeps_catalog_order() -> None:
    # Given facts meeting several badges of a catalog that is not in any sorted order
    facts = {"questions_answered": 600, "longest_streak": 9, "exam.GATE.answered": 250, "exam.GATE.accuracy": 0.9}
    # When the earned badges are listed
    # Then they come in catalog order
    assert ids(badges.earned(CATALOG, facts, set())) == ["questions-500", "streak-7", "questions-100", "gate-master"]


def test_earned_leaves_out_badges_already_held() -> None:
    # Given a student who already holds two of the badges their facts meet
    facts = {"questions_answered": 600, "longest_streak": 9, "cards_reviewed": 1000}
    already = {"questions-100", "streak-7", "not-in-catalog"}
    # When the earned badges are listed
    found = badges.earned(CATALOG, facts, already)
    # Then only the new ones are listed, in catalog order
    assert ids(found) == ["questions-500", "cards-1000"]
    assert all(isinstance(badge, Badge) for badge in found)
    # And holding everything leaves nothing to earn
    assert badges.earned(CATALOG, facts, {badge.badge_id for badge in CATALOG}) == []


def test_earned_with_no_facts_is_nothing() -> None:
    assert badges.earned(CATALOG, {}, set()) == []
    assert badges.earned([], {"questions_answered": 10**6}, set()) == []


def test_earned_accepts_any_iterable_catalog() -> None:
    facts = {"questions_answered": 150}
    assert ids(badges.earned(iter(CATALOG), facts, set())) == ["questions-100"]
    assert ids(badges.earned(tuple(CATALOG), facts, set())) == ["questions-100"]


# --- parse_catalog ------------------------------------------------------------------------------


def entry(badge_id: str, criteria: Any = None, **overrides: Any) -> dict[str, Any]:
    raw = {"badge_id": badge_id, "name": f"Name {badge_id}", "description": f"About {badge_id}",
           "criteria": criteria if criteria is not None else cmp("questions_answered", ">=", 1)}
    raw.update(overrides)
    return raw


def test_parse_catalog_builds_badges_in_order() -> None:
    raw = [entry("b", cmp("x", ">=", 2)), entry("a", master("CAT"))]
    parsed = badges.parse_catalog(raw)
    assert parsed == [
        Badge("b", "Name b", "About b", cmp("x", ">=", 2)),
        Badge("a", "Name a", "About a", master("CAT")),
    ]
    assert badges.parse_catalog([]) == []


def test_parse_catalog_rejects_duplicate_ids() -> None:
    # Given a catalog naming the same badge_id twice (with different criteria)
    raw = [entry("streak-7"), entry("questions-100"), entry("streak-7", cmp("longest_streak", ">=", 7))]
    # When it is parsed
    # Then it is rejected, naming the second occurrence
    with pytest.raises(InvalidCriteria, match=r"badge #2: duplicate badge_id 'streak-7'"):
        badges.parse_catalog(raw)


@pytest.mark.parametrize(("raw", "index"), [
    ([entry("a"), entry("b", cmp("x", "=>", 1))], 1),
    ([entry("a", {"all": []})], 0),
    ([entry("a"), entry("b"), entry("c", cmp("x", ">=", True))], 2),
    ([entry("a", name="")], 0),
    ([entry("a", description=None)], 0),
    ([entry("a"), entry("")], 1),
    ([entry("a"), entry("  ")], 1),
    ([entry("a", name=" ")], 0),
    ([entry("a"), {"name": "n", "description": "d", "criteria": cmp("x", ">=", 1)}], 1),
    ([entry("a"), {"badge_id": "b", "name": "n", "description": "d"}], 1),  # no criteria
    ([{**entry("a"), "badge_id": 7}], 0),
    (["streak-7"], 0),
    ([entry("a"), None], 1),
])
def test_parse_catalog_names_the_first_malformed_entry(raw: list[Any], index: int) -> None:
    with pytest.raises(InvalidCriteria, match=rf"^badge #{index}: "):
        badges.parse_catalog(raw)


@pytest.mark.parametrize("raw", [{"badge_id": "a"}, None, "[]", 3])
def test_parse_catalog_needs_a_list(raw: Any) -> None:
    with pytest.raises(InvalidCriteria, match="list"):
        badges.parse_catalog(raw)


def test_parse_catalog_does_not_share_the_criteria_object_with_the_input() -> None:
    raw = [entry("a", cmp("x", ">=", 1))]
    parsed = badges.parse_catalog(raw)
    raw[0]["criteria"]["extra"] = 1
    assert parsed[0].criteria == cmp("x", ">=", 1)


# --- the bundled catalog ------------------------------------------------------------------------

REQUIRED = {
    "7-day streak": cmp("longest_streak", ">=", 7),
    "30-day streak": cmp("longest_streak", ">=", 30),
    "100 questions": cmp("questions_answered", ">=", 100),
    "500 questions": cmp("questions_answered", ">=", 500),
    "1000 cards reviewed": cmp("cards_reviewed", ">=", 1000),
    "daily goal 7 days running": cmp("longest_goal_streak", ">=", 7),
    **{f"{exam} Master": master(exam) for exam in EXAMS},
}


def _canonical(criteria: Any) -> Any:
    """Criteria compared regardless of the order of an all/any's parts, and of 7 vs 7.0."""
    if isinstance(criteria, dict) and ("all" in criteria or "any" in criteria):
        name = "all" if "all" in criteria else "any"
        return (name, tuple(sorted((_canonical(p) for p in criteria[name]), key=repr)))
    return (criteria["metric"], criteria["op"], float(criteria["value"]))


def test_the_bundled_catalog_parses_with_unique_ids() -> None:
    # Given badges.json beside the module
    raw = json.loads((Path(badges.__file__).with_name("badges.json")).read_text(encoding="utf-8"))
    # When it is loaded
    catalog = badges.bundled_catalog()
    # Then it is exactly what parse_catalog makes of the file, every criterion valid, ids unique
    assert list(catalog) == badges.parse_catalog(raw)
    assert len({badge.badge_id for badge in catalog}) == len(catalog)
    for badge in catalog:
        badges.validate(badge.criteria)
        assert badge.name and badge.description


@pytest.mark.parametrize("required", sorted(REQUIRED))
def test_the_bundled_catalog_has_every_required_badge(required: str) -> None:
    # Given a badge the product requires, by its criterion
    wanted = _canonical(REQUIRED[required])
    # Then exactly one bundled badge has that criterion
    matching = [badge for badge in badges.bundled_catalog() if _canonical(badge.criteria) == wanted]
    assert len(matching) == 1, required


@pytest.mark.parametrize("exam", EXAMS)
def test_the_exam_master_badges_are_named_after_their_exam(exam: str) -> None:
    [badge] = [b for b in badges.bundled_catalog() if _canonical(b.criteria) == _canonical(master(exam))]
    assert badge.name == f"{exam} Master"


def test_the_bundled_catalog_has_nothing_beyond_the_required_badges() -> None:
    catalog = badges.bundled_catalog()
    assert sorted(_canonical(b.criteria) for b in catalog) == sorted(_canonical(c) for c in REQUIRED.values())


@pytest.mark.parametrize(("facts", "expected"), [
    ({}, set()),
    ({"longest_streak": 6, "questions_answered": 99, "cards_reviewed": 999, "longest_goal_streak": 6}, set()),
    ({"longest_streak": 7}, {"7-day streak"}),
    ({"longest_streak": 30}, {"7-day streak", "30-day streak"}),
    ({"questions_answered": 100}, {"100 questions"}),
    ({"questions_answered": 500}, {"100 questions", "500 questions"}),
    ({"cards_reviewed": 1000}, {"1000 cards reviewed"}),
    ({"longest_goal_streak": 7}, {"daily goal 7 days running"}),
    ({"exam.UPSC.answered": 200, "exam.UPSC.accuracy": 0.8}, {"UPSC Master"}),
    ({"exam.UPSC.answered": 199, "exam.UPSC.accuracy": 0.8}, set()),
    ({"exam.NEET.answered": 200, "exam.NEET.accuracy": 0.79}, set()),
    ({"exam.JEE.answered": 400, "exam.JEE.accuracy": 0.85, "exam.CAT.answered": 400, "exam.CAT.accuracy": 0.5},
     {"JEE Master"}),
])
def test_the_bundled_catalog_awards_by_threshold(facts: dict[str, float], expected: set[str]) -> None:
    # Given a student's facts
    # When the bundled catalog is evaluated
    found = badges.earned(badges.bundled_catalog(), facts, set())
    # Then exactly the badges whose thresholds are reached are earned
    by_criteria = {_canonical(c): label for label, c in REQUIRED.items()}
    assert {by_criteria[_canonical(b.criteria)] for b in found} == expected


# --- property: the engine agrees with a direct reading of the criteria ---------------------------

METRICS = ["a", "b", "c", "exam.GATE.accuracy"]
OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}
numbers = st.one_of(st.integers(-5, 5), st.sampled_from([0.5, 0.79, 0.8, 1.5]))
comparisons = st.builds(cmp, st.sampled_from(METRICS), st.sampled_from(sorted(OPS)), numbers)
criteria_trees = st.recursive(
    comparisons,
    lambda parts: st.one_of(
        st.builds(lambda ps: {"all": ps}, st.lists(parts, min_size=1, max_size=3)),
        st.builds(lambda ps: {"any": ps}, st.lists(parts, min_size=1, max_size=3)),
    ),
    max_leaves=8,
)
fact_sets = st.dictionaries(st.sampled_from(METRICS), numbers)


def read(criteria: dict[str, Any], facts: dict[str, float]) -> bool:
    if "all" in criteria:
        return all(read(part, facts) for part in criteria["all"])
    if "any" in criteria:
        return any(read(part, facts) for part in criteria["any"])
    return OPS[criteria["op"]](facts.get(criteria["metric"], 0), criteria["value"])


@settings(max_examples=200, deadline=None)
@given(criteria=criteria_trees, facts=fact_sets)
def test_the_engine_evaluates_any_valid_criteria_as_written(criteria: dict[str, Any], facts: dict[str, float]) -> None:
    # Given a random well-formed criterion and random facts
    snapshot = copy.deepcopy(criteria)
    # Then it validates, and the engine's verdict is the direct reading of the criterion
    badges.validate(criteria)
    assert badges.satisfied(criteria, facts) is read(criteria, facts)
    # And evaluating it changed nothing
    assert criteria == snapshot
