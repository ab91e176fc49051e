"""The UPSC Civil Services Prelims past papers (``upsc_prelims.csv``) as question records.

The file's columns are ``Paper, Passage, Question, Option A..D, Correct Answer, Subject, Topic,
Year, Image Url``. ``GS1`` rows are GS Paper I, ``GS2`` rows CSAT. Each row becomes one ``single``
question in ``text`` format, or a rejection that says why (``RawRecord.problem``): a question the
exam dropped (answer ``X``), a year outside UPSC's prelims (1979 on), a figure we cannot get, an
empty question or option, a question the file lists twice. A record is never imported without a
part it needs.

Subjects and topics go through ``UPSC_SUBJECTS`` and ``UPSC_TOPICS`` onto our UPSC syllabus; a
CSAT passage becomes one passage per distinct text, its id a digest of that text, so every question
of the passage (and every re-import) shares it.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Mapping
from typing import Any

from mindly.domain.content_formats import FormatError, RawRecord

UPSC_SOURCE = "upsc-prelims"
UPSC_EXAM = "UPSC"
UPSC_FIRST_YEAR = 1979  # the first Civil Services preliminary examination
# The papers give no difficulty; "medium" is the neutral middle until answers tell us better.
UPSC_DIFFICULTY = "medium"
UPSC_PAPERS = {"GS1": "GS Paper I", "GS2": "CSAT"}
UPSC_COLUMNS = ("Paper", "Passage", "Question", "Option A", "Option B", "Option C", "Option D",
                "Correct Answer", "Subject", "Topic", "Year", "Image Url")

# The file's subject -> (our subject, the topic a row goes to when its file topic is not listed in
# UPSC_TOPICS). Every file subject lands in exactly one of our subjects.
UPSC_SUBJECTS: dict[str, tuple[str, str]] = {
    "Ancient India": ("History", "Ancient India"),
    "Medieval India": ("History", "Medieval India"),
    "Modern India": ("History", "Modern India"),
    "Art & Culture": ("History", "Art and Culture"),
    "Indian Geography": ("Geography", "Indian Geography"),
    "World Geography": ("Geography", "World Geography"),
    "Indian Polity and Governance": ("Polity", "Constitution"),
    "Indian Economy": ("Economy", "Planning and Growth"),
    "Environment & Ecology and Disaster Management": ("Environment", "Ecology"),
    "Science & Tech and Basic Science": ("Science and Technology", "Basic Science"),
    "Current Affairs and Miscellaneous": ("Current Affairs", "National"),
    "International Relations": ("Current Affairs", "International Relations"),
    "Reading Comprehension": ("CSAT", "Reading Comprehension"),
    "Logical Reasoning": ("CSAT", "Logical Reasoning"),
    "Quantitative Ability": ("CSAT", "Basic Numeracy"),
}

# The file's (subject, topic) -> our topic, within the subject UPSC_SUBJECTS gives.
UPSC_TOPICS: dict[str, dict[str, str]] = {
    "Ancient India": {
        "Prehistoric Period and Indus Valley Civilisation": "Ancient India",
        "Vedic and Later Vedic Age": "Ancient India",
        "Mauryan and Post-Mauryan Age": "Ancient India", "Gupta and Post-Gupta Age": "Ancient India",
        "Sangam Age": "Ancient India",
    },
    "Medieval India": {
        "Delhi Sultanate (1206 AD to 1526 AD)": "Medieval India",
        "Mughal Empire (1526 AD to 1761 AD)": "Medieval India",
        "Provincial Kingdoms in Medieval India": "Medieval India",
        "Religious Movement during Medieval Period": "Medieval India",
    },
    "Modern India": {
        "India in the 18th Century": "Modern India",
        "Early Uprising Against the British and Revolt of 1857": "Modern India",
        "Indian Renaissance and Reform Movements": "Modern India",
        "Development of Press, Education, and Civil Services": "Modern India",
        "Rise of Indian National Movement: Moderate and Extremists Phase": "Indian National Movement",
        "Phases of Revolutionary Nationalism": "Indian National Movement",
        "The Beginning of Gandhian Era": "Indian National Movement",
        "The National Movement in the 1940s": "Indian National Movement",
        "Independence to Partition": "Indian National Movement",
    },
    "Art & Culture": {
        "Architecture and Sculpture": "Art and Culture",
        "Indian Philosophy and Bhakti & Sufi Movements": "Art and Culture",
        "Indian Traditions, Festivals, and Calendars": "Art and Culture",
        "Literature: Religious and Scientific": "Art and Culture",
        "Performing Arts: Dance, Theatre, and Music": "Art and Culture",
        "Visual Arts: Painting, Ceramics, and Drawing": "Art and Culture", "Miscellaneous": "Art and Culture",
    },
    "Indian Geography": {
        "Physiography of India": "Indian Geography", "Drainage System of India": "Indian Geography",
        "Indian Climate": "Indian Geography", "Soils": "Indian Geography",
        "Natural Vegetation in India": "Indian Geography", "Agriculture in India": "Indian Geography",
        "Indian Map": "Indian Geography", "Mineral and Industries": "Resources and Industries",
    },
    "World Geography": {
        "The Earth and the Universe": "Physical Geography", "Geomorphology": "Physical Geography",
        "Climatology": "Climatology", "World Climatic Regions": "Climatology", "Oceanography": "Oceanography",
        "Human and Economic Geography": "World Geography", "World Map": "World Geography",
    },
    "Indian Polity and Governance": {
        "Historical Background & Making of Indian Constitution": "Constitution",
        "Features of the Indian Constitution": "Constitution", "Legislature": "Parliament and State Legislatures",
        "Executive": "Executive", "Judiciary": "Judiciary", "Judicial & Quasi-Judicial Bodies": "Judiciary",
        "Local Self Government": "Local Government",
        "Constitutional and Non-constitutional Bodies": "Constitutional Bodies", "Governance": "Governance",
    },
    "Indian Economy": {
        "GDP, GNP": "National Income", "MicroEconomics": "National Income",
        "Money: Barter to Bitcoins": "Money and Banking", "Bank Classification": "Money and Banking",
        "NPA, Bad-Loans, BASEL": "Money and Banking", "Insurance, Pension, Financial Inclusion": "Money and Banking",
        "Sharemarket, Companies Act": "Capital Markets", "Budget Direct Taxes": "Fiscal Policy and Budget",
        "Budget Indirect Taxes GST": "Fiscal Policy and Budget",
        "Finance Commission, Black Money, Subsidies": "Fiscal Policy and Budget", "Inflation": "Inflation",
        "BoP, CAD Currency Exchange": "External Sector", "WTO, IMF & Other Intl. Orgs & Agreements": "External Sector",
        "Sectors of Economy - Agriculture": "Agriculture",
        "NITI, Planning Commission, FYP, Unemployment": "Planning and Growth",
        "HRD: Census, Health, Hunger": "Human Development", "HRD: Education and Skill": "Human Development",
        "HRD: Poverty": "Human Development", "HRD: Weaker Section, HDI, SDG": "Human Development",
        "Infrastructure: Energy": "Infrastructure",
        "Infrastructure: Transport, Urban Rural, Communication, Investment, PPP": "Infrastructure",
        "Sectors - MFG, Services, Ease of Doing Business, IPR, Startup, MSME": "Industry and Services",
    },
    "Environment & Ecology and Disaster Management": {
        "Ecosystem and Ecology": "Ecology", "Biodiversity": "Biodiversity",
        "Climate Change: Causes and Implications": "Climate Change", "Environmental Pollution": "Pollution",
        "Global Conservation Efforts": "Environmental Laws and Bodies",
        "National Conservation Efforts": "Environmental Laws and Bodies",
        "Protected Area Network: NP, WS, BR, etc.": "Protected Areas",
        "Environment, Sustainable Development and General Issues": "Sustainable Development",
        "Agriculture": "Sustainable Development",
    },
    "Science & Tech and Basic Science": {
        "Physics": "Basic Science", "Chemistry": "Basic Science", "Biology": "Basic Science",
        "Miscellaneous": "Basic Science", "Biotechnology": "Biotechnology",
        "IT & Communication Technology": "Information Technology", "Space Science": "Space",
        "Defence Technology": "Defence", "Energy": "Energy",
    },
    "Current Affairs and Miscellaneous": {
        "Current Affairs: India": "National", "GK/Persons in News": "National", "Miscellaneous": "National",
        "Current Affairs: World": "International Relations",
    },
    "International Relations": {
        "India & Its Neighbors": "International Relations", "India's Foreign Policy": "International Relations",
        "International Groups and Political Organizations": "International Relations",
        "Places in news (2022)": "International Relations",
    },
    "Reading Comprehension": {
        "": "Reading Comprehension",
        # Puzzles set out in a shared passage: analytical ability, not comprehension.
        "Multiple Correlations Puzzles": "General Mental Ability",
    },
    "Logical Reasoning": {
        "Deductive Reasoning": "Logical Reasoning", "Syllogism and Logical Deduction": "Logical Reasoning",
        "Inequalities": "Logical Reasoning", "Data Sufficiency": "Data Interpretation",
        "Coding Decoding": "General Mental Ability", "Directions": "General Mental Ability",
        "Ranking Puzzles": "General Mental Ability", "Relationship Puzzles": "General Mental Ability",
        "Sitting Arrangement": "General Mental Ability",
    },
    "Quantitative Ability": {
        "Data Interpretation": "Data Interpretation", "Calendar": "General Mental Ability",
        "Clock": "General Mental Ability", "Averages": "Basic Numeracy", "Boat and Stream": "Basic Numeracy",
        "Geometry and Diagrams": "Basic Numeracy", "LCM HCF": "Basic Numeracy", "Linear Equation": "Basic Numeracy",
        "Mixture": "Basic Numeracy", "Numbers": "Basic Numeracy", "Percentage and Ratio": "Basic Numeracy",
        "Probability": "Basic Numeracy", "SETS": "Basic Numeracy", "Sequence and Series": "Basic Numeracy",
        "Simple Interest Compound Interest": "Basic Numeracy", "Time and Distance": "Basic Numeracy",
        "Work and Time": "Basic Numeracy",
    },
}

# Given a figure's name from ``Image Url``, the media id it was stored under, or None when it
# cannot be had. No lookup is the default: the file names figures ("1.png") without a host, and the
# importer never downloads anything, so a question that needs a figure is rejected rather than
# imported without it. An images directory would plug in here (store the file, return its id).
FigureLookup = Callable[[str], str | None]


def upsc_records(text: str, this_year: int, figures: FigureLookup | None = None) -> list[RawRecord]:
    """The rows of a ``upsc_prelims.csv`` text as records or rejections, in file order; a question
    the file repeats (the same paper, year, passage and text) is kept at its first acceptable row."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [name for name in UPSC_COLUMNS if name != "Image Url" and name not in (reader.fieldnames or ())]
    if missing:
        raise FormatError(f"not the UPSC prelims CSV: no column(s) {', '.join(missing)}")
    records: list[RawRecord] = []
    first_row: dict[str, int] = {}
    for index, row in enumerate(reader):
        try:
            record = upsc_record(row, this_year, figures)
        except ValueError as exc:
            records.append(RawRecord(index, problem=str(exc)))
            continue
        earlier = first_row.setdefault(record["external_id"], index)
        if earlier != index:
            records.append(RawRecord(index, problem=f"the same question as record {earlier} "
                                                    "(the file lists it twice)"))
            continue
        records.append(RawRecord(index, record))
    return records


