"""JEEBench (``dataset.json``: JEE Advanced 2016-2021 problems) as question records.

The file is a JSON array of ``{description: "JEE Adv 2019 Paper 1", index, subject: phy|chem|math,
type: MCQ|MCQ(multiple)|Numeric|Integer, question, gold}``; its text is LaTeX and stays exactly as
written. An MCQ's options are the ``(A)`` .. ``(D)`` parts at the end of ``question`` and its stem
the text before them; see ``split_options``. ``Numeric`` answers are graded as JEE Advanced grades
them, to two decimal places (``NUMERIC_TOLERANCE``); ``Integer`` answers are exact. Topics come
from ``JEE_TOPICS``, a keyword map over the text, else the subject's ``JEE_DEFAULT_TOPICS`` entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mindly.domain.content_formats import RawRecord, json_array

JEE_SOURCE = "jeebench"
JEE_EXAM = "JEE"
# Every JEEBench problem is from JEE Advanced, the harder of the two JEE papers.
JEE_DIFFICULTY = "hard"
JEE_SUBJECTS = {"phy": "Physics", "chem": "Chemistry", "math": "Mathematics"}
# JEE Advanced asks numeric answers "correct up to the 2nd decimal place" and its keys accept the
# neighbouring hundredths (a range such as 2.29-2.31); integer answers have one right value.
NUMERIC_TOLERANCE = 0.01
INTEGER_TOLERANCE = 0
OPTION_LETTERS = "ABCD"

# A topic's keywords, matched case-insensitively against the LaTeX text as whole words ("ring" is
# not in "string"); a keyword ending in "*" is a word's beginning ("refract*": refraction,
# refractive). The topic with the most distinct keywords present wins, a tie going to the topic
# listed first; a text with none goes to JEE_DEFAULT_TOPICS. The words are the papers' own
# ("lens", "\\int"), chosen by reading the real problems.
JEE_TOPICS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "Physics": (
        ("Modern Physics", ("photoelectr*", "work function", "work-function", "de broglie", "nucleus", "nuclei",
                            "decay*", "half-life", "radioactiv*", "x-ray*", "bohr", "photon*", "planck*",
                            "binding energy", "fission", "fusion", "hydrogen atom", "hydrogen-like", "rydberg",
                            "quantum number*", "electron*")),
        ("Optics", ("lens*", "mirror*", "refract*", "prism", "focal", "interference", "diffraction", "slit*",
                    "fringe*", "polari*", "optic*", "image", "object", "light")),
        ("Electromagnetic Induction", ("induct*", "induced", "inductance", "alternating", "ac source", "lc",
                                       "lcr", "magnetic flux")),
        ("Magnetism", ("magnetic field", "magnet*", "solenoid", "biot", "cyclotron", "galvanometer")),
        ("Current Electricity", ("resist*", "current", "battery", "potentiometer", "ammeter", "voltmeter",
                                 "ohm*", "kirchhoff*", "circuit")),
        ("Electrostatics", ("charge*", "charged", "electric field", "capacit*", "dielectric*", "electrostatic*",
                            "coulomb*", "potential difference", "gauss*")),
        ("Thermodynamics", ("heat*", "temperature", "thermal*", "gas", "gases", "adiabatic*", "isothermal*",
                            "entropy", "calor*", "radiat*", "black body", "thermodynamic*")),
        ("Oscillations and Waves", ("oscillat*", "wave*", "frequency", "sound", "resonan*", "pendulum",
                                    "harmonic*", "string", "doppler", "amplitude")),
        ("Gravitation", ("gravitation*", "satellite*", "planet*", "orbit*", "escape velocity")),
        ("Rotational Motion", ("angular", "torque", "moment of inertia", "rotat*", "rolling", "disc", "disk",
                               "ring", "spin*")),
        ("Work, Energy and Power", ("kinetic energy", "work done", "power", "collision*", "elastic*",
                                    "potential energy")),
        ("Laws of Motion", ("friction*", "tension", "pulley*", "force*", "block*", "incline*")),
        ("Kinematics", ("velocity", "projectile*", "accelerat*", "trajectory", "displacement")),
        ("Units and Measurements", ("dimension*", "error*", "vernier", "screw gauge", "least count",
                                    "measure*", "significant")),
    ),
    "Chemistry": (
        ("Coordination Compounds", ("complex*", "ligand*", "coordination", "isomer*", "octahedral",
                                    "tetrahedral", "square planar", "spin-only", "spin only", "magnetic moment",
                                    "carbonyl*")),
        ("Electrochemistry", ("electroly*", "electrode*", "cell", "faraday", "conductance", "conductivity",
                              "emf", "galvanic")),
        ("Chemical Kinetics", ("rate constant", "rate of", "order", "half-life", "arrhenius",
                               "activation energy", "kinetic*", "radioactive", "decay*")),
        ("Equilibrium", ("equilibri*", "ph", "buffer*", "solubility", "k_{sp}", "dissociat*", "ionization",
                         "weak acid")),
        ("Chemical Thermodynamics", ("enthalp*", "entropy", "gibbs", "\\delta h", "\\delta g", "\\delta s",
                                     "isothermal*", "adiabatic*", "heat", "work done", "thermodynamic*",
                                     "ideal gas")),
        ("Atomic Structure", ("orbital*", "quantum number*", "electronic state", "hydrogen atom", "node*",
                              "wavelength", "bohr", "photon*")),
        ("Chemical Bonding", ("hybridi*", "bond order", "molecular orbital*", "lone pair*", "paramagnetic",
                              "diamagnetic", "vsepr", "dipole*", "bond angle*", "bond length*")),
        ("Biomolecules and Polymers", ("glucose", "sucrose", "fructose", "amino acid*", "protein*", "polymer*",
                                       "peptide*", "nucleotide*", "carbohydrate*", "starch", "cellulose",
                                       "nylon*", "rubber")),
        ("Organic Reaction Mechanisms", ("major product*", "ozonolysis", "substitution", "elimination",
                                         "nucleophil*", "electrophil*", "aldehyde*", "ketone*", "ester*",
                                         "amine*", "phenol*", "benzene", "alcohol*", "carboxylic")),
        ("Hydrocarbons", ("alkane*", "alkene*", "alkyne*", "hydrocarbon*", "aromatic", "ethylene",
                          "acetylene", "hydrogenation")),
        ("Periodic Table", ("ore", "ores", "metallurg*", "extraction", "oxoacid*", "halogen*", "noble gas*",
                            "group 15", "group 13", "boron", "borax", "phosphor*", "nitrogen", "sulphur",
                            "sulfur", "xenon", "slag", "alloy*", "mineral*", "metal*", "oxide*", "salt*",
                            "precipitat*", "hydrolysis", "nitrate*", "amphoteric", "aqua regia", "oxo",
                            "oxidation state*")),
        ("Mole Concept", ("mole", "moles", "molar*", "molality", "stoichiometr*", "titrat*", "mass percent",
                          "weight percent", "mass %", "mole fraction", "ideal solution",
                          "vapour pressure", "vapor pressure")),
    ),
    "Mathematics": (
        ("Probability", ("probability", "probabilities", "random*", "dice", "die", "coin*", "urn", "box*",
                         "events", "sample space", "equally likely", "\\mid")),
        ("Permutations and Combinations", ("permutation*", "combination*", "number of ways", "arrange*",
                                           "words", "committee", "subsets", "digit", "digits", "persons")),
        ("Binomial Theorem", ("binomial", "coefficient of", "expansion", "\\binom*")),
        ("Sequences and Series", ("progression*", "a.p", "g.p", "series", "sequence*", "\\sum*",
                                  "arithmetic", "geometric")),
        ("Complex Numbers", ("complex", "\\bar{z}", "argument", "\\operatorname{re}", "\\operatorname{im}",
                             "i=\\sqrt{-1}")),
        ("Quadratic Equations", ("quadratic", "roots", "real roots", "discriminant")),
        ("Matrices and Determinants", ("matrix", "matrices", "determinant*", "\\begin{array}*",
                                       "\\begin{bmatrix}*", "\\left|\\begin*", "adj", "transpose",
                                       "\\operatorname{det}*", "system of linear equations")),
        ("Vectors and 3D Geometry", ("\\vec*", "\\hat{i}", "plane*", "vector*", "direction ratio*",
                                     "\\hat{k}", "\\overrightarrow*")),
        ("Coordinate Geometry", ("circle*", "parabola*", "ellipse*", "hyperbola*", "tangent*", "normal*",
                                 "locus", "focus", "chord*", "foci", "x-axis", "y-axis", "latus rectum")),
        ("Differential Equations", ("differential equation*", "\\frac{d y}{d x}", "y^{\\prime}",
                                    "solution curve*")),
        ("Integration", ("\\int*", "area of the region", "area", "region", "integral*",
                                 "bounded by")),
        ("Differentiation", ("derivative*", "differentiable", "maximum", "minimum", "increasing",
                             "decreasing", "f^{\\prime}", "local max*", "local min*")),
        ("Limits and Continuity", ("\\lim*", "limit*", "continuous", "discontinu*")),
        ("Trigonometry", ("\\sin*", "\\cos*", "\\tan*", "\\cot*", "\\sec*", "triangle*", "angle*")),
        ("Sets, Relations and Functions", ("function*", "relation*", "set", "sets", "onto", "one-one",
                                           "injective", "surjective", "bijective")),
    ),
}
JEE_DEFAULT_TOPICS = {"Physics": "Laws of Motion", "Chemistry": "Periodic Table",
                      "Mathematics": "Sets, Relations and Functions"}

_LABEL = re.compile(
    r"\$\[\\mathrm\{(?P<inmath>[A-D])\}\]"  # "$[\mathrm{A}] ..." (the label typed inside math mode)
    r"|(?<!\S)(?:\((?P<round>[A-D])\)|\[(?P<square>[A-D])\])"  # "(A) ..." or "[A] ...", after a space or a line break
)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def jee_records(text: str) -> list[RawRecord]:
    """The problems of a JEEBench ``dataset.json`` text as records or rejections, in file order."""
    return json_array(text, "a JEEBench file is a JSON array of problems", lambda problem, _index: jee_record(problem))


def jee_record(problem: Any) -> dict[str, Any]:
    """One JEEBench problem as a question record, or ValueError naming why it cannot be imported."""
    if not isinstance(problem, Mapping):
        raise ValueError("a JEEBench problem is an object")
    description, question, gold = (problem.get(name) for name in ("description", "question", "gold"))
    if not isinstance(description, str) or not description.strip():
        raise ValueError("description (the paper) is missing")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("the question text is empty")
    subject = JEE_SUBJECTS.get(str(problem.get("subject")))
    if subject is None:
        raise ValueError(f"subject {str(problem.get('subject'))[:20]!r} is none of phy, chem, math")
    record: dict[str, Any] = {
        "source": JEE_SOURCE, "external_id": jee_external_id(description, problem.get("index")),
        "exam_type": JEE_EXAM, "subject": subject, "topic": jee_topic(subject, question),
        "difficulty": JEE_DIFFICULTY, "format": "latex", "explanation": None, "paper": description.strip(),
    }
    year = _YEAR.search(description)
    if year is not None:
        record["year"] = int(year.group())
    return record | _key(str(problem.get("type")), question, gold)


def _key(kind: str, question: str, gold: Any) -> dict[str, Any]:
    """The stem, options and key of a problem of JEEBench type ``kind``."""
    letters = gold.strip().upper() if isinstance(gold, str) else ""
    if kind in ("MCQ", "MCQ(multiple)"):
        stem, options = split_options(question)
        if not letters or any(letter not in options for letter in letters) or len(set(letters)) != len(letters):
            raise ValueError(f"gold {str(gold)[:10]!r} is not a set of the letters A-D")
        if kind == "MCQ":
            if len(letters) != 1:
                raise ValueError(f"gold {letters!r} of a one-answer MCQ is not one letter")
            return {"type": "single", "stem": stem, "options": options, "correct_option": letters}
        return {"type": "multiple", "stem": stem, "options": options, "correct_options": sorted(letters)}
    if kind in ("Numeric", "Integer"):
        return {"type": "numeric", "stem": question, "answer": _numeric(kind, gold)}
    raise ValueError(f"type {kind[:20]!r} is none of MCQ, MCQ(multiple), Numeric, Integer")


def _numeric(kind: str, gold: Any) -> dict[str, int | float]:
    text = gold.strip() if isinstance(gold, str) else ""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"gold {str(gold)[:20]!r} of a {kind} problem is not a number") from None
    if kind == "Integer":
        if not value.is_integer():
            raise ValueError(f"gold {text!r} of an Integer problem is not a whole number")
        return {"value": int(value), "tolerance": INTEGER_TOLERANCE}
    return {"value": int(value) if re.fullmatch(r"-?\d+", text) else value, "tolerance": NUMERIC_TOLERANCE}


def split_options(question: str) -> tuple[str, dict[str, str]]:
    """The stem and the options ``A``..``D`` of an MCQ's LaTeX text, or ValueError.

    The options are the last ``(A)``, ``(B)``, ``(C)``, ``(D)`` labels in that order (``[A]`` and
    ``$[\\mathrm{A}]`` too), found from the end, so a label-like "(A)" inside the stem or inside an
    earlier option does not count, and an option may hold any parentheses. A label must follow a
    space or a line break ("is(are)" holds none). The stem is the text before label A and each
    option the text up to the next label, without the spacing that separated them; nothing else
    changes, except that an option whose label was typed inside math mode (``$[\\mathrm{A}] x$``)
    keeps its math open with a leading ``$``.
    """
    found = [(match.start(), match.end(), match.group("inmath") or match.group("round") or match.group("square"),
              match.group("inmath") is not None) for match in _LABEL.finditer(question)]
    chosen: list[tuple[int, int, str, bool]] = []
    for letter in reversed(OPTION_LETTERS):
        limit = chosen[0][0] if chosen else len(question)
        candidates = [label for label in found if label[2] == letter and label[0] < limit]
        if not candidates:
            raise ValueError(f"the options could not be parsed: no option ({letter}) label in the text")
        chosen.insert(0, candidates[-1])
    ends = [start for start, *_ in chosen[1:]] + [len(question)]
    options: dict[str, str] = {}
    for (_start, label_end, letter, in_math), end in zip(chosen, ends, strict=True):
        text = question[label_end:end].strip()
        if not text or text == "$":
            raise ValueError(f"the options could not be parsed: option ({letter}) is empty")
        options[letter] = "$" + text if in_math else text
    stem = question[:chosen[0][0]].rstrip()
    if not stem.strip():
        raise ValueError("the options could not be parsed: no question text before option (A)")
    return stem, options


def jee_topic(subject: str, text: str) -> str:
    """The syllabus topic of a problem of ``subject`` (see JEE_TOPICS)."""
    folded = text.casefold()
    best, best_hits = JEE_DEFAULT_TOPICS[subject], 0
    for topic, patterns in _TOPIC_PATTERNS[subject]:
        hits = sum(pattern.search(folded) is not None for pattern in patterns)
        if hits > best_hits:
            best, best_hits = topic, hits
    return best


def _keyword(word: str) -> re.Pattern[str]:
    if word.endswith("*"):
        return re.compile(rf"(?<![a-z]){re.escape(word[:-1])}")
    return re.compile(rf"(?<![a-z]){re.escape(word)}(?![a-z])")


_TOPIC_PATTERNS = {
    subject: [(topic, [_keyword(word) for word in words]) for topic, words in topics]
    for subject, topics in JEE_TOPICS.items()
}


def jee_external_id(description: str, index: Any) -> str:
    """``jee-adv-2019-paper-1-q4`` from the paper and the problem's number in it."""
    if isinstance(index, bool) or not isinstance(index, int):
        raise ValueError(f"index {str(index)[:20]!r} is not the problem's number")
    slug = "-".join(re.findall(r"[a-z0-9]+", description.casefold()))
    return f"{slug}-q{index}"
