"""The whole backend on one machine: ``python -m infra.dev_server`` (the README's start command).

Started here, in this order:
1. DynamoDB and SQS: moto's server in this process (``infra.local_aws``), tables and queues created
   from template.yaml's own definitions;
2. Redis: real Upstash when UPSTASH_REDIS_REST_URL/TOKEN are set; otherwise a local
   Upstash-REST-compatible endpoint (``infra.upstash_local``) backed by the redis-server at REDIS_URL
   when set, else by fakeredis; the app always talks to it with the real upstash-redis client;
3. every function of template.yaml behind one router (``infra.router``), on 127.0.0.1:8000, served
   by uvicorn as ``server_config`` sets it up (the socket peer is the client, oversized heads 431),
   with the API's merged OpenAPI document at /api/v1/openapi.json and its UI at /docs
   (``infra.openapi.local_pages``, local only);
4. a poller per SQS-triggered function (``infra.sqs_poller``);
5. sample data (``infra.seed``).
Groq is real when GROQ_API_KEY_1..5 are set, otherwise the offline generator answers.

Mail goes to moto's SES (the template's identity created at start); each mail is printed on this
console as it is sent (``print_mail``: to, subject, link). ``APP_BASE_URL`` is this stack, which
serves the pages the links open (``infra.account_pages``), so a printed link works as it is.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from infra import cfn, local_aws, stacks
from infra.functions import STATE_DIR, load_function, use_layer
from infra.upstash_local import LocalUpstash

DEFAULT_CORS = "http://localhost:3000,http://127.0.0.1:3000,http://localhost:5173"
# How much of a request head (request line and headers) the server reads before giving up on it. Far
# above API Gateway's 10240-byte quota, which the router enforces on what the server read (a 431 in
# the envelope); reading a 300 KB Cookie whole lets the router answer it, where h11's default 16 KB
# would be a bare 400 and a reset while the client is still sending. Past this, GatewayH11Protocol
# answers 431 itself.
SERVER_MAX_HEAD_BYTES = 1024 * 1024
# How long a refused connection is still read (and the rest dropped) after its answer, so closing it
# does not reset a client still sending its request: the reset would discard the answer unread.
REFUSED_LINGER_SECONDS = 2.0


class GatewayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol answering a request it cannot parse in the envelope with the platform's
    headers, as the router answers: 431 when the head outgrew ``h11_max_incomplete_event_size``, else
    400, instead of uvicorn's bare text 400; then it reads and drops the rest of that request a while
    before closing (``REFUSED_LINGER_SECONDS``), so the client reads the answer instead of a reset."""

    refused = False

    def data_received(self, data: bytes) -> None:
        if not self.refused:
            super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        from infra.router import gateway_answer  # imports the layer: only once the stack has set it up

        unparsed, _closed = self.conn.trailing_data
        limit = self.config.h11_max_incomplete_event_size or SERVER_MAX_HEAD_BYTES
        if len(unparsed) > limit:
            status, reason = 431, b"Request Header Fields Too Large"
            headers, body = gateway_answer("VALIDATION_ERROR", f"The request line and headers are over {limit} bytes",
                                           "Request Header Fields Too Large")
        else:
            status, reason = 400, b"Bad Request"
            headers, body = gateway_answer("VALIDATION_ERROR", "The request is not valid HTTP", "Malformed request")
        self.transport.write(self.conn.send(h11.Response(status_code=status, reason=reason,
                                                         headers=[*headers, (b"connection", b"close")])) or b"")
        self.transport.write(self.conn.send(h11.Data(data=body)) or b"")
        self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        self.refused = True
        if self.transport.can_write_eof():
            self.transport.write_eof()  # the client sees the answer end; what it still sends is dropped
            self.loop.call_later(REFUSED_LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()


def server_config(app: Any, host: str, port: int) -> uvicorn.Config:
    """How uvicorn serves the local stack (the dev server, and the tests that start one).

    ``proxy_headers`` is off: uvicorn would otherwise take ``X-Forwarded-For`` from a 127.0.0.1 peer
    as the client's address, so any local client could name its own address and open a fresh per-IP
    rate-limit bucket with one header. Only the socket peer counts here, as only API Gateway's
    ``sourceIp`` counts in AWS (mindly.http.middleware.client_ip).
    """
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                          proxy_headers=False, http=GatewayH11Protocol,
                          h11_max_incomplete_event_size=SERVER_MAX_HEAD_BYTES)


@dataclass
class LocalStack:
    """The running pieces, so they can be stopped (tests start one too)."""

    aws: Any
    upstash: LocalUpstash | None
    app: Any
    pollers: list[Any] = field(default_factory=list)
    seeded: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stop()
        if self.upstash is not None:
            self.upstash.stop()
        self.aws.stop()


