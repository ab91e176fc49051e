"""The real banks (UPSC Prelims past papers, JEEBench) as import records, and the CSV form of the new
question fields. Every record of both real files is read from ../shared/datasets/: it either converts
to a record ``parse_question`` accepts or is rejected with its reason, and the counts are exact."""

from __future__ import annotations

import collections
import csv
import io
import json
import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from mindly.domain import content_formats as formats
from mindly.domain import jee_bank, syllabus, upsc_bank
from mindly.domain.content import ContentError, Question, parse_question

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
UPSC_FILE = DATASETS / "upsc-pyq" / "upsc_prelims.csv"
JEE_FILE = DATASETS / "jeebench" / "dataset.json"
THIS_YEAR = 2026


@cache
def _upsc_text() -> str:
    return UPSC_FILE.read_text(encoding="utf-8")


@cache
def _upsc_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_upsc_text())))


@cache
def _upsc() -> list[formats.RawRecord]:
    return upsc_bank.upsc_records(_upsc_text(), this_year=THIS_YEAR)


@cache
def _jee_problems() -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = json.loads(JEE_FILE.read_text(encoding="utf-8"))
    return problems


@cache
def _jee() -> list[formats.RawRecord]:
    return formats.read_records(JEE_FILE.read_text(encoding="utf-8"), "jeebench", "question")


def _outcomes(records: list[formats.RawRecord]) -> tuple[dict[int, Question], collections.Counter[str]]:
    """The questions that would enter the bank, by record index, and every rejection by its reason
    (the converter's, or parse_question's for a converted record), with the specifics cut off."""
    accepted: dict[int, Question] = {}
    rejected: collections.Counter[str] = collections.Counter()
    for record in records:
        if record.problem is not None:
            rejected[re.sub(r" ?[('\d].*", "", record.problem)] += 1
            continue
        try:
            accepted[record.index] = parse_question(record.data)
        except ContentError as exc:
            rejected["parse_question: " + re.sub(r"[A-E] and [A-E]", "X and Y", str(exc))] += 1
    return accepted, rejected


def test_every_upsc_row_imports_or_is_rejected_with_its_reason() -> None:
    # Given the real UPSC Prelims file (2,031 rows)
    records = _upsc()
    # When every row is converted and checked as the import checks it
    accepted, rejected = _outcomes(records)
    # Then 1,924 enter the bank and each of the other 107 has a reason
    assert len(records) == 2031 and [r.index for r in records] == list(range(2031))
    assert len(accepted) == 1924
    assert rejected == {
        "needs the figure": 81,
        "the same question as record": 15,
        "year": 4,  # "year 1000 is impossible: UPSC prelims papers exist from 1979 to 2026"
        "option D is empty": 1,
        "parse_question: options X and Y have the same text": 6,
    }
    papers = collections.Counter(q.paper.split()[-1] for q in accepted.values() if q.paper)
    assert papers == {"I": 1132, "CSAT": 792}
    assert all(q.exam_type == "UPSC" and q.question_type == "single" and q.text_format == "text"
               and q.difficulty == "medium" and q.explanation is None for q in accepted.values())


def test_every_jeebench_problem_imports_with_its_type() -> None:
    # Given the real JEEBench file (376 problems)
    records = _jee()
    # When every problem is converted and checked
    accepted, rejected = _outcomes(records)
    # Then all of them enter the bank, as single, multiple and numeric questions
    assert len(records) == 376 and not rejected and len(accepted) == 376
    kinds = collections.Counter(q.question_type for q in accepted.values())
    assert kinds == {"single": 66, "multiple": 153, "numeric": 157}
    assert collections.Counter(q.subject for q in accepted.values()) == {
        "Mathematics": 169, "Chemistry": 115, "Physics": 92}
    assert all(q.exam_type == "JEE" and q.text_format == "latex" and q.difficulty == "hard"
               and q.explanation is None and q.year is not None and 2016 <= q.year <= 2021 for q in accepted.values())
    assert len({q.question_id for q in accepted.values()}) == 376


