"""Contract tests for infra/upstash_local.py: the real upstash clients against the local endpoint.

Every backend-dependent test runs twice: against the in-process fakeredis backend, and against a real
redis-server started here on 127.0.0.1 (marked ``redis_server``; skipped when the binary is absent).
What the upstash client gets back must be the same on both, because production code is written
against what Upstash answers, and a fake that answered differently would hide bugs.
"""

from __future__ import annotations

import base64
import hashlib
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import free_port
from upstash_ratelimit import Ratelimit, SlidingWindow
from upstash_redis import Redis
from upstash_redis.errors import UpstashError

from infra.upstash_local import (
    MAX_BODY_BYTES,
    LocalUpstash,
    blank_shebang,
    encode_result,
    redact_url,
)

REPO = Path(__file__).resolve().parents[2]
TOKEN = "contract-test-token"
SHEBANG_SCRIPT = "#!lua flags=allow-key-locking\nreturn ARGV[1] .. ':' .. KEYS[1]"


# --------------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def upstash(endpoint: LocalUpstash) -> LocalUpstash:
    """The endpoint, up and empty."""
    endpoint.set_down(False)
    endpoint.flushall()
    return endpoint


def _client(server: LocalUpstash, **kwargs: Any) -> Redis:
    # No retries: a failure must show up at once, not after the client's 3 s retry sleep.
    return Redis(url=server.url, token=TOKEN, allow_telemetry=False, rest_retries=0, **kwargs)


@pytest.fixture
def redis(upstash: LocalUpstash) -> Iterator[Redis]:
    """The production client with its defaults (base64 response encoding)."""
    client = _client(upstash)
    yield client
    client.close()


@pytest.fixture
def plain_redis(upstash: LocalUpstash) -> Iterator[Redis]:
    """The production client without response encoding."""
    client = _client(upstash, rest_encoding=None)
    yield client
    client.close()


@pytest.fixture
def http(upstash: LocalUpstash) -> Iterator[httpx.Client]:
    """A bare HTTP client, authorised, for checking the wire format itself."""
    with httpx.Client(base_url=upstash.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as client:
        yield client


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --------------------------------------------------------------------------------------------------
# Commands through the real client
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["base64", None])
def test_string_commands(upstash: LocalUpstash, encoding: str | None) -> None:
    with _client(upstash, rest_encoding=encoding) as client:
        assert client.set("greeting", "hello", ex=60) is True
        assert client.set("greeting", "other", nx=True) is False
        assert client.get("greeting") == "hello"
        assert client.get("missing") is None
        assert 58 <= client.ttl("greeting") <= 60
        assert client.incr("counter") == 1
        assert client.incrby("counter", 41) == 42
        assert client.incrbyfloat("ratio", 1.5) == 1.5
        assert client.incrbyfloat("ratio", 0.25) == 1.75
        assert client.mget("greeting", "missing", "counter") == ["hello", None, "42"]
        assert client.exists("greeting", "counter", "missing") == 2
        assert client.expire("counter", 100) is True
        assert 99 <= client.ttl("counter") <= 100
        assert client.ttl("missing") == -2
        assert client.delete("greeting", "missing") == 1
        assert client.ping() == "PONG"


@pytest.mark.parametrize("encoding", ["base64", None])
def test_text_round_trips_exactly(upstash: LocalUpstash, encoding: str | None) -> None:
    text = "नमस्ते 🙂 \"quoted\" \\ back\nslash"
    with _client(upstash, rest_encoding=encoding) as client:
        client.set("unicode", text)
        client.set("looks-like-status", "OK")  # a bulk "OK" must read back as OK in both encodings
        assert client.get("unicode") == text
        assert client.get("looks-like-status") == "OK"


def test_hash_commands(redis: Redis) -> None:
    assert redis.hset("user:1", values={"name": "Asha", "xp": "10"}) == 2
    assert redis.hincrby("user:1", "xp", 5) == 15
    assert redis.hgetall("user:1") == {"name": "Asha", "xp": "15"}
    assert redis.hget("user:1", "missing") is None
    assert redis.hgetall("nobody") == {}


