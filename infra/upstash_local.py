"""A local endpoint that speaks the Upstash Redis REST protocol.

Production talks to Upstash through the real ``upstash_redis`` / ``upstash_ratelimit`` clients. To run
and test the same code on a laptop with no internet, this module serves the same REST protocol on
127.0.0.1 in front of either an in-process fakeredis server (the default) or a real redis-server
(``redis://`` URL), so the production client code runs unchanged against it.

Protocol, as the clients use it:

* ``POST /`` with a JSON array body (``["SET", "k", "v", "EX", 60]``) runs one command and answers
  ``{"result": ...}``, or ``{"error": "..."}`` with HTTP 400 for an error reply.
* ``POST /pipeline`` and ``POST /multi-exec`` take an array of such arrays and answer an array of
  ``{"result": ...}`` / ``{"error": "..."}`` objects, one per command; ``/multi-exec`` runs them
  atomically inside MULTI/EXEC.
* ``Authorization: Bearer <token>`` is required (401 ``{"error": "Unauthorized"}`` otherwise).
* With the request header ``Upstash-Encoding: base64`` (the client's default) every string in the
  result, recursively inside arrays, is base64-encoded, except the status reply ``"OK"``; integers
  and null stay as they are. Without it strings are sent as UTF-8 text.

Backend replies are read raw, in RESP2, straight off a pooled redis-py connection: no redis-py
response callbacks run (they would turn ``SET`` into ``True``, ``HGETALL`` into a dict, ``ZRANGE
WITHSCORES`` into float tuples) and RESP3 is never negotiated (its ZRANGE WITHSCORES shape breaks the
upstash client). Floats therefore stay the bulk strings Redis sends, exactly as on Upstash.

upstash-ratelimit scripts start with ``#!lua flags=allow-key-locking``, a flag only Upstash knows:
redis-server and fakeredis reject it. The shebang line is blanked before a script reaches the backend
(EVAL, EVAL_RO, SCRIPT LOAD), and the SHA1 of the original text is mapped to the SHA1 of the blanked
text, so EVALSHA / SCRIPT EXISTS with the SHA a client computed over the original text still work.

Run standalone: ``python -m infra.upstash_local --port 8079 --token x [--redis-url redis://...]``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeAlias
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.connection import parse_url
from redis.exceptions import ResponseError

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
"""Largest accepted request body: nothing Mindly sends comes close, and a bound keeps a runaway
client from exhausting a developer's memory."""

Reply: TypeAlias = bytes | int | list["Reply"] | ResponseError | None
"""A raw RESP2 reply as redis-py's parser yields it with decoding off: status and bulk strings are
bytes, errors nested inside arrays (EXEC) are ResponseError instances."""

JsonValue: TypeAlias = str | int | list["JsonValue"] | None

_BLANK_SHEBANG_PREFIX = b"#!lua"

# Commands that would change or wedge the state of a pooled backend connection (pub/sub mode,
# a dangling MULTI, another database, a closed socket). A REST request is stateless, so they cannot
# mean anything useful over it; transactions go through /multi-exec.
_CONNECTION_STATE_COMMANDS = frozenset(
    {
        "AUTH", "DISCARD", "EXEC", "HELLO", "MONITOR", "MULTI", "PSUBSCRIBE", "PSYNC", "PUNSUBSCRIBE",
        "QUIT", "RESET", "SELECT", "SSUBSCRIBE", "SUBSCRIBE", "SUNSUBSCRIBE", "SYNC", "UNSUBSCRIBE",
        "UNWATCH", "WATCH",
    }
)