def test_a_csat_passage_is_one_passage_shared_by_its_questions() -> None:
    # Given the CSAT rows 1970 and 1971 that repeat the office-block puzzle's passage
    rows, records = _upsc_rows(), _upsc()
    assert rows[1970]["Passage"] == rows[1971]["Passage"] and rows[1970]["Question"] != rows[1971]["Question"]
    # When they are converted and parsed
    first, second = (parse_question(records[i].data) for i in (1970, 1971))
    # Then both carry the same passage (one id, the text as written), filed as CSAT
    assert first.passage is not None and second.passage is not None
    assert first.passage == second.passage and first.passage.text == rows[1970]["Passage"]
    assert records[1970].data["passage"]["passage_id"] == upsc_bank.passage_id(rows[1970]["Passage"])
    assert first.paper == "UPSC Prelims 2018 CSAT" and first.year == 2018
    assert (first.subject, first.topic) == ("CSAT", "General Mental Ability")
    # and every accepted passage question shares its passage with every other row of the same text
    accepted, _ = _outcomes(records)
    by_text: dict[str, set[str]] = collections.defaultdict(set)
    for question in accepted.values():
        if question.passage is not None:
            by_text[question.passage.text].add(question.passage.passage_id)
    assert len(by_text) == 244 and all(len(ids) == 1 for ids in by_text.values())
    assert sum(q.passage is not None for q in accepted.values()) == 422


def test_upsc_external_ids_follow_the_question_not_its_row() -> None:
    # Given the file's rows in reverse order (a re-ordered export)
    rows = _upsc_rows()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(reversed(rows))
    # When both orders are converted
    forward = {r.index: r.data["external_id"] for r in _upsc() if r.data is not None}
    backward = upsc_bank.upsc_records(out.getvalue(), this_year=THIS_YEAR)
    # Then each question keeps its external id (duplicates kept at their other copy)
    reversed_ids = {len(rows) - 1 - r.index: r.data["external_id"] for r in backward if r.data is not None}
    assert set(forward.values()) == set(reversed_ids.values())
    assert all(reversed_ids.get(index, eid) == eid for index, eid in forward.items() if index in reversed_ids)
    assert forward[0].startswith("gs1-2021-") and re.fullmatch(r"gs1-2021-[0-9a-f]{16}", forward[0])


def test_a_upsc_question_keeps_its_line_breaks() -> None:
    # Given row 2, whose statements are separated by real line breaks and a written "\n"
    raw = _upsc_rows()[2]["Question"]
    assert "\\n" in raw
    # When converted
    stem = parse_question(_upsc()[2].data).stem
    # Then every break is a line break and the words are unchanged
    assert "\\n" not in stem and stem.splitlines()[1:4] == [
        "1. Aurang: In-charge of treasury of the State ", "2. Banian: Indian agent of the East India Company ",
        "3. Mirasidar: Designated revenue payer to the State. "]
    assert stem.split() == raw.replace("\\n", " ").split()


def test_an_answer_x_row_is_rejected_as_dropped_by_upsc() -> None:
    # Given the real file holds no answer X, and a real row whose answer is set to X (as the source
    # marks a question the exam dropped)
    rows = _upsc_rows()
    assert not [row for row in rows if row["Correct Answer"].strip().upper() == "X"]
    dropped = dict(rows[0], **{"Correct Answer": "X"})
    # When it is converted
    with pytest.raises(ValueError, match="answer X: the question was dropped by UPSC"):
        upsc_bank.upsc_record(dropped, THIS_YEAR)
    # Then nothing of it is imported, also when it is read from a file
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows([dropped, rows[1]])
    first, second = upsc_bank.upsc_records(out.getvalue(), this_year=THIS_YEAR)
    assert first.data is None and first.problem is not None and "dropped by UPSC" in first.problem
    assert second.data is not None