def test_leaderboard_sorted_set_commands(redis: Redis) -> None:
    board = "lb:2025-W01"
    assert redis.zincrby(board, 10, "asha") == 10.0
    assert redis.zincrby(board, 25.5, "ravi") == 25.5
    assert redis.zincrby(board, 5, "asha") == 15.0
    assert redis.zincrby(board, 7, "meera") == 7.0
    assert redis.zrevrange(board, 0, 9, withscores=True) == [("ravi", 25.5), ("asha", 15.0), ("meera", 7.0)]
    assert redis.zrevrange(board, 0, 1) == ["ravi", "asha"]
    assert redis.zrange(board, 0, -1, withscores=True) == [("meera", 7.0), ("asha", 15.0), ("ravi", 25.5)]
    assert redis.zrevrank(board, "asha") == 1
    assert redis.zrevrank(board, "nobody") is None
    assert redis.zscore(board, "ravi") == 25.5
    assert redis.zscore(board, "nobody") is None
    assert redis.zcard(board) == 3
    assert redis.expire(board, 14 * 24 * 3600) is True


def test_error_replies_raise_upstash_error(redis: Redis) -> None:
    redis.set("text", "x")
    with pytest.raises(UpstashError, match=r"^WRONGTYPE"):
        redis.lpush("text", "y")
    with pytest.raises(UpstashError, match=r"^ERR value is not an integer"):
        redis.incr("text")
    with pytest.raises(UpstashError, match=r"^ERR wrong number of arguments"):
        redis.execute(["GET"])
    with pytest.raises(UpstashError, match=r"^ERR unknown command"):
        redis.execute(["NOSUCHCOMMAND", "x"])
    with pytest.raises(UpstashError, match=r"^NOSCRIPT"):
        redis.evalsha("0" * 40)
    assert redis.get("text") == "x"  # the endpoint keeps serving after errors


def test_wrong_or_missing_token_is_rejected(upstash: LocalUpstash) -> None:
    with Redis(url=upstash.url, token="wrong", allow_telemetry=False, rest_retries=0) as client, pytest.raises(
        UpstashError, match="Unauthorized"
    ):
        client.get("anything")
    response = httpx.post(upstash.url, json=["PING"], timeout=10)
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized"}
    response = httpx.post(upstash.url, json=["PING"], headers={"Authorization": "Basic " + TOKEN}, timeout=10)
    assert response.status_code == 401


# --------------------------------------------------------------------------------------------------
# Pipelines and transactions
# --------------------------------------------------------------------------------------------------


def test_pipeline(redis: Redis) -> None:
    pipeline = redis.pipeline()
    pipeline.set("a", "1")
    pipeline.incr("a")
    pipeline.zincrby("z", 2.5, "m")
    pipeline.zrange("z", 0, -1, withscores=True)
    pipeline.get("missing")
    assert pipeline.exec() == [True, 2, 2.5, [("m", 2.5)], None]


def test_pipeline_error_does_not_stop_other_commands(redis: Redis, http: httpx.Client) -> None:
    redis.set("text", "x")
    pipeline = redis.pipeline()
    pipeline.incr("text")
    pipeline.set("after", "ran")
    with pytest.raises(UpstashError, match="not an integer"):
        pipeline.exec()
    assert redis.get("after") == "ran"

    response = http.post("/pipeline", json=[["SET", "p", "1"], ["INCR", "text"], ["GET", "p"]])
    assert response.status_code == 200
    body = response.json()
    assert body[0] == {"result": "OK"}
    assert body[1]["error"].startswith("ERR value is not an integer")
    assert body[2] == {"result": "1"}


def test_multi_exec(redis: Redis) -> None:
    transaction = redis.multi()
    transaction.set("a", "1")
    transaction.incrby("a", 9)
    transaction.zincrby("z", 3, "m")
    transaction.get("a")
    assert transaction.exec() == [True, 10, 3.0, "10"]


def test_multi_exec_runtime_error_keeps_other_commands(redis: Redis, http: httpx.Client) -> None:
    # Redis semantics: an error while EXEC runs fails only that command.
    redis.set("text", "x")
    response = http.post("/multi-exec", json=[["SET", "a", "1"], ["INCR", "text"], ["INCR", "a"]])
    assert response.status_code == 200
    body = response.json()
    assert body[0] == {"result": "OK"}
    assert body[1]["error"].startswith("ERR value is not an integer")
    assert body[2] == {"result": 2}


def test_multi_exec_rejected_command_discards_everything(redis: Redis, http: httpx.Client) -> None:
    transaction = redis.multi()
    transaction.set("a", "1")
    transaction.execute(["GET"])  # wrong arity: Redis refuses to queue it
    with pytest.raises(UpstashError, match=r"EXECABORT.*#2 \(GET\).*wrong number of arguments"):
        transaction.exec()
    assert redis.get("a") is None

    response = http.post("/multi-exec", json=[["SET", "a", "1"], ["NOSUCH"], ["SUBSCRIBE", "c"]])
    assert response.status_code == 400
    body = response.json()
    assert len(body) == 3
    assert body[0]["error"].startswith("EXECABORT")
    assert "not available over the REST API" in body[2]["error"]
    assert redis.get("a") is None


