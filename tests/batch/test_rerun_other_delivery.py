"""The same folder again into a new ``--out`` with another ``--webhook-url`` (or none), on the same
engine: every recording ended in a 409 ``idempotency_conflict`` (the key leaves delivery out, the
server compares the whole body), and ``--retry-failed`` sent the same key again. Now the earlier job
is found by this machine's index of sent jobs and reused (transcribed and billed once); a key the
index does not know fails with a line saying ``--retry-failed`` sends a new, billed job, and it does.
The real local engine over loopback HTTP with the real async client."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

from rich.console import Console

from hearkit.batch import BatchReport
from hearkit.batch.console import print_report
from hearkit.batch.manifest import Manifest
from hearkit.batch.runner import RunnerSettings
from hearkit.engine import LocalEngine
from tests.batch import audio
from tests.batch.test_batch_engine import _batch


def _job_ids(out: Path) -> set[str]:
    with Manifest(out) as manifest:
        return {str(row.job_id) for row in manifest.rows("completed")}


def _engine_jobs(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "engine.sqlite3") as db:
        return int(db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])


def _said(report: BatchReport) -> str:
    buffer = io.StringIO()
    print_report(report, Console(file=buffer, width=400))
    return " ".join(buffer.getvalue().split())


def test_a_rerun_with_another_delivery_reuses_the_jobs_or_says_how_to_send_new_ones(tmp_path: Path) -> None:
    for i in range(2):
        audio.mono(tmp_path / "in" / f"c{i}.wav", 0.5, seed=i)
    index = tmp_path / "sent.sqlite"

    def settings(sent: Path = index) -> RunnerSettings:
        return RunnerSettings(poll_initial=0.05, poll_max=0.3, webhook_poll=0.3, sent_jobs=sent)

    with LocalEngine(
        tmp_path / "engine", transcriber="fake", allow_private_urls=True, webhook_secret="whsec_rerun"
    ) as engine:
        key = engine.api_key

        def batch(out: str, **options: Any) -> BatchReport:
            return _batch(tmp_path / "in", tmp_path / out, engine.base_url, key, **options)

        first = batch("a", webhook_url="http://127.0.0.1:9/first", settings=settings())
        assert first.complete
        other = batch("b", webhook_url="http://127.0.0.1:9/second", settings=settings())
        plain = batch("c", settings=settings())  # no receiver at all this time
        for report in (other, plain):
            assert report.complete and report.reused_elsewhere == 2
            assert "2 recording(s) reused the job another batch folder created" in _said(report)
        assert "this run's --webhook-url is not called for them" in _said(other)
        assert _job_ids(tmp_path / "b") == _job_ids(tmp_path / "c") == _job_ids(tmp_path / "a")
        assert _engine_jobs(tmp_path / "engine") == 2  # transcribed (and billed) once

        # another machine (an index that does not know the keys): failed, and said how to force new jobs
        unknown = batch("d", settings=settings(tmp_path / "other.sqlite"))
        assert unknown.counts["failed"] == 2
        said = _said(unknown)
        assert "2 sent in the last 24 h with the same options and another --webhook-url" in said
        assert "--retry-failed sends them as new jobs (transcribed again, and billed again" in said
        retried = _batch(
            None,
            tmp_path / "d",
            engine.base_url,
            key,
            retry_failed=True,
            settings=settings(tmp_path / "o.sqlite"),
        )
        assert retried.complete and not _job_ids(tmp_path / "d") & _job_ids(tmp_path / "a")
        assert _engine_jobs(tmp_path / "engine") == 4
