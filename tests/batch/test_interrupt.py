"""Ctrl-C in ``hearkit batch`` (a real subprocess, the embedded engine in it), then the same command again.

Expected from the user's side: one line that says what is done, what is in flight and how to
resume, no traceback; the re-run finishes the batch with one job per recording (none created
twice, none failed because the first process stopped).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.batch.audio import mono

ROOT = Path(__file__).resolve().parents[2]


def _counts(out: Path) -> dict[str, int]:
    path = out / "manifest.sqlite"
    if not path.exists():
        return {}
    with sqlite3.connect(path, timeout=10) as db:
        try:
            return dict(db.execute("SELECT status, COUNT(*) FROM recordings GROUP BY status").fetchall())
        except sqlite3.OperationalError:  # the schema is not there yet
            return {}


def _default_sigint() -> None:
    # A test run started in the background of a non-interactive shell (`pytest &`) inherits SIGINT
    # ignored, and so would the batch: give it the disposition a terminal gives, so Ctrl-C reaches it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# SIGTERM is how timeout, docker stop and systemd stop a run (U3 finding 6: it ended the process
# with no line and left the engine's job "running" until its lease expired): handled as Ctrl-C.
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl_c", "sigterm"])
def test_ctrl_c_mid_batch_prints_one_line_and_the_rerun_completes_without_duplicates(
    tmp_path: Path, stop: signal.Signals
) -> None:
    calls = tmp_path / "calls"
    # Enough work left after the first completion (about 5 s) that a test process starved on a loaded
    # machine still sends its Ctrl-C while the batch runs.
    recordings = 10
    for n in range(recordings):
        mono(calls / f"call_{n}.wav", 2.0 + n * 0.25, seed=n)
    out, data_dir = tmp_path / "out", tmp_path / "engine"
    env = {
        **os.environ,
        "HEARKIT_DATA_DIR": str(data_dir),
        "HEARKIT_TRANSCRIBER": "fake",
        "HEARKIT_FAKE_DELAY": "1.2",
        "HEARKIT_POLL_INTERVAL": "0.05",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "hearkit.cli.main", "batch", str(calls), "--out", str(out)]
    command += ["--concurrency", "2", "--no-progress", "--no-dataset"]
    child = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 120
    while _counts(out).get("completed", 0) < 1:
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "no recording completed"
        time.sleep(0.05)
    child.send_signal(stop)
    stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stdout + stderr
    lines = [line for line in (stdout + stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    done = _counts(out)
    assert lines[0] == (
        f"interrupted: {done.get('completed', 0)} done, {done.get('submitted', 0)} in flight;"
        " run the same command again to resume"
    )
    assert done.get("completed", 0) < recordings

    # The stopped batch has no dataset/ yet; its report shows the calls that completed, and says so.
    from typer.testing import CliRunner

    from hearkit.cli.main import app

    page = tmp_path / "partial.html"
    partial = CliRunner().invoke(app, ["report", str(out), "-o", str(page), "--cdn", "--audio", "none"])
    assert partial.exit_code == 0, partial.output
    assert f"has not finished ({done['completed']} of {recordings} recordings completed)" in partial.output
    html_text = page.read_text(encoding="utf-8")
    assert html_text.count('<details class="call"') == done["completed"]
    assert f"unfinished batch: {done['completed']} of {recordings} recordings" in html_text  # readers see it

    rerun = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert _counts(out) == {"completed": recordings}
    with sqlite3.connect(data_dir / "engine.sqlite3") as db:
        jobs = db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        manifest_jobs = {
            r[0] for r in sqlite3.connect(out / "manifest.sqlite").execute("SELECT job_id FROM recordings")
        }
        engine_jobs = {r[0] for r in db.execute("SELECT job_id FROM jobs")}
    assert jobs == [("completed", recordings)]  # one job per recording: nothing created twice, nothing failed
    assert manifest_jobs == engine_jobs


def test_a_job_whose_upload_is_gone_is_not_reused_the_recording_is_sent_again(tmp_path: Path) -> None:
    from hearkit.batch import run
    from hearkit.engine.fake import FakeTranscriber
    from tests.engine.conftest import start_engine

    calls = tmp_path / "calls"
    for n in range(3):
        mono(calls / f"call_{n}.wav", 2.0 + n, seed=n)
    engine = start_engine(tmp_path / "engine", transcriber=FakeTranscriber(delay=1.5))
    audio_dir = tmp_path / "engine" / "audio"
    deleted: list[str] = []

    def delete_queued_uploads() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not deleted:
            with sqlite3.connect(tmp_path / "engine" / "engine.sqlite3", timeout=10) as db:
                queued = [r[0] for r in db.execute("SELECT job_id FROM jobs WHERE status = 'queued'")]
            for job_id in queued:
                (audio_dir / job_id).unlink(missing_ok=True)  # deleted outside the engine
                deleted.append(job_id)
            time.sleep(0.01)

    thief = threading.Thread(target=delete_queued_uploads)
    thief.start()
    try:
        report = run(
            calls,
            tmp_path / "out",
            concurrency=3,
            api_key=engine.api_key,
            base_url=engine.base_url,
            progress=False,
            write_dataset=False,
        )
    finally:
        thief.join()
        engine.stop()
    assert deleted, "no job was queued long enough to lose its upload"
    assert report.counts["completed"] == 3 and report.counts["failed"] == 0, report.failed
    with sqlite3.connect(tmp_path / "out" / "manifest.sqlite") as db:
        rows = db.execute("SELECT job_id, generation FROM recordings").fetchall()
    assert not {job_id for job_id, _ in rows} & set(deleted)  # the lost jobs were never reused
    assert sum(gen for _, gen in rows) == len(deleted)