def test_multi_exec_is_atomic_under_concurrency(upstash: LocalUpstash) -> None:
    """Readers never observe half of a transaction that bumps two counters together."""
    writers, rounds = 4, 25
    torn: list[tuple[str | None, str | None]] = []
    stop = threading.Event()

    def write() -> None:
        with _client(upstash) as client:
            for _ in range(rounds):
                transaction = client.multi()
                transaction.incr("left")
                transaction.incr("right")
                transaction.exec()

    def read() -> None:
        with _client(upstash) as client:
            while not stop.is_set():
                left, right = client.mget("left", "right")
                if left != right:
                    torn.append((left, right))

    reader = threading.Thread(target=read)
    reader.start()
    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    reader.join()

    assert torn == []
    with _client(upstash) as client:
        assert client.mget("left", "right") == [str(writers * rounds)] * 2


def test_concurrent_increments_are_not_lost(upstash: LocalUpstash) -> None:
    def bump() -> None:
        with _client(upstash) as client:
            for _ in range(30):
                client.incr("hits")

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with _client(upstash) as client:
        assert client.get("hits") == "240"


# --------------------------------------------------------------------------------------------------
# Scripts and rate limiting
# --------------------------------------------------------------------------------------------------


def _clear_of_a_window_boundary(window: int, margin: float = 5.0) -> None:
    """Wait out the last ``margin`` seconds of a fixed ``window``: the sliding window weighs the
    previous window by the share of it still in view, so a burst that straddles the boundary counts
    its first requests at a little less than one each and one request too many passes (a slow CI
    run met it)."""
    into = time.time() % window
    if into > window - margin:
        time.sleep(window - into + 0.05)


def test_sliding_window_ratelimit_allows_three_then_blocks(redis: Redis) -> None:
    limiter = Ratelimit(redis=redis, limiter=SlidingWindow(max_requests=3, window=60), prefix="rl:test")
    _clear_of_a_window_boundary(60)
    responses = [limiter.limit("user-1") for _ in range(4)]
    assert [r.allowed for r in responses] == [True, True, True, False]
    assert [r.remaining for r in responses] == [2, 1, 0, 0]
    assert limiter.limit("user-2").allowed is True  # identifiers are independent
    assert limiter.get_remaining("user-1") == 0


def test_shebang_scripts_work_by_eval_and_by_original_sha(redis: Redis) -> None:
    original_sha = hashlib.sha1(SHEBANG_SCRIPT.encode()).hexdigest()

    # EVAL first, then EVALSHA with the SHA the client computes over the text it sent.
    assert redis.eval(SHEBANG_SCRIPT, keys=["k"], args=["v"]) == "v:k"
    assert redis.evalsha(original_sha, keys=["k2"], args=["w"]) == "w:k2"

    redis.script_flush()
    assert redis.script_exists(original_sha) == [False]
    assert redis.script_load(SHEBANG_SCRIPT) == original_sha  # the SHA of the text the client sent
    assert redis.script_exists(original_sha, "0" * 40) == [True, False]
    assert redis.evalsha(original_sha, keys=["k3"], args=["x"]) == "x:k3"


def test_ratelimit_script_gives_same_results_through_evalsha(redis: Redis) -> None:
    sha = redis.script_load(SlidingWindow.SCRIPT)
    now = 1_700_000_000_000  # fixed clock: the results depend only on the arguments
    args = [3, now, 60_000, 1]
    assert [redis.evalsha(sha, keys=["cur", "prev"], args=args) for _ in range(4)] == [2, 1, 0, -1]
    assert 0 < redis.pttl("cur") <= 121_000


# --------------------------------------------------------------------------------------------------
# Wire format
# --------------------------------------------------------------------------------------------------


def test_base64_encoding_on_the_wire(http: httpx.Client) -> None:
    encoded = {"Upstash-Encoding": "base64"}
    assert http.post("/", json=["SET", "k", "hello"], headers=encoded).json() == {"result": "OK"}
    assert http.post("/", json=["GET", "k"], headers=encoded).json() == {"result": b64("hello")}
    assert http.post("/", json=["GET", "k"]).json() == {"result": "hello"}
    assert http.post("/", json=["GET", "none"], headers=encoded).json() == {"result": None}
    assert http.post("/", json=["INCR", "n"], headers=encoded).json() == {"result": 1}
    assert http.post("/", json=["PING"], headers=encoded).json() == {"result": b64("PONG")}
    http.post("/", json=["RPUSH", "l", "a", "b"])
    assert http.post("/", json=["LRANGE", "l", 0, -1], headers=encoded).json() == {"result": [b64("a"), b64("b")]}
    nested = http.post("/", json=["EVAL", "return {1, 'x', {'y'}, false}", 0], headers=encoded).json()
    assert nested == {"result": [1, b64("x"), [b64("y")], None]}
    pipeline = http.post("/pipeline", json=[["GET", "k"], ["SET", "k2", "v"]], headers=encoded).json()
    assert pipeline == [{"result": b64("hello")}, {"result": "OK"}]


