"""The adaptive model learning from answers, through the real handlers (API.md "Adaptive practice"):
the student's side in the submit's own transaction, the question's side folded by the hourly job,
and GET /analytics/mastery.

The questions of these tests are JEE Chemistry ("Mole Concept", "Atomic Structure") from a source of
this module's own, so their statistics shards and learned difficulties are theirs alone; every
test has a new student, so the abilities it reads are its own.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from functools import reduce
from pathlib import Path
from typing import Any

import pytest
from support import HandlerClient, LambdaContext, admin_token, all_at_once, register

from mindly.domain import content, mastery
from mindly.services import daily_streaks
from mindly.store import content as content_store
from mindly.store import mastery as mastery_store
from mindly.store import question_stats as stats_store
from mindly.store import users
from mindly.store.progress import JobCursorItem

API = "/api/v1"
EVENTS = Path(__file__).resolve().parents[1] / "events"
SOURCE = f"mastery-{uuid.uuid4().hex[:8]}"
MOLE, ATOM = ("Chemistry", "Mole Concept"), ("Chemistry", "Atomic Structure")
FOUR = mastery.chance_of(4)


def chemistry_question(n: int, topic: str, difficulty: str = "medium") -> dict[str, Any]:
    """A four-option JEE Chemistry question whose key is A."""
    return {"source": SOURCE, "external_id": f"chem-{n}", "exam_type": "JEE", "subject": "Chemistry",
            "topic": topic, "difficulty": difficulty, "stem": f"Chemistry question {n} on {topic}?",
            "options": {"A": f"right {n}", "B": f"wrong {n}", "C": f"other {n}", "D": f"last {n}"},
            "correct_option": "A", "explanation": None}


def qid(n: int) -> str:
    return content.content_id("question", SOURCE, f"chem-{n}")


@pytest.fixture(scope="module")
def admin(auth_fn: Any, admin_fn: Any) -> HandlerClient:
    return HandlerClient(admin_fn, token=admin_token(auth_fn))


@pytest.fixture(scope="module")
def bank(admin: HandlerClient) -> None:
    """Questions 0-5, 10, 11 and 20 on Mole Concept (4 easy, 5 hard, the others medium), 6-9, 12 and
    13 on Atomic Structure (medium). Each test answers questions no other test does (xdist may run
    a module's tests on two workers, each with its own emulators), so what it reads is its own."""
    records = [chemistry_question(n, MOLE[1], "easy" if n == 4 else "hard" if n == 5 else "medium")
               for n in (0, 1, 2, 3, 4, 5, 10, 11, 20)]
    records += [chemistry_question(n, ATOM[1]) for n in (6, 7, 8, 9, 12, 13)]
    answer = admin.post(f"{API}/admin/questions/import", records)
    assert answer.status == 200 and answer.data["errors"] == [], answer


def new_student(auth_fn: Any, profile_fn: Any, questions_fn: Any, exam: str | None = "JEE") -> tuple[
        str, HandlerClient]:
    answer = register(auth_fn, name="Meera Iyer")
    token = answer.data["access_token"]
    if exam is not None:
        profile = {"exam_type": exam, "level": "intermediate", "study_hours_per_day": 4,
                   "target_date": "2035-04-01", "weak_subjects": []}
        assert HandlerClient(profile_fn, token=token).put(f"{API}/profile", profile).status == 200
    return str(answer.data["user"]["id"]), HandlerClient(questions_fn, token=token)


def answer(student: HandlerClient, n: int, right: bool, attempt_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"question_id": qid(n), "selected_option": "A" if right else "C",
                            "confidence_rating": 3, "time_taken_seconds": 40}
    if attempt_id:
        body["attempt_id"] = attempt_id
    sent = student.post(f"{API}/questions/submit", body)
    assert sent.status == 200, sent
    assert sent.data["is_correct"] is right
    return dict(sent.data)


def ability(user_id: str, topic: tuple[str, str]) -> mastery.Ability:
    item = mastery_store.read_mastery(user_id, "JEE")
    return mastery_store.ability_in(item, *topic)


def shard_sums(n: int) -> stats_store.Learned:
    return stats_store.learned_sums([qid(n)])[qid(n)]


def test_a_right_answer_raises_mastery_and_a_wrong_one_lowers_it_as_the_model_says(
        bank: None, auth_fn: Any, profile_fn: Any, questions_fn: Any, analytics_fn: Any) -> None:
    # Given a new student of JEE, and medium questions nobody has folded a difficulty for (b = 0)
    user_id, student = new_student(auth_fn, profile_fn, questions_fn)
    medium = mastery.prior_difficulty("medium")
    # When they answer a Mole Concept question right
    answer(student, 0, right=True)
    # Then the topic's ability is exactly update_student's from the prior
    after_right = mastery.update_student(mastery.Ability(), medium, FOUR, True)
    assert ability(user_id, MOLE) == after_right and after_right.theta > 0
    # When they answer another one wrong
    answer(student, 1, right=False)
    # Then it falls by exactly the model's step, and the report says so
    after_wrong = mastery.update_student(after_right, medium, FOUR, False)
    assert ability(user_id, MOLE) == after_wrong and after_wrong.theta < after_right.theta
    report = HandlerClient(analytics_fn, token=student.token).get(f"{API}/analytics/mastery",
                                                                  query={"exam": "jee"})
    assert report.status == 200, report
    rows = {(row["subject"], row["topic"]): row for row in report.data["topics"]}
    assert report.data["exam_type"] == "JEE"
    assert rows[MOLE]["mastery"] == round(mastery.mastery(after_wrong), 4)
    assert rows[MOLE]["answered"] == 2 and rows[MOLE]["last_answered_at"] is not None
    # and a topic never answered shows the prior (an even chance), with no answer time
    assert rows[ATOM] == {"subject": "Chemistry", "topic": "Atomic Structure", "mastery": 0.5, "answered": 0,
                          "last_answered_at": None}


def test_an_easy_label_sets_the_prior_difficulty_a_submit_learns_against(
        bank: None, auth_fn: Any, profile_fn: Any, questions_fn: Any) -> None:
    # Given a new student and an unfolded easy question (prior b = -1)
    user_id, student = new_student(auth_fn, profile_fn, questions_fn)
    # When they answer it right
    answer(student, 4, right=True)
    # Then the ability moved as for b = -1: less than a right answer to a medium question would
    easy = mastery.update_student(mastery.Ability(), mastery.prior_difficulty("easy"), FOUR, True)
    assert ability(user_id, MOLE) == easy
    assert easy.theta < mastery.update_student(mastery.Ability(), mastery.prior_difficulty("medium"), FOUR, True).theta


def test_a_repeated_attempt_id_moves_neither_the_student_nor_the_question(
        bank: None, auth_fn: Any, profile_fn: Any, questions_fn: Any) -> None:
    # Given a student's right answer, recorded
    user_id, student = new_student(auth_fn, profile_fn, questions_fn)
    shards_before = shard_sums(2)
    attempt_id = uuid.uuid4().hex
    answer(student, 2, right=True, attempt_id=attempt_id)
    once = ability(user_id, MOLE)
    shards_once = shard_sums(2)
    # When the client retries the same attempt, twice
    for _ in range(2):
        repeat = answer(student, 2, right=True, attempt_id=attempt_id)
        assert repeat["xp_withheld"] == "duplicate"
    # Then the ability learned from one answer only, and the question's shards hold one step
    assert ability(user_id, MOLE) == once and once.answers == 1
    assert shard_sums(2) == shards_once
    assert shards_once.answers == shards_before.answers + 1
    item = mastery_store.read_mastery(user_id, "JEE")
    assert item is not None and int(item.version) == 1


def test_parallel_answers_to_two_topics_both_count(
        bank: None, auth_fn: Any, profile_fn: Any, questions_fn: Any) -> None:
    # Given a new student answering four questions at once, two in each of two topics, all right
    user_id, student = new_student(auth_fn, profile_fn, questions_fn)
    questions = [10, 11, 6, 7]  # Mole Concept 10 and 11, Atomic Structure 6 and 7 (all medium, unfolded)
    # When the four submits race (one item holds both topics: they contend for it)
    results = all_at_once(len(questions), lambda i: answer(student, questions[i], right=True))
    # Then every answer was learned from: none was lost to another's write
    assert all(result["is_correct"] for result in results)
    medium = mastery.prior_difficulty("medium")
    two_right = reduce(lambda a, _: mastery.update_student(a, medium, FOUR, True), range(2), mastery.Ability())
    assert ability(user_id, MOLE) == two_right
    assert ability(user_id, ATOM) == two_right
    item = mastery_store.read_mastery(user_id, "JEE")
    assert item is not None and int(item.version) == 4


def scheduled_event(at: datetime) -> dict[str, Any]:
    event = copy.deepcopy(json.loads((EVENTS / "scheduled_event.json").read_text()))
    event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def run_job(daily_streaks_fn: Any, at: datetime, fold_from: datetime) -> dict[str, Any]:
    """The hourly job's handler at ``at``, as the run after one that folded every hour before
    ``fold_from`` and settled every streak partition before today."""
    stats_store.FoldCursorItem(*stats_store.FOLD_CURSOR_KEY, next_hour=stats_store.fold_hour(fold_from),
                               updated_at=datetime.now(UTC)).save()
    JobCursorItem(f"JOB#{daily_streaks.JOB_NAME}", "CURSOR", next_day=at.date().isoformat(),
                  updated_at=datetime.now(UTC)).save()
    return dict(daily_streaks_fn.handler(scheduled_event(at), LambdaContext(), publish=lambda events: None))


def test_the_hourly_job_folds_answers_into_the_difficulty_the_next_submit_reads(
        bank: None, auth_fn: Any, profile_fn: Any, questions_fn: Any, daily_streaks_fn: Any) -> None:
    # Given two students' answers to a medium question this hour: one right, one wrong
    started = datetime.now(UTC)
    _, first = new_student(auth_fn, profile_fn, questions_fn)
    _, second = new_student(auth_fn, profile_fn, questions_fn)
    answer(first, 20, right=True)
    answer(second, 20, right=False)
    before = content_store.get_question(qid(20))
    assert before is not None and before.learned_answers is None  # nothing folded yet
    # When the hourly job runs after the hour ended
    report = run_job(daily_streaks_fn, datetime.now(UTC) + timedelta(hours=1, minutes=5), started)
    # Then the question item holds the sums of both answers' steps, each computed from what its
    # submit saw (the prior b, each student's prior ability), and the version is untouched
    assert stats_store.fold_hour(started) in report["fold"]["hours_folded"]
    seen = mastery.prior_difficulty("medium")
    messages = [mastery.QuestionAnswer(0.0, seen, FOUR, right) for right in (True, False)]
    expected = reduce(mastery.update_question, messages, mastery.new_question("medium"))
    folded = content_store.get_question(qid(20))
    assert folded is not None
    assert (int(folded.learned_steps), int(folded.learned_answers)) == (expected.steps, 2)
    assert int(folded.version) == int(before.version) and folded.content_hash == before.content_hash
    learned = mastery_store.learned_difficulty(folded)
    assert learned == mastery.difficulty_of(expected)
    # When a third student answers it
    third_id, third = new_student(auth_fn, profile_fn, questions_fn)
    answer(third, 20, right=True)
    # Then their ability moved against the folded difficulty, not the label's prior
    assert ability(third_id, MOLE) == mastery.update_student(mastery.Ability(), learned, FOUR, True)
    assert learned != seen


def test_folding_the_same_answers_in_any_order_or_in_parallel_gives_the_same_difficulty(bank: None) -> None:
    # Given 40 answers to a question from students of many abilities, right and wrong, as each
    # submit saw it (its b and answer count then), each with its own shard
    rng = random.Random(19)
    hour = datetime.now(UTC)
    messages = [mastery.QuestionAnswer(rng.uniform(-3, 3), mastery.Difficulty(rng.uniform(-1, 1), rng.randrange(60)),
                                       FOUR, rng.random() < 0.6) for _ in range(40)]
    attempts = [(uuid.uuid4().hex, uuid.uuid4().hex) for _ in messages]

    def deliver(question: int, index: int) -> None:
        user_id, attempt_id = attempts[index]
        step = stats_store.LearnedStep(mastery.question_term(messages[index]), hour)
        increment = stats_store.answer_increment(qid(question), user_id, attempt_id, messages[index].correct, 30,
                                                 step)
        increment.item.update(actions=increment.actions)

    # When question 8 gets them in order, one by one, and question 9 in a shuffled order, all at once
    for index in range(len(messages)):
        deliver(8, index)
    shuffled = rng.sample(range(len(messages)), len(messages))
    all_at_once(len(shuffled), lambda i: deliver(9, shuffled[i]))
    for question in (8, 9):
        assert stats_store.store_learned(qid(question), shard_sums(question))
    # Then both fold to the same difficulty, bit for bit, and it is the model's sequential sum
    one, other = (content_store.get_question(qid(n)) for n in (8, 9))
    assert one is not None and other is not None
    expected = mastery.difficulty_of(reduce(mastery.update_question, messages, mastery.new_question("medium")))
    assert mastery_store.learned_difficulty(one) == mastery_store.learned_difficulty(other) == expected
    # and a slower fold that read fewer answers does not take the item back
    assert not stats_store.store_learned(qid(8), stats_store.Learned(0, 1))
    assert mastery_store.learned_difficulty(content_store.get_question(qid(8))) == expected


def test_a_new_version_of_a_question_keeps_what_it_learned(bank: None, admin: HandlerClient) -> None:
    # Given question 12 with a folded difficulty (three wrong answers from strong students)
    seen = mastery.prior_difficulty("medium")
    for n in range(3):
        step = stats_store.LearnedStep(mastery.question_term(mastery.QuestionAnswer(2.0, seen, FOUR, False)),
                                       datetime.now(UTC))
        increment = stats_store.answer_increment(qid(12), f"strong-{n}", uuid.uuid4().hex, False, 30, step)
        increment.item.update(actions=increment.actions)
    assert stats_store.store_learned(qid(12), shard_sums(12))
    stored = content_store.get_question(qid(12))
    assert stored is not None
    learned = mastery_store.learned_difficulty(stored)
    assert learned.answers == 3 and learned.b > seen.b
    # When an admin edits its stem, and then a re-import changes it again
    edited = admin.put(f"{API}/admin/questions/{qid(12)}", {**chemistry_question(12, ATOM[1]), "stem": "Edited?"})
    assert edited.status == 200, edited
    reimported = admin.post(f"{API}/admin/questions/import", [{**chemistry_question(12, ATOM[1]), "stem": "Again?"}])
    assert reimported.status == 200 and reimported.data["updated"] == 1, reimported
    # Then each new version still has the difficulty it learned (a whole-item put would drop it)
    after = content_store.get_question(qid(12))
    assert after is not None and int(after.version) == int(stored.version) + 2
    assert mastery_store.learned_difficulty(after) == learned


def test_mastery_report_takes_the_profiles_exam_and_refuses_what_it_cannot_answer(
        bank: None, auth_fn: Any, profile_fn: Any, questions_fn: Any, analytics_fn: Any) -> None:
    # Given a JEE student who answered one Atomic Structure question right
    user_id, student = new_student(auth_fn, profile_fn, questions_fn)
    answer(student, 13, right=True)
    reports = HandlerClient(analytics_fn, token=student.token)
    # When they ask without an exam
    report = reports.get(f"{API}/analytics/mastery")
    # Then the profile's exam is reported, every syllabus topic once
    assert report.status == 200 and report.data["exam_type"] == "JEE"
    topics = [(row["subject"], row["topic"]) for row in report.data["topics"]]
    assert len(topics) == len(set(topics)) and ATOM in topics
    assert next(row for row in report.data["topics"] if (row["subject"], row["topic"]) == ATOM)["answered"] == 1
    # and another exam's report holds nothing learned
    gate = reports.get(f"{API}/analytics/mastery", query={"exam": "GATE"})
    assert gate.status == 200 and {row["answered"] for row in gate.data["topics"]} == {0}
    # When the exam is unknown: 422, as every route taking an exam answers it
    unknown = reports.get(f"{API}/analytics/mastery", query={"exam": "MBA"})
    assert unknown.status == 422 and unknown.json["errors"][0]["code"] == "INVALID_EXAM_TYPE"
    # When a student with no profile asks without an exam: 404 in the envelope
    _, no_profile = new_student(auth_fn, profile_fn, questions_fn, exam=None)
    missing = HandlerClient(analytics_fn, token=no_profile.token).get(f"{API}/analytics/mastery")
    assert missing.status == 404 and missing.json["success"] is False
    assert users.get_profile(user_id) is not None
