"""`hearkit batch --formats srt,vtt` keeps the subtitles (U3 finding 28: only a signed link to the
embedded engine's ephemeral port was kept, dead as soon as the batch exited). Read after the
process ended, from the files alone. Subprocess of the installed ``hearkit``, fake transcriber."""

from __future__ import annotations

import json
from pathlib import Path

from tests.batch import audio
from tests.batch.cli_run import run


def test_the_subtitles_asked_for_are_files_after_the_batch(tmp_path: Path) -> None:
    audio.stereo(tmp_path / "calls" / "a.wav", 3.0)
    done = run(["batch", "calls", "--out", "out", "--formats", "srt,vtt", "--no-progress"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    srt = tmp_path / "out" / "calls" / "a.srt"
    vtt = tmp_path / "out" / "calls" / "a.vtt"
    assert srt.is_file() and vtt.is_file()
    assert "-->" in srt.read_text() and vtt.read_text().startswith("WEBVTT")
    kept = json.loads((tmp_path / "out" / "calls" / "a.json").read_text())["hearkit"]["format_files"]
    assert kept == {"srt": "calls/a.srt", "vtt": "calls/a.vtt"}
