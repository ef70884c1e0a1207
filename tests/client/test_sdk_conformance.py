"""Conformance with the official ``pyai-sdk``: for the same create/get/list calls, hearkit sends
the same method, path, query, JSON body, auth header and Idempotency-Key.

Both clients run over one recording transport: pyai's ``transport=`` callable
``(method, url, headers, body) -> (status, headers, body)`` and hearkit's ``httpx.MockTransport``
call the same ``Recorder``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pyai
import pytest

from hearkit.client import PyAI

KEY = "pyai_test_0123456789"
BASE = "https://api.pyai.com"
JOB = {"job_id": "job_EQ50YmH3D5S6WcoJUs8Io75P", "status": "queued", "created_at": 1786599793725}
PAGE = {"object": "list", "data": [JOB], "has_more": True, "next_cursor": "cur_2"}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str | None
    idempotency_key: str | None


@dataclass
class Recorder:
    seen: list[Recorded] = field(default_factory=list)

    def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        lower = {k.lower(): v for k, v in headers.items()}
        parts = urlsplit(url)
        self.seen.append(
            Recorded(
                method,
                parts.path,
                dict(parse_qsl(parts.query)),
                json.loads(body) if body else None,
                lower.get("authorization"),
                lower.get("idempotency-key"),
            )
        )
        if method == "POST":
            return 202, {"content-type": "application/json"}, json.dumps(JOB).encode()
        payload = PAGE if parts.path == "/v1/transcription/jobs" else JOB
        return 200, {"content-type": "application/json"}, json.dumps(payload).encode()

    def httpx_transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            status, headers, body = self(
                request.method, str(request.url), dict(request.headers), request.content
            )
            return httpx.Response(status, headers=headers, content=body)

        return httpx.MockTransport(handle)


CREATE_CALLS: list[dict[str, Any]] = [
    {"audio_url": "https://calls.example.com/a.wav"},
    {
        "audio_url": "https://calls.example.com/b.wav",
        "model": "pyai-hear-telephony",
        "channel": True,
        "diarize": False,
        "numerals": True,
        "output_formats": ["json", "srt", "vtt"],
        "webhook_url": "https://hooks.example.com/pyai",
        "idempotency_key": "call-b-v1",
    },
    {
        "audio_url": "https://calls.example.com/c.wav",
        "smart_format": True,
        "dictation": False,
        "drop_fillers": True,
        "vocabulary": ["Acme", "  ", "renewal "],
        "call_id": "crm-42",
        "pack_id": "sales",
        "call_direction": "outbound",
        "customer_name": "Globex",
        "idempotency_key": "call-c-v1",
    },
]


def both(call: Any) -> tuple[Recorded, Recorded]:
    recorder = Recorder()
    sdk = pyai.PyAI(KEY, base_url=BASE, transport=recorder)
    ours = PyAI(KEY, base_url=BASE, transport=recorder.httpx_transport())
    call(sdk, ours)
    sdk_request, our_request = recorder.seen
    return sdk_request, our_request


@pytest.mark.parametrize("kwargs", CREATE_CALLS, ids=["minimal", "documented-fields", "sdk-extras"])
def test_create_matches_the_sdk(kwargs: dict[str, Any]) -> None:
    theirs, ours = both(
        lambda sdk, mine: (sdk.transcription_jobs.create(**kwargs), mine.jobs.create(**kwargs))
    )
    assert (ours.method, ours.path, ours.query) == (theirs.method, theirs.path, theirs.query)
    assert ours.body == theirs.body
    assert ours.authorization == theirs.authorization == f"Bearer {KEY}"
    if "idempotency_key" in kwargs:
        assert ours.idempotency_key == theirs.idempotency_key == kwargs["idempotency_key"]
    else:
        # The SDK sends none; hearkit always sends one (safe retries), the body is still identical.
        assert theirs.idempotency_key is None
        assert ours.idempotency_key


def test_get_matches_the_sdk() -> None:
    theirs, ours = both(
        lambda sdk, mine: (sdk.transcription_jobs.get(JOB["job_id"]), mine.jobs.get(JOB["job_id"]))
    )
    assert (ours.method, ours.path, ours.query, ours.body) == (
        theirs.method,
        theirs.path,
        theirs.query,
        theirs.body,
    )
    assert ours.authorization == theirs.authorization


@pytest.mark.parametrize("kwargs", [{}, {"limit": 50}, {"limit": 2, "cursor": "cur_2"}])
def test_list_matches_the_sdk(kwargs: dict[str, Any]) -> None:
    theirs, ours = both(lambda sdk, mine: (sdk.transcription_jobs.list(**kwargs), mine.jobs.list(**kwargs)))
    assert (ours.method, ours.path, ours.query, ours.body) == (
        theirs.method,
        theirs.path,
        theirs.query,
        theirs.body,
    )
    assert ours.authorization == theirs.authorization


def test_both_read_the_same_answer_the_same_way() -> None:
    recorder = Recorder()
    sdk_page = pyai.PyAI(KEY, base_url=BASE, transport=recorder).transcription_jobs.list()
    our_page = PyAI(KEY, base_url=BASE, transport=recorder.httpx_transport()).jobs.list()
    assert our_page.to_api() == sdk_page