def test_floats_stay_redis_strings(http: httpx.Client) -> None:
    # RESP2 has no float type: scores and INCRBYFLOAT come back as the strings Redis formats.
    assert http.post("/", json=["INCRBYFLOAT", "f", 1.5]).json() == {"result": "1.5"}
    assert http.post("/", json=["ZADD", "z", 2.25, "m"]).json() == {"result": 1}
    assert http.post("/", json=["ZSCORE", "z", "m"]).json() == {"result": "2.25"}
    assert http.post("/", json=["ZRANGE", "z", 0, -1, "WITHSCORES"]).json() == {"result": ["m", "2.25"]}
    # A whole-number float argument is sent as an integer, so EX 60.0 is accepted.
    assert http.post("/", json=["SET", "k", "v", "EX", 60.0]).json() == {"result": "OK"}


def test_request_errors_are_json(http: httpx.Client) -> None:
    cases: list[tuple[str, str, Any, int]] = [
        ("POST", "/", b"not json", 400),
        ("POST", "/", b"[NaN]", 400),
        ("POST", "/", b'{"cmd": "GET"}', 400),
        ("POST", "/", b"[]", 400),
        ("POST", "/", b'["SET", "k", true]', 400),
        ("POST", "/", b'["SET", "k", {"a": 1}]', 400),
        ("POST", "/pipeline", b'["GET", "k"]', 400),
        ("POST", "/nowhere", b'["PING"]', 404),
        ("GET", "/", None, 405),
    ]
    for method, path, body, status in cases:
        response = http.request(method, path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == status, (method, path, body, response.text)
        assert isinstance(response.json()["error"], str)
    assert http.post("/", json=["PING"]).json() == {"result": "PONG"}  # the connection still works


def test_oversized_body_is_rejected(http: httpx.Client) -> None:
    body = b'["SET", "k", "' + b"x" * MAX_BODY_BYTES + b'"]'
    response = http.post("/", content=body)
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]
    assert http.post("/", json=["PING"]).json() == {"result": "PONG"}


def test_connection_state_commands_are_refused(http: httpx.Client) -> None:
    for command in (["SUBSCRIBE", "c"], ["MULTI"], ["SELECT", 1], ["CLIENT", "REPLY", "OFF"], ["WATCH", "k"]):
        response = http.post("/", json=command)
        assert response.status_code == 400
        assert "not available over the REST API" in response.json()["error"]
    assert http.post("/", json=["SET", "k", "v"]).json() == {"result": "OK"}
    assert http.post("/", json=["GET", "k"]).json() == {"result": "v"}


def test_empty_pipeline_and_transaction(http: httpx.Client) -> None:
    assert http.post("/pipeline", json=[]).json() == []
    assert http.post("/multi-exec", json=[]).json() == []


# --------------------------------------------------------------------------------------------------
# Test hooks and lifecycle
# --------------------------------------------------------------------------------------------------


