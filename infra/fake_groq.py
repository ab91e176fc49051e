"""A fake Groq API on 127.0.0.1 for tests and benchmarks: the real groq SDK talks to it through ``base_url``.

It answers POST /openai/v1/chat/completions from a script of behaviours, one per request (the last
repeats): ``ok(content)``, ``rate_limited(retry_after)``, ``server_error()``, ``slow(seconds,
content)``. It records each request (the API key used and the body).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Behaviour:
    status: int = 200
    content: str = "{}"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def ok(content: Any) -> Behaviour:
    return Behaviour(content=content if isinstance(content, str) else json.dumps(content))


def rate_limited(retry_after: int) -> Behaviour:
    return Behaviour(status=429, headers={"retry-after": str(retry_after)})


def server_error() -> Behaviour:
    return Behaviour(status=500)


def slow(seconds: float, content: Any) -> Behaviour:
    behaviour = ok(content)
    behaviour.delay = seconds
    return behaviour


class FakeGroq:
    def __init__(self) -> None:
        self.script: list[Behaviour] = [ok({})]
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                with fake._lock:
                    fake.requests.append({"key": self.headers.get("authorization", "")[7:], "body": body})
                    behaviour = fake.script.pop(0) if len(fake.script) > 1 else fake.script[0]
                if behaviour.delay:
                    time.sleep(behaviour.delay)
                if behaviour.status == 200:
                    payload = {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                               "model": body.get("model", ""), "choices": [{
                                   "index": 0, "finish_reason": "stop",
                                   "message": {"role": "assistant", "content": behaviour.content}}],
                               "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
                else:
                    payload = {"error": {"message": "fake error", "type": "fake", "code": str(behaviour.status)}}
                data = json.dumps(payload).encode()
                self.send_response(behaviour.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in behaviour.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeGroq:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def then(self, *behaviours: Behaviour) -> FakeGroq:
        with self._lock:
            self.script = list(behaviours)
            self.requests.clear()
        return self
