"""``hearkit batch`` and ``hearkit webhooks listen`` on the command line (typer's runner, in-process)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hearkit.cli.main import app
from hearkit.engine import LocalEngine
from tests.batch import audio

runner = CliRunner()


def test_dry_run_estimates_cost_lists_skips_and_sends_nothing(tmp_path: Path) -> None:
    audio.stereo(tmp_path / "in" / "a.wav", 60.0)
    audio.mono(tmp_path / "in" / "b.wav", 60.0)
    (tmp_path / "in" / "c.pdf").write_bytes(b"%PDF-1.4 not audio")
    result = runner.invoke(app, ["batch", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--dry-run"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    # No key and no URL: the embedded engine would do the work, which bills nothing. 2 minutes of
    # audio at the hosted API's rates: $0.0030 batch, $0.0060 realtime, said as a would-be price.
    assert "2 recording(s) to send" in text
    assert "$0: the local engine charges nothing (the hosted API would charge $0.0030 batch, $0.0060" in text
    assert "c.pdf" in text and "nothing was sent" in text
    assert not (tmp_path / "out" / "calls").exists()


def test_dry_run_for_the_hosted_api_prices_at_its_rates(tmp_path: Path) -> None:
    audio.stereo(tmp_path / "in" / "a.wav", 60.0)
    audio.mono(tmp_path / "in" / "b.wav", 60.0)
    args = ["batch", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--dry-run"]
    result = runner.invoke(app, args, env={"PYAI_API_KEY": "sk-test"})  # the hosted default URL
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "batch $0.0030 (realtime would be $0.0060)" in text
    assert "local engine" not in text


def test_run_then_reconcile_from_the_command_line(tmp_path: Path) -> None:
    audio.mono(tmp_path / "in" / "a.wav", 2.0)
    audio.stereo(tmp_path / "in" / "b.wav", 3.0)
    out = tmp_path / "out"
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        args = ["batch", str(tmp_path / "in"), "--out", str(out), "--no-dataset"]
        args += ["--api-key", engine.api_key, "--base-url", engine.base_url]
        result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 completed" in result.output
    # stdout is not a terminal here: one plain progress line per finished recording, not a bar
    assert "batch 1/2 · audio" in result.output and "batch 2/2 · audio" in result.output
    # a server on this machine is hearkit's own engine: no dollar figure reads as a charge
    assert "batch 2/2 · audio 0.00 h · $0 (local engine)" in result.output
    assert "$0: the local engine charges nothing" in " ".join(result.output.split())
    checked = runner.invoke(app, ["batch", "--reconcile", str(out)])
    assert checked.exit_code == 0, checked.output
    assert "0 mismatch(es)" in checked.output
    assert "billed 5.000 s, transcribed 5.000 s" in checked.output


def test_bad_command_lines_say_what_to_do(tmp_path: Path) -> None:
    no_out = runner.invoke(app, ["batch", str(tmp_path)])
    assert no_out.exit_code != 0 and "--out" in no_out.output
    both = runner.invoke(app, ["batch", str(tmp_path), "--out", str(tmp_path / "o"), "--stereo", "--mono"])
    assert both.exit_code != 0 and "one of" in both.output
    missing = runner.invoke(app, ["batch", str(tmp_path / "nope"), "--out", str(tmp_path / "o"), "--dry-run"])
    assert missing.exit_code == 2 and "not a folder" in missing.output
    reconcile = runner.invoke(app, ["batch", "--reconcile", str(tmp_path / "empty")])
    assert reconcile.exit_code == 2 and "--out folder" in reconcile.output
    listen = runner.invoke(
        app, ["webhooks", "listen", "--out", str(tmp_path)], env={"PYAI_WEBHOOK_SECRET": ""}
    )
    assert listen.exit_code != 0 and "secret" in listen.output


def test_a_refused_source_and_a_dry_run_leave_no_batch_folder_behind(tmp_path: Path) -> None:
    """A new-user trial's batch of an empty folder (refused: no audio files) left out/manifest.sqlite."""
    (tmp_path / "empty").mkdir()
    out = tmp_path / "out"
    refused = runner.invoke(app, ["batch", str(tmp_path / "empty"), "--out", str(out)])
    assert refused.exit_code == 2 and "no audio files found" in refused.output
    assert not out.exists()
    audio.mono(tmp_path / "in" / "a.wav", 1.0)
    dry = runner.invoke(app, ["batch", str(tmp_path / "in"), "--out", str(out), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert not out.exists()  # "nothing is sent and no state is stored"


def test_a_batch_where_every_recording_is_skipped_fails(tmp_path: Path) -> None:
    manifest = tmp_path / "calls.csv"
    manifest.write_text("path\nmissing.wav\n", encoding="utf-8")
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        args = ["batch", str(manifest), "--out", str(tmp_path / "out"), "--no-dataset"]
        result = runner.invoke(app, [*args, "--api-key", engine.api_key, "--base-url", engine.base_url])
    assert result.exit_code == 1, result.output
    assert "file not found" in result.output
    assert "nothing was transcribed" in " ".join(result.output.split())
