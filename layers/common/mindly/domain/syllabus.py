"""The bundled syllabus: exams, their subjects and topics.

Written by us from the exams' published syllabi, condensed to the subjects and topics a study plan
works with. GATE is the Computer Science and IT paper (CS), the one most Mindly students sit.
UPSC's last topic or two of Polity, Economy, Environment, Science and Technology and CSAT were added
when the real Prelims papers (GS Paper I and CSAT, 2011-2021) showed questions our list had no place
for (the Executive, human development, infrastructure, protected areas, basic science, the CSAT
syllabus's "general mental ability"); names only ever get added, since stored content uses them.
"""

from __future__ import annotations

from typing import NamedTuple

EXAM_NAMES = {
    "UPSC": "UPSC Civil Services (Prelims and Mains GS)",
    "GATE": "GATE Computer Science and Information Technology",
    "JEE": "JEE Main and Advanced",
    "CAT": "Common Admission Test",
    "NEET": "NEET-UG",
}

_SYLLABUS: dict[str, dict[str, tuple[str, ...]]] = {
    "UPSC": {
        "History": ("Ancient India", "Medieval India", "Modern India", "Indian National Movement",
                    "Art and Culture", "World History"),
        "Geography": ("Physical Geography", "Indian Geography", "World Geography", "Climatology",
                      "Oceanography", "Resources and Industries"),
        "Polity": ("Constitution", "Parliament and State Legislatures", "Judiciary", "Federalism",
                   "Local Government", "Constitutional Bodies", "Fundamental Rights and Duties", "Executive",
                   "Governance"),
        "Economy": ("National Income", "Money and Banking", "Fiscal Policy and Budget", "Inflation",
                    "External Sector", "Agriculture", "Planning and Growth", "Human Development",
                    "Infrastructure", "Industry and Services", "Capital Markets"),
        "Environment": ("Ecology", "Biodiversity", "Climate Change", "Environmental Laws and Bodies",
                        "Pollution", "Sustainable Development", "Protected Areas"),
        "Science and Technology": ("Space", "Biotechnology", "Information Technology", "Defence",
                                   "Health and Disease", "Energy", "Basic Science"),
        "Current Affairs": ("National", "International Relations", "Government Schemes", "Reports and Indices"),
        "Ethics": ("Ethics and Human Interface", "Attitude", "Emotional Intelligence",
                   "Probity in Governance", "Case Studies"),
        "CSAT": ("Reading Comprehension", "Logical Reasoning", "Basic Numeracy", "Data Interpretation",
                 "General Mental Ability"),
    },
    "GATE": {
        "Engineering Mathematics": ("Discrete Mathematics", "Linear Algebra", "Calculus",
                                    "Probability and Statistics"),
        "Digital Logic": ("Boolean Algebra", "Combinational Circuits", "Sequential Circuits",
                          "Number Representation"),
        "Computer Organization and Architecture": ("Machine Instructions and Addressing Modes",
                                                   "ALU and Data Path", "Pipelining",
                                                   "Memory Hierarchy and Cache", "I/O Interface"),
        "Programming and Data Structures": ("Programming in C", "Recursion", "Arrays and Linked Lists",
                                            "Stacks and Queues", "Trees", "Binary Heaps", "Graphs"),
        "Algorithms": ("Searching and Sorting", "Hashing", "Asymptotic Complexity", "Greedy",
                       "Dynamic Programming", "Divide and Conquer", "Graph Algorithms"),
        "Theory of Computation": ("Regular Languages and Finite Automata",
                                  "Context-Free Languages and Pushdown Automata",
                                  "Turing Machines and Undecidability"),
        "Compiler Design": ("Lexical Analysis", "Parsing", "Syntax-Directed Translation",
                            "Runtime Environments", "Intermediate Code and Optimisation"),
        "Operating System": ("Processes and Threads", "CPU Scheduling", "Synchronisation",
                             "Deadlock", "Memory Management and Virtual Memory", "File Systems"),
        "Databases": ("ER Model", "Relational Algebra and SQL", "Normal Forms", "Transactions and Concurrency",
                      "Indexing and B+ Trees"),
        "Computer Networks": ("Layering", "Data Link Layer", "Routing", "IP Addressing", "TCP and UDP",
                              "Application Layer Protocols"),
        "General Aptitude": ("Verbal Aptitude", "Quantitative Aptitude", "Analytical Aptitude",
                             "Spatial Aptitude"),
    },
    "JEE": {
        "Physics": ("Units and Measurements", "Kinematics", "Laws of Motion", "Work, Energy and Power",
                    "Rotational Motion", "Gravitation", "Thermodynamics", "Oscillations and Waves",
                    "Electrostatics", "Current Electricity", "Magnetism", "Electromagnetic Induction",
                    "Optics", "Modern Physics"),
        "Chemistry": ("Mole Concept", "Atomic Structure", "Chemical Bonding", "Chemical Thermodynamics",
                      "Equilibrium", "Electrochemistry", "Chemical Kinetics", "Periodic Table",
                      "Coordination Compounds", "Hydrocarbons", "Organic Reaction Mechanisms",
                      "Biomolecules and Polymers"),
        "Mathematics": ("Sets, Relations and Functions", "Complex Numbers", "Quadratic Equations",
                        "Matrices and Determinants", "Permutations and Combinations", "Binomial Theorem",
                        "Sequences and Series", "Limits and Continuity", "Differentiation", "Integration",
                        "Differential Equations", "Coordinate Geometry", "Vectors and 3D Geometry",
                        "Probability", "Trigonometry"),
    },
    "CAT": {
        "Quantitative Aptitude": ("Arithmetic", "Percentages and Profit", "Ratio and Proportion",
                                  "Time, Speed and Distance", "Time and Work", "Algebra", "Geometry",
                                  "Mensuration", "Number System", "Permutation and Probability",
                                  "Interest"),
        "Data Interpretation and Logical Reasoning": ("Tables and Charts", "Caselets", "Arrangements",
                                                      "Games and Tournaments", "Venn Diagrams",
                                                      "Puzzles"),
        "Verbal Ability and Reading Comprehension": ("Reading Comprehension", "Para Jumbles",
                                                     "Para Summary", "Odd Sentence Out", "Vocabulary"),
    },
    "NEET": {
        "Physics": ("Kinematics", "Laws of Motion", "Work, Energy and Power", "Gravitation",
                    "Properties of Matter", "Thermodynamics", "Oscillations and Waves", "Electrostatics",
                    "Current Electricity", "Magnetism", "Optics", "Modern Physics"),
        "Chemistry": ("Mole Concept", "Atomic Structure", "Chemical Bonding", "Thermodynamics",
                      "Equilibrium", "Electrochemistry", "Periodic Table", "Coordination Compounds",
                      "Hydrocarbons", "Organic Compounds with Functional Groups", "Biomolecules"),
        "Botany": ("Cell Biology", "Plant Kingdom", "Morphology of Flowering Plants", "Plant Physiology",
                   "Photosynthesis", "Plant Reproduction", "Genetics", "Molecular Biology", "Ecology"),
        "Zoology": ("Animal Kingdom", "Structural Organisation in Animals", "Digestion and Absorption",
                    "Breathing and Respiration", "Body Fluids and Circulation", "Excretion",
                    "Neural Control", "Human Reproduction", "Human Health and Disease", "Evolution",
                    "Biotechnology"),
    },
}