class RequestError(Exception):
    """A request the endpoint refuses before any command runs; carries the HTTP status to answer."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BackendUnavailable(Exception):
    """The backing Redis could not be reached (connection refused, timeout, dropped socket)."""


# --------------------------------------------------------------------------------------------------
# Request decoding and reply encoding (pure functions, no I/O)
# --------------------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    """json.loads hook: Python accepts NaN/Infinity literals, JSON does not."""
    raise ValueError(f"invalid JSON number {name}")


def parse_body(body: bytes) -> Any:
    """Parse a request body as strict JSON, or raise a 400 RequestError."""
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise RequestError(HTTPStatus.BAD_REQUEST, f"ERR failed to parse request body as JSON: {exc}") from exc


def _encode_argument(value: Any) -> bytes:
    """Turn one JSON command element into the bytes Redis receives.

    Integral floats are sent without the fraction (``60.0`` -> ``"60"``): JSON does not tell 60.0 from
    60 (a JavaScript client cannot even produce 60.0), and it keeps ``EX 60.0`` valid. Booleans, null,
    objects and arrays are refused rather than guessed at: the upstash client serialises objects to
    JSON strings itself, so anything else is a caller bug that should surface locally, not be stored
    differently than in production.
    """
    if isinstance(value, str):
        return value.encode("utf-8", errors="surrogatepass")
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            f"ERR unsupported command argument {json.dumps(value)}: use strings or numbers",
        )
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**63:
            return str(int(value)).encode()
        return repr(value).encode()
    raise RequestError(HTTPStatus.BAD_REQUEST, f"ERR unsupported command argument of type {type(value).__name__}")


def parse_command(raw: Any) -> list[bytes]:
    """Validate one command (a non-empty JSON array of scalars) and encode its arguments."""
    if not isinstance(raw, list) or not raw:
        raise RequestError(HTTPStatus.BAD_REQUEST, "ERR a command must be a non-empty JSON array")
    if not isinstance(raw[0], str):
        raise RequestError(HTTPStatus.BAD_REQUEST, "ERR the command name must be a string")
    return [_encode_argument(item) for item in raw]


def parse_commands(raw: Any) -> list[list[bytes]]:
    """Validate a pipeline / transaction body: a JSON array of commands."""
    if not isinstance(raw, list):
        raise RequestError(HTTPStatus.BAD_REQUEST, "ERR a pipeline must be a JSON array of commands")
    return [parse_command(item) for item in raw]


def error_message(exc: BaseException) -> str:
    """The error text exactly as Redis sent it.

    redis-py strips a known error code (``ERR``, ``NOSCRIPT``, ``EXECABORT``...) from the message and
    keeps it in ``status_code``; put it back so clients see ``ERR wrong number of arguments ...`` as
    they would from Upstash.
    """
    message = str(exc)
    code = getattr(exc, "status_code", None)
    if code and not message.startswith(f"{code} "):
        return f"{code} {message}"
    return message


def encode_result(value: Reply | str | float, *, base64_strings: bool) -> JsonValue:
    """Convert a raw RESP2 reply into the JSON value Upstash would send.

    In base64 mode every string is base64 except ``OK``: RESP2 replies as redis-py returns them do not
    tell a ``+OK`` status from a ``$2 OK`` bulk string, but the client decodes ``"OK"`` to ``OK`` and
    base64 to the original text, so both spellings reach the caller identically.
    """
    if value is None:
        return None
    if isinstance(value, bool):  # never from RESP2, but a bool is an int to Python: keep it numeric
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, ResponseError):
        value = error_message(value)
    if isinstance(value, float):  # never from RESP2; render it as Redis would, as a string
        value = repr(value)
    if isinstance(value, str):
        value = value.encode("utf-8", errors="surrogatepass")
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        if not base64_strings:
            return data.decode("utf-8", errors="replace")
        return "OK" if data == b"OK" else base64.b64encode(data).decode("ascii")
    if isinstance(value, dict):  # RESP3 map; only possible if a backend ignored protocol=2
        return [encode_result(item, base64_strings=base64_strings) for pair in value.items() for item in pair]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode_result(item, base64_strings=base64_strings) for item in value]
    raise TypeError(f"unexpected reply type {type(value).__name__}")


def encode_entry(value: Reply, *, base64_strings: bool) -> dict[str, JsonValue]:
    """One pipeline / transaction entry: ``{"result": ...}`` or ``{"error": ...}``."""
    if isinstance(value, ResponseError):
        return {"error": error_message(value)}
    return {"result": encode_result(value, base64_strings=base64_strings)}


# --------------------------------------------------------------------------------------------------
# Scripts: the #!lua shebang
# --------------------------------------------------------------------------------------------------


def _sha1_hex(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def blank_shebang(script: bytes) -> bytes | None:
    """Return ``script`` with a leading ``#!lua ...`` line emptied, or None when it has none.

    The newline is kept so line numbers in Lua error messages still match the caller's source.
    """
    if not script.startswith(_BLANK_SHEBANG_PREFIX):
        return None
    newline = script.find(b"\n")
    return b"" if newline < 0 else script[newline:]


class ScriptShas:
    """Maps the SHA1 of a script as the client sent it to the SHA1 of the script the backend holds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_original: dict[str, str] = {}

    def blank(self, script: bytes) -> tuple[bytes, str]:
        """Blank the shebang of ``script`` (remembering both SHAs); return it and its original SHA."""
        original_sha = _sha1_hex(script)
        blanked = blank_shebang(script)
        if blanked is None:
            return script, original_sha
        with self._lock:
            self._by_original[original_sha] = _sha1_hex(blanked)
        return blanked, original_sha

    def translate(self, sha: bytes) -> bytes:
        """The SHA the backend knows for a SHA a client sent (unchanged when no shebang was blanked)."""
        key = sha.decode("ascii", errors="replace").lower()
        with self._lock:
            mapped = self._by_original.get(key)
        return mapped.encode() if mapped else sha