def test_the_year_1000_rows_are_rejected_as_impossible() -> None:
    # Given rows 816-819, whose year the file gives as 1000 (unknown)
    rows, records = _upsc_rows(), _upsc()
    assert [rows[i]["Year"] for i in range(816, 820)] == ["1000"] * 4
    # Then each is rejected with the valid range, and no other row is
    impossible = [r.index for r in records if r.problem and r.problem.startswith("year")]
    assert impossible == [816, 817, 818, 819]
    assert records[816].problem == "year 1000 is impossible: UPSC prelims papers exist from 1979 to 2026"
    # and the range's ends are kept (1979 is the first prelims, this year the last)
    assert upsc_bank.upsc_record(dict(rows[0], Year="1979"), THIS_YEAR)["year"] == 1979
    with pytest.raises(ValueError, match="impossible"):
        upsc_bank.upsc_record(dict(rows[0], Year="2027"), THIS_YEAR)
    with pytest.raises(ValueError, match="is not a year"):
        upsc_bank.upsc_record(dict(rows[0], Year="20l9"), THIS_YEAR)


def test_an_image_row_is_rejected_unless_its_figure_can_be_had() -> None:
    # Given row 1523, a data-interpretation question whose table is the figure "1.png" (no host)
    row, record = _upsc_rows()[1523], _upsc()[1523]
    assert row["Image Url"] == "1.png"
    # Then without an images source it is rejected, never imported without its figure
    assert record.data is None and record.problem is not None
    assert record.problem.startswith("needs the figure '1.png', which cannot be fetched")
    # and a figure lookup that does not know the name rejects it too
    with pytest.raises(ValueError, match="not among the images"):
        upsc_bank.upsc_record(row, THIS_YEAR, figures=lambda name: None)
    # When a lookup (an images directory, later) has stored it
    converted = upsc_bank.upsc_record(row, THIS_YEAR, figures={"1.png": "upsc-fig-0001"}.get)
    # Then the question carries it as media
    question = parse_question(converted)
    assert [(m.media_id, m.alt) for m in question.media] == [("upsc-fig-0001", "the figure of the question (1.png)")]


def test_two_upsc_rows_that_differ_only_by_their_figure_get_their_own_ids() -> None:
    # Given rows 1749 and 1750: the same words, figures 44.png and 45.png
    rows = _upsc_rows()
    assert rows[1749]["Question"] == rows[1750]["Question"]
    figures = {"44.png": "upsc-fig-0044", "45.png": "upsc-fig-0045"}.get
    # When both figures can be had
    first, second = (upsc_bank.upsc_record(rows[i], THIS_YEAR, figures) for i in (1749, 1750))
    # Then they are two questions
    assert first["external_id"] != second["external_id"]


def test_upsc_duplicates_are_kept_once_at_their_first_row() -> None:
    # Given rows 86 and 692: the same 2018 question, filed under Modern India and Indian Economy
    rows, records = _upsc_rows(), _upsc()
    assert rows[86]["Question"] == rows[692]["Question"] and rows[86]["Subject"] != rows[692]["Subject"]
    # Then the first is imported and the second reported as the same question
    assert records[86].data is not None
    assert records[692].problem == "the same question as record 86 (the file lists it twice)"


def test_every_upsc_subject_and_topic_of_the_file_is_mapped_onto_the_syllabus() -> None:
    # Given every (Subject, Topic) pair the file uses
    pairs = {(row["Subject"].strip(), row["Topic"].strip()) for row in _upsc_rows()}
    assert len(pairs) == 125
    # Then each is listed in the map (none falls back to a default) onto a topic of our syllabus
    assert all(topic in upsc_bank.UPSC_TOPICS.get(subject, {}) for subject, topic in pairs)
    for file_subject, (subject, default) in upsc_bank.UPSC_SUBJECTS.items():
        assert syllabus.canonical_topic("UPSC", subject, default) == default
        for topic in upsc_bank.UPSC_TOPICS[file_subject].values():
            assert syllabus.canonical_topic("UPSC", subject, topic) == topic, (file_subject, topic)
    # and a topic the map does not list goes to its subject's default; an unknown subject is refused
    assert upsc_bank.upsc_placement("Indian Economy", "Crypto Assets") == ("Economy", "Planning and Growth")
    with pytest.raises(ValueError, match="no place in our UPSC syllabus"):
        upsc_bank.upsc_placement("Astrology", "Horoscopes")