def _quiet_emulators() -> None:
    # moto's werkzeug server logs a line per AWS call; the app's own request log is what matters.
    for name in ("werkzeug", "moto", "botocore", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_redis(env: dict[str, str]) -> LocalUpstash | None:
    """Point the app at Upstash, or start the local endpoint and point it there."""
    if env.get("UPSTASH_REDIS_REST_URL") and env.get("UPSTASH_REDIS_REST_TOKEN"):
        return None
    token = secrets.token_urlsafe(24)
    upstash = LocalUpstash(token=token, redis_url=env.get("REDIS_URL") or None).start()
    os.environ["UPSTASH_REDIS_REST_URL"] = upstash.url
    os.environ["UPSTASH_REDIS_REST_TOKEN"] = token
    return upstash


def print_mail(mail: local_aws.SentMail) -> None:
    """One mail moto's SES accepted, on this console: to, subject and the link it carries."""
    print(f"  mail to {', '.join(mail.to)}: {mail.subject}", file=sys.stderr, flush=True)
    if mail.link:
        print(f"    link: {mail.link}", file=sys.stderr, flush=True)


def print_push(endpoint_arn: str, message: str) -> None:
    """One push moto's SNS delivered, on this console: the device's endpoint and the notification."""
    import json

    try:
        text = json.loads(message).get("default", message)
    except (ValueError, AttributeError):
        text = message
    print(f"  push to {endpoint_arn.rpartition(':')[2]}: {text}", file=sys.stderr, flush=True)


def start_stack(prefix: str = "mindly-local", seed: bool = True, demo_password: str | None = None,
                base_url: str | None = None) -> LocalStack:
    """Start emulators, load every function, start the pollers and seed; see the module docstring.
    ``base_url`` is where this stack will answer (mailed links open its pages there)."""
    _quiet_emulators()
    aws = local_aws.bootstrap(prefix=prefix)
    local_aws.observe_sent_mail(print_mail)
    local_aws.observe_sent_push(print_push)
    if base_url:
        os.environ.setdefault("APP_BASE_URL", base_url)
    os.environ.setdefault("ENVIRONMENT", "local")
    os.environ.setdefault("JWT_SECRET", secrets.token_hex(32))
    os.environ.setdefault("CURSOR_SECRET", secrets.token_hex(32))
    os.environ.setdefault("CORS_ORIGINS", DEFAULT_CORS)
    upstash = configure_redis(dict(os.environ))
    use_layer()

    from infra.account_pages import account_pages
    from infra.openapi import local_pages
    from infra.router import GatewayRouter, function_timeouts
    from infra.sqs_poller import SqsPoller

    template = cfn.load_template()
    routes = [(route, load_function(route.code_uri, route.handler).app) for route in cfn.http_routes(template)]
    router = GatewayRouter(routes, function_timeouts(template), pages=local_pages(routes))
    router.pages.update(account_pages(router))  # the pages call the API through the router itself
    stack = LocalStack(aws=aws, upstash=upstash, app=router)

    import boto3

    sqs = boto3.client("sqs")
    for consumer in cfn.sqs_consumers(template):
        module = load_function(consumer.code_uri, consumer.handler)
        handler = getattr(module, consumer.handler.rpartition(".")[2])
        queue_url = aws.queue_urls[consumer.queue_logical_id]
        stack.pollers.append(SqsPoller(sqs, queue_url, handler, consumer.function_logical_id,
                                       batch_size=consumer.batch_size).start())
    if seed:
        from infra.seed import seed_all

        stack.seeded = seed_all(demo_password or secrets.token_urlsafe(12))
    return stack


# What a separate process needs to reach this stack: endpoints, resource names, the Redis endpoint.
# No secret or credential goes in it: the jobs and seeding need none against moto.
_SHARED_ENV = ("AWS_ENDPOINT_URL_", "AWS_DEFAULT_REGION", "AWS_REGION", "ENVIRONMENT")


def write_state_file(host: str, port: int, path: Path | None = None) -> Path:
    """Write where this running stack is (``.local/stacks/<port>.json`` by default, readable by the
    owner only; with this process's pid), so ``infra.cli`` can run jobs and seeding against it from
    another terminal. Call it only once the port is held: a file left for that port by a stack that
    died is then stale and is replaced."""
    names = set(cfn.resource_env_vars(cfn.load_template()).values())
    env = {name: value for name, value in os.environ.items() if name in names or name.startswith(_SHARED_ENV)}
    return stacks.write_state(path or stacks.state_path(port), {
        "pid": os.getpid(), "host": host, "port": port, "api": f"http://{host}:{port}/api/v1", "env": env})


def bind_port(host: str, port: int) -> socket.socket:
    """Hold ``host:port`` before anything starts, so a second stack on the same port stops at once
    (and never touches the first one's state file)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"cannot listen on {host}:{port} ({exc.strerror}): is another stack running there? "
                         "Choose another with --port N.") from exc
    sock.listen(2048)
    return sock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the whole Mindly backend locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--no-seed", action="store_true", help="start with empty tables")
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR,
                        help="where to write <port>.json, how infra.cli reaches this stack (default .local/stacks)")
    parser.add_argument("--state-file", type=Path, default=None,
                        help="write how to reach this stack to this file instead")
    args = parser.parse_args(argv)

    sock = bind_port(args.host, args.port)
    port = int(sock.getsockname()[1])
    demo_password = os.environ.get("MINDLY_DEMO_PASSWORD") or secrets.token_urlsafe(12)
    stack = start_stack(seed=not args.no_seed, demo_password=demo_password,
                        base_url=f"http://{args.host}:{port}")
    print(f"Mindly local stack: http://{args.host}:{port}/api/v1/health", file=sys.stderr)
    if not args.no_seed:
        print(f"  demo student: {stack.seeded['demo_student']['email']} / {demo_password}", file=sys.stderr)
    print(f"  DynamoDB/SQS (moto): {stack.aws.endpoint_url}   Redis (Upstash REST): "
          f"{os.environ['UPSTASH_REDIS_REST_URL']}", file=sys.stderr)
    state = write_state_file(args.host, port, args.state_file or stacks.state_path(port, args.state_dir))
    print(f"  local CLI (daily-streak job, seeding): bash infra/dev.sh cli --help   [{state}]",
          file=sys.stderr)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        uvicorn.Server(server_config(stack.app, args.host, port)).run(sockets=[sock])
    finally:
        stack.stop()
        stacks.remove_own_state(state)
        sock.close()


if __name__ == "__main__":
    main()
