"""GET /practice/next through the questions function's real handler (API.md "Adaptive practice"):
the weak topic before a strong one, due mistakes first, the roadmap week, the question nearest a
0.75 chance, never one answered in the last 7 days, 404 when nothing is left, 422 on bad filters.

The content lives in NEET Botany "Plant Kingdom", "Plant Physiology", "Morphology of Flowering
Plants" and "Ecology", written here; test_practice_filters.py uses "Plant Reproduction", and no
other test puts questions in Botany. Every assertion about what was chosen holds whatever else
the subject holds (other topics are new to these students: mastery 0.5).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support import HandlerClient, admin_token, practice_item, register

from mindly.domain import mastery
from mindly.services import questions as question_service
from mindly.store import roadmaps as roadmap_store

API = "/api/v1"
SOURCE = f"test-next-{uuid.uuid4().hex[:8]}"
KINGDOM, PHYSIOLOGY, MORPHOLOGY, ECOLOGY = ("Plant Kingdom", "Plant Physiology",
                                            "Morphology of Flowering Plants", "Ecology")


def record(topic: str, n: int, difficulty: str = "medium", **changes: Any) -> dict[str, Any]:
    found = {"source": SOURCE, "external_id": f"{topic}-{n}", "exam_type": "NEET", "subject": "Botany",
             "topic": topic, "difficulty": difficulty, "stem": f"{topic} question {n}?",
             "options": {"A": f"one {n}", "B": f"two {n}", "C": f"three {n}", "D": f"four {n}"},
             "correct_option": "A", "explanation": None}
    found.update(changes)
    return {name: value for name, value in found.items() if value is not None or name == "explanation"}


NUMERIC = {"type": "numeric", "options": None, "correct_option": None, "answer": {"value": 5, "tolerance": 0}}


@pytest.fixture(scope="module")
def bank(auth_fn: Any, admin_fn: Any) -> dict[str, list[str]]:
    """Question ids by topic: six medium in each of Kingdom and Physiology, three in Ecology, and in
    Morphology an easy, a medium and a hard single-answer question and an easy numeric one."""
    from mindly.domain.content import content_id

    records = [*(record(KINGDOM, n) for n in range(6)), *(record(PHYSIOLOGY, n) for n in range(6)),
               *(record(ECOLOGY, n) for n in range(3)),
               record(MORPHOLOGY, 0, "easy"), record(MORPHOLOGY, 1, "medium"), record(MORPHOLOGY, 2, "hard"),
               record(MORPHOLOGY, 3, "easy", **NUMERIC)]
    admin = HandlerClient(admin_fn, token=admin_token(auth_fn))
    answer = admin.post(f"{API}/admin/questions/import", records)
    assert answer.status == 200 and answer.data["errors"] == [], answer
    ids: dict[str, list[str]] = {}
    for r in records:
        ids.setdefault(r["topic"], []).append(content_id("question", SOURCE, r["external_id"]))
    return ids


def new_student(auth_fn: Any, profile_fn: Any, questions_fn: Any) -> tuple[HandlerClient, str]:
    answer = register(auth_fn, name="Meera Pillai")
    token = answer.data["access_token"]
    profile = {"exam_type": "NEET", "level": "beginner", "study_hours_per_day": 3, "target_date": "2035-05-01",
               "weak_subjects": []}
    assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    return HandlerClient(questions_fn, token=token), str(answer.data["user"]["id"])


@pytest.fixture
def student(auth_fn: Any, profile_fn: Any, questions_fn: Any) -> tuple[HandlerClient, str]:
    return new_student(auth_fn, profile_fn, questions_fn)


def answer(client: HandlerClient, question_id: str, option: str) -> None:
    sent = client.post(f"{API}/questions/submit", {"question_id": question_id, "selected_option": option,
                                                   "confidence_rating": 3, "time_taken_seconds": 20})
    assert sent.status == 200, sent


def next_question(client: HandlerClient, **query: str) -> Any:
    return client.get(f"{API}/practice/next", query={"exam": "NEET", **query})


def test_a_weak_topic_comes_before_a_strong_one(bank: dict[str, list[str]],
                                                student: tuple[HandlerClient, str]) -> None:
    # Given a student who got three Plant Kingdom questions wrong and three Physiology ones right today
    client, _ = student
    wrong, right = bank[KINGDOM][:3], bank[PHYSIOLOGY][:3]
    for question_id in wrong:
        answer(client, question_id, "B")
    for question_id in right:
        answer(client, question_id, "A")
    # When they ask for the next question in Botany
    got = next_question(client, subject="Botany")
    # Then it is an unanswered Plant Kingdom question, for that weakness (today's mistakes are not
    # due here: their questions were just answered, and come back through flashcards)
    assert got.status == 200, got
    data = got.data
    assert (data["question"]["topic"], data["reason"]) == (KINGDOM, "weak_topic")
    assert data["question"]["question_id"] in set(bank[KINGDOM]) - set(wrong)
    assert data["topic_mastery"] < 0.5 and 0 < data["predicted_p_correct"] < 0.75
    # And it is the question as practice lists it, never its key
    listed = practice_item(client, {"exam": "NEET", "topic": KINGDOM}, data["question"]["question_id"])
    assert data["question"] == listed
    assert "correct_option" not in data["question"]


def test_a_due_mistake_comes_first_once_its_question_is_not_recent(bank: dict[str, list[str]],
                                                                   student: tuple[HandlerClient, str]) -> None:
    # Given a student who got an Ecology question wrong ten days ago (its mistake card due since)
    client, user_id = student
    mistaken = bank[ECOLOGY][0]
    question_service.submit(user_id, None, mistaken, "C", 3, 20, None, "Asia/Kolkata",
                            datetime.now(UTC) - timedelta(days=10))
    # And a weak topic answered today
    for question_id in bank[KINGDOM][:2]:
        answer(client, question_id, "B")
    # When they ask for the next question
    got = next_question(client, subject="Botany")
    # Then it is the mistaken question again, for that reason
    assert got.status == 200, got
    assert (got.data["question"]["question_id"], got.data["reason"]) == (mistaken, "mistake_due")
    # And once answered again it is recent: the weak topic comes next
    answer(client, mistaken, "A")
    after = next_question(client, subject="Botany")
    assert after.status == 200, after
    assert after.data["reason"] != "mistake_due" and after.data["question"]["question_id"] != mistaken


def test_the_chosen_question_is_the_one_nearest_a_chance_of_three_quarters(
        bank: dict[str, list[str]], student: tuple[HandlerClient, str]) -> None:
    # Given a new student (ability 0) and Morphology's questions: easy, medium, hard, easy numeric
    client, _ = student
    # When they ask for the next Morphology question
    got = next_question(client, topic=MORPHOLOGY)
    # Then its predicted chance is the candidates' nearest to 0.75: the easy numeric question
    # (sigmoid(1) = 0.731; the easy 4-option one is 0.798, medium 0.625, hard 0.452)
    assert got.status == 200, got
    chances = {}
    for question_id in bank[MORPHOLOGY]:
        item = practice_item(client, {"exam": "NEET", "topic": MORPHOLOGY}, question_id)
        chance = mastery.chance_of(len(item.get("options") or {}))
        chances[question_id] = mastery.predict(mastery.Ability(), mastery.prior_difficulty(item["difficulty"]),
                                               chance)
    best = min(chances, key=lambda q: abs(chances[q] - 0.75))
    assert got.data["question"]["question_id"] == best == bank[MORPHOLOGY][3]
    assert got.data["predicted_p_correct"] == round(chances[best], 4)
    assert (got.data["reason"], got.data["topic_mastery"]) == ("new_topic", 0.5)


def test_answered_questions_never_come_back_and_an_exhausted_topic_is_404(
        bank: dict[str, list[str]], student: tuple[HandlerClient, str]) -> None:
    # Given a student working through Morphology one next question at a time
    client, _ = student
    seen: list[str] = []
    for _ in bank[MORPHOLOGY]:
        got = next_question(client, topic=MORPHOLOGY)
        assert got.status == 200, got
        question_id = got.data["question"]["question_id"]
        # Then no question answered today is offered again
        assert question_id not in seen
        seen.append(question_id)
        if got.data["question"]["type"] == "numeric":
            sent = client.post(f"{API}/questions/submit", {"question_id": question_id, "numeric_answer": 5,
                                                           "confidence_rating": 3, "time_taken_seconds": 20})
            assert sent.status == 200, sent
        else:
            answer(client, question_id, "D")  # wrong: a mistake card, due today, is not offered either
    assert sorted(seen) == sorted(bank[MORPHOLOGY])
    # When every question of the topic has been answered
    done = next_question(client, topic=MORPHOLOGY)
    # Then nothing is left under the filter
    assert done.status == 404, done
    assert done.json["success"] is False and done.json["errors"][0]["code"] == "NOT_FOUND"


def test_the_current_roadmap_week_gets_its_topic(bank: dict[str, list[str]],
                                                  student: tuple[HandlerClient, str]) -> None:
    # Given a student whose latest roadmap, finished today, starts with Ecology in week 1
    client, user_id = student
    plan = {"exam_type": "NEET", "level": "beginner", "total_weeks": 2, "source": "offline", "weeks": [
        {"week": 1, "focus_subjects": ["Botany"], "topics": [ECOLOGY], "hours_per_day": 2, "goals": ["g"]},
        {"week": 2, "focus_subjects": ["Zoology"], "topics": ["Evolution"], "hours_per_day": 2, "goals": ["g"]}]}
    roadmap_store.LatestRoadmapItem(*roadmap_store.latest_key(user_id), job_id=uuid.uuid4().hex, roadmap=plan,
                                    finished_at=datetime.now(UTC)).save()
    # When they ask for the next Botany question
    got = next_question(client, subject="Botany")
    # Then it is an Ecology question, because of the plan
    assert got.status == 200, got
    assert (got.data["question"]["topic"], got.data["reason"]) == (ECOLOGY, "roadmap_week")


@pytest.mark.parametrize(("query", "status", "field"), [
    ({"exam": "NEET", "subject": "Astrology"}, 422, "subject"),
    ({"exam": "NEET", "topic": "Not a topic"}, 422, "topic"),
    ({"exam": "MBA"}, 422, "exam_type"),
])
def test_bad_next_question_filters_are_refused_as_practice_refuses_them(
        student: tuple[HandlerClient, str], query: dict[str, str], status: int, field: str) -> None:
    # Given a filter the syllabus does not know
    client, _ = student
    # When the next question and the practice list are asked with it
    got = client.get(f"{API}/practice/next", query=query)
    listed = client.get(f"{API}/questions/practice", query=query)
    # Then both refuse it the same way, on the same field
    assert (got.status, listed.status) == (status, status), (got, listed)
    assert got.json["errors"][0]["field"] == listed.json["errors"][0]["field"] == field
    assert got.json["errors"][0]["code"] == listed.json["errors"][0]["code"]


def test_without_an_exam_or_a_profile_the_next_question_is_422(auth_fn: Any, questions_fn: Any) -> None:
    # Given a student with no profile
    client = HandlerClient(questions_fn, token=register(auth_fn).data["access_token"])
    # When they ask without an exam
    got = client.get(f"{API}/practice/next")
    # Then the exam is missing, as for the practice list
    assert got.status == 422, got
    assert got.json["errors"][0]["code"] == "INVALID_EXAM_TYPE"
