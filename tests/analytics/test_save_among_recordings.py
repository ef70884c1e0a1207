"""CallSet.save refuses a folder of recordings (U4 finding 27's remainder: the six files were written
among a .wav and a user's file without a word; the next `hearkit batch` of that folder listed them as
skipped files and CallSet.load read the recordings folder as a saved set)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hearkit.record import CallSet


def test_a_folder_of_recordings_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    calls = CallSet.load_sample()
    (tmp_path / "call.WAV").write_bytes(b"RIFF")
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"holds recordings \(call\.WAV\).*hearkit-calls"):
        calls.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["call.WAV", "notes.txt"]
    saved = calls.save(tmp_path / "hearkit-calls")  # the folder the message names
    assert len(CallSet.load(saved)) == len(calls)


def test_a_folder_with_other_files_but_no_recording_still_takes_the_set(tmp_path: Path) -> None:
    (tmp_path / "analysis.ipynb").write_text("{}")
    calls = CallSet.load_sample()
    calls.save(tmp_path)
    assert len(CallSet.load(tmp_path)) == len(calls)
