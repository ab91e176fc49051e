"""Accounts, email guards, sessions and profiles in the Users table.

Every function is one DynamoDB call (the transaction in ``create_user`` included) unless its
docstring says otherwise, so the auth endpoints' cost is easy to count.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from mindly.store.errors import AlreadyExists, StaleWrite, response_code
from mindly.store.models import (
    EmailItem,
    LinkTokenItem,
    LoginGuardItem,
    ProfileItem,
    SessionItem,
    UserItem,
    UsersTable,
    batch_read,
    connection_of,
)


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


def create_user(user: UserItem, session: SessionItem | None = None, extra: Sequence[UsersTable] = ()) -> None:
    """Write the account, its email guard, (when given) its first session and the ``extra`` items of
    its partition (a verification link's token) in one transaction; AlreadyExists when the email is taken."""
    guard = EmailItem(email_key(user.email), "EMAIL", user_id=user.user_id)
    try:
        with TransactWrite(connection=connection_of(UsersTable)) as transaction:
            transaction.save(guard, condition=EmailItem.pk.does_not_exist())
            transaction.save(user, condition=UserItem.pk.does_not_exist())
            if session is not None:
                transaction.save(session, condition=SessionItem.pk.does_not_exist())
            for item in extra:
                transaction.save(item)
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


ACCOUNT_GUARD = "ALL"  # the login guard counting every client of an account


def guard_key(scope: str) -> str:
    return f"LOGINGUARD#{scope}"


def read_login_state(user_id: str, scopes: tuple[str, str]) -> tuple[UserItem | None, list[LoginGuardItem | None]]:
    """The account and its login guards of ``scopes`` (absent ones None), strongly consistent: one
    BatchGetItem."""
    keys = [(user_key(user_id), "ACCOUNT")] + [(user_key(user_id), guard_key(scope)) for scope in scopes]
    (found,) = batch_read([(UsersTable, keys)])
    by_sort_key = {item.sk: item for item in found}
    user = by_sort_key.get("ACCOUNT")
    guards = [by_sort_key.get(guard_key(scope)) for scope in scopes]
    return (user if isinstance(user, UserItem) else None,
            [guard if isinstance(guard, LoginGuardItem) else None for guard in guards])


def get_login_guard(user_id: str, scope: str) -> LoginGuardItem | None:
    try:
        item = LoginGuardItem.get(user_key(user_id), guard_key(scope), consistent_read=True)
    except DoesNotExist:
        return None
    return item if isinstance(item, LoginGuardItem) else None


def take_login_slot(user_id: str, scope: str, seen: LoginGuardItem | None, size: int, free_before: int,
                    value: int, expires_at: datetime | None) -> int | None:
    """Take one of the guard's ``size`` slots for an attempt (``value``: its time in microseconds):
    the index taken, or None when every slot holds a time after ``free_before``.

    ``seen`` is the guard as last read: its free slots are tried in random order, each with a
    conditional write that succeeds only if the slot is still free, so concurrent attempts never
    share a slot (at most ``size`` writes). A guard not yet written is created with the attempt in
    its first slot; a guard of another size (the setting changed) is resized first, keeping its
    newest times.
    """
    if seen is None or len(seen.slots) != size:
        row = [0] * size
        if seen is not None:
            kept = sorted((int(v) for v in seen.slots), reverse=True)[:size]
            row[:len(kept)] = kept
        free = [i for i, v in enumerate(row) if v < free_before]
        if not free:
            return None
        row[free[0]] = value
        item = LoginGuardItem(user_key(user_id), guard_key(scope), slots=row, expires_at=expires_at,
                              known_clients=(seen.known_clients if seen is not None else None) or {})
        condition = (LoginGuardItem.pk.does_not_exist() if seen is None
                     else LoginGuardItem.slots == [int(v) for v in seen.slots])
        try:
            item.save(condition=condition)
            return free[0]
        except PutError as exc:
            if not _conditional_failure(exc):
                raise
        seen = get_login_guard(user_id, scope)
        if seen is None or len(seen.slots) != size:
            return None  # rewritten again meanwhile: refuse this attempt rather than loop
    free = [i for i, v in enumerate(seen.slots) if int(v) < free_before]
    random.shuffle(free)
    for index in free:
        actions: list[Any] = [LoginGuardItem.slots[index].set(value)]
        if expires_at is not None:
            actions.append(LoginGuardItem.expires_at.set(expires_at))
        try:
            seen.update(actions=actions, condition=LoginGuardItem.slots[index] < free_before)
            return index
        except UpdateError as exc:
            if not _conditional_failure(exc):
                raise
    return None


def _release_actions(held: dict[int, int], known_client: tuple[str, int] | None,
                     forget_clients: list[str]) -> tuple[list[Any], Any]:
    """The update freeing the slots in ``held`` (index -> the time it was seen holding), only if they
    still hold those times, and recording ``known_client`` (hash, unix time) as signed in."""
    actions: list[Any] = [LoginGuardItem.slots[index].set(0) for index in held]
    known = cast(Any, LoginGuardItem.known_clients)
    if known_client is not None:
        actions.append(known[known_client[0]].set(known_client[1]))
    actions += [known[name].remove() for name in forget_clients]
    condition: Any = LoginGuardItem.pk.exists()
    for index, value in held.items():
        condition &= LoginGuardItem.slots[index] == value
    return actions, condition


def release_login_slots(user_id: str, scope: str, held: dict[int, int]) -> bool:
    """Free the slots in ``held`` that still hold the times seen (one UpdateItem); False when one
    moved on meanwhile, and then nothing is freed: a slot reused by a newer attempt keeps it."""
    actions, condition = _release_actions(held, None, [])
    if not actions:
        return True
    try:
        LoginGuardItem(user_key(user_id), guard_key(scope)).update(actions=actions, condition=condition)
    except UpdateError as exc:
        if _conditional_failure(exc):
            return False
        raise
    return True


def finish_login(session: SessionItem, client_scope: str, client_held: dict[int, int],
                 account_held: dict[int, int], known_client: tuple[str, int], forget_clients: list[str]) -> bool:
    """A successful login in one transaction: the new session, the client guard's slots in
    ``client_held`` freed, the account guard's in ``account_held`` freed and the client recorded as
    known. False (nothing written) when a slot no longer holds the time seen."""
    client_actions, client_condition = _release_actions(client_held, None, [])
    account_actions, account_condition = _release_actions(account_held, known_client, forget_clients)
    try:
        with TransactWrite(connection=connection_of(UsersTable)) as transaction:
            transaction.save(session, condition=SessionItem.pk.does_not_exist())
            if client_actions:
                transaction.update(LoginGuardItem(session.pk, guard_key(client_scope)), actions=client_actions,
                                   condition=client_condition)
            transaction.update(LoginGuardItem(session.pk, guard_key(ACCOUNT_GUARD)), actions=account_actions,
                               condition=account_condition)
    except TransactWriteError as exc:
        if _conditional_failure(exc):
            return False
        raise
    return True


def link_token_key(purpose: str, secret_hash: str) -> str:
    return f"TOKEN#{purpose}#{secret_hash}"


def link_token_item(user_id: str, purpose: str, secret_hash: str, created_at: datetime,
                    expires_at: datetime) -> LinkTokenItem:
    """A mailed token's hash under the student's partition, kept until ``expires_at`` (its TTL)."""
    return LinkTokenItem(user_key(user_id), link_token_key(purpose, secret_hash), purpose=purpose,
                         created_at=created_at, expires_at=expires_at)


def save_link_token(user_id: str, purpose: str, secret_hash: str, created_at: datetime,
                    expires_at: datetime) -> None:
    """Store a mailed token's hash (``link_token_item``)."""
    link_token_item(user_id, purpose, secret_hash, created_at, expires_at).save()


def link_token_usable(user_id: str, purpose: str, secret_hash: str, now: datetime) -> bool:
    """Whether the token exists and has not expired (one strongly consistent GetItem): checked
    before any costly work is done for it; using it is still conditional."""
    try:
        item = LinkTokenItem.get(user_key(user_id), link_token_key(purpose, secret_hash), consistent_read=True)
    except DoesNotExist:
        return False
    return isinstance(item, LinkTokenItem) and item.expires_at is not None and item.expires_at > now


def _token_spent_with(user_id: str, purpose: str, secret_hash: str, now: datetime,
                      account_actions: list[Any]) -> bool:
    """Delete the token, only while it exists and has not expired, and apply ``account_actions`` to
    the account, in one transaction: of two uses of one token only one passes the condition. False
    (nothing written) when the token is unknown, used or expired, or the account is gone."""
    token = LinkTokenItem(user_key(user_id), link_token_key(purpose, secret_hash))
    try:
        with TransactWrite(connection=connection_of(UsersTable)) as transaction:
            transaction.delete(token, condition=LinkTokenItem.pk.exists() & (LinkTokenItem.expires_at > now))
            transaction.update(UserItem(user_key(user_id), "ACCOUNT"), actions=account_actions,
                               condition=UserItem.pk.exists())
    except TransactWriteError as exc:
        if _conditional_failure(exc):
            return False
        raise
    return True


def spend_verification_token(user_id: str, secret_hash: str, now: datetime) -> bool:
    """Use a verification token: the token gone and the account's email verified, or False."""
    return _token_spent_with(user_id, "verify", secret_hash, now, [UserItem.email_verified.set(True)])


def spend_reset_token(user_id: str, secret_hash: str, now: datetime, password_hash: str) -> bool:
    """Use a password-reset token: the token gone and the account's password hash replaced, or False.
    A student who could open the mail has proved the address too, so it is marked verified."""
    return _token_spent_with(user_id, "reset", secret_hash, now, [
        UserItem.password_hash.set(password_hash), UserItem.password_changed_at.set(now),
        UserItem.email_verified.set(True)])


def clear_login_guards(user_id: str, scopes: list[str]) -> None:
    """Empty the slots of these login guards, keeping the known clients (one UpdateItem each; a
    guard never written is left absent). An emptied row is rebuilt at its size by the next login
    (``take_login_slot``)."""
    for scope in scopes:
        try:
            LoginGuardItem(user_key(user_id), guard_key(scope)).update(
                actions=[LoginGuardItem.slots.set([])], condition=LoginGuardItem.pk.exists())
        except UpdateError as exc:
            if not _conditional_failure(exc):
                raise


def set_role(user: UserItem, role: str) -> None:
    user.update(actions=[UserItem.role.set(role)])


def get_session(user_id: str, family: str) -> SessionItem | None:
    try:
        return SessionItem.get(user_key(user_id), f"SESSION#{family}", consistent_read=True)
    except DoesNotExist:
        return None


def rotate_session(session: SessionItem, expected_jti: str, new_jti: str, at: datetime,
                   expires_at: datetime) -> None:
    """Move the session to ``new_jti`` issued ``at`` and expiring at ``expires_at`` (also the item's
    TTL), remembering ``expected_jti`` as the one it replaced; StaleWrite when another refresh got
    there first."""
    try:
        session.update(
            actions=[SessionItem.current_jti.set(new_jti), SessionItem.previous_jti.set(expected_jti),
                     SessionItem.rotated_at.set(at), SessionItem.expires_at.set(expires_at)],
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

