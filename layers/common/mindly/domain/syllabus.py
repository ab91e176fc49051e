"""The bundled syllabus: exams, their subjects and topics.

Written by us from the exams' published syllabi, condensed to the subjects and topics a study plan
works with. GATE is the Computer Science and IT paper (CS), the one most Mindly students sit.
"""

from __future__ import annotations

from dataclasses import dataclass

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
                   "Local Government", "Constitutional Bodies", "Fundamental Rights and Duties"),
        "Economy": ("National Income", "Money and Banking", "Fiscal Policy and Budget", "Inflation",
                    "External Sector", "Agriculture", "Planning and Growth"),
        "Environment": ("Ecology", "Biodiversity", "Climate Change", "Environmental Laws and Bodies",
                        "Pollution"),
        "Science and Technology": ("Space", "Biotechnology", "Information Technology", "Defence",
                                   "Health and Disease", "Energy"),
        "Current Affairs": ("National", "International Relations", "Government Schemes", "Reports and Indices"),
        "Ethics": ("Ethics and Human Interface", "Attitude", "Emotional Intelligence",
                   "Probity in Governance", "Case Studies"),
        "CSAT": ("Reading Comprehension", "Logical Reasoning", "Basic Numeracy", "Data Interpretation"),
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


@dataclass(frozen=True)
class Subject:
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
