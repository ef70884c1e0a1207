"""A glob the shell expanded gets a hint to quote it (U3 finding 27: typer's bare "Got unexpected
extra argument(s) (calls/ps_copy.wav …)"). The installed command, as a user runs it (the shell's
expansion is given here as the separate arguments it makes)."""

from __future__ import annotations

from pathlib import Path

from tests.batch import audio
from tests.batch.cli_run import flat, run


def test_an_expanded_glob_is_told_to_be_quoted(tmp_path: Path) -> None:
    for name in ("ps_a.wav", "ps_b.wav", "ps_c.wav"):
        audio.stereo(tmp_path / "calls" / name, 1.0)
    files = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "calls").glob("ps_*.wav"))
    done = run(["batch", *files, "--out", "runs", "--dry-run"], tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    said = flat(done.stderr)
    assert "one source, not 3" in said and "the shell expanded a glob into its files; quote it" in said
    assert not (tmp_path / "runs").exists()
    quoted = run(["batch", "calls/ps_*.wav", "--out", "runs", "--dry-run"], tmp_path)
    assert quoted.returncode == 0, quoted.stdout + quoted.stderr
