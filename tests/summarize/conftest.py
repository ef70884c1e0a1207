"""A real OpenAI-compatible chat completions server on loopback, answering from a script.

The ``openai`` package talks HTTP to it exactly as to a hosted endpoint; the script decides each
answer (status, body, headers, delay) and the server records every request it saw.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from hearkit.summarize import LLMConfig

API_KEY = "sk-test-7f3a9c-super-secret-key"
MODEL = "scripted-model"


@dataclass
class Reply:
    """What the server answers to one request."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    """One request as the server saw it."""

    at: float
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, str]]:
        return list(self.body["messages"])

    @property
    def system(self) -> str:
        return str(self.messages[0]["content"])

    @property
    def user(self) -> str:
        return str(self.messages[1]["content"])

    @property
    def size(self) -> int:
        """Characters of message content, the measure the context check below uses."""
        return sum(len(m["content"]) for m in self.messages)


def completion(content: str) -> Reply:
    """A 200 chat completion whose assistant message is ``content``."""
    return Reply(
        body={
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1_764_000_000,
            "model": MODEL,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    )


def error(status: int, message: str, code: str | None = None, **headers: str) -> Reply:
    """An OpenAI-style error envelope."""
    return Reply(
        status=status,
        body={"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}},
        headers=dict(headers),
    )


Script = Callable[[Seen, int], Reply]


class ScriptedLLM:
    """The server's state: the script, the requests seen, the base URL."""

    def __init__(self) -> None:
        self.script: Script = lambda seen, index: error(500, "no script set")
        self.seen: list[Seen] = []
        self.stopping = threading.Event()
        self.base_url = ""

    def play(self, *replies: Reply | Script) -> None:
        """Answer request i with ``replies[i]`` (the last one repeats); a callable computes it."""

        def script(seen: Seen, index: int) -> Reply:
            reply = replies[min(index, len(replies) - 1)]
            return reply(seen, index) if callable(reply) else reply

        self.script = script

    def config(self, **overrides: Any) -> LLMConfig:
        settings: dict[str, Any] = {
            "base_url": self.base_url,
            "model": MODEL,
            "api_key": API_KEY,
            "timeout": 5.0,
        }
        settings.update(overrides)
        return LLMConfig(**settings)


def _handler(state: ScriptedLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length)
            if self.path != "/v1/chat/completions":
                self._send(error(404, f"no route {self.path}"))
                return
            seen = Seen(
                at=time.monotonic(),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=json.loads(raw),
            )
            index = len(state.seen)
            state.seen.append(seen)
            reply = state.script(seen, index)
            if reply.delay and state.stopping.wait(reply.delay):
                return
            self._send(reply)

        def _send(self, reply: Reply) -> None:
            payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
            data = payload.encode()
            try:
                self.send_response(reply.status)
                if "content-type" not in {name.lower() for name in reply.headers}:
                    self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout): what the timeout test wants

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def llm_server() -> Iterator[ScriptedLLM]:
    state = ScriptedLLM()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _no_llm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their endpoint explicitly: no HEARKIT_LLM_* from the machine leaks in."""
    for name in (
        "HEARKIT_LLM_BASE_URL",
        "HEARKIT_LLM_API_KEY",
        "HEARKIT_LLM_MODEL",
        "HEARKIT_LLM_CONTEXT_TOKENS",
    ):
        monkeypatch.delenv(name, raising=False)
