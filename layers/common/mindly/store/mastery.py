"""What a student knows, per exam, in the Study table: ``USER#<id> / MASTERY#<exam>``.

One item per exam holds every topic the student answered in it: ``topics`` maps
``"<subject>#<topic>"`` (syllabus names never contain ``#``) to ``[theta, answers, last answered
at (epoch seconds)]``, the student's side of the model of mindly.domain.mastery. The list form
keeps the item small, because the submit reads the items of every exam and writes one back: about
75 bytes a topic (theta is kept exactly, as JSON's shortest float repr), so 0.1-3 KB for most
students and at most 4.7 KB for one who answered every topic of GATE's syllabus (56 topics). A
write of it in the answer's transaction costs 2 WCU a KB, its strongly consistent read 1 RCU per
4 KB (and 1 for each exam without an item).

The submit reads these items in its one BatchGetItem (``mastery_keys``) and writes the answered
exam's item in its one transaction (``mastery_write``) under a condition on the ``version`` it
read, so two answers of one student racing cannot both start from the same abilities: the loser's
transaction is cancelled (mindly.store.progress.ExtraConflict), and it reads again. Being in the
answer's own transaction, the ability moves exactly when the answer is recorded: a retried
``attempt_id`` finds its activity recorded and writes nothing.

The question's side (``learned_difficulty``) is read from the question item itself: the sums the
fold (mindly.services.question_fold) copies there from the question's statistics shards.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from mindly.domain import mastery
from mindly.domain.syllabus import EXAM_TYPES
from mindly.store.models import ProfileItem, StudyTable, UsersTable, batch_read
from mindly.store.progress import student_key
from mindly.store.users import user_key

MASTERY_PREFIX = "MASTERY#"
TOPIC_SEPARATOR = "#"


class MasteryItem(StudyTable, discriminator="mastery"):
    """``USER#<id> / MASTERY#<exam>``: the student's ability in each topic of one exam they answered."""

    exam_type = UnicodeAttribute()
    # "<subject>#<topic>" -> [theta, answers, last answered at in epoch seconds]
    topics = JSONAttribute(default=dict)
    version = NumberAttribute(default=0)  # orders the student's answers (the write's condition)
    updated_at = UTCDateTimeAttribute(null=True)


class TopicAbility(NamedTuple):
    """A topic's ability as stored, and when the student last answered a question of it."""

    ability: mastery.Ability
    last_answered_at: datetime | None


def mastery_key(user_id: str, exam: str) -> tuple[str, str]:
    """The key of the student's item for ``exam``."""
    return student_key(user_id), f"{MASTERY_PREFIX}{exam}"


def mastery_keys(user_id: str) -> list[tuple[str, str]]:
    """The keys of the student's items for every exam: what a submit reads before it knows the
    question's exam."""
    return [mastery_key(user_id, exam) for exam in EXAM_TYPES]


def topic_key(subject: str, topic: str) -> str:
    return f"{subject}{TOPIC_SEPARATOR}{topic}"


def abilities(item: MasteryItem | None) -> dict[tuple[str, str], TopicAbility]:
    """Every topic the item holds, by (subject, topic); none for a student with no item yet."""
    if item is None:
        return {}
    found: dict[tuple[str, str], TopicAbility] = {}
    for key, (theta, answers, at) in (item.topics or {}).items():
        subject, _, topic = str(key).partition(TOPIC_SEPARATOR)
        when = datetime.fromtimestamp(int(at), UTC) if at is not None else None
        found[(subject, topic)] = TopicAbility(mastery.Ability(float(theta), int(answers)), when)
    return found


def ability_in(item: MasteryItem | None, subject: str, topic: str) -> mastery.Ability:
    """The student's ability in one topic: the prior for a topic never answered."""
    known = abilities(item).get((subject, topic))
    return known.ability if known is not None else mastery.Ability()


def read_mastery(user_id: str, exam: str) -> MasteryItem | None:
    """The student's item for ``exam`` (one strongly consistent BatchGetItem of one key), or None."""
    [found] = batch_read([(StudyTable, [mastery_key(user_id, exam)])])
    return mastery_of(found, exam)


def read_profile_mastery(user_id: str) -> tuple[str | None, MasteryItem | None]:
    """The profile's exam and the student's item for it, in one BatchGetItem (the profile and
    every exam's item: the exam is not known before the read); (None, None) without a profile."""
    found_profiles, study = batch_read([(UsersTable, [(user_key(user_id), "PROFILE")]),
                                        (StudyTable, mastery_keys(user_id))])
    profile = next((item for item in found_profiles if isinstance(item, ProfileItem)), None)
    if profile is None:
        return None, None
    exam = str(profile.exam_type)
    return exam, mastery_of(study, exam)


def mastery_of(items: list[Any], exam: str) -> MasteryItem | None:
    """The item of ``exam`` among the items of a read that included ``mastery_keys`` (others ignored)."""
    sk = f"{MASTERY_PREFIX}{exam}"
    return next((item for item in items if isinstance(item, MasteryItem) and item.sk == sk), None)


def mastery_write(user_id: str, exam: str, read: MasteryItem | None, subject: str, topic: str,
                  ability: mastery.Ability, at: datetime) -> tuple[MasteryItem, Any]:
    """The item with one topic's new ability, and the condition for the answer's transaction: the
    item is still as read (absent, or at the version read), so no concurrent answer is lost."""
    pk, sk = mastery_key(user_id, exam)
    topics = dict(read.topics or {}) if read is not None else {}
    topics[topic_key(subject, topic)] = [ability.theta, ability.answers, int(at.timestamp())]
    version = int(read.version) if read is not None else 0
    item = MasteryItem(pk, sk, exam_type=exam, topics=topics, version=version + 1, updated_at=at)
    condition = MasteryItem.version == version if read is not None else MasteryItem.pk.does_not_exist()
    return item, condition


def learned_difficulty(question_item: Any) -> mastery.Difficulty:
    """A question's difficulty from its item: its label's prior plus the steps the fold copied
    onto it (``learned_steps`` millionths over ``learned_answers`` answers); the prior alone
    before its first fold."""
    prior = mastery.prior_difficulty(str(question_item.difficulty)).b
    steps = getattr(question_item, "learned_steps", None)
    answers = getattr(question_item, "learned_answers", None)
    if steps is None or answers is None:
        return mastery.Difficulty(prior, 0)
    return mastery.difficulty_of(mastery.QuestionEvidence(prior, int(steps), int(answers)))
