"""A batch folder computed by another analysis says how to recompute it, and the rebuild it names
(no transcription) makes the warning go (U5 finding 19). Subprocesses of the installed command."""

from __future__ import annotations

import json
from pathlib import Path

from tests.batch import audio
from tests.batch.cli_run import flat, run


def test_report_of_a_stale_batch_names_the_rebuild(tmp_path: Path) -> None:
    audio.stereo(tmp_path / "calls" / "a.wav", 1.0)
    assert run(["batch", "calls", "--out", "out", "--no-progress"], tmp_path).returncode == 0
    meta_path = tmp_path / "out" / "dataset" / "callset.json"
    meta = json.loads(meta_path.read_text())
    meta["analysis"]["fingerprint"] = "0123456789abcdef"  # what an older hearkit wrote
    meta_path.write_text(json.dumps(meta))

    stale = run(["report", "out", "-o", "r.html", "--audio", "none"], tmp_path)
    assert stale.returncode == 0, stale.stdout + stale.stderr
    said = flat(stale.stderr)
    assert "computed by another version of hearkit's analysis" in said
    assert "run `hearkit batch --out out` to recompute them" in said  # the folder as the user named it

    rebuilt = run(["batch", "--out", "out", "--no-progress"], tmp_path)  # no transcription: a rebuild
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    fresh = run(["report", "out", "-o", "r.html", "--audio", "none"], tmp_path)
    assert fresh.returncode == 0 and "computed by" not in flat(fresh.stderr)
