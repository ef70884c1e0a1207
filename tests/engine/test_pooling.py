"""Queued stereo uploads transcribed together in one worker process (``pool_calls``, issue 17):
every job still completes or fails on its own."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.schema import Result
from tests.engine.conftest import client_of, sandbox_key, start_engine, wait_job
from tests.engine.transcribers import POOL_HOLD_ENV, POOL_LOG_ENV
from tests.pipeline.conftest import write_wav
from tests.pipeline.test_pooling import _cut, _longest_miss, _norm, _placed, _truth

JOBS = "/v1/transcription/jobs"
POOLING = "tests.engine.transcribers:PoolingTranscriber"


def _queue(data: Path, uploads: list[tuple[str, bytes]]) -> dict[str, str]:
    """Queue ``uploads`` (call id, bytes) on an engine that runs no jobs; their job ids by call id."""
    with start_engine(data, transcriber=POOLING, run_jobs=False) as queueing, client_of(queueing) as http:
        return {
            call_id: http.post(
                JOBS, files={"audio": body}, data={"call_id": call_id, "channel": "true"}
            ).json()["job_id"]
            for call_id, body in uploads
        }


def _wait_for_runs(log: Path, count: int, timeout: float = 60.0) -> list[str]:
    """The pool log once it has ``count`` runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = log.read_text().splitlines() if log.exists() else []
        if len(runs) >= count:
            return runs
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} runs in {timeout} s")


def _held_pools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The pooling transcriber's log of pools run, and the file whose presence holds each pool."""
    log, hold = tmp_path / "pools.log", tmp_path / "hold"
    monkeypatch.setenv(POOL_LOG_ENV, str(log))
    monkeypatch.setenv(POOL_HOLD_ENV, str(hold))
    hold.touch()
    return log, hold


def _queue_then_run(tmp_path: Path, uploads: list[tuple[str, bytes]], **settings: Any) -> dict[str, Any]:
    """Queue ``uploads`` (call id, bytes) on an engine that runs no jobs, then let a second engine on
    the same data dir run them all: they are all queued when its worker first looks."""
    data = tmp_path / "data"
    ids = _queue(data, uploads)
    with (
        start_engine(data, transcriber=POOLING, executor="process", **settings) as running,
        client_of(running) as http,
    ):
        return {call_id: wait_job(http, job_id, timeout=120).json() for call_id, job_id in ids.items()}


