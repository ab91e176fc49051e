"""The next question's rules (mindly.domain.next_question): topic need, reasons, recency, the
choice nearest the target chance, the roadmap week and the moving read window."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from mindly.domain import next_question as rules
from mindly.domain.mastery import Ability

TODAY = date(2026, 12, 2)


def state(topic: str, theta: float = 0.0, answers: int = 0, weightage: float = 1.0,
          in_week: bool = False) -> rules.TopicState:
    return rules.TopicState("Botany", topic, Ability(theta, answers), weightage, in_week)


def test_a_weak_topic_outranks_a_new_one_and_a_new_one_a_strong_one() -> None:
    # Given three topics of equal weight: weak, never answered, strong
    weak, new, strong = state("Weak", -1.5, 6), state("New"), state("Strong", 2.0, 9)
    # When they are ranked (given strongest first, to show the order is the need's)
    ranked = rules.rank_topics([strong, new, weak], mean_weightage=1.0)
    # Then the weak one needs work most, then the new one
    assert [s.topic for s in ranked] == ["Weak", "New", "Strong"]


def test_weightage_counts_by_its_square_root_and_the_roadmap_week_boosts() -> None:
    # Given two equally known topics, one weighing four times the mean
    heavy, light = state("Heavy", weightage=4.0), state("Light", weightage=1.0)
    # Then the heavy one needs twice the work (sqrt 4), and the roadmap week multiplies by 1.5
    assert rules.topic_need(heavy, 1.0) == 2 * rules.topic_need(light, 1.0)
    assert rules.topic_need(state("Week", in_week=True), 1.0) == 1.5 * rules.topic_need(light, 1.0)


def test_ties_keep_the_syllabus_order() -> None:
    # Given equal topics in syllabus order
    topics = [state(name) for name in ("A", "B", "C")]
    # Then ranking keeps that order
    assert [s.topic for s in rules.rank_topics(topics, 1.0)] == ["A", "B", "C"]


def test_each_reason_names_why_its_topic_was_chosen() -> None:
    # Then the roadmap week wins over the rest, then new, weak, and a mastered topic is a stretch
    assert rules.reason_for(state("W", -3.0, 5, in_week=True)) == "roadmap_week"
    assert rules.reason_for(state("N")) == "new_topic"
    assert rules.reason_for(state("K", -0.5, 4)) == "weak_topic"
    assert rules.reason_for(state("S", 2.0, 30)) == "stretch"


def test_a_question_is_recent_for_seven_whole_days() -> None:
    # Then answered today or on any of the 7 days before, it is recent; 8 days before, it is back
    assert rules.answered_recently(TODAY, TODAY)
    assert rules.answered_recently(date(2026, 11, 25), TODAY)
    assert not rules.answered_recently(date(2026, 11, 24), TODAY)
    assert not rules.answered_recently(None, TODAY)


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12))
def test_the_candidate_chosen_is_the_nearest_to_the_target(chances: list[float]) -> None:
    # Given candidates with any predicted chances
    candidates = [rules.Candidate(f"q{i:02d}", "Botany", "T", p) for i, p in enumerate(chances)]
    # When the nearest to the target is taken
    best = rules.nearest_target(candidates)
    # Then none is nearer
    assert best is not None
    assert all(abs(best.p_correct - 0.75) <= abs(c.p_correct - 0.75) for c in candidates)


def test_choose_skips_a_topic_with_nothing_eligible() -> None:
    # Given the topic ranked first has no eligible candidate and the second has two
    ranked = [state("First", -2.0, 5), state("Second", -1.0, 5)]
    eligible = {("Botany", "Second"): [rules.Candidate("b", "Botany", "Second", 0.9),
                                       rules.Candidate("a", "Botany", "Second", 0.7)]}
    # When a question is chosen
    chosen = rules.choose(ranked, eligible)
    # Then it is the second topic's question nearest 0.75; with nothing eligible, none
    assert chosen is not None and chosen[0].topic == "Second" and chosen[1].question_id == "a"
    assert rules.choose(ranked, {}) is None


def test_the_window_point_moves_with_each_answer_and_is_stable_otherwise() -> None:
    # Given one student's topic after 3 answers
    point = rules.window_point("student-1", "Botany", "Ecology", 3, TODAY)
    # Then the same state gives the same point, another answer, day or student another one
    assert point == rules.window_point("student-1", "Botany", "Ecology", 3, TODAY)
    assert len(point) == 8 and int(point, 16) >= 0
    others = {rules.window_point("student-1", "Botany", "Ecology", 4, TODAY),
              rules.window_point("student-1", "Botany", "Ecology", 3, date(2026, 12, 3)),
              rules.window_point("student-2", "Botany", "Ecology", 3, TODAY)}
    assert point not in others


def roadmap(weeks: list[dict[str, object]], exam: str = "NEET") -> dict[str, object]:
    return {"exam_type": exam, "level": "beginner", "total_weeks": len(weeks), "weeks": weeks}


def test_the_current_roadmap_week_gives_its_named_topics_matched_to_the_syllabus() -> None:
    # Given a two-week NEET plan begun 9 days ago (so today is in week 2)
    plan = roadmap([{"week": 1, "focus_subjects": ["Physics"], "topics": ["Optics"]},
                    {"week": 2, "focus_subjects": ["Botany"], "topics": ["plant kingdom", "Not A Topic"]}])
    # When the week's topics are read
    found = rules.roadmap_week_topics(plan, "NEET", date(2026, 11, 23), TODAY)
    # Then they are week 2's known topics, in syllabus spelling
    assert found == {("Botany", "Plant Kingdom")}


def test_a_revision_week_covers_its_focus_subjects_and_other_plans_cover_nothing() -> None:
    # Given a week naming no topic
    plan = roadmap([{"week": 1, "focus_subjects": ["Botany"], "topics": []}])
    # Then it covers every topic of its focus subjects
    found = rules.roadmap_week_topics(plan, "NEET", TODAY, TODAY)
    assert ("Botany", "Ecology") in found and all(subject == "Botany" for subject, _ in found)
    # And a plan past its end, of another exam or absent covers nothing
    assert rules.roadmap_week_topics(plan, "NEET", date(2026, 11, 1), TODAY) == set()
    assert rules.roadmap_week_topics(roadmap([{"week": 1, "focus_subjects": ["Physics"], "topics": []}], "JEE"),
                                     "NEET", TODAY, TODAY) == set()
    assert rules.roadmap_week_topics(None, "NEET", TODAY, TODAY) == set()


def test_the_mean_weightage_is_the_unit_of_weight() -> None:
    # Given NEET: four subjects of 25 % over their chapters
    mean = rules.mean_weightage("NEET")
    # Then it is 100 % over the exam's chapter count
    from mindly.domain import syllabus

    chapters = sum(len(s.topics) for s in syllabus.subjects("NEET"))
    assert abs(mean - 100 / chapters) < 1e-9
