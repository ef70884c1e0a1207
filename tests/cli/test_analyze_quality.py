"""`hearkit analyze` on a mono call: the two-party default (speakers_expected) and the quality shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_demo_analyze import flat, run


def test_speakers_out_of_range_is_refused(tmp_path: Path) -> None:
    done = run(["analyze", str(tmp_path / "x.wav"), "--mono", "--speakers", "0"], tmp_path)
    assert done.returncode != 0
    assert "--speakers" in flat(done.stderr)


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
