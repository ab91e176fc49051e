"""GET /practice/next: the next question for a student, chosen with the adaptive model
(API.md "Adaptive practice"; the rules are mindly.domain.next_question's, the model
mindly.domain.mastery's).

Due mistakes come first: a mistake card due today (a question the student got wrong) whose
question was not answered in the last 7 days is asked again as that question (``mistake_due``).
A mistake is due the day it is made, when its question was just answered: it comes back through
flashcards then, and here once its question is no longer recent. Otherwise the topics under the
filters are ranked by need and the question nearest a 0.75 chance is taken from the first topic
with one that was not answered recently.

DynamoDB calls, at most 8 (bench/request_costs.py shows them):

1. one BatchGetItem: the profile (exam, time zone), the student's mastery items of every exam (the
   exam may come from the profile; the submit reads the same keys) and the latest-roadmap pointer;
2. one Query of the ``due`` index: at most MISTAKES_CHECKED due mistake cards under the filters;
3. one to QUERY_BUDGET (4) Queries of the practice index: candidate windows of WINDOW questions
   of the topics ranked first, one Query a topic (two when a topic the student has answered is read
   from its moving window point and wraps around to the topic's beginning), until TOPICS_WANTED
   topics gave candidates; when fewer did (topics with no questions yet), the last Query reads a
   window of the filters' whole range (its first WINDOW questions), so a sparse bank still answers;
4. one BatchGetItem: the ANSWERED markers of every candidate and due mistake (their ``goal_day``
   is the last local day the question was answered) and the due mistakes' questions: at most
   2 x MISTAKES_CHECKED + 3 x WINDOW = 85 keys, inside BatchGetItem's 100;
5. one BatchGetItem of the chosen question's reading passage, only when it has one.

404 NOT_FOUND when no question read qualifies. A topic of at most WINDOW questions is read whole,
so with ``topic=`` such a 404 means exactly that everything in it was answered in the last 7 days;
in a larger topic the window moves with each answer, so the next request reads other questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from mindly.domain import calendar, mastery, syllabus
from mindly.domain import next_question as rules
from mindly.exceptions import InvalidExamType, NotFound
from mindly.services import profile as profiles
from mindly.services.question_views import practice_view
from mindly.services.questions import practice_filters  # the practice list's 422s
from mindly.store import attempts as attempt_store
from mindly.store import cards as card_store
from mindly.store import content as content_store
from mindly.store import mastery as mastery_store
from mindly.store import roadmaps as roadmap_store
from mindly.store import users
from mindly.store.models import ContentTable, StudyTable, UsersTable, batch_read

MISTAKES_CHECKED = 5
WINDOW = 25
QUERY_BUDGET = 4
TOPICS_WANTED = 2


def next_question(user_id: str, exam: str | None, subject: str | None, topic: str | None,
                  now: datetime) -> dict[str, Any]:
    """GET /practice/next (see the module docstring)."""
    code = profiles.exam_code(exam) if exam else None
    profile, study = _student(user_id)
    if code is None:
        if profile is None:
            raise InvalidExamType("No exam given and no profile set; pass exam= or PUT /api/v1/profile", field="exam")
        code = str(profile.exam_type)
    subject, topic, _ = practice_filters(code, subject, topic, None)
    zone = str(profile.timezone) if profile is not None else profiles.DEFAULT_TIMEZONE
    today = calendar.local_date(now, zone)
    known = mastery_store.abilities(mastery_store.mastery_of(study, code))
    week = _roadmap_week(study, code, today, zone)
    states = [rules.TopicState(s, t, known[(s, t)].ability if (s, t) in known else mastery.Ability(),
                               syllabus.chapter_weightage(code, s, t), (s, t) in week)
              for s, t in _topics(code, subject, topic)]
    ranked = rules.rank_topics(states, rules.mean_weightage(code))
    mistakes = card_store.due_mistakes(user_id, today, code, subject, topic, MISTAKES_CHECKED)
    candidates = _candidate_windows(user_id, code, subject, topic, ranked, today)
    mistake_ids = [str(card.flashcard_id).removeprefix(card_store.MISTAKE_PREFIX) for card in mistakes]
    last_days, questions = _answered_days(user_id, [*mistake_ids, *(str(q.question_id) for q in candidates)],
                                          mistake_ids)
    by_topic = {(state.subject, state.topic): state for state in ranked}
    for question_id in mistake_ids:
        item = questions.get(question_id)
        # pynamodb types a nullable attribute as never None: getattr says what the item holds
        retired = item is None or getattr(item, "retired_at", None) is not None
        if item is not None and not retired and item.exam_type == code \
                and not rules.answered_recently(last_days.get(question_id), today):
            state = by_topic.get((str(item.subject), str(item.topic)))
            ability = state.ability if state is not None else mastery.Ability()
            return _answer(item, "mistake_due", _chance(item, ability), mastery.mastery(ability))
    eligible: dict[tuple[str, str], list[rules.Candidate]] = {}
    items: dict[str, content_store.QuestionItem] = {}
    for item in candidates:
        key = (str(item.subject), str(item.topic))
        if key not in by_topic or rules.answered_recently(last_days.get(str(item.question_id)), today):
            continue
        items[str(item.question_id)] = item
        eligible.setdefault(key, []).append(rules.Candidate(str(item.question_id), key[0], key[1],
                                                            _chance(item, by_topic[key].ability)))
    chosen = rules.choose(ranked, eligible)
    if chosen is None:
        raise NotFound("Nothing left to practise under these filters: every question found was answered "
                       f"in the last {rules.RECENT_DAYS} days")
    state, candidate = chosen
    return _answer(items[candidate.question_id], rules.reason_for(state), candidate.p_correct, state.mastery)


def _student(user_id: str) -> tuple[Any, list[Any]]:
    """The profile (or None) and the Study items of the first read: mastery items and the roadmap pointer."""
    profiles_found, study = batch_read([
        (UsersTable, [(users.user_key(user_id), "PROFILE")]),
        (StudyTable, [*mastery_store.mastery_keys(user_id), roadmap_store.latest_key(user_id)]),
    ])
    return next(iter(profiles_found), None), study


def _roadmap_week(study: list[Any], exam: str, today: date, zone: str) -> set[tuple[str, str]]:
    latest = next((item for item in study if isinstance(item, roadmap_store.LatestRoadmapItem)), None)
    if latest is None or not isinstance(latest.roadmap, dict):
        return set()
    started = calendar.local_date(latest.finished_at, zone)
    return rules.roadmap_week_topics(latest.roadmap, exam, started, today)


def _topics(exam: str, subject: str | None, topic: str | None) -> list[tuple[str, str]]:
    """The (subject, topic) pairs under the filters, in syllabus order."""
    return [(s.name, t) for s in syllabus.subjects(exam) if subject in (None, s.name)
            for t in s.topics if topic in (None, t)]


def _candidate_windows(user_id: str, exam: str, subject: str | None, topic: str | None,
                       ranked: Sequence[rules.TopicState], today: date) -> list[content_store.QuestionItem]:
    """The candidate questions: windows of the topics ranked first, within QUERY_BUDGET Queries
    (step 3 of the module docstring)."""
    budget, found, topics_found = QUERY_BUDGET, [], 0
    for state in ranked:
        # Keep the last Query for the whole range while too few topics have given questions.
        if topics_found >= TOPICS_WANTED or budget == 0 or (topic is None and budget == 1):
            break
        window, used = _topic_window(user_id, exam, state, today, budget)
        budget -= used
        if window:
            topics_found += 1
            found += window
    if topic is None and topics_found < TOPICS_WANTED and budget > 0:
        low, high = content_store.range_bounds(subject, None)
        found += content_store.query_range(exam, None, low, high, WINDOW, None).items
    return list({str(item.question_id): item for item in found}.values())


def _topic_window(user_id: str, exam: str, state: rules.TopicState, today: date,
                  budget: int) -> tuple[list[Any], int]:
    """Up to WINDOW questions of one topic and the Queries it took: from the topic's beginning for a
    topic never answered, else from the student's moving point, wrapping around to the beginning
    when the topic ends first (and the budget allows the second Query)."""
    low, high = content_store.range_bounds(state.subject, state.topic)
    if state.ability.answers == 0:
        return content_store.query_range(exam, None, low, high, WINDOW, None).items, 1
    point = content_store.question_sort_key(state.subject, state.topic, rules.window_point(
        user_id, state.subject, state.topic, state.ability.answers, today), None)
    first = content_store.query_range(exam, None, point, high, WINDOW, None).items
    if len(first) >= WINDOW or budget < 2:
        return first, 1
    return first + content_store.query_range(exam, None, low, point, WINDOW - len(first), None).items, 2


def _answered_days(user_id: str, question_ids: list[str], mistake_ids: list[str]
                   ) -> tuple[dict[str, date], dict[str, content_store.QuestionItem]]:
    """For these questions, the last local day each was answered (absent: never), and the
    questions of the due mistakes, in one BatchGetItem (none asked: no call)."""
    if not question_ids:
        return {}, {}
    markers, questions = batch_read([
        (StudyTable, [attempt_store.answered_key(user_id, qid) for qid in question_ids]),
        (ContentTable, [content_store.question_key(qid) for qid in mistake_ids]),
    ])
    days = {str(m.question_id): date.fromisoformat(str(m.goal_day)) for m in markers
            if isinstance(m, attempt_store.AnsweredQuestionItem)}
    return days, {str(q.question_id): q for q in questions if isinstance(q, content_store.QuestionItem)}


def _chance(item: content_store.QuestionItem, ability: mastery.Ability) -> float:
    """The predicted chance of a right answer: the topic's ability against the learned difficulty."""
    chance = mastery.chance_of(content_store.question_of(item).chance_options)
    return mastery.predict(ability, mastery_store.learned_difficulty(item), chance)


def _answer(item: content_store.QuestionItem, reason: str, p_correct: float, topic_mastery: float) -> dict[str, Any]:
    passages = content_store.passages([item.passage_id]) if item.passage_id else {}
    return {"question": practice_view(item, passages), "reason": reason,
            "predicted_p_correct": round(p_correct, 4), "topic_mastery": round(topic_mastery, 4)}
