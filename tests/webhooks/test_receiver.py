"""The webhook receiver: real engine → real uvicorn receiver, plus each refusal over TestClient."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from hearkit.client import PyAI
from hearkit.engine import LocalEngine
from hearkit.schema import Job, WebhookEvent
from hearkit.webhooks import WebhookStore, sign, webhook_receiver
from tests.client.fakeapi import FakeAPI
from tests.servers import serve

SECRET = "whsec_receiver_test"
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def event_body(job_id: str, kind: str = "transcription.job.completed") -> bytes:
    return json.dumps({"type": kind, "data": {"job_id": job_id}}).encode()


def signed(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    return {"X-PyAI-Signature": sign(body, secret, timestamp=timestamp), "Content-Type": "application/json"}


@pytest.fixture
def fake_api(stereo_job: dict[str, Any]) -> FakeAPI:
    api = FakeAPI()
    api.add_job(stereo_job)
    return api


@pytest.fixture
def receiver(tmp_path: Path, fake_api: FakeAPI) -> Iterator[tuple[TestClient, list[Job]]]:
    seen: list[Job] = []
    client = PyAI("pyai_test_key", transport=fake_api.transport())
    app = webhook_receiver(
        SECRET, tmp_path / "events.sqlite3", client=client, on_job=lambda job, event: seen.append(job)
    )
    with TestClient(app) as http:
        yield http, seen


def test_verified_event_is_stored_then_the_job_refetched(
    receiver: tuple[TestClient, list[Job]], stereo_job: dict[str, Any], tmp_path: Path
) -> None:
    http, seen = receiver
    body = event_body(stereo_job["job_id"])
    response = http.post("/webhooks/pyai", content=body, headers=signed(body))
    assert response.status_code == 204
    assert [job.job_id for job in seen] == [stereo_job["job_id"]]
    (stored,) = WebhookStore(tmp_path / "events.sqlite3").events()  # durable: a fresh connection sees it
    assert (stored.type, stored.job_id, stored.deliveries, stored.job_status) == (
        "transcription.job.completed",
        stereo_job["job_id"],
        1,
        "completed",
    )
    assert stored.body == body
    assert stored.job is not None and stored.job.result is not None


def test_repeated_delivery_is_deduplicated(
    receiver: tuple[TestClient, list[Job]], stereo_job: dict[str, Any], fake_api: FakeAPI
) -> None:
    http, seen = receiver
    body = event_body(stereo_job["job_id"])
    for offset in (0, 1):  # a retry is re-signed with a new timestamp, same body
        response = http.post(
            "/webhooks/pyai", content=body, headers=signed(body, timestamp=int(time.time()) + offset)
        )
        assert response.status_code == 204
    store: WebhookStore = http.app.state.store  # type: ignore[attr-defined]
    (stored,) = store.events()
    assert stored.deliveries == 2
    assert len(seen) == 1
    assert len(fake_api.requests) == 1


@pytest.mark.parametrize(
    ("headers", "status", "reason"),
    [
        ({}, 401, "missing X-PyAI-Signature"),
        ({"X-PyAI-Signature": "t=1,v1=abc"}, 401, "64 lower-case hex"),
        ("other-secret", 401, "no v1 signature matches"),
        ("stale", 401, "too old"),
    ],
)
def test_bad_signatures_get_401_and_nothing_is_stored(
    receiver: tuple[TestClient, list[Job]], headers: Any, status: int, reason: str
) -> None:
    http, seen = receiver
    body = event_body("job_x")
    if headers == "other-secret":
        headers = signed(body, "other-secret")
    elif headers == "stale":
        headers = signed(body, timestamp=int(time.time()) - 3600)
    response = http.post("/webhooks/pyai", content=body, headers=headers)
    assert response.status_code == status
    assert reason in response.json()["error"]
    assert http.app.state.store.events() == []  # type: ignore[attr-defined]
    assert seen == []


def test_signed_non_event_bodies_get_400(receiver: tuple[TestClient, list[Job]]) -> None:
    http, _ = receiver
    for body in (b"{not json", b'{"type": "x"}', b"[]"):
        response = http.post("/webhooks/pyai", content=body, headers=signed(body))
        assert response.status_code == 400, body
    assert http.app.state.store.events() == []  # type: ignore[attr-defined]


def test_oversized_bodies_get_413_and_other_methods_405(receiver: tuple[TestClient, list[Job]]) -> None:
    http, _ = receiver
    big = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    assert http.post("/webhooks/pyai", content=big, headers=signed(big)).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap applies while streaming
        for _ in range(3):
            yield b" " * (1024 * 1024)

    assert http.post("/webhooks/pyai", content=chunks(), headers={"X-PyAI-Signature": "x"}).status_code == 413
    assert http.get("/webhooks/pyai").status_code == 405
    assert http.put("/webhooks/pyai", content=b"{}").status_code == 405
    assert http.post("/elsewhere", content=b"{}").status_code == 404


def test_failed_refetch_is_retried_at_next_start(tmp_path: Path, stereo_job: dict[str, Any]) -> None:
    api = FakeAPI()
    path = tmp_path / "events.sqlite3"
    down = PyAI("pyai_test_key", transport=api.transport(), max_retries=0)
    api.fail(f"/v1/transcription/jobs/{stereo_job['job_id']}", error=httpx.ConnectError("down"))
    body = event_body(stereo_job["job_id"])
    with TestClient(webhook_receiver(SECRET, path, client=down)) as http:
        assert http.post("/webhooks/pyai", content=body, headers=signed(body)).status_code == 204
        (pending,) = http.app.state.store.pending()  # type: ignore[attr-defined]
        assert pending.fetch_error is not None and "down" in pending.fetch_error
    api.add_job(stereo_job)
    seen: list[WebhookEvent] = []
    up = PyAI("pyai_test_key", transport=api.transport())
    with TestClient(webhook_receiver(SECRET, path, client=up, on_job=lambda j, e: seen.append(e))):
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            time.sleep(0.02)
    assert [e.data.job_id for e in seen] == [stereo_job["job_id"]]
    assert WebhookStore(path).pending() == []


def test_engine_delivers_to_the_receiver_over_real_sockets(tmp_path: Path, local_engine: LocalEngine) -> None:
    """The local engine signs and POSTs its callback to a uvicorn-served receiver, which verifies
    it, stores it and re-fetches the job from the engine through the client."""
    fetched: list[Job] = []
    engine = local_engine
    with PyAI(engine.api_key, base_url=engine.base_url) as client:
        app = webhook_receiver(
            engine.webhook_secret,
            tmp_path / "events.sqlite3",
            client=client,
            on_job=lambda job, event: fetched.append(job),
        )
        with serve(app) as receiver_url:
            # A forged delivery is refused over the real socket too.
            forged = event_body("job_forged")
            refused = httpx.post(
                f"{receiver_url}/webhooks/pyai", content=forged, headers=signed(forged, "wrong")
            )
            assert refused.status_code == 401
            audio = sorted(SAMPLE.glob("*.stereo.ogg"))[0]
            job = client.jobs.create(audio, channel=True, webhook_url=f"{receiver_url}/webhooks/pyai")
            deadline = time.monotonic() + 30
            while not fetched and time.monotonic() < deadline:
                time.sleep(0.05)
    assert [j.job_id for j in fetched] == [job.job_id]
    assert fetched[0].status == "completed"
    (stored,) = WebhookStore(tmp_path / "events.sqlite3").events()
    assert (stored.type, stored.job_id, stored.job_status) == (
        "transcription.job.completed",
        job.job_id,
        "completed",
    )


def test_an_event_for_a_job_this_client_cannot_see_is_settled_not_retried_for_ever(
    tmp_path: Path, stereo_job: dict[str, Any]
) -> None:
    """U8 note 4: a signed event whose job the receiver's client gets 404 for (another key's job, or an
    id nobody made) stayed pending and was fetched again at every start, for ever."""
    api = FakeAPI()
    path = tmp_path / "events.sqlite3"
    client = PyAI("pyai_test_key", transport=api.transport(), max_retries=0)
    body = event_body("job_nobodymadethis")
    with TestClient(webhook_receiver(SECRET, path, client=client)) as http:
        assert http.post("/webhooks/pyai", content=body, headers=signed(body)).status_code == 204
        deadline = time.monotonic() + 10
        while http.app.state.store.pending() and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.02)
    store = WebhookStore(path)
    assert store.pending() == []
    (event,) = store.events()
    assert event.fetch_error is not None and event.fetch_error.startswith("not found")
    assert event.job is None
