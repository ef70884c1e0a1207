"""Fault tests with real processes on loopback: no lost recording, no duplicate job, whatever fails.

The engine runs for real (FastAPI + uvicorn + SQLite, fake transcriber). A fault-injecting proxy
sits between the batch and the engine: it drops connections after the engine created the job,
answers 500 before and after forwarding, 429 with Retry-After, and delays. The truth is counted
on the server side: the engine's own job store.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hearkit.batch.manifest import Manifest
from hearkit.batch.runner import RunnerSettings
from hearkit.engine import LocalEngine
from hearkit.engine.fake import FakeTranscriber
from tests.batch import audio
from tests.batch.clients import run_batch
from tests.batch.engine_process import EngineProcess, engine_process
from tests.batch.fault_proxy import FaultProxy, Faults

ROOT = Path(__file__).resolve().parents[2]


def _server_jobs(engine: LocalEngine | EngineProcess) -> list[str]:
    """Every job id the engine holds, read page by page from its list endpoint."""
    ids: list[str] = []
    cursor = None
    with httpx.Client(
        base_url=engine.base_url, headers={"Authorization": f"Bearer {engine.api_key}"}
    ) as http:
        while True:
            params: dict[str, str | int] = {"limit": 100}
            if cursor:
                params["cursor"] = cursor
            page = http.get("/v1/transcription/jobs", params=params).json()
            ids += [job["job_id"] for job in page["data"]]
            if not page["has_more"]:
                return ids
            cursor = page["next_cursor"]


@pytest.mark.timeout(900)
def test_a_thousand_submissions_through_faults_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    n = 1000
    audio.many_mono(tmp_path / "in", n, seconds=0.2)
    faults = Faults(drop=0.04, error_after=0.03, error=0.04, rate_limit=0.04, max_delay=0.005)
    with (
        engine_process(tmp_path / "engine", workers=4) as engine,
        FaultProxy(engine.base_url, faults, seed=1) as proxy,
    ):
        settings = RunnerSettings(max_attempts=20, retry_backoff=0.02, poll_initial=0.05, poll_max=0.5)
        report = run_batch(
            proxy.base_url, engine.api_key, tmp_path / "in", tmp_path / "out", settings, concurrency=16
        )
        server_jobs = _server_jobs(engine)
    assert proxy.counts["drop"] > 10 and proxy.counts["error_after"] > 10
    assert proxy.counts["error"] > 10 and proxy.counts["rate_limit"] > 10
    assert report.counts["completed"] == n, report.failed[:3]
    assert len(server_jobs) == n
    assert len(set(server_jobs)) == n
    with Manifest(tmp_path / "out") as manifest:
        rows = manifest.rows()
    assert {row.job_id for row in rows} == set(server_jobs)
    assert all((tmp_path / "out" / "calls" / f"{row.call_id}.json").is_file() for row in rows)


def _progress(out: Path) -> int:
    """Steps the manifest has recorded so far (sends + job ids + completions), read-only."""
    path = out / "manifest.sqlite"
    if not path.is_file():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
            row = db.execute(
                "SELECT COALESCE(SUM(attempts), 0) + COUNT(job_id) + SUM(status = 'completed')"
                " FROM recordings"
            ).fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0] or 0)


@pytest.mark.timeout(900)
def test_sigkill_at_random_points_then_resume_maps_each_recording_to_one_job(tmp_path: Path) -> None:
    n, kills = 30, 8  # each kill restarts the command (~3 s): 8 random points keep the run near 25 s
    audio.many_mono(tmp_path / "in", n, seconds=0.3)
    rng = random.Random(20)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "hearkit.cli.main", "batch", str(tmp_path / "in"), "--out", str(out)]
    command += ["--concurrency", "2", "--no-progress", "--no-dataset"]
    kills_mid_work = 0
    slow = FakeTranscriber(delay=0.4)  # jobs take a while: kills land mid-flight
    with LocalEngine(tmp_path / "engine", transcriber=slow, workers=2) as engine:
        command += ["--base-url", engine.base_url, "--api-key", engine.api_key]
        for _kill in range(kills):
            before = _progress(out)
            quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
            child = subprocess.Popen(command, env=env, cwd=ROOT, **quiet)
            # Kill at a random instant after the run made progress (or when it is about to finish).
            deadline = time.monotonic() + 60
            while _progress(out) == before and child.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.4))
            if child.poll() is not None:
                break
            child.send_signal(signal.SIGKILL)
            child.wait()
            kills_mid_work += 1
        final = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert final.returncode == 0, final.stdout + final.stderr
        server_jobs = _server_jobs(engine)
    assert kills_mid_work == kills
    with Manifest(out) as manifest:
        rows = manifest.rows()
        assert manifest.counts()["completed"] == n
    assert len(server_jobs) == n == len(set(server_jobs))
    assert sorted(row.job_id or "" for row in rows) == sorted(server_jobs)
    assert all((out / "calls" / f"{row.call_id}.json").is_file() for row in rows)