def test_the_upsc_syllabus_keeps_every_earlier_topic() -> None:
    # Given the UPSC subjects and topics stored content already uses
    before = {
        "Polity": ("Constitution", "Parliament and State Legislatures", "Judiciary", "Federalism",
                   "Local Government", "Constitutional Bodies", "Fundamental Rights and Duties"),
        "Economy": ("National Income", "Money and Banking", "Fiscal Policy and Budget", "Inflation",
                    "External Sector", "Agriculture", "Planning and Growth"),
        "Environment": ("Ecology", "Biodiversity", "Climate Change", "Environmental Laws and Bodies", "Pollution"),
        "Science and Technology": ("Space", "Biotechnology", "Information Technology", "Defence",
                                   "Health and Disease", "Energy"),
        "CSAT": ("Reading Comprehension", "Logical Reasoning", "Basic Numeracy", "Data Interpretation"),
    }
    topics = {s.name: s.topics for s in syllabus.subjects("UPSC")}
    # Then each is still there, in its place, with the additions after it
    assert all(topics[subject][:len(old)] == old for subject, old in before.items())
    assert [s.name for s in syllabus.subjects("UPSC")] == [
        "History", "Geography", "Polity", "Economy", "Environment", "Science and Technology", "Current Affairs",
        "Ethics", "CSAT"]


def test_a_multi_correct_jee_question_gets_its_options_out_of_the_latex() -> None:
    # Given JEE Adv 2016 Paper 1 question 26 (borax), gold "ACD"
    problem, record = _jee_problems()[18], _jee()[18]
    assert (problem["type"], problem["gold"]) == ("MCQ(multiple)", "ACD")
    # When it is parsed
    question = parse_question(record.data)
    # Then it is a multiple question with the four options as written
    assert question.question_type == "multiple" and question.correct_options == ("A", "C", "D")
    assert question.stem == "The crystalline form of borax has"
    assert question.options == {
        "A": r"tetranuclear $\left[\mathrm{B}_{4} \mathrm{O}_{5}(\mathrm{OH})_{4}\right]^{2-}$ unit",
        "B": "all boron atoms in the same plane",
        "C": r"equal number of $s p^{2}$ and $s p^{3}$ hybridized boron atoms",
        "D": "one terminal hydroxide per boron atom",
    }
    assert question.external_id == "jee-adv-2016-paper-1-q26" and question.paper == "JEE Adv 2016 Paper 1"
    assert question.year == 2016 and (question.subject, question.topic) == ("Chemistry", "Periodic Table")


def test_a_numeric_jee_question_is_graded_to_two_decimal_places() -> None:
    # Given JEE Adv 2019 Paper 2 question 29 (Numeric, gold 2.3) and 2016 Paper 1 question 18 (Integer, 8)
    problems, records = _jee_problems(), _jee()
    assert (problems[229]["type"], problems[229]["gold"]) == ("Numeric", "2.3")
    assert (problems[11]["type"], problems[11]["gold"]) == ("Integer", "8")
    # When both are parsed
    numeric, integer = parse_question(records[229].data), parse_question(records[11].data)
    # Then each is a numeric question whose stem is the whole text, without options
    assert numeric.question_type == integer.question_type == "numeric"
    assert numeric.stem == problems[229]["question"] and not numeric.options
    assert records[229].data["answer"] == {"value": 2.3, "tolerance": 0.01}
    assert records[11].data["answer"] == {"value": 8, "tolerance": 0}
    # and the numeric answer takes the neighbouring hundredths, the integer one only itself
    assert numeric.answer is not None and integer.answer is not None
    assert [numeric.answer.accepts(Decimal(x)) for x in ("2.29", "2.3", "2.31", "2.32", "2.28")] == [
        True, True, True, False, False]
    assert [integer.answer.accepts(Decimal(x)) for x in ("8", "8.0", "8.01", "7")] == [True, True, False, False]


