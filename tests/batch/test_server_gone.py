"""The server stops answering while a batch waits for its jobs (U8 finding 6: `hearkit batch` waited,
then ended with "not finished; resume with …" and no word of why)."""

from __future__ import annotations

import io
import sqlite3
import threading
import time
from pathlib import Path

from rich.console import Console

from hearkit.batch.console import print_report
from hearkit.batch.runner import RunnerSettings
from tests.batch import audio
from tests.batch.clients import run_batch
from tests.batch.engine_process import engine_process


def _submitted(out: Path) -> int:
    path = out / "manifest.sqlite"
    if not path.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return int(
                db.execute(
                    "SELECT COUNT(*) FROM recordings WHERE status = 'submitted' AND job_id IS NOT NULL"
                ).fetchone()[0]
            )
    except sqlite3.OperationalError:
        return 0


def test_a_batch_whose_server_went_away_says_why_it_did_not_finish(tmp_path: Path) -> None:
    audio.many_mono(tmp_path / "in", 2, seconds=0.2)
    out = tmp_path / "out"
    with engine_process(tmp_path / "engine", workers=1, HEARKIT_FAKE_DELAY="60") as engine:
        seen: list[int] = []

        def kill_once_submitted() -> None:
            # Both jobs exist (a job id: a row is `submitted` already while its create is sent) and wait
            # on the engine (60 s each) before it goes; the bound is only a safety net.
            deadline = time.monotonic() + 200
            while _submitted(out) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            seen.append(_submitted(out))
            engine.process.kill()

        killer = threading.Thread(target=kill_once_submitted)
        killer.start()

        settings = RunnerSettings(max_attempts=2, retry_backoff=0.02, poll_initial=0.05, poll_max=0.2)
        report = run_batch(engine.base_url, engine.api_key, tmp_path / "in", out, settings)
        killer.join()
    assert seen == [2], f"the jobs were not both submitted before the engine was stopped: {seen}"
    assert report.counts["submitted"] == 2, (
        report.counts,
        [(f.call_id, f.error[:200]) for f in report.failed],
    )
    assert len(report.unfinished) == 2
    assert all("could not reach" in u.error for u in report.unfinished)
    printed = io.StringIO()
    print_report(report, Console(file=printed, width=200))
    text = printed.getvalue()
    assert "2 not finished after errors" in text and "could not reach" in text
    assert f"resume with: hearkit batch --out {out}" in text
