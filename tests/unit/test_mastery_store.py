"""The adaptive model's items (mindly.store.mastery, mindly.store.question_stats) and the fold's hours
(mindly.services.question_fold), without AWS: what is written, under which condition, and what it
reads back as."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mindly.domain import mastery
from mindly.domain.syllabus import EXAM_TYPES
from mindly.services import question_fold
from mindly.store import mastery as store
from mindly.store import question_stats as stats
from mindly.store.content import QuestionItem

AT = datetime(2026, 12, 2, 4, 17, 9, tzinfo=UTC)


def _stored(item: store.MasteryItem) -> store.MasteryItem:
    """The item as a later read returns it (serialised, then deserialised)."""
    return store.MasteryItem.from_raw_data(item.serialize())


def _condition(condition: Any) -> tuple[str, dict[str, str], dict[str, Any]]:
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    return condition.serialize(names, values), names, values


def test_a_first_answer_writes_the_item_only_if_it_is_still_absent() -> None:
    # Given a student with no item for JEE
    # When an answer's write is built
    item, condition = store.mastery_write("u1", "JEE", None, "Chemistry", "Mole Concept",
                                          mastery.Ability(0.3125, 1), AT)
    # Then it is the student's JEE item at version 1, written only while none exists
    assert (item.pk, item.sk) == store.mastery_key("u1", "JEE") == ("USER#u1", "MASTERY#JEE")
    assert int(item.version) == 1 and item.exam_type == "JEE"
    assert _condition(condition) == ("attribute_not_exists (#0)", {"pk": "#0"}, {})
    # and it reads back as that ability, answered at that second
    assert store.abilities(_stored(item)) == {
        ("Chemistry", "Mole Concept"): store.TopicAbility(mastery.Ability(0.3125, 1), AT.replace(second=9))}


def test_a_later_answer_keeps_the_other_topics_and_is_conditioned_on_the_version_read() -> None:
    # Given an item read at version 1 holding one topic
    first, _ = store.mastery_write("u1", "JEE", None, "Chemistry", "Mole Concept", mastery.Ability(0.5, 1), AT)
    read = _stored(first)
    # When an answer in another topic is written
    later = AT + timedelta(minutes=3)
    item, condition = store.mastery_write("u1", "JEE", read, "Physics", "Kinematics", mastery.Ability(-0.25, 1),
                                          later)
    # Then both topics are there, the version moves to 2, and the write holds only at version 1
    assert set(store.abilities(_stored(item))) == {("Chemistry", "Mole Concept"), ("Physics", "Kinematics")}
    assert int(item.version) == 2
    expression, names, values = _condition(condition)
    assert expression == "#0 = :0" and names == {"version": "#0"} and values == {":0": {"N": "1"}}


@given(st.floats(min_value=-mastery.BOUND, max_value=mastery.BOUND, allow_nan=False), st.integers(0, 10_000))
def test_an_ability_survives_the_item_bit_for_bit(theta: float, answers: int) -> None:
    # Given any ability
    item, _ = store.mastery_write("u2", "GATE", None, "Algorithms", "Greedy", mastery.Ability(theta, answers), AT)
    # When it is stored and read back
    # Then it is exactly the same number (JSON keeps a float's shortest exact repr)
    assert store.ability_in(_stored(item), "Algorithms", "Greedy") == mastery.Ability(theta, answers)


def test_no_item_and_an_unknown_topic_read_as_the_prior() -> None:
    assert store.abilities(None) == {}
    assert store.ability_in(None, "Chemistry", "Mole Concept") == mastery.Ability()
    item, _ = store.mastery_write("u3", "JEE", None, "Chemistry", "Mole Concept", mastery.Ability(1.0, 4), AT)
    assert store.ability_in(_stored(item), "Chemistry", "Atomic Structure") == mastery.Ability()


def test_a_submit_reads_every_exams_item_and_picks_the_questions() -> None:
    # Given the keys a submit reads
    keys = store.mastery_keys("u4")
    # Then they are the student's item of each exam
    assert keys == [("USER#u4", f"MASTERY#{exam}") for exam in EXAM_TYPES]
    # and of the items found, the question's exam's is the one used
    jee, _ = store.mastery_write("u4", "JEE", None, "Chemistry", "Mole Concept", mastery.Ability(0.1, 1), AT)
    gate, _ = store.mastery_write("u4", "GATE", None, "Algorithms", "Greedy", mastery.Ability(0.2, 1), AT)
    assert store.mastery_of([gate, jee], "JEE") is jee
    assert store.mastery_of([gate], "NEET") is None


def _question(difficulty: str, steps: int | None = None, answers: int | None = None) -> QuestionItem:
    return QuestionItem("Q#x", "QUESTION", difficulty=difficulty, learned_steps=steps, learned_answers=answers)


def test_a_question_never_folded_has_its_labels_prior() -> None:
    for label in ("easy", "medium", "hard"):
        assert store.learned_difficulty(_question(label)) == mastery.prior_difficulty(label)


def test_a_folded_question_has_its_prior_plus_its_steps_clipped() -> None:
    # Given a medium question with folded sums, and a hard one whose steps overshoot the bound
    # Then its difficulty is the model's difficulty_of those sums
    assert store.learned_difficulty(_question("medium", -412_345, 7)) == mastery.Difficulty(-0.412345, 7)
    assert store.learned_difficulty(_question("hard", 9_000_000, 900)) == mastery.Difficulty(mastery.BOUND, 900)


def test_an_answers_shard_update_carries_its_step_and_files_the_shard_under_the_hour() -> None:
    # Given an answer's step
    learned = stats.LearnedStep(-123_456, AT)
    # When its shard update is built
    increment = stats.answer_increment("q1", "u5", "a1", True, 30, learned)
    text = " ".join(str(action) for action in increment.actions)
    # Then it adds the step and one answer, and puts the shard in the hour's fold partition of its number
    shard = int(increment.item.sk.removeprefix(stats.STATS_PREFIX))
    assert "learned_steps" in text and "-123456" in text and "learned_answers" in text
    assert f"FOLD#2026-12-02T04#{shard:02d}" in text and "gsi1_sk" in text
    # and without a step (nothing learned) the shard joins no fold partition
    plain = " ".join(str(action) for action in stats.answer_increment("q1", "u5", "a1", True, 30).actions)
    assert "FOLD#" not in plain and "learned_steps" not in plain


def test_the_first_fold_takes_the_last_hour_that_ended() -> None:
    # Given no cursor, at 04:17
    # Then the run folds 03:00-04:00 only
    assert question_fold.hours_to_fold(AT, None) == ["2026-12-02T03"]
    # and just after an hour ends, it waits the grace before folding it
    assert question_fold.hours_to_fold(datetime(2026, 12, 2, 4, 1, tzinfo=UTC), None) == ["2026-12-02T02"]


def test_a_fold_continues_from_its_cursor_and_reaches_back_no_further_than_the_limit() -> None:
    # Given a cursor three hours back
    # Then the three hours that ended since are folded, oldest first
    assert question_fold.hours_to_fold(AT, "2026-12-02T01") == ["2026-12-02T01", "2026-12-02T02", "2026-12-02T03"]
    # and a cursor at the current hour means nothing to do yet
    assert question_fold.hours_to_fold(AT, "2026-12-02T04") == []
    # and after a long outage, only the last MAX_CATCH_UP_HOURS
    hours = question_fold.hours_to_fold(AT, "2026-11-01T00")
    assert len(hours) == question_fold.MAX_CATCH_UP_HOURS and hours[-1] == "2026-12-02T03"