def test_set_down_simulates_an_outage(upstash: LocalUpstash, redis: Redis) -> None:
    redis.set("k", "v")
    upstash.set_down(True)
    try:
        with pytest.raises(UpstashError, match="unavailable"):
            redis.get("k")
        response = httpx.post(upstash.url, json=["GET", "k"], headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 503
        assert response.json() == {"error": "unavailable"}
    finally:
        upstash.set_down(False)
    assert redis.get("k") == "v"


def test_flushall_empties_the_endpoint(upstash: LocalUpstash, redis: Redis) -> None:
    redis.set("k", "v")
    redis.zincrby("z", 1, "m")
    upstash.flushall()
    assert redis.exists("k", "z") == 0


def test_lifecycle_free_port_and_idempotent_stop() -> None:
    server = LocalUpstash(token=TOKEN)
    with pytest.raises(RuntimeError):
        _ = server.url
    server.start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        with _client(server) as client:
            assert client.ping() == "PONG"
    finally:
        server.stop()
    server.stop()
    with pytest.raises(ValueError):
        LocalUpstash(token="")


def test_backend_unreachable_answers_json_error() -> None:
    with LocalUpstash(token=TOKEN, redis_url=f"redis://127.0.0.1:{free_port()}/0") as server:
        response = httpx.post(server.url, json=["PING"], headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert response.status_code == 502
        assert "cannot reach" in response.json()["error"]


def test_command_line_entry_point() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.upstash_local", "--port", str(port), "--token", TOKEN],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.post(url, json=["PING"], headers={"Authorization": f"Bearer {TOKEN}"}, timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert response.json() == {"result": "PONG"}
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr.decode()
    assert f"http://127.0.0.1:{port}" in stderr.decode()


# --------------------------------------------------------------------------------------------------
# Both backends answer alike
# --------------------------------------------------------------------------------------------------

PARITY_COMMANDS: list[list[Any]] = [
    ["SET", "s", "v", "EX", 60],
    ["SET", "s", "v", "NX"],
    ["GET", "s"],
    ["GET", "missing"],
    ["INCRBYFLOAT", "f", 1.5],
    ["INCRBYFLOAT", "f", 0.25],
    ["ZINCRBY", "z", 10, "a"],
    ["ZINCRBY", "z", 2.5, "b"],
    ["ZINCRBY", "z", 0.25, "b"],
    ["ZRANGE", "z", 0, -1, "WITHSCORES"],
    ["ZREVRANGE", "z", 0, 9, "WITHSCORES"],
    ["ZREVRANK", "z", "b"],
    ["ZREVRANK", "z", "nobody"],
    ["ZSCORE", "z", "b"],
    ["ZSCORE", "z", "nobody"],
    ["ZCARD", "z"],
    ["HSET", "h", "a", "1", "b", "2"],
    ["HGETALL", "h"],
    ["EXISTS", "s", "h", "missing"],
    ["MGET", "s", "missing", "h"],
    ["EXPIRE", "h", 100],
    ["EXPIRE", "missing", 100],
    ["TYPE", "z"],
    ["LPUSH", "s", "x"],
    ["GET"],
    ["EVAL", SHEBANG_SCRIPT, 1, "k", "v"],
    ["EVALSHA", hashlib.sha1(SHEBANG_SCRIPT.encode()).hexdigest(), 1, "k", "v"],
    *(["EVAL", SlidingWindow.SCRIPT, 2, "cur", "prev", 3, 1_700_000_000_000, 60_000, 1] for _ in range(4)),
]


def _wire_answers(server: LocalUpstash, headers: dict[str, str]) -> list[Any]:
    server.flushall()
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}", **headers}) as client:
        singles = [client.post("/", json=command) for command in PARITY_COMMANDS]
        answers: list[Any] = [(r.status_code, r.json()) for r in singles]
        server.flushall()
        answers.append(client.post("/pipeline", json=PARITY_COMMANDS).json())
        server.flushall()
        answers.append(client.post("/multi-exec", json=[c for c in PARITY_COMMANDS if c != ["GET"]]).json())
    return answers


@pytest.mark.redis_server
@pytest.mark.parametrize("headers", [{}, {"Upstash-Encoding": "base64"}], ids=["plain", "base64"])
def test_backends_answer_identically(redis_server_url: str, headers: dict[str, str]) -> None:
    with LocalUpstash(token=TOKEN) as fake, LocalUpstash(token=TOKEN, redis_url=redis_server_url) as real:
        fake_answers = _wire_answers(fake, headers)
        real_answers = _wire_answers(real, headers)
    for command, fake_answer, real_answer in zip(PARITY_COMMANDS, fake_answers, real_answers, strict=False):
        assert fake_answer == real_answer, command
    assert fake_answers[len(PARITY_COMMANDS):] == real_answers[len(PARITY_COMMANDS):]


# --------------------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------------------


def test_encode_result_rules() -> None:
    reply = [b"OK", b"hi", 7, None, [b"\xff"]]
    assert encode_result(reply, base64_strings=True) == ["OK", b64("hi"), 7, None, ["/w=="]]
    assert encode_result(reply, base64_strings=False) == ["OK", "hi", 7, None, ["\ufffd"]]


def test_blank_shebang_keeps_line_numbers() -> None:
    assert blank_shebang(b"#!lua flags=allow-key-locking\nreturn 1") == b"\nreturn 1"
    assert blank_shebang(b"#!lua") == b""
    assert blank_shebang(b"return 1") is None


def test_redact_url_hides_passwords() -> None:
    assert redact_url("redis://:secret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert redact_url("redis://user:secret@cache/1") == "redis://user:***@cache/1"
    assert redact_url("redis://cache:6379/0") == "redis://cache:6379/0"
