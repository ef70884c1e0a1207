"""hearkit's client against the real local engine over real HTTP (uvicorn on loopback, fake
transcriber): uploads, polling, offloaded results, subtitles, idempotency, the units ledger,
the no-key default, and the official SDK reading the same jobs."""

from __future__ import annotations

from pathlib import Path

import pyai
import pytest
import srt
import webvtt

from hearkit import transcript
from hearkit.client import PollPolicy, PyAI
from hearkit.engine import LocalEngine
from hearkit.errors import AuthenticationError, IdempotencyConflictError, NotFoundError
from hearkit.schema import Job

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
FAST = PollPolicy(initial=0.05, factor=1.5, maximum=0.2)


@pytest.fixture(scope="module")
def engine(local_engine: LocalEngine) -> LocalEngine:
    return local_engine


@pytest.fixture(scope="module")
def audio() -> Path:
    return sorted(SAMPLE.glob("*.stereo.ogg"))[0]


@pytest.fixture(scope="module")
def done(engine: LocalEngine, audio: Path) -> Job:
    with PyAI(engine.api_key, base_url=engine.base_url, poll=FAST) as client:
        return client.jobs.transcribe(audio, channel=True, output_formats=["json", "srt", "vtt"])


def test_upload_wait_and_offloaded_result(engine: LocalEngine, done: Job) -> None:
    assert done.status == "completed"
    assert done.result is None and done.result_url is not None  # offloaded
    with PyAI(engine.api_key, base_url=engine.base_url) as client:
        result = client.jobs.result(done)
        assert result.audio_seconds is not None and result.audio_seconds > 0
        frame = transcript.turns(result, call_id=done.job_id)
        assert set(frame["channel"]) == {0, 1}
        assert set(frame["role_source"]) == {"channel_convention"}
        # Units: GET of the completed job and the result document both carry x-pyai-units.
        client.jobs.get(done.job_id)
        assert client.ledger[done.job_id] == result.audio_seconds
        assert client.ledger.reconcile() == []


def test_subtitles_parse_as_srt_and_vtt(engine: LocalEngine, done: Job) -> None:
    with PyAI(engine.api_key, base_url=engine.base_url) as client:
        result = client.jobs.result(done)
        cues = list(srt.parse(client.jobs.download_format(done, "srt")))
        vtt = webvtt.from_string(client.jobs.download_format(done, "vtt"))
    assert len(cues) == len(result.segments)
    assert cues[0].content.startswith(f"[{result.segments[0].speaker}]")
    assert len(vtt.captions) == len(result.segments)


def test_idempotent_create_replays_and_conflicts(engine: LocalEngine, audio: Path) -> None:
    with PyAI(engine.api_key, base_url=engine.base_url) as client:
        first = client.jobs.create(audio, channel=True, idempotency_key="integration-k1")
        again = client.jobs.create(audio, channel=True, idempotency_key="integration-k1")
        assert again.job_id == first.job_id
        with pytest.raises(IdempotencyConflictError, match="different request body"):
            client.jobs.create(audio, channel=False, idempotency_key="integration-k1")


def test_list_and_iter_walk_real_pages(engine: LocalEngine, done: Job) -> None:
    with PyAI(engine.api_key, base_url=engine.base_url) as client:
        every = [job.job_id for job in client.jobs.iter(limit=1)]
        assert done.job_id in every
        assert len(every) == len(set(every))
        assert [j.job_id for j in client.jobs.list(limit=100).data] == every


def test_errors_from_the_real_engine(engine: LocalEngine) -> None:
    with PyAI(engine.api_key, base_url=engine.base_url) as client:
        with pytest.raises(NotFoundError) as caught:
            client.jobs.get("job_000000000000000000000000")
        assert caught.value.request_id is not None
    with PyAI("pyai_test_wrong", base_url=engine.base_url) as wrong, pytest.raises(AuthenticationError):
        wrong.jobs.get("job_x")


def test_the_official_sdk_reads_the_same_jobs(engine: LocalEngine, done: Job) -> None:
    sdk = pyai.PyAI(engine.api_key, base_url=engine.base_url)
    with PyAI(engine.api_key, base_url=engine.base_url) as client:
        ours = client.jobs.get(done.job_id).to_api()
        page = client.jobs.list(limit=100).to_api()
    theirs = sdk.transcription_jobs.get(done.job_id)
    for key in ("job_id", "status", "created_at", "updated_at"):
        assert ours[key] == theirs[key]
    assert [j["job_id"] for j in sdk.transcription_jobs.list(limit=100)["data"]] == [
        j["job_id"] for j in page["data"]
    ]
    sdk.close()


def test_no_key_runs_on_the_embedded_engine(
    monkeypatch: pytest.MonkeyPatch, engine: LocalEngine, done: Job
) -> None:
    monkeypatch.setattr(LocalEngine, "default", classmethod(lambda cls: engine))
    with PyAI() as client:
        assert client.base_url == engine.base_url
        assert set(client.me().scopes) >= {"hear:transcribe", "transcribe:jobs"}
        assert client.jobs.get(done.job_id).status == "completed"


def test_a_base_url_with_a_path_says_the_base_url_is_wrong(engine: LocalEngine) -> None:
    """U8 note 14: PYAI_BASE_URL=http://127.0.0.1:18787/api made `jobs list` answer "Check the job id",
    though no job id was given."""
    with (
        PyAI(engine.api_key, base_url=engine.base_url + "/api") as client,
        pytest.raises(NotFoundError, match="the base URL is wrong: it is the API root"),
    ):
        client.jobs.list()