PostProcess: TypeAlias = Callable[[Reply], Reply]


def _identity(reply: Reply) -> Reply:
    return reply


@dataclass(frozen=True, slots=True)
class PreparedCommand:
    """A command ready for the backend, or the error that stops it from being sent."""

    args: list[bytes]
    postprocess: PostProcess = _identity
    refusal: ResponseError | None = None


def prepare_command(args: list[bytes], scripts: ScriptShas) -> PreparedCommand:
    """Apply the endpoint's rewrites (script shebangs) and refusals (connection-state commands)."""
    name = args[0].decode("utf-8", errors="replace").upper()
    sub = args[1].decode("utf-8", errors="replace").upper() if len(args) > 1 else ""
    if name in _CONNECTION_STATE_COMMANDS or (name == "CLIENT" and sub == "REPLY"):
        refusal = ResponseError(f"ERR command '{name.lower()}' is not available over the REST API")
        return PreparedCommand(args, refusal=refusal)
    if name in ("EVAL", "EVAL_RO") and len(args) > 1:
        script, _ = scripts.blank(args[1])
        return PreparedCommand([args[0], script, *args[2:]])
    if name in ("EVALSHA", "EVALSHA_RO") and len(args) > 1:
        return PreparedCommand([args[0], scripts.translate(args[1]), *args[2:]])
    if name == "SCRIPT" and sub == "LOAD" and len(args) == 3:
        script, original_sha = scripts.blank(args[2])

        def answer_original_sha(reply: Reply) -> Reply:
            # The client may compare the answer with the SHA1 it computed over the text it sent.
            return original_sha.encode() if isinstance(reply, bytes) else reply

        return PreparedCommand([args[0], args[1], script], postprocess=answer_original_sha)
    if name == "SCRIPT" and sub == "EXISTS":
        return PreparedCommand([args[0], args[1], *(scripts.translate(sha) for sha in args[2:])])
    return PreparedCommand(args)


# --------------------------------------------------------------------------------------------------
# Backend execution
# --------------------------------------------------------------------------------------------------


class Backend:
    """Runs commands on a redis-py connection pool and returns the raw RESP2 replies.

    Each request pins one pooled connection, writes all its commands at once and reads the replies
    in order, bypassing redis-py's client layer and its response callbacks. Works the same for a
    real server and for fakeredis, whose pool hands out in-process fake connections. fakeredis
    serialises command execution under its server lock, and EXEC runs the queued commands in one step,
    so no lock of our own is needed; a real redis-server provides the same guarantees itself.
    """

    def __init__(self, pool: redis.ConnectionPool, description: str) -> None:
        options = pool.connection_kwargs
        if str(options.get("protocol", 2)) != "2" or options.get("decode_responses"):
            raise ValueError("the backend pool must speak RESP2 with decode_responses=False")
        self._pool = pool
        self.description = description

    @classmethod
    def fake(cls) -> Backend:
        """An in-process fakeredis server, private to this endpoint."""
        import fakeredis  # local dependency only; not needed when a real server is used

        server = fakeredis.FakeServer(version=(7,))
        client = fakeredis.FakeRedis(server=server, version=(7,), protocol=2)
        return cls(client.connection_pool, "fakeredis (in-process)")

    @classmethod
    def from_url(cls, url: str) -> Backend:
        """A real Redis server. URL options are honoured, except that the protocol is forced to RESP2
        and decoding off, whatever the URL says: the pool is built with them from the start because
        redis-py 8 configures RESP3-only features (maintenance notifications) when it is created."""
        options = parse_url(url)
        options.update(protocol=2, decode_responses=False)
        return cls(redis.ConnectionPool(**options), redact_url(url))

    def roundtrip(self, commands: Sequence[Sequence[bytes]]) -> list[Reply]:
        """Send ``commands`` on one connection and return one reply (or ResponseError) per command."""
        if not commands:
            return []
        try:
            connection = self._pool.get_connection()
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            raise BackendUnavailable(f"cannot reach {self.description}: {exc}") from exc
        try:
            connection.send_packed_command(connection.pack_commands(commands))
            replies: list[Reply] = []
            for _ in commands:
                try:
                    replies.append(connection.read_response())
                except ResponseError as exc:
                    replies.append(exc)
            return replies
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            connection.disconnect()
            raise BackendUnavailable(f"lost connection to {self.description}: {exc}") from exc
        except BaseException:
            # Unread replies would be handed to the next request on this connection.
            connection.disconnect()
            raise
        finally:
            self._pool.release(connection)

    def close(self) -> None:
        self._pool.disconnect()