def _is_label(gap: str) -> bool:
    return re.fullmatch(r"\s*(?:\([A-D]\)|\[[A-D]\]|\$\[\\mathrm\{[A-D]\}\])\s*", gap) is not None


def test_jee_latex_is_kept_exactly_as_the_file_writes_it() -> None:
    # Given every JEEBench problem and its converted record
    for problem, record in zip(_jee_problems(), _jee(), strict=True):
        text, data = problem["question"], record.data
        question = parse_question(data)
        if data["type"] == "numeric":
            # Then a numeric stem is the whole text, to the character
            assert question.stem == text
            continue
        # Then the stem and the options are the text's own pieces, in order, with only the labels
        # and the spacing around them between them
        assert question.stem == data["stem"] and text.startswith(question.stem)
        position = len(question.stem)
        for letter in "ABCD":
            option = question.options[letter]
            piece = option[1:] if text.find(option, position) < 0 and option.startswith("$") else option
            found = text.find(piece, position)
            assert found >= 0 and _is_label(text[position:found]), (problem["description"], problem["index"], letter)
            position = found + len(piece)
        assert not text[position:].strip()


@pytest.mark.parametrize(("row", "checks"), [
    # "(C)" in the middle of a line, after option B's sentence
    (16, {"B": "rate constant increases with increase in temperature. This is due to a greater number of "
               "collisions whose energy exceeds the activation energy.",
          "C": "higher the magnitude of activation energy, stronger is the temperature dependence of\n\nthe "
               "rate constant."}),
    # "(A)" on the stem's own line, after "is(are)", which is no label
    (352, {"A": r"Upon heating, $\mathrm{H}_{3} \mathrm{PO}_{3}$ undergoes disproportionation reaction to "
                r"produce $\mathrm{H}_{3} \mathrm{PO}_{4}$ and $\mathrm{PH}_{3}$."}),
    # labels typed inside math mode: the option keeps its math open
    (95, {"A": r"$\quad \lambda_{d} / \lambda$", "D": r"$\lambda_{d}^{3} / \lambda^{2}$"}),
    # [A]..[D] labels, an option that starts with spacing
    (108, {"C": r"$\quad 14 x+2 y+15 z=31$"}),
])
def test_jee_options_are_found_however_the_paper_writes_their_labels(row: int, checks: dict[str, str]) -> None:
    # Given a real problem whose labels are written unusually
    record = _jee()[row]
    # Then its options come out as written
    assert record.data is not None
    for letter, text in checks.items():
        assert record.data["options"][letter] == text


def test_the_stem_ends_before_the_last_run_of_labels() -> None:
    # Given a stem that itself names "(A)" and options that contain parentheses and refer to (A)
    text = ("Statement (A) below is about $f(x)$. Which is true?\n\n(A) $f(1)=(2)$\n\n(B) as (A), for $g$\n\n"
            "(C) x\n\n(D) y")
    # When split
    stem, options = jee_bank.split_options(text)
    # Then only the final A-D run counts
    assert stem == "Statement (A) below is about $f(x)$. Which is true?"
    assert options == {"A": "$f(1)=(2)$", "B": "as (A), for $g$", "C": "x", "D": "y"}


