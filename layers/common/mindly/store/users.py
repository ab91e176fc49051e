"""Accounts, email guards, sessions and profiles in the Users table.

Every function is one DynamoDB call (the transaction in ``create_user`` included) unless its
docstring says otherwise, so the auth endpoints' cost is easy to count.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from mindly.store.errors import AlreadyExists, StaleWrite, response_code
from mindly.store.models import EmailItem, ProfileItem, SessionItem, UserItem, UsersTable, connection_of

MAX_FAILED_LOGINS_KEPT = 10


def user_key(user_id: str) -> str:
    return f"USER#{user_id}"


def email_key(email: str) -> str:
    return f"EMAIL#{email}"


def _conditional_failure(exc: Exception) -> bool:
    cause = response_code(exc)
    if cause in ("ConditionalCheckFailedException", "TransactionCanceledException"):
        reasons = getattr(exc, "cancellation_reasons", None) or []
        return cause == "ConditionalCheckFailedException" or any(
            reason is not None and reason.code == "ConditionalCheckFailed" for reason in reasons
        )
    return False


def create_user(user: UserItem, session: SessionItem | None = None) -> None:
    """Write the account, its email guard and (when given) its first session in one transaction;
    AlreadyExists when the email is taken."""
    guard = EmailItem(email_key(user.email), "EMAIL", user_id=user.user_id)
    try:
        with TransactWrite(connection=connection_of(UsersTable)) as transaction:
            transaction.save(guard, condition=EmailItem.pk.does_not_exist())
            transaction.save(user, condition=UserItem.pk.does_not_exist())
            if session is not None:
                transaction.save(session, condition=SessionItem.pk.does_not_exist())
    except TransactWriteError as exc:
        if _conditional_failure(exc):
            raise AlreadyExists(user.email) from exc
        raise


def find_user_id_by_email(email: str) -> str | None:
    try:
        return EmailItem.get(email_key(email), "EMAIL").user_id
    except DoesNotExist:
        return None


def get_user(user_id: str) -> UserItem | None:
    try:
        return UserItem.get(user_key(user_id), "ACCOUNT")
    except DoesNotExist:
        return None


def record_failed_login(user: UserItem, at: int, keep_since: int) -> list[int]:
    """Append a failed-login time atomically and return the recent ones (after ``keep_since``).

    Old entries are trimmed with a second, conditional write only when the list has grown long, so
    concurrent failures are never lost.
    """
    user.update(actions=[UserItem.failed_logins.set(UserItem.failed_logins.append([at]))])
    recent = [int(t) for t in user.failed_logins if int(t) > keep_since]
    if len(user.failed_logins) > MAX_FAILED_LOGINS_KEPT:
        try:
            user.update(actions=[UserItem.failed_logins.set(recent)],
                        condition=UserItem.failed_logins == list(user.failed_logins))
        except UpdateError as exc:
            if not _conditional_failure(exc):
                raise
    return recent


def set_role(user: UserItem, role: str) -> None:
    user.update(actions=[UserItem.role.set(role)])


def clear_failed_logins(user: UserItem) -> None:
    user.update(actions=[UserItem.failed_logins.set([])])


def save_session(session: SessionItem) -> None:
    session.save(condition=SessionItem.pk.does_not_exist())


def get_session(user_id: str, family: str) -> SessionItem | None:
    try:
        return SessionItem.get(user_key(user_id), f"SESSION#{family}", consistent_read=True)
    except DoesNotExist:
        return None


def rotate_session(session: SessionItem, expected_jti: str, new_jti: str, at: datetime,
                   expires_at: datetime) -> None:
    """Move the session to ``new_jti``; StaleWrite when another refresh got there first."""
    try:
        session.update(
            actions=[SessionItem.current_jti.set(new_jti), SessionItem.rotated_at.set(at),
                     SessionItem.expires_at.set(expires_at)],
            condition=(SessionItem.current_jti == expected_jti) & (SessionItem.revoked == False),  # noqa: E712
        )
    except UpdateError as exc:
        if _conditional_failure(exc):
            raise StaleWrite(session.family) from exc
        raise


def revoke_session(session: SessionItem, reason: str) -> None:
    session.update(actions=[SessionItem.revoked.set(True), SessionItem.revoked_reason.set(reason)])


def active_sessions(user_id: str) -> list[SessionItem]:
    """The user's sessions not yet revoked (one Query; expired ones are gone through TTL)."""
    return list(SessionItem.query(
        user_key(user_id), SessionItem.sk.startswith("SESSION#"),
        filter_condition=SessionItem.revoked == False,  # noqa: E712
    ))


def get_profile(user_id: str) -> ProfileItem | None:
    try:
        return ProfileItem.get(user_key(user_id), "PROFILE")
    except DoesNotExist:
        return None


def save_profile(profile: ProfileItem) -> None:
    profile.save()


def set_deck_positions(user_id: str, positions: dict[str, str]) -> None:
    """Record where the student's new cards continue, per exam (one UpdateItem on the profile)."""
    profile = ProfileItem(user_key(user_id), "PROFILE")
    try:
        profile.update(actions=[ProfileItem.deck_positions.set(positions)], condition=ProfileItem.pk.exists())
    except UpdateError as exc:
        if not _conditional_failure(exc):
            raise


def ping() -> None:
    """A cheap read proving the table answers (a missing item is the expected outcome)."""
    with contextlib.suppress(DoesNotExist):
        UsersTable.get("HEALTH", "HEALTH")

