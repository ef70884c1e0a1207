"""AsyncPyAI drives the same core: same requests, same policy, awaited."""

from __future__ import annotations

from collections import deque
from typing import Any

import httpx
import pytest

from hearkit.client import AsyncPyAI, PollPolicy, PyAI
from hearkit.errors import IdempotencyConflictError, JobFailedError, PaginationError, WaitTimeoutError
from hearkit.schema import Job

from .fakeapi import FakeAPI, json_body

pytestmark = pytest.mark.anyio
URL = "https://calls.example.com/2026/call-0001.wav"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class AsyncSleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def page(ids: list[str], cursor: str | None, has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"job_id": i, "status": "completed"} for i in ids],
        "has_more": has_more,
        "next_cursor": cursor,
    }


async def test_async_create_get_list_iter(stereo_job: dict[str, Any]) -> None:
    api = FakeAPI()
    api.pages[None] = page(["job_a"], "c1", True)
    api.pages["c1"] = page(["job_b"], None, False)
    async with AsyncPyAI("pyai_test_key", transport=api.transport()) as client:
        created = await client.jobs.create(audio_url=URL, diarize=True, idempotency_key="k")
        assert created.status == "queued"
        api.add_job(stereo_job, units="audio_seconds=10.84")
        job = await client.jobs.get(stereo_job["job_id"])
        assert job.result is not None and job.result.speakers == 2
        first = await client.jobs.list(limit=1)
        assert [j.job_id for j in first.data] == ["job_a"]
        assert [j.job_id async for j in client.jobs.iter(limit=1)] == ["job_a", "job_b"]
        assert client.ledger[stereo_job["job_id"]] == 10.84
        assert json_body(api.requests[0]) == {"audio_url": URL, "diarize": True}
        assert api.requests[0].headers["idempotency-key"] == "k"
        with pytest.raises(IdempotencyConflictError):
            await client.jobs.create(audio_url=URL, idempotency_key="k")
    assert client._http.is_closed


async def test_async_wait_backoff_failure_and_timeout(stereo_job: dict[str, Any]) -> None:
    api = FakeAPI()
    client = AsyncPyAI("pyai_test_key", transport=api.transport())
    sleeps = AsyncSleeps()
    client._sleep = sleeps  # type: ignore[method-assign]
    api.add_job(stereo_job, statuses=["queued", "running", "running", "completed"])
    seen: list[str] = []
    job = await client.jobs.wait(stereo_job["job_id"], on_progress=lambda j: seen.append(j.status))
    assert job.status == "completed"
    assert sleeps == pytest.approx([1.0, 1.5, 2.25])
    assert seen == ["queued", "running", "running", "completed"]
    api.add_job({"job_id": "job_bad", "status": "failed", "error": "unsupported codec"})
    with pytest.raises(JobFailedError, match="unsupported codec"):
        await client.jobs.wait("job_bad")
    slow = AsyncPyAI("pyai_test_key", transport=api.transport(), poll=PollPolicy(initial=0.01, maximum=0.01))
    api.add_job({"job_id": "job_slow", "status": "queued"})
    with pytest.raises(WaitTimeoutError, match="job_slow"):
        await slow.jobs.wait("job_slow", timeout=0.05)
    await client.close()
    await slow.aclose()


async def test_async_retries_then_result_offloaded(
    offloaded_job: dict[str, Any], stereo_job: dict[str, Any]
) -> None:
    api = FakeAPI()
    client = AsyncPyAI("pyai_test_key", transport=api.transport())
    sleeps = AsyncSleeps()
    client._sleep = sleeps  # type: ignore[method-assign]
    api.add_job(offloaded_job)
    api.fail(f"/v1/transcription/jobs/{offloaded_job['job_id']}", error=httpx.ReadTimeout("slow"))
    api.sign(offloaded_job["result_url"], 200, stereo_job["result"])
    result = await client.jobs.result(offloaded_job["job_id"])
    assert result.audio_seconds == 10.84
    assert len(sleeps) == 1
    assert "authorization" not in api.requests[-1].headers
    api.pages[None] = page(["job_a"], "c1", True)
    api.pages["c1"] = page(["job_b"], "c1", True)
    with pytest.raises(PaginationError):
        _ = [j async for j in client.jobs.iter()]
    await client.close()


async def test_sync_and_async_send_identical_requests(stereo_job: dict[str, Any]) -> None:
    """One core: the same calls produce the same wire requests from both shells."""

    def scenario_api() -> FakeAPI:
        api = FakeAPI()
        api.add_job(dict(stereo_job), statuses=["running", "completed"])
        api.pages[None] = page(["job_a"], None, False)
        return api

    def wire(api: FakeAPI) -> list[tuple[str, str, bytes, dict[str, str]]]:
        skip = {"user-agent", "content-length"}
        return [
            (r.method, str(r.url), r.content, {k: v for k, v in r.headers.items() if k not in skip})
            for r in api.requests
        ]

    sync_api, async_api = scenario_api(), scenario_api()
    fast = PollPolicy(initial=0.001, maximum=0.001)
    sync_client = PyAI("pyai_test_key", transport=sync_api.transport(), poll=fast)
    sync_client.jobs.create(audio_url=URL, channel=True, idempotency_key="same")
    sync_client.jobs.wait(stereo_job["job_id"])
    sync_client.jobs.result(Job.model_validate(stereo_job))
    list(sync_client.jobs.iter(limit=5))
    async with AsyncPyAI("pyai_test_key", transport=async_api.transport(), poll=fast) as client:
        await client.jobs.create(audio_url=URL, channel=True, idempotency_key="same")
        await client.jobs.wait(stereo_job["job_id"])
        await client.jobs.result(Job.model_validate(stereo_job))
        _ = [j async for j in client.jobs.iter(limit=5)]
    assert wire(sync_api) == wire(async_api)
    assert len(sync_api.requests) == 4


async def test_async_with_an_async_mock_handler() -> None:
    calls: deque[str] = deque()

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json={"job_id": "job_1", "status": "running"})

    async with AsyncPyAI("k", transport=httpx.MockTransport(handler)) as client:
        assert (await client.jobs.get("job_1")).status == "running"
    assert list(calls) == ["/v1/transcription/jobs/job_1"]
