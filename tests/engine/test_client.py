"""hearkit's own client against the engine: the whole flow, offloaded results, the error catalog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hearkit import errors
from hearkit.client import PollPolicy, PyAI
from hearkit.engine import LocalEngine
from tests.engine.conftest import sandbox_key, start_engine

FAST = PollPolicy(initial=0.05, factor=1.5, maximum=0.2)


@pytest.fixture()
def client(engine: LocalEngine) -> Iterator[PyAI]:
    with PyAI(sandbox_key(engine), base_url=engine.base_url, poll=FAST) as c:
        yield c


def _key(engine: LocalEngine, **options: Any) -> str:
    assert engine.runtime is not None
    values: dict[str, Any] = {"env": "test", "scopes": ["transcribe:jobs"], "rps": 100.0, "burst": 100}
    values.update(options)
    api_key, _ = engine.runtime.store.create_key(project_id=f"proj_{id(values)}", **values)
    return api_key


def test_transcribe_result_formats_and_ledger(client: PyAI, audio: dict[str, Path]) -> None:
    job = client.jobs.transcribe(
        audio["stereo4"], channel=True, output_formats=["json", "srt", "vtt"], timeout=30
    )
    result = client.jobs.result(job)
    assert result.audio_seconds == 4.0
    assert {s.speaker for s in result.segments} == {"speaker_1", "speaker_2"}
    subtitles = client.jobs.download_format(job, "vtt")
    assert subtitles.startswith("WEBVTT") and "[speaker_2] fake segment two" in subtitles
    assert client.ledger[job.job_id] == 4.0  # from x-pyai-units
    assert [j.job_id for j in client.jobs.iter(limit=1)] == [job.job_id]
    me = client.me()
    assert me.scopes == ["hear:transcribe", "transcribe:jobs"] and me.env == "test"


def test_offloaded_result_through_the_client(tmp_path: Path, audio: dict[str, Path]) -> None:
    engine = start_engine(tmp_path, result_inline_max_bytes=10)
    with engine, PyAI(engine.api_key, base_url=engine.base_url, poll=FAST) as client:
        job = client.jobs.transcribe(audio["mono3"], timeout=30)
        assert job.result is None and job.result_url
        assert client.jobs.result(job).audio_seconds == 3.0


def test_catalog_errors_map_to_the_client_exceptions(engine: LocalEngine, audio: dict[str, Path]) -> None:
    base = engine.base_url
    upload = audio["mono3"].read_bytes()
    with (
        PyAI("pyai_test_wrong", base_url=base, max_retries=0) as c,
        pytest.raises(errors.AuthenticationError),
    ):
        c.jobs.list()
    with (
        PyAI(_key(engine, scopes=["hear:transcribe"]), base_url=base) as c,
        pytest.raises(errors.PermissionDeniedError),
    ):
        c.jobs.list()
    with PyAI(_key(engine, rps=0.01, burst=1), base_url=base, max_retries=0) as c:
        c.jobs.list()
        with pytest.raises(errors.RateLimitError) as limited:
            c.jobs.list()
        assert limited.value.retry_after is not None and limited.value.retry_after >= 1
    with PyAI(_key(engine, env="live", credit_seconds=1.0), base_url=base, poll=FAST) as c:
        c.jobs.transcribe(upload, timeout=30)
        with pytest.raises(errors.CreditExhaustedError):
            c.jobs.create(upload)
    with PyAI(_key(engine, daily_cap_seconds=1.0), base_url=base, poll=FAST, max_retries=0) as c:
        c.jobs.transcribe(upload, timeout=30)
        with pytest.raises(errors.DailyCapExceededError) as capped:
            c.jobs.create(upload)
        assert capped.value.retry_after is not None and capped.value.retry_after > 0
    with PyAI(_key(engine), base_url=base, poll=FAST) as c:
        with pytest.raises(errors.NotFoundError) as missing:
            c.jobs.get("job_" + "Z" * 24)
        assert str(missing.value.request_id).startswith("req_")
        with pytest.raises(errors.BadRequestError):
            c.jobs.create(upload, diarize="sometimes")  # type: ignore[arg-type]
        c.jobs.create(upload, idempotency_key="same")
        with pytest.raises(errors.IdempotencyConflictError):
            c.jobs.create(audio["stereo4"].read_bytes(), idempotency_key="same")
        with pytest.raises(errors.JobFailedError) as failed:
            c.jobs.transcribe(b"definitely not audio", timeout=30)
        assert "not decodable audio" in str(failed.value)
