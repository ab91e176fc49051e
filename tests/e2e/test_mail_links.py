"""End to end: the dev server prints every mail it sends (to, subject, link), and the printed links
work against the same running stack, as a developer would use them (browser or curl)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import IO

import httpx
import pytest
from support import dev_server

PASSWORD = "Mail-links-password-1"
pytestmark = pytest.mark.e2e


class Console:
    """The dev server's console (its stderr, written to a file), read as it grows."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def text(self) -> str:
        self.stream.flush()
        self.stream.seek(0)
        return self.stream.read()

    def link_mailed_to(self, email: str, subject_word: str, timeout: float = 30) -> str:
        """The link of the newest printed mail to ``email`` whose subject has ``subject_word``."""
        pattern = re.compile(rf"mail to {re.escape(email)}: [^\n]*{subject_word}[^\n]*\n\s+link: (\S+)")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = pattern.findall(self.text())
            if found:
                return str(found[-1])
            time.sleep(0.1)
        raise AssertionError(f"no mail to {email} printed; console ends:\n{self.text()[-2000:]}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Console]]:
    # No APP_BASE_URL or MAIL_FROM either: the links and the sender are the dev server's own.
    with (tmp_path_factory.mktemp("mail") / "server.err").open("w+") as console, \
            dev_server(["--no-seed", "--state-file", str(tmp_path_factory.mktemp("state") / "stack.json")],
                       console, unset=("APP_BASE_URL", "MAIL_FROM")) as base:
        yield base, Console(console)


def _register(base: str, email: str) -> str:
    answer = httpx.post(f"{base}/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "Meera"})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["data"]["access_token"])


def test_the_printed_verification_link_verifies_the_email(stack: tuple[str, Console]) -> None:
    base, console = stack
    # Given a student who registered on the local stack
    email = f"mail.{uuid.uuid4().hex[:10]}@example.com"
    access = _register(base, email)
    # When the verification link the console printed is opened, as curl would
    link = console.link_mailed_to(email, "Confirm")
    assert link.startswith(f"{base}/verify-email?token=")
    opened = httpx.get(link)
    # Then the page says so, and the API shows the email verified
    assert opened.status_code == 200, opened.text
    assert "Email verified" in opened.text
    me = httpx.get(f"{base}/api/v1/auth/me", headers={"authorization": f"Bearer {access}"})
    assert me.json()["data"]["email_verified"] is True
    # And the same link opened again is refused: it works once
    again = httpx.get(link)
    assert again.status_code == 422
    assert "Link not accepted" in again.text


def test_the_printed_reset_link_opens_a_form_that_changes_the_password(stack: tuple[str, Console]) -> None:
    base, console = stack
    # Given a registered student who forgot their password
    email = f"forgot.{uuid.uuid4().hex[:10]}@example.com"
    _register(base, email)
    assert httpx.post(f"{base}/api/v1/auth/password/forgot", json={"email": email}).status_code == 202
    link = console.link_mailed_to(email, "Reset")
    # When the printed link is opened and its form sent with a new password
    page = httpx.get(link)
    assert page.status_code == 200 and 'name="new_password"' in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token is not None
    sent = httpx.post(f"{base}/reset-password", data={"token": token.group(1), "new_password": "Brand-new-pass-9"})
    # Then the password is changed: the new one signs in, the old one does not
    assert sent.status_code == 200, sent.text
    new = httpx.post(f"{base}/api/v1/auth/login", json={"email": email, "password": "Brand-new-pass-9"})
    old = httpx.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert (new.status_code, old.status_code) == (200, 401)