@pytest.mark.parametrize(("problem", "reason"), [
    ({"type": "MCQ", "question": "Which is right? (A) x (B) y (C) z", "gold": "A"}, r"no option \(D\) label"),
    ({"type": "MCQ", "question": "(A) x (B) y (C) z (D) w", "gold": "A"}, "no question text before"),
    ({"type": "MCQ", "question": "Which? (A) x (B)   (C) z (D) w", "gold": "A"}, r"option \(B\) is empty"),
    ({"type": "MCQ", "question": "Which? (A) x (B) y (C) z (D) w", "gold": "AB"}, "not one letter"),
    ({"type": "MCQ(multiple)", "question": "Which? (A) x (B) y (C) z (D) w", "gold": "AE"}, "letters A-D"),
    ({"type": "Numeric", "question": "How much?", "gold": "about 3"}, "not a number"),
    ({"type": "Integer", "question": "How many?", "gold": "2.5"}, "not a whole number"),
    ({"type": "Matrix", "question": "Match", "gold": "A"}, "none of MCQ"),
    ({"subject": "bio"}, "none of phy, chem, math"),
    ({"index": "7"}, "not the problem's number"),
])
def test_a_jee_problem_that_cannot_be_read_is_rejected_with_the_reason(problem: dict[str, Any], reason: str) -> None:
    # Given a problem with one flaw
    base = {"description": "JEE Adv 2019 Paper 1", "index": 7, "subject": "math", "type": "Numeric",
            "question": "Find x.", "gold": "1"}
    # When it is read from a file with a good one
    text = json.dumps([dict(base, **problem), base])
    bad, good = formats.read_records(text, "jeebench", "question")
    # Then it is reported with the reason, and the other still converts
    assert bad.data is None and bad.problem is not None and re.search(reason, bad.problem)
    assert good.problem is None and parse_question(good.data).answer is not None


@pytest.mark.parametrize(("subject", "text", "topic"), [
    ("Physics", "A convex lens of focal length 20 cm forms an image by refraction", "Optics"),
    ("Physics", "A string vibrates", "Oscillations and Waves"),  # "string" is not "ring"
    ("Physics", "A fluid of density 2 flows", "Laws of Motion"),  # nothing known: the default
    # JEE Adv 2016 Paper 1's Rydberg-states problem ("nuclear charge $Z e$"): atomic, not electrostatics
    ("Physics", "Highly excited states for hydrogen-like atoms (also called Rydberg states) with nuclear "
                "charge $Z e$ are defined by their principal quantum number $n$", "Modern Physics"),
    ("Chemistry", "The spin only magnetic moment of the complex", "Coordination Compounds"),
    ("Chemistry", "Which reagent precipitates sulphide?", "Periodic Table"),
    ("Mathematics", r"Let $\int_{0}^{1} f(x) d x$ be the integral", "Integration"),
    ("Mathematics", "A set with exactly 5 elements", "Sets, Relations and Functions"),
])
def test_jee_topics_come_from_the_keyword_map(subject: str, text: str, topic: str) -> None:
    assert jee_bank.jee_topic(subject, text) == topic


def test_every_jee_topic_of_the_map_is_a_syllabus_topic() -> None:
    for subject, topics in jee_bank.JEE_TOPICS.items():
        assert syllabus.canonical_topic("JEE", subject, jee_bank.JEE_DEFAULT_TOPICS[subject])
        assert [syllabus.canonical_topic("JEE", subject, topic) for topic, _ in topics] == [t for t, _ in topics]
    assert set(jee_bank.JEE_SUBJECTS.values()) == {s.name for s in syllabus.subjects("JEE")}


@pytest.mark.parametrize("fmt", ["upsc", "jeebench"])
def test_the_bank_formats_hold_questions_only(fmt: str) -> None:
    with pytest.raises(formats.FormatError, match="questions only"):
        formats.read_records("[]", fmt, "flashcard")


def test_a_csv_that_is_not_the_upsc_file_is_refused_as_a_whole() -> None:
    with pytest.raises(formats.FormatError, match="no column"):
        formats.read_records("Question,Answer\nq,a\n", "upsc", "question")
    with pytest.raises(formats.FormatError, match="JSON array"):
        formats.read_records("{}", "jeebench", "question")


CSV_HEADER = ("source,external_id,exam_type,subject,topic,difficulty,type,format,stem,option_a,option_b,option_c,"
              "option_d,option_e,correct_option,correct_options,answer_value,answer_tolerance,answer_min,answer_max,"
              "passage_id,passage_text,media_ids,media_alts,year,paper,explanation\n")


def _csv_rows(*rows: str) -> list[formats.RawRecord]:
    return formats.read_records(CSV_HEADER + "".join(row + "\n" for row in rows), "csv", "question")