def upsc_record(row: Mapping[str, str | None], this_year: int, figures: FigureLookup | None = None) -> dict[str, Any]:
    """One CSV row as a question record, or ValueError naming why it cannot be imported."""
    def cell(name: str) -> str:
        return _lines(row.get(name) or "")

    paper = UPSC_PAPERS.get(cell("Paper").strip())
    if paper is None:
        raise ValueError(f"paper {cell('Paper')[:20]!r} is neither GS1 nor GS2")
    stem = cell("Question")
    if not stem.strip():
        raise ValueError("the question text is empty")
    options = {letter: cell(f"Option {letter}") for letter in "ABCD"}
    for letter, option in options.items():
        if not option.strip():
            raise ValueError(f"option {letter} is empty")
    answer = cell("Correct Answer").strip().upper()
    if answer == "X":
        raise ValueError("answer X: the question was dropped by UPSC")
    if answer not in options:
        raise ValueError(f"answer {answer[:10]!r} is not one of A-D")
    year = _year(cell("Year").strip(), this_year)
    subject, topic = upsc_placement(cell("Subject").strip(), cell("Topic").strip())
    passage_text, figure = cell("Passage"), cell("Image Url").strip()
    record: dict[str, Any] = {
        "source": UPSC_SOURCE, "external_id": _external_id(cell("Paper").strip(), year, passage_text, stem, figure),
        "exam_type": UPSC_EXAM, "subject": subject, "topic": topic, "difficulty": UPSC_DIFFICULTY,
        "type": "single", "format": "text", "stem": stem, "options": options, "correct_option": answer,
        "explanation": None, "year": year, "paper": f"UPSC Prelims {year} {paper}",
    }
    if passage_text.strip():
        record["passage"] = {"passage_id": passage_id(passage_text), "text": passage_text}
    if figure:
        record["media"] = [{"media_id": _figure(figure, figures), "alt": f"the figure of the question ({figure})"}]
    return record


