"""Login guessing bounds (issue 15, points 1 and 2) through the auth function's real handler.

The login guards are kept in DynamoDB: an (account, client network) guard of 5 slots per 15
minutes and an account guard of 30 per hour; an attempt takes a slot of each before bcrypt runs.
The Redis limits in front count per network and per (network, account). A client here is the
``sourceIp`` of the API Gateway event, as in AWS.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from support import PASSWORD, Answer, HandlerClient, all_at_once, register, unique_email

from mindly.config import Settings
from mindly.exceptions import AuthenticationFailed
from mindly.http.middleware import client_network
from mindly.services import auth, passwords
from mindly.store import users

API = "/api/v1"


def _address() -> str:
    return f"198.18.{uuid.uuid4().int % 250 + 1}.{uuid.uuid4().int % 250 + 1}"


def _account(auth_fn: Any) -> str:
    email = unique_email("guard")
    assert register(auth_fn, email).status == 201
    return email


def _login(auth_fn: Any, email: str, password: str, source_ip: str) -> Answer:
    return HandlerClient(auth_fn, source_ip=source_ip).post(f"{API}/auth/login",
                                                            {"email": email, "password": password})


@pytest.fixture
def checked_passwords(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password bcrypt really checks against an account's hash, in order."""
    checked: list[str] = []
    lock = threading.Lock()
    real = passwords.verify_password

    def counting(password: str, hashed: str) -> bool:
        with lock:
            checked.append(password)
        return real(password, hashed)

    monkeypatch.setattr(passwords, "verify_password", counting)
    return checked


def test_a_parallel_burst_of_guesses_tests_no_more_passwords_than_the_limit(
        auth_fn: Any, checked_passwords: list[str]) -> None:
    # Given an account, and a client that sends 29 wrong passwords at once
    email = _account(auth_fn)
    attacker = _address()
    answers = all_at_once(29, lambda i: _login(auth_fn, email, f"Wrong-password-{i}", attacker))
    # Then at most 5 of the guesses were checked at all; every other one is 423 with Retry-After
    assert len(checked_passwords) <= 5, checked_passwords
    statuses = sorted(answer.status for answer in answers)
    assert set(statuses) <= {401, 423}, statuses
    assert statuses.count(423) >= 24, statuses
    for answer in answers:
        if answer.status == 423:
            assert 1 <= int(answer.headers["retry-after"]) <= 15 * 60, answer.headers
    # And the right password sent right after is refused from that client without being checked
    before = len(checked_passwords)
    right = _login(auth_fn, email, PASSWORD, attacker)
    assert right.status == 423, right
    assert "access_token" not in right.text
    assert len(checked_passwords) == before


def test_a_locked_client_cannot_lock_the_student_out_of_their_own_device(auth_fn: Any) -> None:
    # Given someone who knows a student's email and locks it from their own address
    email = _account(auth_fn)
    attacker = _address()
    answers = [_login(auth_fn, email, f"Wrong-password-{i}", attacker) for i in range(6)]
    assert [a.status for a in answers] == [401, 401, 401, 401, 423, 423], answers
    # When the student signs in from their own network
    mine = _login(auth_fn, email, PASSWORD, _address())
    # Then they are in
    assert mine.status == 200, mine


def test_guesses_spread_over_many_clients_hit_the_account_limit_except_for_known_devices(
        auth_fn: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, checked_passwords: list[str]) -> None:
    # Given an account limit of 6 failures an hour (30 in production), and a student who has signed
    # in from their phone's network before
    monkeypatch.setattr(settings, "login_account_failures", 6)
    email = _account(auth_fn)
    phone = _address()
    assert _login(auth_fn, email, PASSWORD, phone).status == 200
    # When three other clients guess twice each (each stays under its own limit of 5)
    for _ in range(3):
        source = _address()
        for i in range(2):
            assert _login(auth_fn, email, f"Wrong-{i}-password", source).status == 401
    checked = len(checked_passwords)
    # Then a fourth new client is refused without a check, even with the right password...
    stranger = _login(auth_fn, email, PASSWORD, _address())
    assert stranger.status == 423, stranger
    assert stranger.json["errors"][0]["code"] == "ACCOUNT_LOCKED"
    assert 1 <= int(stranger.headers["retry-after"]) <= 3600
    assert len(checked_passwords) == checked
    # ... while the phone that signed in before still gets in
    assert _login(auth_fn, email, PASSWORD, phone).status == 200


