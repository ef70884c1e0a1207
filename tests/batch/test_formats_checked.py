"""`hearkit batch --formats` values the jobs API refuses stop the batch before anything is made or
sent, the dry run too (U5 finding 13: `--formats pdf` passed the dry run, then every recording was
refused with a 400 one by one). The allowed formats are the API's: json, srt, vtt."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.batch import audio
from tests.batch.cli_run import flat, run


@pytest.mark.parametrize("dry", [True, False])
def test_an_unknown_format_is_one_line(tmp_path: Path, dry: bool) -> None:
    audio.mono(tmp_path / "calls" / "a.wav", 1.0)
    args = ["batch", "calls", "--out", "out", "--formats", "srt,pdf", "--no-progress"]
    done = run([*args, "--dry-run"] if dry else args, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    said = flat(done.stdout + done.stderr)
    assert said == (
        "error: --formats pdf: choose from srt, vtt (the JSON result is always written),"
        " e.g. --formats srt,vtt"
    )
    assert (
        not (tmp_path / "out").exists() and not (tmp_path / "engine").exists()
    )  # nothing made, nothing sent
