"""A role fix made with ``hearkit remap`` survives the next ``hearkit batch`` run over the same folder.

The batch rebuilds its dataset from the per-call JSON at the end of every run; before, a re-run put
the model's roles back and silently undid the user's fix (found in a new-user trial).
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hearkit.cli.main import app
from hearkit.engine import LocalEngine
from hearkit.frames import CALL_ID
from hearkit.record import CallSet
from tests.batch import audio

runner = CliRunner()


def _roles(out: Path, call: str) -> dict[str, str]:
    turns = CallSet.load(out).turns
    mine = turns[turns[CALL_ID] == call]
    return dict(zip(mine["speaker"].astype(str), mine["role"].astype(str), strict=False))


def test_a_role_fix_survives_a_batch_rerun(tmp_path: Path) -> None:
    calls, out = tmp_path / "calls", tmp_path / "out"
    audio.stereo(calls / "acme.wav", 3.0)
    audio.stereo(calls / "globex.wav", 2.0, seed=7)
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        batch = ["batch", str(calls), "--out", str(out), "--no-progress"]
        batch += ["--api-key", engine.api_key, "--base-url", engine.base_url]
        first = runner.invoke(app, batch)
        assert first.exit_code == 0, first.output
        before, other = _roles(out, "acme"), _roles(out, "globex")
        assert sorted(before.values()) == ["customer", "rep"]  # the channel convention
        rep = next(s for s, r in before.items() if r == "rep")
        customer = next(s for s, r in before.items() if r == "customer")

        fixed = runner.invoke(app, ["remap", str(out), "--call", "acme", "--rep", customer])
        assert fixed.exit_code == 0, fixed.output
        swapped = {rep: "customer", customer: "rep"}
        assert _roles(out, "acme") == swapped

        again = runner.invoke(app, batch)
        assert again.exit_code == 0, again.output
    assert _roles(out, "acme") == swapped  # kept through the rebuild
    assert _roles(out, "globex") == other  # the call not re-labelled is as the model left it
    turns = CallSet.load(out).turns
    assert set(turns.loc[turns[CALL_ID] == "acme", "role_source"].astype(str)) == {"user"}
