"""Batches against the real local engine over loopback HTTP with the real async client."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from hearkit.batch import BatchReport, arun, reconcile, run
from hearkit.batch.manifest import Manifest
from hearkit.batch.runner import RunnerSettings
from hearkit.batch.webhook_listener import webhook_app, webhook_store
from hearkit.engine import LocalEngine
from tests.batch import audio
from tests.batch.clients import async_client
from tests.servers import serve

FAST = RunnerSettings(poll_initial=0.05, poll_max=0.3, retry_backoff=0.02)


def _batch(source: Path | None, out: Path, base_url: str, api_key: str, **options: Any) -> BatchReport:
    options.setdefault("settings", RunnerSettings(**vars(FAST)))
    options.setdefault("write_dataset", False)

    async def go() -> BatchReport:
        client = async_client(base_url, api_key)
        try:
            return await arun(source, out, client=client, progress=False, **options)
        finally:
            await client.close()

    return asyncio.run(go())


def _live_key(engine: LocalEngine, env: str = "live", **limits: Any) -> str:
    assert engine.runtime is not None
    key, _row = engine.runtime.store.create_key(
        env=env,
        scopes=["hear:transcribe", "transcribe:jobs"],
        rps=limits.pop("rps", 100.0),
        burst=limits.pop("burst", 200),
        **limits,
    )
    return key


def test_mixed_folder_modes_results_billing_and_a_resume_that_sends_nothing(tmp_path: Path) -> None:
    src = tmp_path / "in"
    audio.stereo(src / "two_party.wav", 4.0)
    audio.mono(src / "mono.wav", 3.0)
    audio.dual_mono(src / "dual.wav", 2.0)
    audio.one_silent(src / "silent_side.wav", 2.5)
    (src / "agenda.txt").write_text("not audio")
    out = tmp_path / "out"
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        report = _batch(src, out, engine.base_url, engine.api_key, concurrency=3)
        assert engine.runtime is not None
        jobs_after_first = engine.runtime.store.count_jobs()
        again = _batch(src, out, engine.base_url, engine.api_key, concurrency=3)
        assert engine.runtime.store.count_jobs() == jobs_after_first == 4
    assert report.complete and again.complete
    assert report.counts == {"pending": 0, "submitted": 0, "completed": 4, "failed": 0, "skipped": 1}
    assert "audio" in report.skipped[0].error
    expected = {"two_party": ("channel", 4.0), "mono": ("diarize", 3.0)}
    expected |= {"dual": ("diarize", 2.0), "silent_side": ("channel", 2.5)}
    for call_id, (mode, seconds) in expected.items():
        doc = json.loads((out / "calls" / f"{call_id}.json").read_text())
        assert doc["status"] == "completed"
        assert doc["hearkit"]["mode"] == mode
        assert doc["result"]["audio_seconds"] == pytest.approx(seconds, abs=0.01)
        channels = {seg.get("channel") for seg in doc["result"]["segments"]}
        # the silent side's channel 1 holds no speech: sent by channel, nobody is heard on it
        assert channels == ({None} if mode == "diarize" else {0} if call_id == "silent_side" else {0, 1})
    assert report.audio_seconds == pytest.approx(11.5, abs=0.05)
    assert report.billed_seconds == pytest.approx(11.5, abs=0.05)
    assert report.batch_usd == pytest.approx(11.5 / 60 * 0.0015, rel=0.01)
    assert report.realtime_usd == pytest.approx(2 * report.batch_usd)
    ledger = reconcile(out)
    assert len(ledger.jobs) == 4 and ledger.mismatches == []
    assert ledger.billed_seconds == pytest.approx(ledger.audio_seconds)


def test_reconcile_lists_mismatches(tmp_path: Path) -> None:
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        audio.mono(tmp_path / "in" / "a.wav", 1.0, seed=1)
        audio.mono(tmp_path / "in" / "b.wav", 2.0, seed=2)
        _batch(tmp_path / "in", tmp_path / "out", engine.base_url, engine.api_key)
    with Manifest(tmp_path / "out") as manifest:
        a, b = manifest.rows("completed")
        manifest.set_billed(a.rec_id, 1.5)  # as if the server billed half a second too much
        manifest._update(b.rec_id, "billed_seconds = NULL")  # as if the units header never came
    result = reconcile(tmp_path / "out")
    kinds = {job.call_id: (job.kind, job.difference) for job in result.mismatches}
    assert kinds == {"a": ("differs", pytest.approx(0.5, abs=0.01)), "b": ("result_without_units", None)}
    with pytest.raises(FileNotFoundError, match="--out folder"):
        reconcile(tmp_path / "nowhere")


def test_402_stops_cleanly_and_a_new_key_finishes_without_duplicates(tmp_path: Path) -> None:
    for i in range(8):
        audio.mono(tmp_path / "in" / f"c{i}.wav", 1.0, seed=i)
    out = tmp_path / "out"
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        poor = _live_key(engine, credit_seconds=3.0)
        stopped = _batch(tmp_path / "in", out, engine.base_url, poor, concurrency=1)
        assert stopped.stop_reason is not None and "credit" in stopped.stop_reason
        assert stopped.counts["completed"] == 3
        assert stopped.counts["pending"] == 5 and stopped.counts["failed"] == 0
        assert not stopped.complete
        rich = _live_key(engine, credit_seconds=100.0)
        resumed = _batch(None, out, engine.base_url, rich, concurrency=4)
        assert engine.runtime is not None
        assert engine.runtime.store.count_jobs() == 8
    assert resumed.complete and resumed.counts["completed"] == 8


def test_a_sandbox_daily_cap_stops_the_run_instead_of_waiting_for_midnight(tmp_path: Path) -> None:
    for i in range(4):
        audio.mono(tmp_path / "in" / f"c{i}.wav", 1.0, seed=i)
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        capped = _live_key(engine, env="test", daily_cap_seconds=2.0)
        report = _batch(tmp_path / "in", tmp_path / "out", engine.base_url, capped, concurrency=1)
    assert report.stop_reason is not None and "daily cap" in report.stop_reason
    assert report.counts["completed"] == 2 and report.counts["pending"] == 2


def test_429_slows_down_and_loses_nothing(tmp_path: Path) -> None:
    for i in range(20):
        audio.mono(tmp_path / "in" / f"c{i}.wav", 0.3, seed=i)
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        throttled = _live_key(engine, rps=30.0, burst=3)
        report = _batch(tmp_path / "in", tmp_path / "out", engine.base_url, throttled, concurrency=16)
        assert engine.runtime is not None
        assert engine.runtime.store.count_jobs() == 20
    assert report.rate_limited > 0
    assert report.complete and report.counts["completed"] == 20


def test_failed_jobs_are_listed_with_a_retry_command_and_retry_makes_a_new_job(tmp_path: Path) -> None:
    audio.mono(tmp_path / "in" / "short.wav", 1.0)
    audio.mono(tmp_path / "in" / "long.wav", 6.0)
    out = tmp_path / "out"
    with LocalEngine(tmp_path / "engine", transcriber="fake", max_audio_seconds=3.0) as engine:
        report = _batch(tmp_path / "in", out, engine.base_url, engine.api_key)
        (failed,) = report.failed
        assert failed.call_id == "long" and failed.job_id is not None
        assert failed.error and "failed" in failed.error
        assert report.retry_command == f"hearkit batch --out {out} --retry-failed"
        retried = _batch(None, out, engine.base_url, engine.api_key, retry_failed=True)
        assert engine.runtime is not None
        assert engine.runtime.store.count_jobs() == 3  # the retry is a new job, on purpose
    (again,) = retried.failed
    assert again.job_id not in (None, failed.job_id)
    assert retried.counts["completed"] == 1


def test_changed_options_and_missing_source_are_refused(tmp_path: Path) -> None:
    audio.mono(tmp_path / "in" / "a.wav", 1.0)
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        _batch(tmp_path / "in", tmp_path / "out", engine.base_url, engine.api_key, mode="mono")
        with pytest.raises(ValueError, match="other options"):
            _batch(tmp_path / "in", tmp_path / "out", engine.base_url, engine.api_key, mode="stereo")
    with pytest.raises(ValueError, match="holds no batch"):
        run(None, tmp_path / "empty", progress=False)


def test_webhook_events_wake_waiters_and_polling_covers_missing_events(tmp_path: Path) -> None:
    secret = "whsec_batch_test"
    for i in range(6):
        audio.mono(tmp_path / "in" / f"c{i}.wav", 0.5, seed=i)
    out = tmp_path / "out"
    with (
        LocalEngine(
            tmp_path / "engine", transcriber="fake", allow_private_urls=True, webhook_secret=secret
        ) as engine,
        serve(webhook_app(out, secret)) as listener,
    ):
        settings = RunnerSettings(poll_initial=0.05, webhook_poll=60.0)
        report = _batch(
            tmp_path / "in",
            out,
            engine.base_url,
            engine.api_key,
            webhook_url=f"{listener}/webhooks/pyai",
            settings=settings,
        )
    assert report.complete
    with Manifest(out) as manifest:
        job_ids = {row.job_id for row in manifest.rows("completed")}
    store = webhook_store(out)
    assert {event.job_id for event in store.events()} == job_ids
    store.close()

    # No receiver at all: every event is lost, polling still completes the batch.
    out2 = tmp_path / "out2"
    with LocalEngine(
        tmp_path / "engine2", transcriber="fake", allow_private_urls=True, webhook_secret=secret
    ) as engine:
        settings = RunnerSettings(poll_initial=0.05, webhook_poll=0.3)
        lost = _batch(
            tmp_path / "in",
            out2,
            engine.base_url,
            engine.api_key,
            webhook_url="http://127.0.0.1:9/nobody",
            settings=settings,
        )
    assert lost.complete and lost.counts["completed"] == 6
    store = webhook_store(out2)
    assert store.events() == []
    store.close()


def test_run_inside_a_running_event_loop(tmp_path: Path) -> None:
    """What a Jupyter cell does: call the blocking ``run`` while the notebook's loop is running."""
    audio.mono(tmp_path / "in" / "a.wav", 1.0)
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:

        async def cell() -> BatchReport:
            asyncio.get_running_loop()  # we are inside a loop, like IPython's
            return run(
                tmp_path / "in",
                tmp_path / "out",
                api_key=engine.api_key,
                base_url=engine.base_url,
                progress=False,
                write_dataset=False,
            )

        report = asyncio.run(cell())

        async def cell_with_own_client() -> BatchReport:
            return run(tmp_path / "in", tmp_path / "out", client=object(), progress=False)

        with pytest.raises(ValueError, match="arun"):
            asyncio.run(cell_with_own_client())
    assert report.complete and report.counts["completed"] == 1


