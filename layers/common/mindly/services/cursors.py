"""Page cursors, sealed: a client can neither read where a list stopped nor move a cursor to
another list, other filters or another student.

A cursor holds the DynamoDB key a page ended on, encrypted and authenticated with the stack's
cursor secret, bound to its *scope* (the list, the student and every filter of the request). The
construction is SIV (Rogaway and Shrimpton's deterministic authenticated encryption) built from
HMAC-SHA256 alone:

- ``tag = HMAC(mac_key, version | len(scope) | scope | key)[:16]``: authenticates the key and the
  scope (the scope is not in the cursor; the request supplies it again);
- ``ciphertext = key XOR HMAC(enc_key, tag | counter)...``: HMAC-SHA256 as a PRF in counter mode,
  with the tag as the IV;
- ``cursor = base64url(version | tag | ciphertext)``.

Both keys are derived from the secret with a label each (HKDF-expand with one block), so neither is
used for two purposes. Deterministic on purpose: the same page asked twice answers the same
``next_cursor``; the only thing it reveals is that two cursors are equal. Standard library only
(``hmac`` and ``hashlib`` are already loaded by pyjwt): AES-GCM would need ``cryptography``, which is
not in the layer and would add its import to every cold start.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from mindly.exceptions import ValidationFailed

VERSION = b"\x01"  # a new construction gets a new byte; old cursors are then refused (422)
TAG_BYTES = 16  # HMAC-SHA256 truncated to 128 bits (NIST SP 800-107)
_BLOCK_BYTES = hashlib.sha256().digest_size  # keystream bytes one HMAC gives
MAX_CURSOR_CHARS = 2000  # what the routes accept (functions/*/app.py)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
REFUSED = "cursor is not valid for this list, these filters and this student; start again without it"

Key = dict[str, str]


@dataclass(frozen=True)
class Scope:
    """What a cursor is good for: one list (``list_name``), read by one student, with these
    filters (every one of them, None for a filter not given)."""

    list_name: str
    student_id: str
    filters: Mapping[str, str | None] = field(default_factory=dict)

    def binding(self) -> bytes:
        """The scope as bytes, unambiguously (JSON quotes every part)."""
        return json.dumps([self.list_name, self.student_id, sorted(self.filters.items())],
                          separators=(",", ":"), ensure_ascii=False).encode()


def _subkey(secret: str, purpose: bytes) -> bytes:
    return hmac.new(secret.encode(), b"mindly/page-cursor/v1/" + purpose, hashlib.sha256).digest()


def _tag(secret: str, scope: Scope, plaintext: bytes) -> bytes:
    binding = scope.binding()
    message = VERSION + len(binding).to_bytes(4, "big") + binding + plaintext
    return hmac.new(_subkey(secret, b"authenticate"), message, hashlib.sha256).digest()[:TAG_BYTES]


def _keystream_xor(secret: str, tag: bytes, data: bytes) -> bytes:
    encryption_key = _subkey(secret, b"encrypt")
    blocks = (len(data) + _BLOCK_BYTES - 1) // _BLOCK_BYTES
    stream = b"".join(hmac.new(encryption_key, tag + block.to_bytes(4, "big"), hashlib.sha256).digest()
                      for block in range(blocks))
    return bytes(a ^ b for a, b in zip(data, stream, strict=False))


def seal(key: Key, scope: Scope, secret: str) -> str:
    """The cursor that resumes ``scope``'s list after ``key``."""
    plaintext = json.dumps(key, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
    tag = _tag(secret, scope, plaintext)
    sealed = VERSION + tag + _keystream_xor(secret, tag, plaintext)
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def unseal(cursor: str, scope: Scope, secret: str) -> Key:
    """The key ``cursor`` holds; ValidationFailed (field ``cursor``) when it was not sealed by this
    stack for exactly this scope, or was changed since."""
    if len(cursor) > MAX_CURSOR_CHARS or not _BASE64URL.fullmatch(cursor):
        raise ValidationFailed(REFUSED, field="cursor")
    try:
        sealed = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except ValueError as exc:  # binascii.Error: a length no encoder makes
        raise ValidationFailed(REFUSED, field="cursor") from exc
    version, tag, ciphertext = sealed[:1], sealed[1:1 + TAG_BYTES], sealed[1 + TAG_BYTES:]
    canonical = base64.urlsafe_b64encode(sealed).decode().rstrip("=") == cursor  # no stray padding bits
    if not canonical or version != VERSION or len(tag) != TAG_BYTES or not ciphertext:
        raise ValidationFailed(REFUSED, field="cursor")
    plaintext = _keystream_xor(secret, tag, ciphertext)
    if not hmac.compare_digest(tag, _tag(secret, scope, plaintext)):
        raise ValidationFailed(REFUSED, field="cursor")
    key = json.loads(plaintext)  # authentic: we wrote it
    if not isinstance(key, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in key.items()):
        raise ValidationFailed(REFUSED, field="cursor")
    return key
