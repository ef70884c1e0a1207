"""`hearkit demo` after `hearkit analyze` of a sample recording reuses that job, as a second analyze
does, and says so (it created its own jobs, transcribing the calls again without a word). The demo's
transcription step and analyze's create step against a real engine on loopback (fake transcriber)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from rich.console import Console

from hearkit.cli import analysis
from hearkit.client import PyAI
from hearkit.engine import LocalEngine
from tests.batch import audio

REUSED = "1 of 2 calls reused the job of an earlier `hearkit analyze` or `hearkit demo`"


def test_demo_reuses_the_job_of_analyze_and_new_jobs_sends_again(
    local_engine: LocalEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(analysis, "REPLAY_LEEWAY_S", 0.0)  # the replays below come right after
    audio.stereo(tmp_path / "c1.wav", 1.0, seed=21)
    audio.stereo(tmp_path / "c2.wav", 1.0, seed=22)
    entries = [{"call_id": f"c{i}", "stereo": f"c{i}.wav", "duration_s": 1.0} for i in (1, 2)]
    assert local_engine.runtime is not None
    store = local_engine.runtime.store  # the session's engine: count the jobs this test adds
    said = io.StringIO()
    console = Console(file=said, width=400)
    with PyAI(api_key=local_engine.api_key, base_url=local_engine.base_url) as client:
        before = store.count_jobs()
        fields = {"channel": True, "diarize": None, "speakers_expected": None, "vocabulary": None}
        analyzed = analysis._create_once(console, client, str(tmp_path / "c1.wav"), False, fields)
        client.jobs.wait(analyzed, timeout=60)  # `hearkit analyze c1.wav` (a stereo file)
        time.sleep(0.01)

        _, reused = analysis.transcribe_all(client, tmp_path, entries, console)
        text = said.getvalue()
        assert reused == 1 and REUSED in text and "(--new-jobs transcribes them again)" in text
        assert store.count_jobs() == before + 2  # c1's job once, c2's new one

        time.sleep(0.01)
        said.truncate(0)
        _, reused = analysis.transcribe_all(client, tmp_path, entries, console, new_jobs=True)
        assert reused == 0 and "reused" not in said.getvalue()
        assert store.count_jobs() == before + 4
