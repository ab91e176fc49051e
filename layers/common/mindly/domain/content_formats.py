"""Import file formats: text in, raw records out (validation is mindly.domain.content's).

- ``json``: a JSON array of records;
- ``jsonl``: one JSON record per line (blank lines ignored);
- ``csv``: a header row; questions use ``option_a`` .. ``option_e`` columns for the options
  (``option_e`` may be empty or absent), every other column is the record field of that name,
  except the columns that spell a structured field (``CSV_QUESTION_COLUMNS``, see ``_csv_question``);
- ``aqua``: AQuA-RAT (one JSON object per line: ``question``, ``options`` ["A)...", ...],
  ``rationale``, ``correct``), mapped to CAT Quantitative Aptitude questions; see ``aqua_record``;
- ``upsc``: the UPSC Prelims past-papers CSV (``mindly.domain.upsc_bank``);
- ``jeebench``: JEEBench's JSON array of JEE Advanced problems (``mindly.domain.jee_bank``).

A line or row that cannot be read becomes a record that says so (``RawRecord.problem``), so one bad
line is reported at its index and never stops the others.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from typing import Any, NamedTuple

FORMATS = ("json", "jsonl", "csv", "aqua", "upsc", "jeebench")
AQUA_SOURCE = "aqua-rat"
AQUA_EXAM, AQUA_SUBJECT, AQUA_DIFFICULTY = "CAT", "Quantitative Aptitude", "medium"
# AQuA-RAT has no topics: a question goes to the first syllabus topic whose words its text contains
# (checked in this order), else to "Arithmetic". The text itself is never changed.
AQUA_TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Permutation and Probability", ("probability", "permutation", "combination", "arrange", "ways")),
    ("Interest", ("interest", "compound", "principal", "per annum", "p.a.")),
    ("Percentages and Profit", ("percent", "%", "profit", "loss", "discount", "cost price", "selling price")),
    ("Time, Speed and Distance", ("speed", "km/h", "kmph", "mph", "train", "distance", "velocity", "miles")),
    ("Time and Work", ("work", "pipe", "tank", "days to complete", "finish the job")),
    ("Ratio and Proportion", ("ratio", "proportion", "share")),
    ("Geometry", ("triangle", "circle", "angle", "square", "rectangle", "radius", "diameter")),
    ("Mensuration", ("area", "volume", "perimeter", "cube", "cylinder", "sphere")),
    ("Number System", ("divisible", "remainder", "prime", "integer", "digit", "factor", "multiple")),
    ("Algebra", ("equation", "x =", "x+", "x-", "y =", "roots", "quadratic", "function")),
)
_OPTION = re.compile(r"^\s*([A-Ea-e])\s*\)\s?(.*)$", re.DOTALL)
# CSV columns that are parts of one record field, not fields of their own. Lists in one cell
# ("A,C"; media "fig-1|fig-2") are split on CSV_LIST_SEPARATORS.
CSV_QUESTION_COLUMNS = ("correct_options", "answer_value", "answer_tolerance", "answer_min", "answer_max",
                        "passage_id", "passage_text", "media_ids", "media_alts")
CSV_LIST_SEPARATORS = {"correct_options": ",", "media_ids": "|", "media_alts": "|"}


class FormatError(ValueError):
    """The file as a whole cannot be read (not the format it claims)."""


class RawRecord(NamedTuple):
    """One record as read: ``data`` when it could be read, else ``problem``."""

    index: int  # type: ignore[assignment]  # the record's position; shadows tuple.index, which nothing calls
    data: Any = None
    problem: str | None = None


def read_records(text: str, fmt: str, kind: str) -> list[RawRecord]:
    """The records of ``text`` in format ``fmt`` (``kind`` is "question" or "flashcard")."""
    if fmt == "json":
        return _json_array(text)
    if fmt == "jsonl":
        return _json_lines(text, lambda data, _index: data)
    if fmt == "csv":
        return _csv(text, kind)
    if fmt in ("aqua", "upsc", "jeebench") and kind != "question":
        raise FormatError(f"the {fmt} format holds questions only")
    if fmt == "aqua":
        return _json_lines(text, aqua_record)
    # Imported here, not at the top: the bank modules build on this module's RawRecord.
    if fmt == "upsc":
        from mindly.domain.upsc_bank import upsc_records

        return upsc_records(text, this_year=datetime.now(UTC).year)
    if fmt == "jeebench":
        from mindly.domain.jee_bank import jee_records

        return jee_records(text)
    raise FormatError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def guess_format(filename: str) -> str:
    """The format a file name suggests (``.json``, ``.jsonl``/``.ndjson``, ``.csv``)."""
    lowered = filename.lower()
    if lowered.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith(".json"):
        return "json"
    raise FormatError("cannot tell the format from the file name; pass --format")


def _json_array(text: str) -> list[RawRecord]:
    return json_array(text, "a JSON import is an array of records", lambda data, _index: data)


def json_array(text: str, not_a_list: str, convert: Any) -> list[RawRecord]:
    """The elements of a JSON array as records, each through ``convert(element, index)``: a
    ValueError it raises becomes that record's problem; ``not_a_list`` is the FormatError's message
    when the text holds something else."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"not valid JSON (line {exc.lineno}): {exc.msg}") from exc
    if not isinstance(data, list):
        raise FormatError(not_a_list)
    records = []
    for index, element in enumerate(data):
        try:
            records.append(RawRecord(index, convert(element, index)))
        except ValueError as exc:
            records.append(RawRecord(index, problem=str(exc)))
    return records