def upsc_placement(file_subject: str, file_topic: str) -> tuple[str, str]:
    """Our (subject, topic) for the file's: UPSC_TOPICS, else the file subject's default topic;
    ValueError for a file subject we have no place for."""
    placed = UPSC_SUBJECTS.get(file_subject)
    if placed is None:
        raise ValueError(f"subject {file_subject[:60]!r} has no place in our UPSC syllabus")
    subject, default = placed
    return subject, UPSC_TOPICS.get(file_subject, {}).get(file_topic, default)


def passage_id(text: str) -> str:
    """The id of a passage: a digest of its words (spacing aside), the same for every question and
    every import that carries the passage."""
    return "p-" + _digest(text)[:20]


def _lines(value: str) -> str:
    # Most rows write their line breaks as the two characters backslash-n; a text question shows
    # them as the line breaks they are (numbered statements).
    return value.replace("\\n", "\n")


def _year(value: str, this_year: int) -> int:
    if not value.isdigit():
        raise ValueError(f"year {value[:10]!r} is not a year")
    year = int(value)
    if not UPSC_FIRST_YEAR <= year <= this_year:
        raise ValueError(f"year {year} is impossible: UPSC prelims papers exist from {UPSC_FIRST_YEAR} "
                         f"to {this_year}")
    return year


def _figure(name: str, figures: FigureLookup | None) -> str:
    media_id = figures(name) if figures is not None else None
    if media_id is None:
        where = "no images directory was given" if figures is None else "it is not among the images"
        raise ValueError(f"needs the figure {name[:80]!r}, which cannot be fetched ({where}; "
                         "figures are never downloaded)")
    return media_id


def _external_id(paper: str, year: int, passage: str, stem: str, figure: str) -> str:
    # From the text rather than the row number, so a re-ordered or extended file matches the same
    # questions. The passage is part of it because CSAT reuses stems ("Which of the above
    # assumptions is/are valid?") across passages, and the figure because two questions may share
    # a stem and differ by their figure.
    return f"{paper.lower()}-{year}-{_digest(passage, stem, *([figure] if figure else []))[:16]}"


def _digest(*texts: str) -> str:
    # Spacing is not content: re-exports differ in trailing spaces and in how lines break.
    words = "\n".join(" ".join(text.split()) for text in texts)
    return hashlib.sha256(words.encode()).hexdigest()
