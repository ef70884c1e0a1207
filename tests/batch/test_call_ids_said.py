"""Call ids the batch changes are said (U3 finding 11: ``jan/call1.flac``, ``jan/call1.ogg`` and
``feb/call1.wav`` became ``call1``, ``call1-c8403fcc``, ``call1-d5e386c2`` without a word, and
``Émile call #2.WAV`` lost its É). Subprocesses of the installed ``hearkit``, fake transcriber; the
expected ids are the file names this test gives."""

from __future__ import annotations

import re
from pathlib import Path

from hearkit.record import CallSet
from tests.batch import audio
from tests.batch.cli_run import flat, run


def test_suffixed_call_ids_are_named_with_their_files(tmp_path: Path) -> None:
    ids = tmp_path / "ids"
    audio.mono(ids / "feb" / "call1.wav", 1.0, seed=1)
    audio.mono(ids / "jan" / "call1.wav", 1.2, seed=2)
    audio.mono(ids / "mar" / "call1.wav", 1.4, seed=3)
    audio.mono(ids / "Émile call #2.WAV", 1.1, seed=4)

    dry = flat(run(["batch", "ids", "--out", "out", "--dry-run", "--no-progress"], tmp_path).stdout)
    assert "2 recording(s) share their name with another recording of the batch" in dry
    assert re.search(
        r"ids/jan/call1\.wav would be call call1-[0-9a-f]{8}: call call1 is \S+ids/feb/call1\.wav", dry
    )

    done = run(["batch", "ids", "--out", "out", "--no-progress"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    said = flat(done.stdout)
    frame = CallSet.load(tmp_path / "out").calls
    got = sorted(str(c) for c in frame["call_id"])
    assert got[0] == "call1" and "Émile_call_2" in got  # letters of any script kept
    for suffixed in (c for c in got if c.startswith("call1-")):
        source = frame.loc[frame["call_id"] == suffixed, "source"].iloc[0]
        assert f"{source} is call {suffixed}: call call1 is" in said

    again = flat(run(["batch", "ids", "--out", "out", "--no-progress"], tmp_path).stdout)
    assert "share their name" not in again  # said by the run that made them, not every resume
