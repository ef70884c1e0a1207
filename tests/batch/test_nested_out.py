"""A batch output folder inside the source is not taken as recordings (U3 finding 21: a second
``--out`` inside the source folder took the first batch's combined two-leg FLAC as a new call, the
same conversation twice in the dataset, transcribed and billed again, and listed its JSON/Parquet/
SQLite files as skipped recordings). Subprocesses of the installed ``hearkit``, fake transcriber."""

from __future__ import annotations

from pathlib import Path

from hearkit.batch.manifest import Manifest
from hearkit.record import CallSet
from tests.batch import audio
from tests.batch.cli_run import flat, run


def _sources(out: Path) -> dict[str, str]:
    with Manifest(out) as manifest:
        return {row.call_id: row.source for row in manifest.rows()}


def test_a_second_out_inside_the_source_holds_the_same_calls(tmp_path: Path) -> None:
    nest = tmp_path / "nest"
    audio.write_wav(nest / "x_agent.wav", [audio.tone(3.0, 300)])
    audio.write_wav(nest / "x_caller.wav", [audio.tone(3.0, 700)])
    audio.stereo(nest / "b.wav", 2.0, seed=7)
    first = run(["batch", str(nest), "--out", str(nest / "out"), "--no-progress"], tmp_path)
    assert first.returncode == 0, first.stderr + first.stdout
    assert (nest / "out" / "legs").is_dir() and any((nest / "out" / "legs").glob("*.flac"))

    second = run(["batch", str(nest), "--out", str(nest / "out2"), "--no-progress"], tmp_path)
    assert second.returncode == 0, second.stderr + second.stdout
    assert sorted(_sources(nest / "out2")) == ["b", "x"]  # the two calls, not the legs FLAC of out/
    assert "skipped" not in flat(second.stdout + second.stderr).replace("0 skipped", "")
    assert sorted(CallSet.load(nest / "out2").calls["call_id"]) == ["b", "x"]

    # A glob over the source (outside it) leaves the output folders out too.
    third = run(["batch", str(nest / "**" / "*"), "--out", str(tmp_path / "out3"), "--no-progress"], tmp_path)
    assert third.returncode == 0, third.stderr + third.stdout
    assert sorted(_sources(tmp_path / "out3")) == ["b", "x"]
