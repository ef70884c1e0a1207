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


def test_one_report_of_two_folders_shows_each_call_once(tmp_path: Path) -> None:
    """U7 finding 17: a user with two months' saved calls ran `hearkit report OUT1 OUT2 -o report.html`
    (before: "Got unexpected extra argument", exit 2). One report of every folder's calls: the same call
    saved in two folders is shown once, from the first; another call saved under an id the first folder
    uses (``call_001`` of two months) is kept, renamed id@folder; one line says each."""
    from hearkit.record import CallSet

    sample = CallSet.load_sample()
    ids = sample.call_ids
    CallSet.from_records([sample.record(c) for c in ids[:4]]).save(tmp_path / "OUT1")
    CallSet.from_records([sample.record(c) for c in ids[3:6]]).save(tmp_path / "OUT2")
    other = sample.record(ids[6]).model_copy(update={"call_id": ids[0]})  # another call, a used id
    CallSet.from_records([other]).save(tmp_path / "OUT3")
    done = run(["report", "OUT1", "OUT2", "OUT3", "-o", "report.html", "--audio", "none", "--cdn"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = flat(done.stdout)
    assert "7 calls" in out  # six ids, and the other call renamed
    notes = [line for line in done.stdout.splitlines() if line.startswith("note:")]
    assert len(notes) == 2, done.stdout
    assert f"{ids[3]} in OUT1 and OUT2" in notes[0]
    assert f"{ids[0]} of OUT3 is {ids[0]}@OUT3" in notes[1]
    page = (tmp_path / "report.html").read_text()
    assert all(call_id in page for call_id in [*ids[:6], f"{ids[0]}@OUT3"])


def test_a_report_without_pyav_says_why_it_has_no_clips(tmp_path: Path) -> None:
    """U8 note 7: on the core install (no PyAV), `hearkit report` wrote the report without its clips and
    said nothing, where the [local] install says what it embeds. PyAV is made unimportable in the child."""
    import subprocess
    import sys

    out = tmp_path / "r.html"
    child = (
        "import sys; sys.modules['av'] = None\n"
        "from hearkit.cli.main import main\n"
        f"sys.argv = ['hearkit', 'report', 'sample', '-o', {str(out)!r}]\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "no audio clips: the recordings of 7 call(s) are at hand" in done.stderr
    assert "[local]" in done.stderr and out.is_file()


def test_a_source_that_is_no_folder_is_refused_before_the_analysis_loads(tmp_path: Path) -> None:
    """U8 note 11: `hearkit report key.txt -o r.html` took 18 s (load 8) to say "is a file, not a folder":
    the analysis modules were imported first."""
    import subprocess
    import sys

    (tmp_path / "key.txt").write_text("not a folder\n")
    child = (
        "import sys\n"
        "from hearkit.cli.main import main\n"
        "sys.argv = ['hearkit', 'report', 'key.txt', '-o', 'r.html']\n"
        "try:\n    main()\n"
        "except SystemExit as end:\n"
        "    print('exit', end.code, 'record' if 'hearkit.record' in sys.modules else '')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.stdout.split() == ["exit", "2"], done.stdout + done.stderr
    assert "key.txt is a file, not a folder" in done.stderr
