"""`hearkit analyze` on a mono call: the two-party default (speakers_expected) and the quality shown."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hearkit.cli.main import app
from tests.batch.audio import mono
from tests.cli.test_demo_analyze import flat, run


def test_speakers_out_of_range_is_refused_alike_by_analyze_and_batch(tmp_path: Path) -> None:
    """One rule for --speakers: 0 (the audio decides) to 6, the diarizer's limit, in both commands."""
    runner = CliRunner()
    analyze = runner.invoke(app, ["analyze", str(tmp_path / "x.wav"), "--mono", "--speakers", "7"])
    batch = runner.invoke(app, ["batch", str(tmp_path), "--out", str(tmp_path / "o"), "--speakers", "7"])
    refusals = []
    for done in (analyze, batch):
        assert done.exit_code == 2
        refusals.append(re.search(r"Invalid value for '--speakers'[^│]*", done.output))
    assert refusals[0] and refusals[1] and refusals[0][0] == refusals[1][0]
    assert "6" in refusals[0][0]
    helps = [
        runner.invoke(app, [name, "--help"], env={"COLUMNS": "400"}).output for name in ("analyze", "batch")
    ]
    assert all("0 lets the audio decide" in flat(text) for text in helps)


@pytest.mark.parametrize(
    ("count", "bound"), [("40", "less than or equal to 6"), ("0", "greater than or equal to 1")]
)
def test_remap_speakers_out_of_range_is_one_line_as_in_analyze(
    tmp_path: Path, count: str, bound: str
) -> None:
    """A trial's `remap --speakers 40` printed pydantic's dump of JobCreateParams and min/max_speakers."""
    done = CliRunner().invoke(app, ["remap", str(tmp_path), "--call", "c", "--speakers", count])
    assert done.exit_code == 2
    assert f"Invalid value for '--speakers': Input should be {bound}" in flat(done.output)
    assert "JobCreateParams" not in done.output and "pydantic" not in done.output


def test_analyze_speakers_0_lets_the_audio_decide(tmp_path: Path) -> None:
    """`analyze --speakers 0` was refused while `batch --speakers 0` meant "send no count"; now both
    send none. What was sent is read from the engine's own job table."""
    call = mono(tmp_path / "call.wav", 2.0, seed=3)
    done = run(["analyze", str(call), "--mono", "--speakers", "0"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the audio alone decides" in flat(done.stdout)
    with contextlib.closing(sqlite3.connect(tmp_path / "engine" / "engine.sqlite3")) as db:
        params = [json.loads(row[0]) for row in db.execute("SELECT params FROM jobs")]
    assert len(params) == 1 and params[0].get("diarize") is True
    assert "speakers_expected" not in params[0] or params[0]["speakers_expected"] is None


@pytest.mark.asr
def test_mono_call_is_two_party_and_its_quality_is_shown(tmp_path: Path, realdata: Path) -> None:
    """pyannote's real phone call (RTTM: 2 speakers) through the real engine as a user runs it."""
    sample = realdata / "pyannote_sample" / "sample.wav"
    # One run (a real transcription is the cost of this test): with --json the notes go to stderr.
    done = run(["analyze", str(sample), "--mono", "--json"], tmp_path, fake=False)
    assert done.returncode == 0, done.stderr
    assert "two-party call: 2 speaker(s) expected" in flat(done.stderr)
    record = json.loads(done.stdout)
    # The speakers are right (the RTTM's two); who is the rep nothing in the call tells (no greeting,
    # no caller cue: two people chatting), so the roles are flagged as a guess, and only they.
    assert [f["code"] for f in record["quality"]["flags"]] == ["roles_guessed"]
    assert record["quality"]["trust"] == "medium"
    assert record["quality"]["method"] == "diarization"
    assert record["quality"]["speakers_found"] == 2
    assert record["quality"]["speaker_count_margin"] is not None
