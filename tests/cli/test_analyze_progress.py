"""`hearkit analyze` shows its job's state while it waits, on a terminal only (a one-hour call printed
nothing for minutes between "transcribing …" and the result). The command's analyze step against a
real engine on loopback (fake transcriber) with a console that is a terminal; a console that is not
one, and --json, draw nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from hearkit.cli import analysis
from hearkit.cli.waiting import job_progress
from hearkit.engine import LocalEngine
from tests.batch import audio


def test_the_job_state_is_shown_on_a_terminal(
    local_engine: LocalEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYAI_API_KEY", local_engine.api_key)
    monkeypatch.setenv("PYAI_BASE_URL", local_engine.base_url)
    recording = audio.stereo(tmp_path / "call.wav", 2.5, seed=31)
    said = io.StringIO()
    console = Console(file=said, force_terminal=True, width=200)
    analysis._analyze(console, str(recording), True, False, "c", new_job=True)
    text = said.getvalue()
    assert "job job_" in text and ": completed · 0:02 of audio" in text  # the last state the API reported


@pytest.mark.parametrize(("terminal", "show"), [(False, True), (True, False)])
def test_nothing_is_drawn_off_a_terminal_or_with_json(terminal: bool, show: bool) -> None:
    said = io.StringIO()
    console = Console(file=said, force_terminal=terminal, width=200)
    with job_progress(console, "job_x", 60.0, show=show) as on_progress:  # show=False: --json
        assert on_progress is None
    assert said.getvalue() == ""
