"""mindly.llm.client.GroqClient with the real groq SDK against a fake Groq server on 127.0.0.1 and
the local Redis endpoint: cache, key rotation, 429 cool-down, retries, validation, the circuit
breaker and the single-flight lock. No test reaches the internet."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from pydantic import BaseModel

from infra.fake_groq import FakeGroq, ok, rate_limited, server_error, slow
from mindly.cache.client import get_redis
from mindly.exceptions import GroqRateLimitError
from mindly.llm import client as llm
from mindly.llm.client import GroqClient, GroqError, GroqInvalidOutput, GroqNotConfigured, GroqUnavailable


class Explanation(BaseModel):
    text: str


GOOD = {"text": "Option A is right because ..."}


def make(fake: FakeGroq, keys: int = 3, timeout: float = 2.0) -> GroqClient:
    return GroqClient(get_redis(), [f"gsk_test_{i}" for i in range(keys)], base_url=fake.url,
                      timeout_seconds=timeout, sleep=lambda _s: None)


def ask(client: GroqClient, prompt: str | None = None) -> llm.Answer:
    return client.complete_json("system", prompt or f"explain {uuid.uuid4()}", Explanation, 3600)


def test_a_valid_answer_is_cached_by_prompt_and_model(fake: FakeGroq) -> None:
    fake.then(ok(GOOD))
    client = make(fake)
    first = ask(client, "same prompt")
    second = ask(client, "same prompt")
    assert (first.source, second.source) == ("groq", "cache")
    assert first.value == second.value == Explanation(**GOOD)
    assert len(fake.requests) == 1
    body = fake.requests[0]["body"]
    assert body["model"] == "llama-3.3-70b-versatile" and body["response_format"] == {"type": "json_object"}
    # Another model is another cache entry
    other = GroqClient(get_redis(), ["gsk_x"], model="other-model", base_url=fake.url, sleep=lambda _s: None)
    assert ask(other, "same prompt").source == "groq"


def test_keys_rotate_round_robin(fake: FakeGroq) -> None:
    fake.then(ok(GOOD))
    client = make(fake, keys=3)
    for _ in range(6):
        ask(client)
    used = [r["key"] for r in fake.requests]
    assert sorted(set(used)) == ["gsk_test_0", "gsk_test_1", "gsk_test_2"]
    assert all(used.count(k) == 2 for k in set(used))


def test_a_429_cools_that_key_and_moves_to_the_next(fake: FakeGroq) -> None:
    fake.then(rate_limited(30), ok(GOOD))
    client = make(fake, keys=2)
    assert ask(client).source == "groq"
    limited, served = fake.requests[0]["key"], fake.requests[1]["key"]
    assert limited != served
    # The cooled key is skipped for its retry-after
    fake.then(ok(GOOD))
    for _ in range(3):
        ask(client)
    assert {r["key"] for r in fake.requests} == {served}
    assert 0 < get_redis().ttl(f"mindly:test:groq:cooling:{int(limited[-1])}") <= 30


def test_every_key_cooling_is_a_rate_limit_error(fake: FakeGroq) -> None:
    fake.then(rate_limited(20))
    with pytest.raises(GroqRateLimitError) as caught:
        ask(make(fake, keys=2))
    assert 1 <= int(caught.value.headers["Retry-After"]) <= 20
    assert len(fake.requests) == 2


def test_server_errors_are_retried_twice_then_fail(fake: FakeGroq) -> None:
    fake.then(server_error(), server_error(), ok(GOOD))
    assert ask(make(fake)).source == "groq"
    assert len(fake.requests) == 3
    fake.then(server_error())
    with pytest.raises(GroqError):
        ask(make(fake))
    assert len(fake.requests) == 3  # one call and two retries


def test_a_timeout_counts_as_an_error(fake: FakeGroq) -> None:
    fake.then(slow(1.5, GOOD))
    with pytest.raises(GroqError):
        ask(make(fake, timeout=0.3))


def test_invalid_json_is_asked_again_once(fake: FakeGroq) -> None:
    fake.then(ok("not json"), ok(GOOD))
    assert ask(make(fake)).value == Explanation(**GOOD)
    fake.then(ok({"wrong": "shape"}), ok("still not it"))
    with pytest.raises(GroqInvalidOutput):
        ask(make(fake))
    assert len(fake.requests) == 2


def test_the_breaker_opens_after_repeated_failures_and_closes_later(fake: FakeGroq) -> None:
    fake.then(server_error())
    client = make(fake)
    for _ in range(2):  # 3 failed calls each: 6 failures >= the threshold of 5
        with pytest.raises(GroqError):
            ask(client)
    calls = len(fake.requests)
    # Then calls fail fast, without reaching Groq, for every Lambda (the state is in Redis)
    with pytest.raises(GroqUnavailable):
        ask(make(fake))
    assert len(fake.requests) == calls
    # And once the open period is over, calls go through again
    get_redis().delete("mindly:test:groq:breaker:open")
    fake.then(ok(GOOD))
    assert ask(client).source == "groq"


def test_identical_concurrent_requests_make_one_call(fake: FakeGroq) -> None:
    fake.then(slow(0.5, GOOD))
    results: list[Any] = []

    def one() -> None:
        client = GroqClient(get_redis(), ["gsk_a"], base_url=fake.url, timeout_seconds=5)
        results.append(ask(client, "the same question"))

    threads = [threading.Thread(target=one) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake.requests) == 1
    assert sorted(r.source for r in results) == ["cache"] * 4 + ["groq"]


def test_no_keys_means_not_configured(fake: FakeGroq) -> None:
    with pytest.raises(GroqNotConfigured):
        GroqClient(get_redis(), [], base_url=fake.url).complete_json("s", "p", Explanation, 60)
