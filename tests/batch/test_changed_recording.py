"""A recording replaced under the same file name is never cut for the old call's audio.

U3 finding 15/15b: after ``a.wav`` was overwritten with another recording, the report's clips of
the old call ``a`` (and ``record('a').play``) were cut from the new file: another recording's
audio under this call's transcript. The batch records each file's content hash; clips are cut only
while the file still has it. The commands run as a user runs them (subprocesses of the installed
``hearkit`` against the embedded engine with the fake transcriber: the words do not matter here).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hearkit.record import CallSet
from tests.batch import audio
from tests.batch.cli_run import run


def clip_ends(report: Path) -> list[float]:
    """The end (s) of every whole-recording clip the report embeds (= each call's duration)."""
    found = re.search(r'<script type="application/json" id="hk-audio">(.*?)</script>', report.read_text())
    assert found is not None
    clips = json.loads(found.group(1))["clips"]
    return sorted(entry["end"] for entries in clips.values() for entry in entries)


def test_a_replaced_recording_gives_no_clips_of_the_old_call(tmp_path: Path) -> None:
    calls, out = tmp_path / "calls", tmp_path / "out"
    audio.stereo(calls / "a.wav", 3.0)
    audio.stereo(calls / "b.wav", 2.0, seed=7)
    first = run(["batch", str(calls), "--out", str(out), "--no-progress"], tmp_path)
    assert first.returncode == 0, first.stderr + first.stdout

    before = run(["report", str(out), "-o", "before.html", "--audio", "full"], tmp_path)
    assert before.returncode == 0, before.stderr + before.stdout
    assert clip_ends(tmp_path / "before.html") == [2.0, 3.0]  # both calls' own recordings

    # The recorder reuses the name: a.wav is now another call (5 s, one tone).
    audio.write_wav(calls / "a.wav", [audio.tone(5.0, 440)])
    after = run(["report", str(out), "-o", "after.html", "--audio", "full"], tmp_path)
    assert after.returncode == 0, after.stderr + after.stdout
    assert clip_ends(tmp_path / "after.html") == [2.0]  # b only: nothing of a cut from the new file
    assert "changed since call 'a' was transcribed" in " ".join(after.stderr.split())
    assert "No audio of a: the recording changed" in (tmp_path / "after.html").read_text()

    record = CallSet.load(out).record("a")
    with pytest.raises(FileNotFoundError, match="changed since call 'a' was transcribed"):
        record.play(1.0)
    assert CallSet.load(out).record("b").play(1.0) is not None  # the unchanged file still plays

    # The next batch run takes the new file as a new call; the old call still gets no clip of it.
    again = run(["batch", str(calls), "--out", str(out), "--no-progress"], tmp_path)
    assert again.returncode == 0, again.stderr + again.stdout
    said = " ".join((again.stdout + again.stderr).replace("│", " ").split())
    assert f"{calls / 'a.wav'} changed since it was transcribed as call a: it is the new call a-" in said
    final = run(["report", str(out), "-o", "final.html", "--audio", "full"], tmp_path)
    assert final.returncode == 0, final.stderr + final.stdout
    assert clip_ends(tmp_path / "final.html") == [2.0, 5.0]  # b, and the new call from its own file