def test_csv_rows_carry_the_new_question_fields() -> None:
    # Given a multiple, a numeric (value and tolerance), a range and a LaTeX passage question in CSV
    multiple, numeric, ranged, latex = _csv_rows(
        't,m-1,JEE,Chemistry,Equilibrium,hard,multiple,,Which are buffers?,a,b,c,d,,,"A,C",,,,,,,,,2019,'
        "JEE Adv 2019 Paper 1,",
        "t,n-1,JEE,Physics,Kinematics,medium,numeric,,Speed in m/s?,,,,,,,,12.5,0.05,,,,,,,,,",
        "t,n-2,JEE,Physics,Kinematics,medium,numeric,,Range?,,,,,,,,,,-1,2,,,,,,,",
        't,l-1,CAT,Verbal Ability and Reading Comprehension,Reading Comprehension,easy,single,latex,"  $x^2$ ",'
        'a,b,c,d,e,B,,,,,,rc-7,"  The passage, kept.  ",fig-00001|fig-00002,"A graph|A, table",,,',
    )
    # When they are parsed
    m, n, r, la = (parse_question(row.data) for row in (multiple, numeric, ranged, latex))
    # Then each field comes from its columns
    assert multiple.data["correct_options"] == ["A", "C"] and "correct_option" not in multiple.data
    assert m.question_type == "multiple" and m.correct_options == ("A", "C") and m.explanation is None
    assert (m.year, m.paper) == (2019, "JEE Adv 2019 Paper 1")
    assert "options" not in numeric.data and numeric.data["answer"] == {"value": 12.5, "tolerance": 0.05}
    assert n.question_type == "numeric" and not n.options and n.answer is not None
    assert ranged.data["answer"] == {"min": -1, "max": 2} and r.answer is not None and r.answer.accepts(Decimal(0))
    assert la.text_format == "latex" and la.stem == "  $x^2$ " and list(la.options) == ["A", "B", "C", "D", "E"]
    assert la.passage is not None and la.passage.external_id == "rc-7" and la.passage.text == "  The passage, kept.  "
    assert [(x.media_id, x.alt) for x in la.media] == [("fig-00001", "A graph"), ("fig-00002", "A, table")]
    assert "year" not in latex.data and "paper" not in latex.data and "answer" not in latex.data


@pytest.mark.parametrize(("row", "problem"), [
    ("t,x,JEE,Physics,Kinematics,easy,numeric,,s,,,,,,,,twelve,0,,,,,,,,,", "answer_value 'twelve' is not a number"),
    ("t,x,JEE,Physics,Kinematics,easy,single,,s,a,b,c,d,,A,,,,,,,,,,20x9,,e", "year '20x9' is not a number"),
    ("t,x,JEE,Physics,Kinematics,easy,single,,s,a,b,c,d,,A,,,,,,,,m-000001|m-000002,one,,,e",
     "media_ids has 2 id(s) and media_alts 1"),
])
def test_a_csv_row_with_an_unreadable_new_cell_is_reported(row: str, problem: str) -> None:
    [record] = _csv_rows(row)
    assert record.data is None and record.problem is not None and problem in record.problem


def test_a_numeric_csv_row_with_options_is_refused_and_a_single_row_keeps_its_empty_option() -> None:
    # Given a numeric row that fills option cells, and a single row with option C empty
    numeric, single = _csv_rows("t,x,JEE,Physics,Kinematics,easy,numeric,,s,1,2,,,,,,3,0,,,,,,,,,",
                                "t,y,JEE,Physics,Kinematics,easy,,,s,a,b,,d,,A,,,,,,,,,,,,e")
    # Then the first keeps its options (to be refused), the second reports its empty option as before
    assert numeric.data["options"] == {"A": "1", "B": "2"}
    with pytest.raises(ContentError, match="numeric question has no options"):
        parse_question(numeric.data)
    with pytest.raises(ContentError, match="option C is empty"):
        parse_question(single.data)
