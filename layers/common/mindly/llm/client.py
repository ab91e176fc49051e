"""``GroqClient``: every call Mindly makes to Groq goes through here.

What a call does, in order:
1. the Redis cache (key = MD5(prompt + model name)): a hit returns at once;
2. the circuit breaker, shared by every Lambda through Redis: while open, fail fast;
3. a short single-flight lock per cache key: of identical requests arriving together one calls
   Groq and the others wait for its cached answer instead of calling too;
4. a key, round-robin over GROQ_API_KEY_1..5 through a Redis counter, skipping keys cooling down
   after a 429 (each for its ``retry-after``); every key cooling is GroqRateLimitError;
5. the call itself, in JSON mode, with the SDK's own retries off: errors are retried here with
   exponential backoff (at most two retries); a 429 moves to the next key;
6. the answer validated with pydantic, asked again once when it does not validate, then cached.

Each call is counted (mindly.observability, by ``kind``): ``GroqCacheHits`` for an answer from the
cache, ``GroqCalls`` by ``outcome`` (ok, error, rate_limited, invalid_output, breaker_open) for every
other, and ``CircuitBreakerOpens`` each time failures open the breaker.

The groq SDK is imported on first use, so a function that never calls Groq never pays its import.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar, cast

from pydantic import BaseModel, ValidationError
from upstash_redis import Redis

from mindly.cache.client import key as redis_key
from mindly.exceptions import GroqRateLimitError, ServiceUnavailable
from mindly.observability import count, logger

Output = TypeVar("Output", bound=BaseModel)

DEFAULT_MODEL = "llama-3.3-70b-versatile"
MAX_ERROR_RETRIES = 2
BREAKER_THRESHOLD = 5  # failures within BREAKER_WINDOW_SECONDS open the breaker
BREAKER_WINDOW_SECONDS = 60
BREAKER_OPEN_SECONDS = 30
LOCK_SECONDS = 15
DEFAULT_RETRY_AFTER = 10


class GroqError(ServiceUnavailable):
    """Groq could not give a valid answer (after the retries)."""

    default_message = "The AI service could not answer"


class GroqUnavailable(GroqError):
    """The circuit breaker is open: Groq failed repeatedly, calls fail fast for a while."""

    default_message = "The AI service is unavailable; try again shortly"


class GroqInvalidOutput(GroqError):
    """Groq answered twice with output that does not fit the expected schema."""

    default_message = "The AI service gave an unusable answer"


class GroqNotConfigured(GroqError):
    """No Groq key is configured (the offline generator is used instead)."""

    default_message = "No AI service is configured"


class Answer(NamedTuple):
    """A validated answer and where it came from ("groq" or "cache")."""

    value: Any
    source: str


class GroqClient:
    """See the module docstring. ``sleep`` and ``clock`` are injectable for tests."""

    def __init__(self, redis: Redis, api_keys: list[str], model: str = DEFAULT_MODEL, base_url: str | None = None,
                 timeout_seconds: float = 10.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.redis = redis
        self.api_keys = [k for k in api_keys if k]
        self.model = model
        self.base_url = base_url
        self.timeout_seconds = timeout_seconds
        self.sleep = sleep
        self._clients: dict[int, Any] = {}

    # --- public ---------------------------------------------------------------------------------

    def complete_json(self, system: str, prompt: str, schema: type[Output], cache_ttl_seconds: int,
                      timeout_seconds: float | None = None, kind: str = "other") -> Answer:
        """A ``schema`` instance for ``prompt`` (see the module docstring for the steps).
        ``timeout_seconds`` bounds the whole call, retries included (default: no tighter bound than
        the per-request timeout allows for three attempts). ``kind`` (explanation, roadmap) names
        the call in the metrics."""
        if not self.api_keys:
            raise GroqNotConfigured()
        cache_key = self.cache_key(system + "\n" + prompt)
        cached, breaker_open = self._cached_and_breaker(cache_key, schema)
        if cached is not None:
            count("GroqCacheHits", kind=kind)
            return Answer(cached, "cache")
        if breaker_open:
            count("GroqCalls", kind=kind, outcome="breaker_open")
            raise GroqUnavailable()
        lock = redis_key("groq", "lock", cache_key)
        if not self._acquire(lock):
            waited = self._wait_for(cache_key, schema, timeout_seconds or self.timeout_seconds)
            if waited is not None:
                count("GroqCacheHits", kind=kind)
                return Answer(waited, "cache")
        deadline = time.monotonic() + (timeout_seconds or self.timeout_seconds * (MAX_ERROR_RETRIES + 1) * 2)
        try:
            value = self._validated(system, prompt, schema, deadline)
        except Exception as exc:
            count("GroqCalls", kind=kind, outcome=_outcome(exc))
            raise
        finally:
            self._release(lock)
        count("GroqCalls", kind=kind, outcome="ok")
        self._store(cache_key, value, cache_ttl_seconds)
        return Answer(value, "groq")

    def cache_key(self, prompt: str) -> str:
        return hashlib.md5((prompt + self.model).encode(), usedforsecurity=False).hexdigest()

    # --- cache and lock -------------------------------------------------------------------------

    def _cached_and_breaker(self, cache_key: str, schema: type[Output]) -> tuple[Output | None, bool]:
        """The cached answer and whether the breaker is open, in one round trip."""
        try:
            raw, open_until = self.redis.mget(redis_key("groq", "cache", cache_key),
                                              redis_key("groq", "breaker", "open"))
        except Exception:  # a cache outage costs a call, not the answer
            logger.warning("groq cache unavailable")
            return None, False
        return _parsed(raw, schema), open_until is not None

    def _cached(self, cache_key: str, schema: type[Output]) -> Output | None:
        try:
            return _parsed(self.redis.get(redis_key("groq", "cache", cache_key)), schema)
        except Exception:
            return None

    def _store(self, cache_key: str, value: BaseModel, ttl: int) -> None:
        try:
            self.redis.set(redis_key("groq", "cache", cache_key), value.model_dump_json(), ex=ttl)
        except Exception:
            logger.warning("groq answer not cached: redis unavailable")

    def _acquire(self, lock: str) -> bool:
        try:
            return bool(self.redis.set(lock, "1", nx=True, ex=LOCK_SECONDS))
        except Exception:
            return True  # without Redis there is no lock to take: call

    def _release(self, lock: str) -> None:
        try:
            self.redis.delete(lock)
        except Exception:
            logger.warning("groq lock not released; it expires by itself")

    def _wait_for(self, cache_key: str, schema: type[Output], budget: float) -> Output | None:
        """Poll the cache while another caller makes the identical request."""
        deadline = time.monotonic() + budget
        delay = 0.05
        while time.monotonic() < deadline:
            self.sleep(delay)
            found = self._cached(cache_key, schema)
            if found is not None:
                return found
            delay = min(delay * 2, 0.5)
        return None

    # --- circuit breaker ------------------------------------------------------------------------

    def _record_failure(self) -> None:
        failures = redis_key("groq", "breaker", "failures")
        try:
            pipeline = self.redis.pipeline()
            pipeline.incr(failures)
            pipeline.expire(failures, BREAKER_WINDOW_SECONDS, nx=True)
            recent_failures, _ = pipeline.exec()
            if int(cast(int, recent_failures)) >= BREAKER_THRESHOLD:  # INCR answers an integer
                self.redis.set(redis_key("groq", "breaker", "open"), "1", ex=BREAKER_OPEN_SECONDS)
                self.redis.delete(failures)
                logger.warning("groq circuit breaker opened", extra={"seconds": BREAKER_OPEN_SECONDS})
                count("CircuitBreakerOpens")
        except Exception:
            logger.warning("groq breaker state not recorded: redis unavailable")

    def _record_success(self) -> None:
        with contextlib.suppress(Exception):  # a stale failure count only opens the breaker sooner
            self.redis.delete(redis_key("groq", "breaker", "failures"))

    # --- keys ------------------------------------------------------------------------------------

    def _next_key(self) -> int:
        """The index of the next key not cooling down; GroqRateLimitError when all are."""
        try:
            start = int(self.redis.incr(redis_key("groq", "key", "counter")))
            cooling = self.redis.mget(*[redis_key("groq", "cooling", str(i)) for i in range(len(self.api_keys))])
        except Exception:
            return random.randrange(len(self.api_keys))
        for offset in range(len(self.api_keys)):
            index = (start + offset) % len(self.api_keys)
            if cooling[index] is None:
                return index
        waits = []
        for index in range(len(self.api_keys)):
            try:
                waits.append(int(self.redis.ttl(redis_key("groq", "cooling", str(index)))))
            except Exception:
                waits.append(DEFAULT_RETRY_AFTER)
        raise GroqRateLimitError(max(1, min(w for w in waits if w > 0) if any(w > 0 for w in waits) else 1))

    def _cool(self, index: int, seconds: int) -> None:
        try:
            self.redis.set(redis_key("groq", "cooling", str(index)), "1", ex=max(1, seconds))
        except Exception:
            logger.warning("groq key cool-down not recorded: redis unavailable")

    def _client(self, index: int) -> Any:
        if index not in self._clients:
            import groq

            self._clients[index] = groq.Groq(api_key=self.api_keys[index], base_url=self.base_url,
                                             max_retries=0, timeout=self.timeout_seconds)
        return self._clients[index]

    # --- the call ---------------------------------------------------------------------------------

    def _validated(self, system: str, prompt: str, schema: type[Output], deadline: float) -> Output:
        """Call, validate, and ask once more when the output does not fit the schema."""
        for attempt in range(2):
            text = self._call(system, prompt, deadline)
            try:
                return schema.model_validate(json.loads(text))
            except (ValueError, ValidationError) as exc:
                logger.warning("groq output invalid", extra={"attempt": attempt + 1, "error": type(exc).__name__})
        raise GroqInvalidOutput()

    def _call(self, system: str, prompt: str, deadline: float) -> str:
        """One answer's text: 429 -> next key; other errors -> backoff, at most two retries, and
        nothing past ``deadline`` (a ``time.monotonic()`` value: the caller's hard budget)."""
        import groq

        errors = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                raise GroqError("The AI service did not answer in time")
            index = self._next_key()
            try:
                response = self._client(index).chat.completions.create(
                    model=self.model, response_format={"type": "json_object"}, temperature=0.2,
                    messages=[{"role": "system", "content": system}, {"role": "user", "content": prompt}],
                    timeout=min(self.timeout_seconds, remaining))
            except groq.RateLimitError as exc:
                self._cool(index, _retry_after(exc))
                continue
            except (groq.APITimeoutError, groq.APIConnectionError, groq.InternalServerError) as exc:
                self._record_failure()
                errors += 1
                pause = min(2.0, 0.25 * 2 ** (errors - 1)) * random.uniform(0.5, 1.0)
                if errors > MAX_ERROR_RETRIES or time.monotonic() + pause >= deadline:
                    raise GroqError() from exc
                self.sleep(pause)
                continue
            except groq.APIStatusError as exc:
                self._record_failure()
                raise GroqError() from exc
            self._record_success()
            return str(response.choices[0].message.content or "")


def _outcome(exc: Exception) -> str:
    """The ``outcome`` dimension of a Groq call that raised ``exc``."""
    if isinstance(exc, GroqRateLimitError):
        return "rate_limited"
    if isinstance(exc, GroqInvalidOutput):
        return "invalid_output"
    return "error"


def _parsed(raw: Any, schema: type[Output]) -> Output | None:
    if raw is None:
        return None
    try:
        return schema.model_validate_json(raw)
    except ValidationError:
        return None


def _retry_after(exc: Any) -> int:
    try:
        return max(1, int(float(exc.response.headers.get("retry-after", DEFAULT_RETRY_AFTER))))
    except (AttributeError, TypeError, ValueError):
        return DEFAULT_RETRY_AFTER


@lru_cache(maxsize=1)
def groq_client() -> GroqClient | None:
    """This container's client, or None when no Groq key (or no Redis) is configured: callers
    then use the offline generator."""
    from mindly.cache.client import get_redis
    from mindly.config import get_settings
    from mindly.exceptions import CacheError

    settings = get_settings()
    keys = settings.groq_api_keys()
    if not keys:
        return None
    try:
        redis = get_redis()
    except CacheError:
        return None
    return GroqClient(redis, keys, model=settings.groq_model, base_url=settings.groq_base_url,
                      timeout_seconds=settings.groq_timeout_seconds)