def redact_url(url: str) -> str:
    """The URL with its password hidden, for log lines."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


class Executor:
    """The three REST operations (single, pipeline, multi-exec) on top of a Backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.scripts = ScriptShas()

    def _prepare(self, commands: Iterable[list[bytes]]) -> list[PreparedCommand]:
        return [prepare_command(args, self.scripts) for args in commands]

    def single(self, command: list[bytes]) -> Reply:
        return self.pipeline([command])[0]

    def pipeline(self, commands: list[list[bytes]]) -> list[Reply]:
        """Run commands in order, each on its own: one failing does not stop the others."""
        prepared = self._prepare(commands)
        to_send = [p.args for p in prepared if p.refusal is None]
        replies = iter(self.backend.roundtrip(to_send))
        return [p.refusal if p.refusal is not None else p.postprocess(next(replies)) for p in prepared]

    @staticmethod
    def _aborted(commands: list[list[bytes]], queued: list[Reply]) -> list[Reply]:
        """Replies for a discarded transaction: rejected commands keep their error, the others
        get an EXECABORT that names the first rejected command."""
        index, first = next((i, r) for i, r in enumerate(queued) if isinstance(r, ResponseError))
        name = commands[index][0].decode("utf-8", errors="replace").upper()
        abort = ResponseError(
            f"EXECABORT Transaction discarded because command #{index + 1} ({name}) was rejected: "
            f"{error_message(first)}"
        )
        return [reply if isinstance(reply, ResponseError) else abort for reply in queued]

    def transaction(self, commands: list[list[bytes]]) -> tuple[bool, list[Reply]]:
        """Run commands atomically in MULTI/EXEC; return (committed, one reply per command).

        When Redis refuses to queue a command (unknown command, wrong arity) it discards the whole
        transaction with EXECABORT. The answer then carries that command's own error, and an
        EXECABORT naming it for every other command, so whichever entry a client raises first
        explains what went wrong.
        """
        if not commands:
            return True, []
        prepared = self._prepare(commands)
        if any(p.refusal is not None for p in prepared):
            # Refused here, as Redis refuses to queue a command: nothing is sent.
            return False, self._aborted(commands, [p.refusal or b"QUEUED" for p in prepared])
        replies = self.backend.roundtrip([[b"MULTI"], *(p.args for p in prepared), [b"EXEC"]])
        if isinstance(replies[0], ResponseError):  # MULTI itself refused (e.g. an ACL)
            return False, [replies[0]] * len(prepared)
        queued, exec_reply = replies[1:-1], replies[-1]
        if any(isinstance(reply, ResponseError) for reply in queued):
            return False, self._aborted(commands, queued)
        if isinstance(exec_reply, ResponseError):
            return False, [exec_reply] * len(prepared)
        if not isinstance(exec_reply, list) or len(exec_reply) != len(prepared):
            error = ResponseError(f"ERR unexpected EXEC reply from the backend: {exec_reply!r}")
            return False, [error] * len(prepared)
        return True, [p.postprocess(reply) for p, reply in zip(prepared, exec_reply, strict=True)]