EXAM_TYPES: tuple[str, ...] = tuple(_SYLLABUS)

# Each subject's share of an exam's marks, in percent (sums to 100 per exam). Our estimates from the
# published papers and patterns: JEE Main and NEET weigh their sections equally (100 of 300 marks;
# 45 of 180 questions each); CAT by questions per section (VARC 24, DILR 22, QA 22 of 68); GATE CS
# gives General Aptitude 15 and Engineering Mathematics about 13 marks, the core subjects the rest
# by recent papers; UPSC by the recent spread of GS questions (Ethics and CSAT are separate papers,
# weighed as their share of study time). A chapter (topic) takes an even part of its subject.
_SUBJECT_WEIGHTAGE: dict[str, dict[str, float]] = {
    "UPSC": {"History": 14, "Geography": 12, "Polity": 14, "Economy": 13, "Environment": 12,
             "Science and Technology": 9, "Current Affairs": 10, "Ethics": 8, "CSAT": 8},
    "GATE": {"Engineering Mathematics": 13, "Digital Logic": 6, "Computer Organization and Architecture": 9,
             "Programming and Data Structures": 11, "Algorithms": 9, "Theory of Computation": 8,
             "Compiler Design": 5, "Operating System": 9, "Databases": 7, "Computer Networks": 8,
             "General Aptitude": 15},
    "JEE": {"Physics": 100 / 3, "Chemistry": 100 / 3, "Mathematics": 100 / 3},
    "CAT": {"Verbal Ability and Reading Comprehension": 2400 / 68,
            "Data Interpretation and Logical Reasoning": 2200 / 68, "Quantitative Aptitude": 2200 / 68},
    "NEET": {"Physics": 25, "Chemistry": 25, "Botany": 25, "Zoology": 25},
}


class Subject(NamedTuple):
    name: str
    topics: tuple[str, ...]


def normalize_exam(exam: str) -> str | None:
    """The canonical exam code for ``exam`` (case-insensitive), or None when it is not one of ours."""
    code = exam.strip().upper()
    return code if code in _SYLLABUS else None


def subjects(exam: str) -> list[Subject]:
    """The subjects of a known exam code, in syllabus order."""
    return [Subject(name, topics) for name, topics in _SYLLABUS[exam].items()]


def canonical_subject(exam: str, subject: str) -> str | None:
    """The syllabus spelling of ``subject`` within ``exam`` (case-insensitive), or None."""
    wanted = subject.strip().casefold()
    for name in _SYLLABUS[exam]:
        if name.casefold() == wanted:
            return name
    return None


def canonical_topic(exam: str, subject: str, topic: str) -> str | None:
    """The syllabus spelling of ``topic`` within a subject of ``exam``, or None."""
    wanted = topic.strip().casefold()
    for name in _SYLLABUS[exam].get(subject, ()):
        if name.casefold() == wanted:
            return name
    return None


def subject_weightage(exam: str, subject: str) -> float:
    """The subject's share of the exam's marks, in percent (see ``_SUBJECT_WEIGHTAGE``)."""
    return float(_SUBJECT_WEIGHTAGE[exam][subject])


def chapter_weightage(exam: str, subject: str, topic: str) -> float:
    """A chapter's share of the exam's marks, in percent: its subject's share split evenly over the
    subject's topics. KeyError for a subject or topic not in the syllabus."""
    topics = _SYLLABUS[exam][subject]
    if topic not in topics:
        raise KeyError(topic)
    return subject_weightage(exam, subject) / len(topics)
