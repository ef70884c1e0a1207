"""``hearkit jobs ...`` against the real local engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import srt
from typer.testing import CliRunner

from hearkit.cli.main import app
from hearkit.client import PyAI
from hearkit.engine import LocalEngine
from hearkit.schema import Job

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="module")
def cli_job(local_engine: LocalEngine) -> Job:
    with PyAI(local_engine.api_key, base_url=local_engine.base_url) as client:
        audio = sorted(SAMPLE.glob("*.stereo.ogg"))[0]
        return client.jobs.create(audio, channel=True, output_formats=["json", "srt"])


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, local_engine: LocalEngine) -> None:
    monkeypatch.setenv("PYAI_API_KEY", local_engine.api_key)
    monkeypatch.setenv("PYAI_BASE_URL", local_engine.base_url)


def test_wait_get_list_and_result(env: None, cli_job: Job, tmp_path: Path) -> None:
    runner = CliRunner()
    waited = runner.invoke(app, ["jobs", "wait", cli_job.job_id, "--timeout", "60"])
    assert waited.exit_code == 0, waited.output
    assert waited.stdout.strip().splitlines()[-1] == "completed"
    got = runner.invoke(app, ["jobs", "get", cli_job.job_id])
    assert got.exit_code == 0
    assert json.loads(got.stdout)["status"] == "completed"
    listed = runner.invoke(app, ["jobs", "list", "--all", "--limit", "1", "--json"])
    assert cli_job.job_id in [json.loads(line)["job_id"] for line in listed.stdout.splitlines()]
    plain = runner.invoke(app, ["jobs", "list"])
    assert cli_job.job_id in plain.stdout
    as_json = runner.invoke(app, ["jobs", "result", cli_job.job_id])
    assert json.loads(as_json.stdout)["segments"]
    out = tmp_path / "call.srt"
    saved = runner.invoke(app, ["jobs", "result", cli_job.job_id, "--format", "srt", "-o", str(out)])
    assert saved.exit_code == 0
    assert list(srt.parse(out.read_text()))


def test_errors_exit_1_with_the_message(env: None) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["jobs", "get", "job_000000000000000000000000"])
    assert missing.exit_code == 1
    assert "404 not_found" in missing.stderr
    bad_format = runner.invoke(app, ["jobs", "result", "job_x", "--format", "docx"])
    assert bad_format.exit_code == 2


def test_wait_on_a_failing_job_exits_1_with_its_error(env: None, local_engine: LocalEngine) -> None:
    with PyAI(local_engine.api_key, base_url=local_engine.base_url) as client:
        job = client.jobs.create(b"this is not audio" * 8)
    result = CliRunner().invoke(app, ["jobs", "wait", job.job_id, "--timeout", "60"])
    assert result.exit_code == 1
    assert f"Job {job.job_id} ended failed" in result.stderr


def test_one_page_of_several_says_there_are_more(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A new-user check: `hearkit jobs list` printed 20 jobs of 80+ and stopped, saying nothing."""
    with LocalEngine(tmp_path / "engine", transcriber="fake", poll_interval=0.05) as engine:
        monkeypatch.setenv("PYAI_API_KEY", engine.api_key)
        monkeypatch.setenv("PYAI_BASE_URL", engine.base_url)
        with PyAI(engine.api_key, base_url=engine.base_url) as client:
            made = {client.jobs.create(b"this is not audio" * 8).job_id for _ in range(2)}
        runner = CliRunner()
        page = runner.invoke(app, ["jobs", "list", "--limit", "1"])
        assert page.exit_code == 0
        assert len(page.stdout.splitlines()) == 1
        assert "--all" in page.stderr
        whole = runner.invoke(app, ["jobs", "list", "--limit", "2"])
        assert {line.split()[0] for line in whole.stdout.splitlines()} == made
        assert whole.stderr == ""
        every = runner.invoke(app, ["jobs", "list", "--all", "--limit", "1"])
        assert {line.split()[0] for line in every.stdout.splitlines()} == made
        assert every.stderr == ""


def test_a_key_on_the_command_line_is_warned_about(
    local_engine: LocalEngine, monkeypatch: pytest.MonkeyPatch, cli_job: Job
) -> None:
    """U8 note 13: `hearkit jobs … --api-key KEY` puts the key in `ps` and the shell history, the reason
    `webhooks listen --secret` was deprecated; from PYAI_API_KEY it is not warned about."""
    monkeypatch.setenv("PYAI_BASE_URL", local_engine.base_url)
    monkeypatch.delenv("PYAI_API_KEY", raising=False)
    given = CliRunner().invoke(app, ["jobs", "get", cli_job.job_id, "--api-key", local_engine.api_key])
    assert given.exit_code == 0, given.output
    assert "visible to every user of this machine in `ps`" in given.stderr
    assert local_engine.api_key not in given.stderr
    monkeypatch.setenv("PYAI_API_KEY", local_engine.api_key)
    from_env = CliRunner().invoke(app, ["jobs", "get", cli_job.job_id])
    assert from_env.exit_code == 0 and "ps" not in from_env.stderr
