"""`hearkit analyze X --save DIR` writes a folder of its own (U3 finding 29: --save naming the
recordings folder wrote calls.parquet, turns.parquet, … callset.json among the recordings; the next
batch of that folder listed them as skipped recordings). The installed command, as a user runs it."""

from __future__ import annotations

from pathlib import Path

from tests.batch import audio
from tests.batch.cli_run import flat, run


def test_save_into_a_folder_of_recordings_is_refused_before_transcribing(tmp_path: Path) -> None:
    recording = audio.stereo(tmp_path / "calls" / "call.wav", 2.0)
    before = sorted(p.name for p in (tmp_path / "calls").iterdir())
    refused = run(["analyze", str(recording), "--save", "calls"], tmp_path)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    said = flat(refused.stdout + refused.stderr)
    assert "calls is not empty: --save writes a new folder of its own" in said
    assert "Traceback" not in said
    assert sorted(p.name for p in (tmp_path / "calls").iterdir()) == before  # nothing written among them

    fine = run(["analyze", str(recording), "--save", "calls/hearkit-calls"], tmp_path)  # the suggested one
    assert fine.returncode == 0, fine.stdout + fine.stderr
    assert (tmp_path / "calls" / "hearkit-calls" / "callset.json").is_file()
