"""``infra.cli create-admin`` needs no JWT signing key: against a running local stack the CLI never
has one (the stack's key is random per start and the state file holds no secret)."""

from __future__ import annotations

from typing import Any

import pytest
from support import HandlerClient, unique_email

from infra import cli

PASSWORD = "Admin-password-1"


def test_create_admin_makes_a_new_account_without_a_jwt_secret(
        settings: Any, auth_fn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    email = unique_email("ops")
    # Given the CLI's settings have no JWT secret, as against a local stack
    with monkeypatch.context() as patched:
        patched.setattr(settings, "jwt_secret", None)
        patched.setenv("MINDLY_ADMIN_PASSWORD", PASSWORD)
        # When an admin is created for an email with no account
        made = cli.create_admin(email.upper(), "Ops Person")
        # Then the account is created as an admin; and running it again changes nothing
        assert (made["email"], made["created"], made["role"]) == (email, True, "admin")
        again = cli.create_admin(email, "Ops Person")
        assert (again["user_id"], again["created"]) == (made["user_id"], False)
    # And the admin logs in with that password (the functions do have their key) and is an admin
    login = HandlerClient(auth_fn).post("/api/v1/auth/login", {"email": email, "password": PASSWORD})
    assert login.status == 200, login
    assert login.data["user"]["role"] == "admin" and login.data["user"]["name"] == "Ops Person"


def test_create_admin_refuses_a_weak_password_without_a_traceback(
        settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "jwt_secret", None)
    monkeypatch.setenv("MINDLY_ADMIN_PASSWORD", "short")
    with pytest.raises(SystemExit, match=r"create-admin: .*password"):
        cli.create_admin(unique_email("ops"), "Ops")