def test_queued_uploads_run_in_one_pool_and_each_bad_one_fails_alone(
    tmp_path: Path, audio: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "pools.log"
    monkeypatch.setenv(POOL_LOG_ENV, str(log))
    stereo = audio["stereo4"].read_bytes()
    jobs = _queue_then_run(
        tmp_path,
        [
            ("a", stereo),
            ("not-audio", b"RIFF this is no audio"),
            ("raise", stereo),
            ("b", stereo),
            ("mono", audio["mono3"].read_bytes()),
            ("c", stereo),
        ],
        pool_calls=4,
    )
    runs = log.read_text().splitlines()
    # The first four jobs were claimed together; the files that pass the checks went in one run.
    assert runs[0].split() == ["a", "raise", "b"]
    assert [job["status"] for job in jobs.values()] == [
        "completed",
        "failed",
        "failed",
        "completed",
        "failed",
        "completed",
    ]
    assert "not a readable audio file" in jobs["not-audio"]["error"] or "audio" in jobs["not-audio"]["error"]
    assert "internal" not in jobs["not-audio"]["error"]
    assert "RuntimeError: decoder state lost" in jobs["raise"]["error"] and "\n" not in jobs["raise"]["error"]
    assert "the file has 1 channel" in jobs["mono"]["error"]
    for call_id in ("a", "b", "c"):
        assert jobs[call_id]["result"]["audio_seconds"] == 4.0
    assert "decoder state lost" in (tmp_path / "data" / "engine.log").read_text()


def test_a_crash_in_a_pool_fails_only_the_job_that_crashes(
    tmp_path: Path, audio: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "pools.log"
    monkeypatch.setenv(POOL_LOG_ENV, str(log))
    stereo = audio["stereo4"].read_bytes()
    jobs = _queue_then_run(tmp_path, [("a", stereo), ("crash", stereo), ("b", stereo)], pool_calls=4)
    assert log.read_text().splitlines() == ["a crash b", "a", "crash", "b"]  # the pool, then each alone
    assert jobs["crash"]["status"] == "failed" and "crashed" in jobs["crash"]["error"]
    assert jobs["a"]["status"] == "completed" and jobs["b"]["status"] == "completed"


def test_pool_calls_1_runs_every_job_alone(
    tmp_path: Path, audio: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "pools.log"
    monkeypatch.setenv(POOL_LOG_ENV, str(log))
    stereo = audio["stereo4"].read_bytes()
    jobs = _queue_then_run(tmp_path, [("a", stereo), ("b", stereo)], pool_calls=1)
    assert log.read_text().splitlines() == ["a", "b"]
    assert all(job["status"] == "completed" for job in jobs.values())


def test_jobs_of_different_projects_are_never_pooled_together(
    tmp_path: Path, audio: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "pools.log"
    monkeypatch.setenv(POOL_LOG_ENV, str(log))
    data = tmp_path / "data"
    stereo = audio["stereo4"].read_bytes()
    ids: dict[str, str] = {}
    with start_engine(data, transcriber=POOLING, run_jobs=False) as queueing:
        other = sandbox_key(queueing)  # a test key in a project of its own
        with client_of(queueing) as mine, client_of(queueing, other) as theirs:
            for call_id, http in (("a", mine), ("x", theirs), ("b", mine), ("y", theirs), ("c", mine)):
                response = http.post(
                    JOBS, files={"audio": stereo}, data={"call_id": call_id, "channel": "true"}
                )
                ids[call_id] = response.json()["job_id"]
    with (
        start_engine(data, transcriber=POOLING, executor="process", pool_calls=4) as running,
        client_of(running) as mine,
        client_of(running, other) as theirs,
    ):
        jobs = {
            call_id: wait_job(theirs if call_id in "xy" else mine, job_id, timeout=120).json()
            for call_id, job_id in ids.items()
        }
    assert log.read_text().splitlines() == ["a b c", "x y"]
    assert all(job["status"] == "completed" for job in jobs.values())


def test_a_job_cancelled_while_its_pool_runs_stays_cancelled_and_the_others_complete(
    tmp_path: Path, audio: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    log, hold = _held_pools(tmp_path, monkeypatch)
    data = tmp_path / "data"
    stereo = audio["stereo4"].read_bytes()
    ids = _queue(data, [("a", stereo), ("b", stereo), ("c", stereo)])
    with (
        start_engine(data, transcriber=POOLING, executor="process", pool_calls=3) as running,
        client_of(running) as http,
    ):
        assert _wait_for_runs(log, 1) == ["a b c"]  # the pool runs (held) with b in it
        assert running.cancel(ids["b"], "the user gave up")
        hold.unlink()
        jobs = {call_id: wait_job(http, job_id, timeout=60).json() for call_id, job_id in ids.items()}
        assert running.runtime is not None
        billed = {row["job_id"] for row in running.runtime.store._all("SELECT job_id FROM ledger")}
    assert jobs["b"]["status"] == "cancelled" and jobs["b"]["error"] == "the user gave up"
    assert jobs["b"].get("result") is None
    assert jobs["a"]["status"] == jobs["c"]["status"] == "completed"
    assert jobs["a"]["result"]["audio_seconds"] == jobs["c"]["result"]["audio_seconds"] == 4.0
    assert billed == {ids["a"], ids["c"]}  # the cancelled job is not billed
    assert log.read_text().splitlines() == ["a b c"]  # nothing ran again
    assert not any((data / "audio").iterdir())  # every job's upload is deleted, b's too


def test_two_engines_on_one_store_run_each_pooled_job_once_while_it_outlives_its_lease(
    tmp_path: Path, audio: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pools held 3 s on engines with 1 s leases and free slots: a pooled job whose lease were not
    renewed would be taken over by a free slot and run twice."""
    log, hold = _held_pools(tmp_path, monkeypatch)
    data = tmp_path / "data"
    stereo = audio["stereo4"].read_bytes()
    calls = ["a", "b", "c", "d", "e", "f"]
    ids = _queue(data, [(call_id, stereo) for call_id in calls])
    settings: dict[str, Any] = {
        "transcriber": POOLING,
        "executor": "thread",
        "workers": 2,
        "pool_calls": 3,
        "lease_seconds": 1.0,
    }
    with start_engine(data, **settings) as one, start_engine(data, **settings), client_of(one) as http:
        _wait_for_runs(log, 2)
        timer = threading.Timer(3.0, hold.unlink)
        timer.start()
        try:
            jobs = {call_id: wait_job(http, job_id, timeout=60).json() for call_id, job_id in ids.items()}
        finally:
            timer.join()
    runs = [run.split() for run in log.read_text().splitlines()]
    assert sorted(call for run in runs for call in run) == calls  # each job ran exactly once
    assert all(len(run) <= 3 for run in runs) and len(runs) == 2
    assert all(job["status"] == "completed" for job in jobs.values())


def test_a_pool_interrupted_by_a_stop_goes_back_to_the_queue_whole(
    tmp_path: Path, audio: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    log, hold = _held_pools(tmp_path, monkeypatch)
    data = tmp_path / "data"
    stereo = audio["stereo4"].read_bytes()
    ids = _queue(data, [("a", stereo), ("b", stereo), ("c", stereo)])
    with start_engine(data, transcriber=POOLING, executor="process", pool_calls=3) as stopped:
        assert _wait_for_runs(log, 1) == ["a b c"]
        assert stopped.runtime is not None
        store = stopped.runtime.store
        rows = store._all("SELECT job_id, status FROM jobs")
        assert {row["status"] for row in rows} == {"running"}
    hold.unlink()
    with (
        start_engine(data, transcriber=POOLING, executor="process", pool_calls=3) as running,
        client_of(running) as http,
    ):
        jobs = {call_id: wait_job(http, job_id, timeout=60).json() for call_id, job_id in ids.items()}
    # handed back, not failed: the next engine ran the same pool again, to completion
    assert log.read_text().splitlines() == ["a b c", "a b c"]
    assert all(job["status"] == "completed" for job in jobs.values())


@pytest.mark.asr
def test_the_whisper_engine_pools_queued_stereo_uploads_and_each_job_gets_its_own_words(
    tmp_path: Path,
) -> None:
    """Three 12 s cuts of different sample calls, queued, run by the real engine (tiny.en in its
    worker process) in one pool, in 2 shared windows instead of 3; ground truth: the generating
    scripts' words in each cut."""
    cuts = (
        ("call_01_discovery", 0.0, 12.0),
        ("call_05_renewal", 40.0, 12.0),
        ("call_03_pricing", 20.0, 12.0),
    )
    audios = [_cut(*cut) for cut in cuts]
    transcriber = WhisperTranscriber()
    assert len(transcriber.plan_pooled(audios)) < sum(len(transcriber.plan_stereo(a)) for a in audios)
    data = tmp_path / "data"
    uploads = [
        (call, write_wav(tmp_path / f"{call}.wav", audio.samples.T).read_bytes())
        for (call, _, _), audio in zip(cuts, audios, strict=True)
    ]
    ids = _queue(data, uploads)
    with start_engine(data, transcriber="whisper", pool_calls=3) as running, client_of(running) as http:
        jobs = {call: wait_job(http, job_id, timeout=300).json() for call, job_id in ids.items()}
    log = (data / "engine.log").read_text()
    assert f"jobs {', '.join(ids.values())}: transcribed together" in log
    truths = {call: _truth(call, offset, seconds) for call, offset, seconds in cuts}
    for call, _, seconds in cuts:
        assert jobs[call]["status"] == "completed", jobs[call]
        result = Result.model_validate(jobs[call]["result"])
        truth = truths[call]
        placed = _placed(result, truth)
        assert sum(placed) / len(placed) >= 0.6, call  # the call's own words, on their channels
        assert _longest_miss(placed) <= 3, call  # no run of another call's words
        assert 0.8 * len(truth) <= len(result.words) <= 1.25 * len(truth), (
            call,
            len(result.words),
            len(truth),
        )
        # no distinctive word (5+ letters) that only the other cuts' scripts say
        own = {str(t["norm"]) for t in truth}
        foreign = {str(t["norm"]) for other in cuts if other[0] != call for t in truths[other[0]]} - own
        heard = {_norm(w.word) for w in result.words}
        assert not {w for w in heard & foreign if len(w) >= 5}, call
        assert result.audio_seconds == pytest.approx(seconds, abs=0.01)
