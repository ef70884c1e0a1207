"""Signed webhooks received by hearkit.webhooks' receiver; retries with backoff; resumed after restart."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hearkit.client import PyAI
from hearkit.engine import LocalEngine
from hearkit.webhooks import WebhookStore, webhook_receiver
from tests.engine.conftest import ThreadedServer, client_of, start_engine, wait_job

JOBS = "/v1/transcription/jobs"


class Flaky:
    """ASGI wrapper: answers 503 to the first ``failures`` POSTs, then passes them through."""

    def __init__(self, app: Any, failures: int) -> None:
        self.app, self.failures, self.seen = app, failures, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen += 1
            if self.seen <= self.failures:
                await send({"type": "http.response.start", "status": 503, "headers": []})
                await send({"type": "http.response.body", "body": b"busy"})
                return
        await self.app(scope, receive, send)


def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


@pytest.fixture()
def receiver(tmp_path: Path, engine: LocalEngine) -> Iterator[tuple[ThreadedServer, WebhookStore, Flaky]]:
    store = WebhookStore(tmp_path / "events.sqlite3")
    client = PyAI(engine.api_key, base_url=engine.base_url)
    app = Flaky(webhook_receiver(engine.webhook_secret, store, client=client), failures=0)
    server = ThreadedServer(app)
    yield server, store, app
    server.stop()
    client.close()
    store.close()


def test_completed_and_failed_jobs_are_delivered_signed_and_verified(
    engine: LocalEngine,
    http: httpx.Client,
    audio: dict[str, Path],
    receiver: tuple[ThreadedServer, WebhookStore, Flaky],
) -> None:
    server, store, _ = receiver
    hook = f"http://127.0.0.1:{server.port}/webhooks/pyai"
    ok = http.post(JOBS, files={"audio": audio["mono3"].read_bytes()}, data={"webhook_url": hook}).json()
    bad = http.post(JOBS, json={"audio_url": "http://insecure.example/a.wav", "webhook_url": hook}).json()
    events = eventually(
        lambda: len(store.events()) == 2 and all(e.job for e in store.events()) and store.events()
    )
    by_job = {e.job_id: e for e in events}
    assert by_job[ok["job_id"]].type == "transcription.job.completed"
    assert by_job[ok["job_id"]].job.status == "completed"  # re-fetched through hearkit's client
    assert by_job[bad["job_id"]].type == "transcription.job.failed"
    assert engine.runtime is not None
    log = engine.runtime.store.deliveries(ok["job_id"])
    assert [(d.status, d.attempts, d.last_status_code) for d in log] == [("delivered", 1, 204)]


def test_failed_deliveries_are_retried_with_backoff_and_logged(
    engine: LocalEngine,
    http: httpx.Client,
    audio: dict[str, Path],
    receiver: tuple[ThreadedServer, WebhookStore, Flaky],
) -> None:
    server, store, flaky = receiver
    flaky.failures = 2
    hook = f"http://127.0.0.1:{server.port}/webhooks/pyai"
    job = http.post(JOBS, files={"audio": audio["mono3"].read_bytes()}, data={"webhook_url": hook}).json()
    eventually(lambda: store.events())
    assert engine.runtime is not None
    delivery = eventually(
        lambda: [d for d in engine.runtime.store.deliveries(job["job_id"]) if d.status == "delivered"]  # type: ignore[union-attr]
    )[0]
    attempts = engine.runtime.store.delivery_attempts(delivery.delivery_id)
    assert [a["status_code"] for a in attempts] == [503, 503, 204]
    gaps = [b["at"] - a["at"] for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= 200 and gaps[1] >= 400  # base 0.2 s, doubling


def test_delivery_gives_up_after_the_retry_period(tmp_path: Path) -> None:
    refusing = ThreadedServer(Flaky(None, failures=10**9))
    engine = start_engine(tmp_path, webhook_retry_base=0.1, webhook_retry_period=0.6)
    try:
        http = client_of(engine)
        hook = f"http://127.0.0.1:{refusing.port}/hook"
        job = http.post(JOBS, json={"audio_url": "http://x.example/a", "webhook_url": hook}).json()
        http.close()
        assert engine.runtime is not None
        store = engine.runtime.store
        done = eventually(lambda: [d for d in store.deliveries(job["job_id"]) if d.status == "failed"])
        assert 2 <= done[0].attempts <= 5  # retried (0.1 s, 0.2 s, ...) until 0.6 s after the event
        assert done[0].last_status_code == 503
    finally:
        engine.stop()
        refusing.stop()


def test_webhook_to_a_private_address_is_refused_without_the_allow_option(
    tmp_path: Path, audio: dict[str, Path]
) -> None:
    with (
        start_engine(tmp_path, allow_private_urls=False) as engine,
        client_of(engine) as http,
    ):
        insecure = http.post(JOBS, files={"audio": b"x"}, data={"webhook_url": "http://127.0.0.1:9/x"})
        assert insecure.status_code == 400 and "webhook_url" in insecure.json()["detail"]
        job = http.post(JOBS, files={"audio": b"x"}, data={"webhook_url": "https://127.0.0.1:9/x"}).json()
        wait_job(http, job["job_id"])
        assert engine.runtime is not None
        store = engine.runtime.store
        done = eventually(lambda: [d for d in store.deliveries(job["job_id"]) if d.status == "failed"])
        assert done[0].attempts == 1 and "loopback" in str(done[0].last_error)


def test_pending_deliveries_resume_after_a_restart(tmp_path: Path, audio: dict[str, Path]) -> None:
    events = WebhookStore(tmp_path / "events.sqlite3")
    first = ThreadedServer(webhook_receiver("unused", events))
    port = first.port
    first.stop()  # the receiver is down: deliveries fail and stay pending
    data_dir = tmp_path / "engine"
    with start_engine(data_dir, webhook_retry_base=1.0) as engine:
        with client_of(engine) as http:
            hook = f"http://127.0.0.1:{port}/webhooks/pyai"
            job = http.post(
                JOBS, files={"audio": audio["mono3"].read_bytes()}, data={"webhook_url": hook}
            ).json()
            wait_job(http, job["job_id"])
        assert engine.runtime is not None
        store = engine.runtime.store
        pending = eventually(lambda: [d for d in store.deliveries(job["job_id"]) if d.attempts >= 1])
        assert pending[0].status == "pending"
        assert pending[0].last_error is not None and "Connect" in pending[0].last_error
        secret = engine.webhook_secret
    receiver = ThreadedServer(webhook_receiver(secret, events), port=port)
    try:
        with start_engine(data_dir, webhook_retry_base=1.0) as restarted:
            assert restarted.runtime is not None
            eventually(lambda: events.events())
            assert [e.job_id for e in events.events()] == [job["job_id"]]
            log = eventually(
                lambda: [
                    d for d in restarted.runtime.store.deliveries(job["job_id"]) if d.status == "delivered"
                ]  # type: ignore[union-attr]
            )
            assert len(log) == 1 and log[0].attempts >= 2
    finally:
        receiver.stop()
        events.close()
