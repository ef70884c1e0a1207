"""`hearkit analyze` shows its job's state while it waits, on a terminal only (a one-hour call printed
nothing for minutes between "transcribing …" and the result). The command's analyze step against a
real engine on loopback (fake transcriber), with a console that is a terminal, one that is not, and
--json."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from hearkit.cli import analysis
from hearkit.engine import LocalEngine
from tests.batch import audio


@pytest.mark.parametrize(
    ("terminal", "as_json", "shown"), [(True, False, True), (False, False, False), (True, True, False)]
)
def test_the_job_state_is_shown_on_a_terminal_only(
    local_engine: LocalEngine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    terminal: bool,
    as_json: bool,
    shown: bool,
) -> None:
    monkeypatch.setenv("PYAI_API_KEY", local_engine.api_key)
    monkeypatch.setenv("PYAI_BASE_URL", local_engine.base_url)
    recording = audio.stereo(tmp_path / "call.wav", 2.5, seed=31)
    said = io.StringIO()
    console = Console(file=said, force_terminal=terminal, width=200)
    analysis._analyze(console, str(recording), True, as_json, "c", new_job=True)
    text = said.getvalue()
    assert "transcribing" in text  # the console was used either way
    state = "job job_" in text and ": completed · 0:02 of audio" in text  # the last state the API reported
    assert state is shown, text
    if as_json:  # the record alone on stdout, still
        assert json.loads(capsys.readouterr().out)["call_id"] == "c"
