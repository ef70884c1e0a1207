"""Ctrl-C in ``hearkit analyze``, and ``hearkit jobs list`` beside queued work (real subprocesses).

A user who interrupts ``hearkit analyze`` gave up on that call: its job must end ``cancelled`` with
its audio deleted, not go back to the queue where the next hearkit command on the data dir (even a
``hearkit jobs list``) would transcribe it first. Looking at jobs must not run anybody's queued work.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hearkit.cli.main import app
from hearkit.client import PyAI
from hearkit.engine import LocalEngine
from tests.batch.audio import mono

ROOT = Path(__file__).resolve().parents[2]


def _default_sigint() -> None:
    # A test run started in the background of a non-interactive shell passes SIGINT ignored: give the
    # child the disposition a terminal gives.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _env(data_dir: Path, delay: float) -> dict[str, str]:
    env = {
        **os.environ,
        "HEARKIT_DATA_DIR": str(data_dir),
        "HEARKIT_TRANSCRIBER": "fake",
        "HEARKIT_FAKE_DELAY": str(delay),
        "HEARKIT_POLL_INTERVAL": "0.05",
        "PYTHONPATH": str(ROOT),
    }
    for name in ("PYAI_API_KEY", "PYAI_BASE_URL", "HEARKIT_RUN_JOBS"):
        env.pop(name, None)
    return env


def _jobs(data_dir: Path) -> list[tuple[str, str, str | None]]:
    path = data_dir / "engine.sqlite3"
    if not path.exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as db:
        try:
            return [(str(a), str(b), c) for a, b, c in db.execute("SELECT job_id, status, error FROM jobs")]
        except sqlite3.OperationalError:  # the schema is not there yet
            return []


# SIGTERM is how timeout, docker stop and systemd stop a run (U3 finding 6: it ended the process
# with no line and left the engine's job "running" until its lease expired): handled as Ctrl-C.
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl_c", "sigterm"])
def test_ctrl_c_in_analyze_cancels_its_job_and_deletes_its_audio(
    tmp_path: Path, stop: signal.Signals
) -> None:
    call = mono(tmp_path / "call.wav", 3.0, seed=1)
    data_dir = tmp_path / "engine"
    child = subprocess.Popen(
        [sys.executable, "-m", "hearkit.cli.main", "analyze", str(call), "--mono"],
        # The fake transcriber runs on a thread that the interpreter waits for at exit: 6 s keeps
        # the job running when Ctrl-C lands (sent within 50 ms of "running") and the test short (a
        # real Whisper worker process is terminated at once).
        env=_env(data_dir, delay=6.0),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(status == "running" for _, status, _ in _jobs(data_dir)):
            assert child.poll() is None, child.communicate()[0]
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        child.send_signal(stop)
        output, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, output
    assert "Traceback" not in output
    jobs = _jobs(data_dir)
    assert len(jobs) == 1
    job_id, status, error = jobs[0]
    assert status == "cancelled" and error is not None and "interrupted" in error
    assert f"job {job_id} cancelled" in output
    assert list((data_dir / "audio").iterdir()) == []  # the uploaded audio did not outlive its job


def test_jobs_list_does_not_run_work_queued_by_another_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "engine"
    call = mono(tmp_path / "call.wav", 2.0, seed=2)
    # Another process's work, queued and left: an engine that serves the API without running jobs.
    with (
        LocalEngine(data_dir, transcriber="fake", run_jobs=False) as engine,
        PyAI(engine.api_key, base_url=engine.base_url) as client,
    ):
        queued = client.jobs.create(call)
    listed = subprocess.run(
        [sys.executable, "-m", "hearkit.cli.main", "jobs", "list"],
        env=_env(data_dir, delay=0.0),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert f"{queued.job_id}  queued" in listed.stdout
    assert _jobs(data_dir) == [(queued.job_id, "queued", None)]  # not run, not failed, not taken
    assert [p.name for p in (data_dir / "audio").iterdir()] == [queued.job_id]  # its upload kept


def test_jobs_list_in_process_leaves_the_process_able_to_run_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Called from Python (CliRunner, a notebook), `jobs list` must not switch job running off for
    the rest of the process (it once did, through an environment variable)."""
    for name in ("PYAI_API_KEY", "PYAI_BASE_URL", "HEARKIT_RUN_JOBS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HEARKIT_DATA_DIR", str(tmp_path / "listed"))
    listed = CliRunner().invoke(app, ["jobs", "list"])
    assert listed.exit_code == 0, listed.output
    assert "HEARKIT_RUN_JOBS" not in os.environ
    with (
        LocalEngine(tmp_path / "engine", transcriber="fake") as engine,
        PyAI(engine.api_key, base_url=engine.base_url) as client,
    ):
        done = client.jobs.transcribe(mono(tmp_path / "call.wav", 1.0), timeout=60)
    assert done.status == "completed"
