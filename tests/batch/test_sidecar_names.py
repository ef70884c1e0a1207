"""Sidecars named after the whole file are read, orphan sidecars are named, and a skipped file never
takes a recording's call id (U5 finding 15: `acme.wav.meta.json` was silently ignored, title and rep
lost; `orphan.meta.json` was said nowhere; a skipped `globex.json` made `globex.wav` the call
`globex-<hash>`). The metadata expected is what this test writes; subprocesses of the installed
command, fake transcriber."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hearkit.metadata import MetadataError, read_sidecar
from hearkit.record import CallSet
from tests.batch import audio
from tests.batch.cli_run import flat, run


def test_whole_name_sidecars_orphans_and_skipped_files(tmp_path: Path) -> None:
    side = tmp_path / "side"
    audio.stereo(side / "acme.wav", 1.0, seed=1)
    (side / "acme.wav.meta.json").write_text(json.dumps({"title": "Acme renewal", "rep": "Ana"}))
    audio.stereo(side / "globex.wav", 1.2, seed=2)
    (side / "globex.json").write_text(json.dumps({"title": "Globex", "rep": "Bo"}))
    (side / "orphan.meta.json").write_text(json.dumps({"title": "Nobody's"}))
    audio.mono(side / "x_agent.wav", 1.0, seed=3)
    audio.mono(side / "x_caller.wav", 1.0, seed=4)
    (side / "x.meta.json").write_text(json.dumps({"title": "Two legs"}))

    dry = flat(run(["batch", "side", "--out", "out", "--dry-run", "--no-progress"], tmp_path).stdout)
    assert "1 sidecar(s) belong to no recording" in dry and "side/orphan.meta.json" in dry
    done = run(["batch", "side", "--out", "out", "--no-progress"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    said = flat(done.stdout)
    assert "1 sidecar(s) belong to no recording" in said and "side/orphan.meta.json" in said
    assert "acme.wav.meta.json" not in said and "x.meta.json" not in said.replace("orphan.meta.json", "")
    calls = CallSet.load(tmp_path / "out").calls.set_index("call_id")
    assert sorted(calls.index) == ["acme", "globex", "x"]  # not globex-<hash>
    assert (calls.loc["acme", "title"], calls.loc["acme", "rep"]) == ("Acme renewal", "Ana")
    assert calls.loc["x", "title"] == "Two legs"


def test_two_sidecars_of_one_recording_are_refused(tmp_path: Path) -> None:
    recording = audio.mono(tmp_path / "call.wav", 0.5)
    (tmp_path / "call.meta.json").write_text('{"rep": "A"}')
    (tmp_path / "call.wav.meta.json").write_text('{"rep": "B"}')
    with pytest.raises(MetadataError, match=r"call\.meta\.json and call\.wav\.meta\.json are both sidecars"):
        read_sidecar(recording)
