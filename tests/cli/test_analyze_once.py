"""`hearkit analyze FILE` run again reuses its job, as `hearkit batch` does (U3 finding 25: two runs in a
row made two jobs, transcribed and on the hosted API billed twice). The installed command against the
embedded engine (fake transcriber), and the create helper against a real engine on loopback."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from rich.console import Console

from hearkit.cli import analysis
from hearkit.client import PyAI
from hearkit.engine import LocalEngine
from tests.batch import audio
from tests.cli.test_demo_analyze import flat, run

JOB = re.compile(r"\bjob_[A-Za-z0-9]+")


def _jobs_listed(tmp_path: Path) -> list[str]:
    listed = run(["jobs", "list"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    return sorted(set(JOB.findall(listed.stdout)))


def test_the_same_file_and_options_twice_is_one_job(tmp_path: Path) -> None:
    audio.stereo(tmp_path / "call.wav", 2.0)
    first = run(["analyze", "call.wav", "--json"], tmp_path)
    assert first.returncode == 0, first.stderr
    time.sleep(analysis.REPLAY_LEEWAY_S + 0.5)  # "look at the table, then run it again"
    second = run(["analyze", "call.wav"], tmp_path)
    assert second.returncode == 0, second.stderr
    said = flat(second.stdout + second.stderr)
    assert (
        "that job is reused, nothing is transcribed or billed again (--new-job transcribes it again)" in said
    )
    assert len(_jobs_listed(tmp_path)) == 1
    fresh = run(["analyze", "call.wav", "--new-job"], tmp_path)  # after an upgrade, say (U5 finding 19)
    assert fresh.returncode == 0 and "reused" not in flat(fresh.stdout + fresh.stderr)
    assert len(_jobs_listed(tmp_path)) == 2

    other = run(["analyze", "call.wav", "--mono"], tmp_path)  # other options: another transcript
    assert other.returncode == 0, other.stderr
    assert "reused" not in flat(other.stdout + other.stderr)
    assert len(_jobs_listed(tmp_path)) == 3


def test_a_cancelled_earlier_job_is_sent_again(
    local_engine: LocalEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(analysis, "REPLAY_LEEWAY_S", 0.0)  # the replay below comes right after
    recording = audio.mono(tmp_path / "c.wav", 1.5, seed=11)
    fields = {"channel": None, "diarize": True, "speakers_expected": 2}
    console = Console(file=open(tmp_path / "said.txt", "w"))  # noqa: SIM115
    with PyAI(api_key=local_engine.api_key, base_url=local_engine.base_url) as client:
        first = analysis._create_once(console, client, str(recording), False, dict(fields))
        client.jobs.wait(first, timeout=60)
        time.sleep(0.01)
        again = analysis._create_once(console, client, str(recording), False, dict(fields))
        assert again.job_id == first.job_id
        third = analysis._create_once(
            console, client, str(tmp_path / "c.wav"), False, {**fields, "speakers_expected": 3}
        )
        assert third.job_id != first.job_id
        local_engine.cancel(third.job_id, "cancelled by the test")
        time.sleep(0.01)
        fourth = analysis._create_once(
            console, client, str(recording), False, {**fields, "speakers_expected": 3}
        )
        assert fourth.job_id not in (first.job_id, third.job_id)
        time.sleep(0.01)
        fifth = analysis._create_once(
            console, client, str(recording), False, {**fields, "speakers_expected": 3}
        )
        assert fifth.job_id == fourth.job_id  # the job sent again is the one reused next
    console.file.close()
    said = (tmp_path / "said.txt").read_text()
    assert f"job {first.job_id}): that job is reused" in " ".join(said.split())
    assert f"the earlier job {third.job_id} of this recording ended" in " ".join(said.split())