def test_csv_batch_writes_a_dataset_callset_load_reads_in_one_call(tmp_path: Path) -> None:
    from hearkit.record import CallSet

    audio.stereo(tmp_path / "rec" / "a.wav", 6.0, seed=1)
    audio.stereo(tmp_path / "rec" / "b.wav", 4.0, seed=2)
    csv = tmp_path / "calls.csv"
    csv.write_text(
        "call_id,path,title,rep,customer,date\n"
        "acme-discovery,rec/a.wav,Discovery,Dana,Acme,2026-11-02\n"
        "globex-demo,rec/b.wav,Demo,Lee,Globex,2026-11-03\n"
    )
    out = tmp_path / "out"
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        report = _batch(csv, out, engine.base_url, engine.api_key, write_dataset=True)
    assert report.dataset_dir == out / "dataset"
    callset = CallSet.load(out / "dataset")
    calls = callset.calls.set_index("call_id")
    assert sorted(calls.index) == ["acme-discovery", "globex-demo"]
    assert calls.loc["acme-discovery", "rep"] == "Dana"
    assert calls.loc["globex-demo", "customer"] == "Globex"
    assert calls.loc["globex-demo", "title"] == "Demo"
    assert calls.loc["acme-discovery", "audio_seconds"] == pytest.approx(6.0, abs=0.01)
    assert calls.loc["acme-discovery", "diarization"] == "channel"
    # Turns come from the per-call JSON: one turn per segment the engine returned.
    for call_id in calls.index:
        doc = json.loads((out / "calls" / f"{call_id}.json").read_text())
        got = callset.turns[callset.turns["call_id"] == call_id]
        assert len(got) == len(doc["result"]["segments"])
        assert set(got["channel"].dropna()) == {0, 1}


def test_every_copy_of_a_file_that_is_not_audio_is_listed(tmp_path: Path) -> None:
    """U7 finding 2: two copies of one text file named .wav; the manifest keeps one row per content, so
    only one was listed as skipped and the other appeared nowhere. Each input file is named once."""
    src = tmp_path / "in"
    audio.mono(src / "call.wav", 1.0)
    (src / "text.wav").write_text("hello this is not audio")
    (src / "sub").mkdir()
    (src / "sub" / "x.wav").write_text("hello this is not audio")
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        report = _batch(src, tmp_path / "out", engine.base_url, engine.api_key)
    listed = [Path(f.source).name for f in [*report.skipped, *report.duplicates]]
    assert sorted(listed) == ["text.wav", "x.wav"]
    (duplicate,) = report.duplicates
    assert "same content" in duplicate.error and "skipped too" in duplicate.error