def _json_lines(text: str, convert: Any) -> list[RawRecord]:
    records = []
    index = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            records.append(RawRecord(index, convert(json.loads(line), index)))
        except json.JSONDecodeError as exc:
            records.append(RawRecord(index, problem=f"not valid JSON: {exc.msg}"))
        except ValueError as exc:
            records.append(RawRecord(index, problem=str(exc)))
        index += 1
    return records


def _csv(text: str, kind: str) -> list[RawRecord]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise FormatError("a CSV import needs a header row")
    records = []
    for index, row in enumerate(reader):
        if None in row:
            records.append(RawRecord(index, problem="the row has more cells than the header"))
            continue
        record: dict[str, Any] = {name.strip(): (value or "") for name, value in row.items() if name}
        if kind == "question":
            try:
                record = _csv_question(record)
            except ValueError as exc:
                records.append(RawRecord(index, problem=str(exc)))
                continue
        records.append(RawRecord(index, record))
    return records


def _csv_question(row: dict[str, Any]) -> dict[str, Any]:
    """A CSV row as a question record. ``option_a``..``option_e`` become ``options`` (an empty A-D
    cell stays, to be reported; a numeric question's empty option cells are dropped);
    ``correct_options`` "A,C" a list; ``answer_value`` + ``answer_tolerance`` or ``answer_min`` +
    ``answer_max`` the numeric ``answer``; ``passage_id`` + ``passage_text`` the ``passage``;
    ``media_ids`` + ``media_alts`` ("a|b", one alt per id) the ``media``; ``year`` a number. An empty
    cell of these or of ``type``, ``format``, ``paper`` or a key column means the field is absent;
    an empty ``explanation`` means none (null). Other cells are passed as written."""
    record = {name: value for name, value in row.items() if name not in CSV_QUESTION_COLUMNS}
    cells = {name: row[name] for name in CSV_QUESTION_COLUMNS if str(row.get(name, "")).strip()}
    for name in ("type", "format", "paper", "year", "correct_option"):
        if name in record and not str(record[name]).strip():
            del record[name]
    if "explanation" in record and not str(record["explanation"]).strip():
        record["explanation"] = None
    options = {letter: record.pop(f"option_{letter.lower()}", "") for letter in "ABCDE"}
    numeric = str(record.get("type", "")).strip().lower() == "numeric"
    kept = {letter: text for letter, text in options.items()
            if text.strip() or (letter < "E" and not numeric)}
    if kept or not numeric:
        record["options"] = kept
    if "correct_options" in cells:
        record["correct_options"] = _csv_list(cells, "correct_options")
    answer = {part: _csv_number(cells, f"answer_{part}") for part in ("value", "tolerance", "min", "max")
              if f"answer_{part}" in cells}
    if answer:
        record["answer"] = answer
    passage = {name: cells[column] for name, column in (("passage_id", "passage_id"), ("text", "passage_text"))
               if column in cells}
    if passage:
        record["passage"] = passage
    if "media_ids" in cells or "media_alts" in cells:
        record["media"] = _csv_media(cells)
    if "year" in record:
        record["year"] = _csv_number({"year": record["year"]}, "year")
    return record


def _csv_list(cells: dict[str, str], name: str) -> list[str]:
    return [item.strip() for item in cells.get(name, "").split(CSV_LIST_SEPARATORS[name]) if item.strip()]


def _csv_number(cells: dict[str, str], name: str) -> int | float:
    text = cells[name].strip()
    try:
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
    except ValueError:
        raise ValueError(f"{name} {text[:20]!r} is not a number") from None


def _csv_media(cells: dict[str, str]) -> list[dict[str, str]]:
    ids, alts = _csv_list(cells, "media_ids"), _csv_list(cells, "media_alts")
    if len(ids) != len(alts):
        raise ValueError(f"media_ids has {len(ids)} id(s) and media_alts {len(alts)} alt text(s); "
                         "give one alt per id, both separated by |")
    return [{"media_id": media_id, "alt": alt} for media_id, alt in zip(ids, alts, strict=True)]


def aqua_record(data: Any, index: int) -> dict[str, Any]:
    """An AQuA-RAT line as a question record: the five options keep their text (the ``A)`` label
    becomes the key), the rationale becomes the explanation, and the line number the external id."""
    if not isinstance(data, dict):
        raise ValueError("an AQuA line is an object")
    options: dict[str, str] = {}
    raw_options = data.get("options")
    if not isinstance(raw_options, list):
        raise ValueError("options must be a list of 'A)...' strings")
    for raw in raw_options:
        found = _OPTION.match(raw) if isinstance(raw, str) else None
        if found is None:
            raise ValueError(f"option {str(raw)[:40]!r} is not of the form 'A)text'")
        letter = found.group(1).upper()
        if letter in options:
            raise ValueError(f"option {letter} appears twice")
        options[letter] = found.group(2)
    stem = data.get("question")
    return {
        "source": AQUA_SOURCE, "external_id": f"line-{index + 1}", "exam_type": AQUA_EXAM,
        "subject": AQUA_SUBJECT, "topic": aqua_topic(stem if isinstance(stem, str) else ""),
        "difficulty": AQUA_DIFFICULTY, "stem": stem, "options": options,
        "correct_option": data.get("correct"), "explanation": data.get("rationale"),
    }


def aqua_topic(stem: str) -> str:
    """The syllabus topic an AQuA question is filed under (see AQUA_TOPICS)."""
    text = stem.casefold()
    for topic, words in AQUA_TOPICS:
        if any(word in text for word in words):
            return topic
    return "Arithmetic"
