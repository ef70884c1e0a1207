"""Two files with the same recording: the one with the sidecar is the call, and every run says which
copy was left out (U3 finding 1: the alphabetically first copy, without the sidecar, was kept; the
sidecar's title/rep/team were lost, and only the dry run mentioned the duplicate). Subprocesses of
the installed ``hearkit``, fake transcriber."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hearkit.record import CallSet
from tests.batch import audio
from tests.batch.cli_run import flat, run


def test_the_copy_with_the_sidecar_is_kept_and_the_other_is_listed(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    audio.stereo(calls / "ps_wav.wav", 2.0)
    (calls / "ps_wav.meta.json").write_text(json.dumps({"title": "Pyannote phone call", "rep": "Diane"}))
    shutil.copyfile(calls / "ps_wav.wav", calls / "ps_copy.wav")  # sorts first, no sidecar
    audio.stereo(calls / "other.wav", 2.5, seed=7)

    done = run(["batch", "calls", "--out", "out", "--no-progress"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    said = flat(done.stdout + done.stderr)
    assert "1 duplicates, not sent" in said
    assert "ps_copy.wav" in said and "that one has the sidecar" in said
    frame = CallSet.load(tmp_path / "out").calls.set_index("call_id")
    assert sorted(frame.index) == ["other", "ps_wav"]
    assert frame.loc["ps_wav", "title"] == "Pyannote phone call" and frame.loc["ps_wav", "rep"] == "Diane"

    again = run(["batch", "calls", "--out", "out", "--no-progress"], tmp_path)  # a resume says it too
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 duplicates, not sent" in flat(again.stdout + again.stderr)
