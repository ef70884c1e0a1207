"""Batch options that cannot work are refused before anything is sent, and a folder whose every
recording failed for its options can be fixed (U3 findings 3, 20, 24, 31). Subprocesses of the
installed ``hearkit`` against the embedded engine with the fake transcriber."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.batch import audio
from tests.batch.cli_run import flat, run


def _statuses(out: Path) -> dict[str, int]:
    with sqlite3.connect(out / "manifest.sqlite") as db:
        return dict(db.execute("SELECT status, COUNT(*) FROM recordings GROUP BY status").fetchall())


def test_an_http_webhook_url_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    audio.stereo(tmp_path / "calls" / "a.wav", 2.0)
    out = tmp_path / "out"
    done = run(
        ["batch", "calls", "--out", str(out), "--webhook-url", "http://127.0.0.1:18788/hook"], tmp_path
    )
    assert done.returncode == 2, done.stdout + done.stderr
    text = flat(done.stdout + done.stderr)
    assert "--webhook-url must be an absolute https:// URL" in text
    assert "Traceback" not in text
    assert not out.exists()  # nothing stored: the next run with the right option starts clean


def test_a_request_a_local_server_refuses_is_let_go_and_retry_failed_sends_the_fixed_one(
    tmp_path: Path,
) -> None:
    """Against a `hearkit serve` of this machine the server decides on an http webhook URL (a test
    server may take it); when it refuses (400), the stored request is let go, the summary says to
    fix the option, and `--retry-failed` without it completes the batch (it re-sent the refused URL)."""
    from hearkit.engine import LocalEngine

    audio.stereo(tmp_path / "calls" / "a.wav", 2.0)
    with LocalEngine(tmp_path / "served", transcriber="fake") as engine:
        server = {"PYAI_API_KEY": engine.api_key, "PYAI_BASE_URL": engine.base_url}
        hook = "http://127.0.0.1:18788/webhooks/pyai"
        bad = run(
            ["batch", "calls", "--out", "out", "--webhook-url", hook, "--no-progress"],
            tmp_path,
            env_extra=server,
        )
        assert bad.returncode == 1, bad.stdout + bad.stderr
        said = flat(bad.stdout + bad.stderr)
        assert "webhook_url" in said and "1 refused by the server for the options sent" in said
        assert _statuses(tmp_path / "out") == {"failed": 1}
        fixed = run(["batch", "--out", "out", "--retry-failed", "--no-progress"], tmp_path, env_extra=server)
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        assert _statuses(tmp_path / "out") == {"completed": 1}


def test_stereo_on_mono_files_is_refused_in_the_dry_run_and_the_run(tmp_path: Path) -> None:
    calls = tmp_path / "tel"
    for n in range(3):
        audio.write_wav(calls / f"t{n}.wav", [audio.tone(2.0, 300 + 50 * n)])  # one channel each
    for extra in (["--dry-run"], []):
        done = run(["batch", "tel", "--out", "st", "--stereo", *extra], tmp_path)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "3 of them have one channel (t0.wav, t1.wav, t2.wav)" in flat(done.stdout + done.stderr)
        assert not (tmp_path / "st").exists()
    fine = run(["batch", "tel", "--out", "st", "--no-progress"], tmp_path)  # --auto, as it says
    assert fine.returncode == 0, fine.stdout + fine.stderr


def test_a_folder_where_every_recording_failed_takes_new_options(tmp_path: Path) -> None:
    audio.stereo(tmp_path / "calls" / "a.wav", 2.0)
    audio.stereo(tmp_path / "calls" / "b.wav", 2.5, seed=7)
    # An option the server refuses and hearkit does not check first (--formats is checked now).
    webhook = "https://exa mple.com/hook"
    bad = run(["batch", "calls", "--out", "out", "--webhook-url", webhook, "--no-progress"], tmp_path)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert _statuses(tmp_path / "out") == {"failed": 2}
    said = flat(bad.stdout + bad.stderr)
    assert "2 refused by the server for the options sent" in said
    assert "retry the failed ones" not in said  # the same request would be refused again
    fixed = run(["batch", "calls", "--out", "out", "--retry-failed", "--no-progress"], tmp_path)  # as it says
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert _statuses(tmp_path / "out") == {"completed": 2}
    # Once a call completed, other options are refused as before (a new job would be billed again).
    other = run(["batch", "calls", "--out", "out", "--mono", "--no-progress"], tmp_path)
    assert other.returncode == 2
    assert "was started with other options" in flat(other.stdout + other.stderr)


def test_the_resume_command_works_from_another_directory(tmp_path: Path) -> None:
    audio.stereo(tmp_path / "calls" / "a.wav", 2.0)
    first = run(["batch", "calls", "--out", "out", "--no-progress"], tmp_path)  # a relative source
    assert first.returncode == 0, first.stdout + first.stderr
    audio.stereo(tmp_path / "calls" / "b.wav", 2.5, seed=7)  # a new recording since
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    resumed = run(["batch", "--out", str(tmp_path / "out"), "--no-progress"], elsewhere)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert _statuses(tmp_path / "out") == {"completed": 2}


def test_out_naming_an_existing_file_is_one_line(tmp_path: Path) -> None:
    audio.stereo(tmp_path / "calls" / "a.wav", 2.0)
    (tmp_path / "notes.txt").write_text("my notes\n")
    done = run(["batch", "calls", "--out", "notes.txt"], tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--out notes.txt is a file, not a folder" in flat(done.stdout + done.stderr)
    assert "Traceback" not in done.stdout + done.stderr
    assert (tmp_path / "notes.txt").read_text() == "my notes\n"
