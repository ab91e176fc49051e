"""mindly.domain.syllabus: exam codes, subjects and topics."""

from __future__ import annotations

import pytest

from mindly.domain import syllabus


def test_the_five_exams_are_covered_each_with_a_name() -> None:
    assert set(syllabus.EXAM_TYPES) == {"UPSC", "GATE", "JEE", "CAT", "NEET"}
    assert set(syllabus.EXAM_NAMES) == set(syllabus.EXAM_TYPES)


@pytest.mark.parametrize(("given", "expected"), [
    ("GATE", "GATE"), ("gate", "GATE"), (" Jee ", "JEE"), ("nEeT", "NEET"), ("upsc\n", "UPSC"),
    ("SAT", None), ("", None), ("GATE CS", None), ("G A T E", None),
])
def test_normalize_exam(given: str, expected: str | None) -> None:
    assert syllabus.normalize_exam(given) == expected


@pytest.mark.parametrize("exam", ["UPSC", "GATE", "JEE", "CAT", "NEET"])
def test_every_exam_has_distinct_subjects_each_with_distinct_topics(exam: str) -> None:
    subjects = syllabus.subjects(exam)
    assert subjects
    assert len({s.name for s in subjects}) == len(subjects)
    for subject in subjects:
        assert subject.topics
        assert len(set(subject.topics)) == len(subject.topics)


@pytest.mark.parametrize(("exam", "given", "expected"), [
    ("GATE", "Algorithms", "Algorithms"),
    ("GATE", "algorithms", "Algorithms"),
    ("GATE", "  OPERATING SYSTEM ", "Operating System"),
    ("UPSC", "science and technology", "Science and Technology"),
    ("NEET", "botany", "Botany"),
    ("JEE", "Botany", None),  # a NEET subject, not a JEE one
    ("GATE", "Physics", None),
    ("CAT", "", None),
])
def test_canonical_subject(exam: str, given: str, expected: str | None) -> None:
    assert syllabus.canonical_subject(exam, given) == expected


@pytest.mark.parametrize(("exam", "subject", "given", "expected"), [
    ("JEE", "Physics", "Kinematics", "Kinematics"),
    ("JEE", "Physics", " kinematics ", "Kinematics"),
    ("GATE", "Algorithms", "DYNAMIC PROGRAMMING", "Dynamic Programming"),
    ("JEE", "Physics", "Integration", None),  # a Mathematics topic
    ("NEET", "Zoology", "Photosynthesis", None),  # a Botany topic
    ("GATE", "Not A Subject", "Recursion", None),
])
def test_canonical_topic(exam: str, subject: str, given: str, expected: str | None) -> None:
    assert syllabus.canonical_topic(exam, subject, given) == expected


def test_every_topic_is_found_by_its_own_spelling() -> None:
    for exam in syllabus.EXAM_TYPES:
        for subject in syllabus.subjects(exam):
            assert syllabus.canonical_subject(exam, subject.name.lower()) == subject.name
            for topic in subject.topics:
                assert syllabus.canonical_topic(exam, subject.name, topic.upper()) == topic


@pytest.mark.parametrize("exam", syllabus.EXAM_TYPES)
def test_subject_weightages_cover_every_subject_and_sum_to_the_whole_paper(exam: str) -> None:
    weights = {s.name: syllabus.subject_weightage(exam, s.name) for s in syllabus.subjects(exam)}
    assert all(w > 0 for w in weights.values())
    assert sum(weights.values()) == pytest.approx(100)
    chapters = sum(syllabus.chapter_weightage(exam, s.name, t) for s in syllabus.subjects(exam) for t in s.topics)
    assert chapters == pytest.approx(100)


def test_a_chapter_takes_an_even_part_of_its_subject() -> None:
    # NEET Physics is 25% of the paper over 12 chapters.
    assert syllabus.chapter_weightage("NEET", "Physics", "Optics") == pytest.approx(25 / 12)
    assert syllabus.chapter_weightage("JEE", "Mathematics", "Probability") == pytest.approx(100 / 3 / 15)
    with pytest.raises(KeyError):
        syllabus.chapter_weightage("NEET", "Physics", "Ancient India")
