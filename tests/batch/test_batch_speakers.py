"""`hearkit batch` sends a speaker count with its mono recordings, and resumes old and changed batches
without transcribing a completed call again (real local engine on loopback, fake transcriber, real CLI)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hearkit.batch.manifest import Manifest
from hearkit.batch.runner import idempotency_key
from hearkit.cli.main import app
from hearkit.engine import LocalEngine
from tests.batch import audio

runner = CliRunner()


def _key(engine: LocalEngine, credit_seconds: float | None = None) -> str:
    assert engine.runtime is not None
    limits: dict[str, Any] = {} if credit_seconds is None else {"credit_seconds": credit_seconds}
    key, _row = engine.runtime.store.create_key(
        env="live", scopes=["hear:transcribe", "transcribe:jobs"], rps=100.0, burst=200, **limits
    )
    return key


def _batch(engine: LocalEngine, key: str, *args: str) -> tuple[int, str]:
    command = [
        "batch",
        *args,
        "--no-dataset",
        "--no-progress",
        "--api-key",
        key,
        "--base-url",
        engine.base_url,
    ]
    result = runner.invoke(app, command)
    return result.exit_code, " ".join(result.output.split())


def _sent(engine: LocalEngine, out: Path) -> dict[str, dict[str, Any]]:
    """call_id -> the options the engine received for that call's job (completed calls)."""
    assert engine.runtime is not None
    sent = {}
    with Manifest(out) as manifest:
        for row in manifest.rows("completed"):
            assert row.job_id is not None
            job = engine.runtime.store.get_job(row.job_id)
            assert job is not None
            sent[row.call_id] = job.params
    return sent


def test_mono_calls_are_sent_as_two_party_calls_and_stereo_ones_keep_their_key(tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    audio.mono(src / "mono.wav", 2.0)
    audio.stereo(src / "two_party.wav", 2.0)
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        code, text = _batch(engine, engine.api_key, str(src), "--out", str(out))
        assert code == 0, text
        sent = _sent(engine, out)
    assert "two-party calls, 2 speaker(s) expected unless the audio strongly says otherwise" in text
    assert sent["mono"]["diarize"] is True and sent["mono"]["speakers_expected"] == 2
    assert sent["two_party"]["channel"] is True and "speakers_expected" not in sent["two_party"]
    with Manifest(out) as manifest:
        stereo = next(r for r in manifest.rows() if r.call_id == "two_party")
    # A stereo recording's key is the one hearkit gave it before the option existed: content + channel.
    assert stereo.idempotency_key == idempotency_key(stereo.rec_id, {"channel": True})


def test_speakers_option_and_zero_sends_none(tmp_path: Path) -> None:
    audio.mono(tmp_path / "a" / "x.wav", 2.0)
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        code, text = _batch(
            engine,
            engine.api_key,
            str(tmp_path / "a"),
            "--out",
            str(tmp_path / "o3"),
            "--mono",
            "--speakers",
            "3",
        )
        assert code == 0, text
        assert _sent(engine, tmp_path / "o3")["x"]["speakers_expected"] == 3
        code, text = _batch(
            engine,
            engine.api_key,
            str(tmp_path / "a"),
            "--out",
            str(tmp_path / "o0"),
            "--mono",
            "--speakers",
            "0",
        )
        assert code == 0, text
        assert "speakers_expected" not in _sent(engine, tmp_path / "o0")["x"]
    assert "no speaker count sent" in text


def test_a_speaker_count_out_of_range_is_refused(tmp_path: Path) -> None:
    audio.mono(tmp_path / "in" / "a.wav", 1.0)
    result = runner.invoke(
        app, ["batch", str(tmp_path / "in"), "--out", str(tmp_path / "o"), "--speakers", "7"]
    )
    assert result.exit_code == 2 and "--speakers" in result.output
    from hearkit.batch import run

    with pytest.raises(ValueError, match="speakers_expected must be 0"):
        run(tmp_path / "in", tmp_path / "o", speakers_expected=-1, dry_run=True, progress=False)


def _partial_batch(tmp_path: Path, engine: LocalEngine, *extra: str) -> Path:
    """Four 1 s mono calls, a key with 2 s of credit: 2 complete, 2 stay pending (the 402 stops the run)."""
    src, out = tmp_path / "in", tmp_path / "out"
    for i in range(4):
        audio.mono(src / f"c{i}.wav", 1.0, seed=i)
    code, text = _batch(
        engine, _key(engine, 2.0), str(src), "--out", str(out), "--mono", "--concurrency", "1", *extra
    )
    assert code == 3, text  # stopped cleanly: out of credit
    with Manifest(out) as manifest:
        assert manifest.counts()["completed"] == 2 and manifest.counts()["pending"] == 2
    return out


def _forget_speaker_setting(out: Path) -> None:
    """Make the manifest the one a hearkit before this option wrote: its settings have no speakers."""
    with Manifest(out) as manifest:
        with manifest._tx() as db:
            db.execute("DELETE FROM settings WHERE key = 'speakers'")
        assert "speakers" not in manifest.settings()


def test_an_old_batch_resumes_as_it_was_sent_and_nothing_is_transcribed_twice(tmp_path: Path) -> None:
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        out = _partial_batch(tmp_path, engine, "--speakers", "0")
        _forget_speaker_setting(out)
        assert engine.runtime is not None
        jobs = engine.runtime.store.count_jobs()
        code, text = _batch(engine, _key(engine), str(tmp_path / "in"), "--out", str(out), "--mono")
        assert code == 0, text
        assert engine.runtime.store.count_jobs() == jobs + 2  # only the two pending calls were sent
        sent = _sent(engine, out)
    assert len(sent) == 4 and all("speakers_expected" not in options for options in sent.values())
    assert "started before hearkit sent a speaker count" in text
    with Manifest(out) as manifest:
        assert manifest.settings()["speakers"] == 0  # migrated: stated from now on


def test_a_changed_speaker_count_is_honoured_for_the_calls_not_sent_yet(tmp_path: Path) -> None:
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        out = _partial_batch(tmp_path, engine, "--speakers", "0")
        first = set(_sent(engine, out))
        assert engine.runtime is not None
        jobs = engine.runtime.store.count_jobs()
        code, text = _batch(engine, _key(engine), "--out", str(out), "--speakers", "2")
        assert code == 0, text
        assert engine.runtime.store.count_jobs() == jobs + 2
        sent = _sent(engine, out)
        # A resume with the same command afterwards sends nothing and changes nothing.
        code, again = _batch(engine, _key(engine), "--out", str(out))
        assert code == 0, again
        assert engine.runtime.store.count_jobs() == jobs + 2
    assert {c: o.get("speakers_expected") for c, o in sent.items()} == {
        c: (None if c in first else 2) for c in sent
    }
    assert re.search(r"2 mono call\(s\) completed earlier with another speaker count \(c\d, c\d\)", text)
    assert "hearkit remap" in text
    assert "two-party calls, 2 speaker(s) expected" in again


def test_the_printed_resume_command_keeps_the_batch_options(tmp_path: Path) -> None:
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        out = _partial_batch(tmp_path, engine, "--numerals")
        code, text = _batch(engine, _key(engine), "--out", str(out))  # as print_report says to resume
        assert code == 0, text
        sent = _sent(engine, out)
        refused = _batch(engine, _key(engine), "--out", str(out), "--stereo")
    assert all(o["numerals"] is True and o["speakers_expected"] == 2 for o in sent.values())
    assert refused[0] == 2 and "started with other options" in refused[1]
