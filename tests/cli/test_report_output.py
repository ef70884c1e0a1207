"""`hearkit report -o` never replaces a file that is not a report (U3 finding 23: `-o` naming a
recording overwrote the customer's recording with the HTML report, rc 0). The installed command
as a user runs it."""

from __future__ import annotations

from pathlib import Path

from tests.batch import audio
from tests.batch.cli_run import flat, run


def test_report_refuses_to_overwrite_a_recording_and_replaces_an_old_report(tmp_path: Path) -> None:
    recording = audio.stereo(tmp_path / "call.wav", 1.0)
    before = recording.read_bytes()
    refused = run(["report", "sample", "-o", "call.wav", "--audio", "none", "--cdn"], tmp_path)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "-o call.wav is an existing file that is not an HTML page" in flat(refused.stderr)
    assert recording.read_bytes() == before  # the recording is intact

    (tmp_path / "folder").mkdir()
    into_folder = run(["report", "sample", "-o", "folder", "--audio", "none", "--cdn"], tmp_path)
    assert into_folder.returncode == 2
    assert "-o folder is a folder" in flat(into_folder.stderr)

    old = tmp_path / "old.html"
    old.write_text("<html>an earlier report</html>")
    replaced = run(["report", "sample", "-o", "old.html", "--audio", "none", "--cdn"], tmp_path)
    assert replaced.returncode == 0, replaced.stdout + replaced.stderr
    assert "replaced the file that was there" in flat(replaced.stdout)
    assert "an earlier report" not in old.read_text()