# --------------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    """Threaded HTTP server that can close its open keep-alive connections on shutdown.

    Handler threads are daemons and clients keep connections alive, so without this a stopped server
    would leave threads blocked on idle sockets and clients holding connections to nothing.
    """

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: a burst of parallel requests opening connections
    # at once overflowed it, and the dropped connects timed out (Upstash itself takes the burst).
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], endpoint: LocalUpstash) -> None:
        self.endpoint = endpoint
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """One HTTP/1.1 connection; every answer is JSON with a Content-Length so keep-alive works."""

    protocol_version = "HTTP/1.1"
    server_version = "mindly-upstash-local"
    timeout = 120  # seconds an idle keep-alive connection may hold a thread
    # Headers and body go out in two writes; with Nagle on, the second waits for the client's
    # delayed ACK (~40 ms per request on Linux).
    disable_nagle_algorithm = True
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: one log line per Redis command would drown the dev server's own request log."""

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve_method_not_allowed()

    do_PUT = do_DELETE = do_PATCH = do_GET

    def _serve_method_not_allowed(self) -> None:
        self._drain_body()
        self._send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "ERR use POST"}, extra_headers={"Allow": "POST"})

    def _serve(self) -> None:
        endpoint = self.server.endpoint
        try:
            body = self._read_body()
            if endpoint.is_down:
                self._send_json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "unavailable"})
                return
            if not endpoint.authorized(self.headers.get("Authorization")):
                self._send_json(HTTPStatus.UNAUTHORIZED, {"error": "Unauthorized"})
                return
            base64_strings = self.headers.get("Upstash-Encoding", "").strip().lower() == "base64"
            status, payload = endpoint.handle(urlsplit(self.path).path, body, base64_strings=base64_strings)
            self._send_json(status, payload)
        except RequestError as exc:
            self._send_json(exc.status, {"error": exc.message})
        except BackendUnavailable as exc:
            logger.warning("upstash-local backend unavailable: %s", exc)
            self._send_json(HTTPStatus.BAD_GATEWAY, {"error": f"ERR {exc}"})
        except Exception:
            logger.exception("upstash-local: unexpected error serving %s", self.path)
            self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "ERR internal error in the local endpoint"})

    def _content_length(self) -> int:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "ERR chunked bodies are not supported: send Content-Length")
        raw = self.headers.get("Content-Length", "0").strip() or "0"
        try:
            length = int(raw)
        except ValueError as exc:
            self.close_connection = True
            raise RequestError(HTTPStatus.BAD_REQUEST, "ERR invalid Content-Length") from exc
        if length < 0:
            self.close_connection = True
            raise RequestError(HTTPStatus.BAD_REQUEST, "ERR invalid Content-Length")
        return length

    def _read_body(self) -> bytes:
        length = self._content_length()
        if length > MAX_BODY_BYTES:
            # The body stays unread, so this connection cannot carry another request.
            self.close_connection = True
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"ERR request body larger than {MAX_BODY_BYTES} bytes"
            )
        return self.rfile.read(length) if length else b""

    def _drain_body(self) -> None:
        try:
            self._read_body()
        except RequestError:
            self.close_connection = True

    def _send_json(
        self, status: HTTPStatus, payload: Any, extra_headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


class LocalUpstash:
    """A local Upstash-REST-compatible Redis endpoint.

    ::

        server = LocalUpstash(token="secret").start()
        client = upstash_redis.Redis(url=server.url, token="secret")
        ...
        server.stop()  # or use it as a context manager

    ``redis_url`` selects a real redis-server (``redis://host:port/db``); without it the data lives
    in an in-process fakeredis server owned by this endpoint.
    """

    def __init__(self, token: str, redis_url: str | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        if not token:
            raise ValueError("token must be a non-empty string")
        self._token = token.encode("utf-8")
        self._redis_url = redis_url
        self._host = host
        self._port = port
        self._down = False
        self._executor: Executor | None = None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> LocalUpstash:
        """Bind and serve on a background daemon thread; ``port=0`` picks a free port."""
        if self._httpd is not None:
            raise RuntimeError("LocalUpstash is already started")
        backend = Backend.from_url(self._redis_url) if self._redis_url else Backend.fake()
        self._executor = Executor(backend)
        try:
            self._httpd = _HTTPServer((self._host, self._port), self)
        except BaseException:
            backend.close()
            self._executor = None
            raise
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"upstash-local:{self._httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open client connections and release the backend. Idempotent."""
        httpd, thread, executor = self._httpd, self._thread, self._executor
        self._httpd = self._thread = self._executor = None
        if httpd is not None:
            httpd.shutdown()
            httpd.close_connections()
            httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        if executor is not None:
            executor.backend.close()

    def __enter__(self) -> LocalUpstash:
        return self if self._httpd is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- properties and test hooks -------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL for ``upstash_redis.Redis(url=...)``, e.g. ``http://127.0.0.1:53121``."""
        if self._httpd is None:
            raise RuntimeError("LocalUpstash is not started")
        host, port = self._httpd.server_address[:2]
        host = host if isinstance(host, str) else host.decode()
        return f"http://{host}:{port}"

    @property
    def backend_description(self) -> str:
        """What serves the data: fakeredis, or the (password-redacted) redis URL."""
        if self._executor is not None:
            return self._executor.backend.description
        return redact_url(self._redis_url) if self._redis_url else "fakeredis (in-process)"

    @property
    def is_down(self) -> bool:
        return self._down

    def set_down(self, down: bool) -> None:
        """Fault injection: while down, every request answers 503 ``{"error": "unavailable"}``."""
        self._down = bool(down)

    def flushall(self) -> None:
        """Delete every key this endpoint serves (for tests).

        Runs FLUSHDB, not FLUSHALL: the endpoint serves one database (SELECT is refused), so this
        empties all of its data without touching other databases of a shared real server.
        """
        (reply,) = self._require_executor().backend.roundtrip([[b"FLUSHDB"]])
        if isinstance(reply, ResponseError):
            raise reply

    # -- request handling (called from handler threads) -------------------------------------------------

    def authorized(self, header: str | None) -> bool:
        """True when ``header`` is ``Bearer <token>`` with this endpoint's token (constant-time)."""
        if not header:
            return False
        scheme, _, credential = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(credential.strip().encode("utf-8"), self._token)

    def handle(self, path: str, body: bytes, *, base64_strings: bool) -> tuple[HTTPStatus, Any]:
        """Run one authenticated REST request; return the HTTP status and the JSON payload."""
        executor = self._require_executor()
        route = path.rstrip("/")
        if route not in ("", "/pipeline", "/multi-exec"):
            raise RequestError(HTTPStatus.NOT_FOUND, f"ERR unknown endpoint {path}: use /, /pipeline or /multi-exec")
        request = parse_body(body)
        if route == "":
            reply = executor.single(parse_command(request))
            if isinstance(reply, ResponseError):
                return HTTPStatus.BAD_REQUEST, {"error": error_message(reply)}
            return HTTPStatus.OK, {"result": encode_result(reply, base64_strings=base64_strings)}
        commands = parse_commands(request)
        if route == "/pipeline":
            replies = executor.pipeline(commands)
            status = HTTPStatus.OK
        else:
            committed, replies = executor.transaction(commands)
            status = HTTPStatus.OK if committed else HTTPStatus.BAD_REQUEST
        return status, [encode_entry(reply, base64_strings=base64_strings) for reply in replies]

    def _require_executor(self) -> Executor:
        if self._executor is None:
            raise RuntimeError("LocalUpstash is not started")
        return self._executor


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the endpoint in the foreground until interrupted (Ctrl-C or SIGTERM)."""
    parser = argparse.ArgumentParser(
        prog="python -m infra.upstash_local",
        description="Serve the Upstash Redis REST protocol locally, backed by fakeredis or a redis-server.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8079, help="port to bind, 0 for any free port (default: 8079)")
    parser.add_argument(
        "--token",
        default=os.environ.get("UPSTASH_REDIS_REST_TOKEN"),
        help="bearer token clients must send (default: $UPSTASH_REDIS_REST_TOKEN)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL"),
        help="redis:// URL of a real server to serve instead of fakeredis (default: $REDIS_URL)",
    )
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("a token is required: pass --token or set UPSTASH_REDIS_REST_TOKEN")

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with LocalUpstash(token=args.token, redis_url=args.redis_url, host=args.host, port=args.port) as endpoint:
        print(f"Upstash REST endpoint on {endpoint.url} (backend: {endpoint.backend_description})", file=sys.stderr)
        try:
            while not stopped.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
