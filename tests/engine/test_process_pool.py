"""The default path: named transcribers in a spawned worker-process pool (real Whisper, crashes)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.conftest import client_of, start_engine, wait_job
from tests.engine.transcribers import CRASH_MARK_ENV

JOBS = "/v1/transcription/jobs"


def test_a_crashing_worker_process_fails_its_job_and_the_next_job_runs(
    tmp_path: Path, audio: dict[str, Path]
) -> None:
    engine = start_engine(
        tmp_path, transcriber="tests.engine.transcribers:ExitingTranscriber", executor="process"
    )
    with (
        engine,
        client_of(engine) as http,
    ):
        crash = http.post(
            JOBS, files={"audio": audio["mono3"].read_bytes()}, data={"call_id": "crash"}
        ).json()
        fine = http.post(JOBS, files={"audio": audio["mono3"].read_bytes()}).json()
        crashed = wait_job(http, crash["job_id"], timeout=120).json()
        assert crashed["status"] == "failed" and "crashed" in crashed["error"]
        assert wait_job(http, fine["job_id"], timeout=120).json()["result"]["audio_seconds"] == 3.0


def test_a_crash_fails_only_its_own_job_when_two_run_at_once(
    tmp_path: Path, audio: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two slots: the job running beside a crashing one completes (a shared pool failed both)."""
    monkeypatch.setenv(CRASH_MARK_ENV, str(tmp_path / "crashed"))
    engine = start_engine(
        tmp_path / "data",
        transcriber="tests.engine.transcribers:ExitingTranscriber",
        executor="process",
        workers=2,
    )
    with engine, client_of(engine) as http:
        beside = http.post(
            JOBS, files={"audio": audio["mono3"].read_bytes()}, data={"call_id": "wait-for-crash"}
        ).json()
        crash = http.post(
            JOBS, files={"audio": audio["mono3"].read_bytes()}, data={"call_id": "crash"}
        ).json()
        crashed = wait_job(http, crash["job_id"], timeout=120).json()
        survived = wait_job(http, beside["job_id"], timeout=120).json()
        after = http.post(JOBS, files={"audio": audio["stereo4"].read_bytes()}).json()
        later = wait_job(http, after["job_id"], timeout=120).json()
    assert (tmp_path / "crashed").exists()  # the crash happened while the other job waited for it
    assert crashed["status"] == "failed" and "crashed" in crashed["error"]
    assert survived["status"] == "completed", survived
    assert survived["result"]["audio_seconds"] == 3.0
    assert later["status"] == "completed" and later["result"]["audio_seconds"] == 4.0


@pytest.mark.asr
def test_default_whisper_transcriber_in_a_worker_process(tmp_path: Path, realdata: Path) -> None:
    jfk = realdata / "whisper_jfk"
    reference = (jfk / "jfk.reference.derived.txt").read_text()
    engine = start_engine(tmp_path, transcriber="whisper")
    with (
        engine,
        client_of(engine) as http,
    ):
        created = http.post(
            JOBS, files={"audio": (jfk / "jfk.flac").read_bytes()}, data={"output_formats": "srt"}
        )
        job = wait_job(http, created.json()["job_id"], timeout=240).json()
    assert job["status"] == "completed", job
    words = set(re.findall(r"[a-z]+", job["result"]["text"].lower()))
    expected = set(re.findall(r"[a-z]+", reference.lower()))
    assert len(words & expected) / len(expected) > 0.8
    assert job["result"]["audio_seconds"] == pytest.approx(11.0, abs=0.05)


POOL_UNDER_CTRL_C = """
import os, signal, sys, time
from hearkit.engine.executors import process_pool

if __name__ == "__main__":
    pool = process_pool(1)
    job = pool.submit(os.getpid)  # spawns the worker
    workers = list(pool._processes.values())
    end = time.monotonic() + 1.0
    while time.monotonic() < end and not job.done():  # Ctrl-C to the worker while it starts
        for worker in workers:
            os.kill(worker.pid, signal.SIGINT)
        time.sleep(0.01)
    print("worker", job.result(timeout=120))
    pool.shutdown()
"""


def test_a_worker_started_under_ctrl_c_starts_quietly_and_runs_its_job(tmp_path: Path) -> None:
    """U7 finding 10: a Ctrl-C while a spawned worker was still importing the program printed a
    36-line ``KeyboardInterrupt`` traceback under the command's one-line message. Here SIGINT is sent
    to the worker every 10 ms from the moment it is spawned until its first job is done: no
    traceback, and the job runs (the parent alone decides what a Ctrl-C stops)."""
    script = tmp_path / "pool_under_ctrl_c.py"
    script.write_text(POOL_UNDER_CTRL_C)
    root = Path(__file__).parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=env)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0 and done.stdout.startswith("worker "), done.stdout + done.stderr