def test_a_refused_attempt_at_the_account_limit_does_not_use_up_its_clients_slots(
        auth_fn: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an account whose account-wide limit (2 here) is used up by another client
    monkeypatch.setattr(settings, "login_account_failures", 2)
    email = _account(auth_fn)
    other = _address()
    for i in range(2):
        _login(auth_fn, email, f"Wrong-{i}-password", other)
    # When a new client is refused 6 times by the account limit
    newcomer = _address()
    for _ in range(6):
        assert _login(auth_fn, email, PASSWORD, newcomer).status == 423
    # Then none of those refusals counted against the newcomer itself
    user_id = users.find_user_id_by_email(email)
    assert user_id is not None
    guard = users.get_login_guard(user_id, auth.client_scope(client_network(newcomer)))
    assert guard is not None and all(int(slot) == 0 for slot in guard.slots), guard


def test_a_success_clears_only_the_failures_it_saw(auth_fn: Any, settings: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a client with two failed logins
    email = _account(auth_fn)
    source = _address()
    for i in range(2):
        assert _login(auth_fn, email, f"Wrong-{i}-password", source).status == 401
    # And a wrong guess from the same client that fails while the right password is being checked
    real = passwords.verify_password
    concurrent: list[Exception] = []

    def verify_with_a_guess_in_flight(password: str, hashed: str) -> bool:
        if password == PASSWORD and not concurrent:
            try:
                auth.login(settings, email, "Wrong-meanwhile-1", client_network(source))
            except AuthenticationFailed as exc:
                concurrent.append(exc)
        return real(password, hashed)

    monkeypatch.setattr(passwords, "verify_password", verify_with_a_guess_in_flight)
    # When the right password signs in
    assert _login(auth_fn, email, PASSWORD, source).status == 200
    assert len(concurrent) == 1, concurrent
    monkeypatch.setattr(passwords, "verify_password", real)
    # Then the two earlier failures are cleared but the one made meanwhile is not: three more
    # failures lock the client (1 + 3 + the 5th attempt's own), not four
    answers = [_login(auth_fn, email, f"Wrong-after-{i}", source) for i in range(4)]
    assert [a.status for a in answers] == [401, 401, 401, 423], answers


def test_login_limits_count_per_network_and_account_so_a_shared_address_is_not_shut_out(
        auth_fn: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 2 logins a minute per (network, account) and 5 per network
    monkeypatch.setattr(settings, "login_rate_limit_per_minute", 2)
    monkeypatch.setattr(settings, "login_ip_rate_limit_per_minute", 5)
    shared = _address()  # one carrier-grade NAT address
    first, second, third = (_account(auth_fn) for _ in range(3))
    # When one student behind it retries three times
    answers = [_login(auth_fn, first, PASSWORD, shared) for _ in range(3)]
    # Then only their third try is refused ...
    assert [a.status for a in answers] == [200, 200, 429], answers
    assert answers[2].json["errors"][0]["code"] == "RATE_LIMIT_EXCEEDED"
    assert int(answers[2].headers["retry-after"]) >= 1
    # ... while other students behind the same address still sign in, up to the address's budget
    assert _login(auth_fn, second, PASSWORD, shared).status == 200
    assert _login(auth_fn, third, PASSWORD, shared).status == 200
    over = _login(auth_fn, third, PASSWORD, shared)
    assert over.status == 429, over


def test_an_ipv6_client_is_one_client_across_its_whole_64(auth_fn: Any, settings: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a register limit of 2 a minute per network
    monkeypatch.setattr(settings, "register_rate_limit_per_minute", 2)
    prefix = f"2001:db8:{uuid.uuid4().int % 65000:x}:{uuid.uuid4().int % 65000:x}"

    def sign_up(address: str) -> Answer:
        return HandlerClient(auth_fn, source_ip=address).post(
            f"{API}/auth/register", {"email": unique_email("v6"), "password": PASSWORD, "name": "Ravi"})

    # When one subscriber registers from three addresses of its /64
    answers = [sign_up(f"{prefix}::{i + 1:x}") for i in range(3)]
    # Then the third is limited: the addresses are one client
    assert [a.status for a in answers] == [201, 201, 429], answers
    # And a neighbouring /64 is another client
    assert sign_up(f"{prefix[:-1]}{(int(prefix[-1], 16) + 1) % 16:x}::1").status == 201


@pytest.mark.parametrize(("address", "network"), [
    ("203.0.113.9", "203.0.113.9"),
    ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.9", "203.0.113.9"),
    ("fe80::1%eth0", "fe80::/64"),
    ("not-an-address", "not-an-address"),
])
def test_client_network_groups_ipv6_by_64(address: str, network: str) -> None:
    assert client_network(address) == network


def test_default_limits_let_a_classroom_behind_one_address_sign_up_and_in(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the deployed defaults (not the suite's raised limits)
    for name in ("LOGIN_RATE_LIMIT_PER_MINUTE", "REGISTER_RATE_LIMIT_PER_MINUTE", "REFRESH_RATE_LIMIT_PER_MINUTE"):
        monkeypatch.delenv(name, raising=False)
    defaults = Settings()
    # Then a class of 30 at one coaching centre's Wi-Fi can register in the same minute, 100 students
    # behind one mobile address can sign in in the same minute, and 1,000 students refreshing every
    # 15 minutes stay under the refresh budget; one account still gets few tries
    assert defaults.register_rate_limit_per_minute >= 30
    assert defaults.login_ip_rate_limit_per_minute >= 100
    assert defaults.refresh_rate_limit_per_minute >= 1000 / 15 * 2
    assert defaults.login_rate_limit_per_minute <= 10
    assert defaults.login_lockout_failures * 4 < defaults.login_account_failures  # one client cannot fill it


def test_the_guard_frees_a_slot_when_its_attempt_leaves_the_window(auth_fn: Any, settings: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a 2-second lockout window, and a client locked by 5 failures
    monkeypatch.setattr(settings, "login_lockout_window_seconds", 2)
    email = _account(auth_fn)
    source = _address()
    statuses = [_login(auth_fn, email, f"Wrong-password-{i}", source).status for i in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    assert _login(auth_fn, email, PASSWORD, source).status == 423
    # When the window has passed
    time.sleep(2.1)
    # Then the right password gets in again
    assert _login(auth_fn, email, PASSWORD, source).status == 200


def test_a_guard_follows_a_changed_limit_keeping_its_newest_failures(auth_fn: Any, settings: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two failures from one client under a limit of 5
    email = _account(auth_fn)
    source = _address()
    assert [_login(auth_fn, email, f"Wrong-{i}-password", source).status for i in range(2)] == [401, 401]
    # When the limit is lowered to 3 and the client fails again
    monkeypatch.setattr(settings, "login_lockout_failures", 3)
    third = _login(auth_fn, email, "Wrong-2-password", source)
    # Then the earlier failures still count: the third failure locks, the right password waits
    assert third.status == 423, third
    assert _login(auth_fn, email, PASSWORD, source).status == 423
    user_id = users.find_user_id_by_email(email)
    assert user_id is not None
    guard = users.get_login_guard(user_id, auth.client_scope(client_network(source)))
    assert guard is not None and len(guard.slots) == 3 and all(int(slot) > 0 for slot in guard.slots), guard


def test_retry_after_never_exceeds_the_window_when_a_parallel_attempt_stamped_a_later_slot(
        auth_fn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a client whose 5 slots are full
    email = _account(auth_fn)
    source = _address()
    assert [_login(auth_fn, email, f"Wrong-{i}-password", source).status for i in range(5)][-1] == 423
    # When an attempt read the clock just before those slots were stamped (parallel attempts on
    # other instances stamp theirs a moment later than this one reads the time)
    real_time_ns = time.time_ns
    monkeypatch.setattr(auth.time, "time_ns", lambda: real_time_ns() - 3_000_000_000)
    locked = _login(auth_fn, email, PASSWORD, source)
    # Then it waits at most the window, not the window plus the clocks' difference
    assert locked.status == 423, locked
    assert 1 <= int(locked.headers["retry-after"]) <= 15 * 60, locked.headers
