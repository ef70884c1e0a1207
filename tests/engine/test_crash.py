"""``hearkit serve`` as a real process: kill -9 mid-job, restart, nothing lost; ``--create-key``.

The server runs as a subprocess; the short key/secret commands run in-process (``CliRunner``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from hearkit.cli.main import app
from tests.engine.conftest import wait_job

JOBS = "/v1/transcription/jobs"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hearkit(*args: str, delay: float = 0.0) -> list[str]:
    return [sys.executable, "-m", "hearkit.cli.main", *args]


def _env(delay: float) -> dict[str, str]:
    return {
        **os.environ,
        "HEARKIT_TRANSCRIBER": "fake",
        "HEARKIT_FAKE_DELAY": str(delay),
        "HEARKIT_POLL_INTERVAL": "0.05",
    }


def _serve(data_dir: Path, port: int, delay: float) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        _hearkit("serve", "--port", str(port), "--data-dir", str(data_dir)),
        env=_env(delay),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.communicate()
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return process
        except httpx.TransportError:
            assert time.monotonic() < deadline, "hearkit serve did not start"
            time.sleep(0.1)


def test_kill_9_mid_job_then_restart_loses_nothing(tmp_path: Path, audio: dict[str, Path]) -> None:
    data_dir, port = tmp_path / "data", _free_port()
    server = _serve(data_dir, port, delay=1.5)
    api_key = (data_dir / "local_api_key").read_text().strip()
    headers = {"Authorization": f"Bearer {api_key}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
            ids = [
                http.post(JOBS, files={"audio": audio[name].read_bytes()}).json()["job_id"]
                for name in ("mono3", "stereo4", "long")
            ]
            first = wait_job(http, ids[0]).json()
            assert first["status"] == "completed"
            deadline = time.monotonic() + 20
            while http.get(f"{JOBS}/{ids[1]}").json()["status"] != "running":
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        os.kill(server.pid, signal.SIGKILL)
        out, _ = server.communicate(timeout=10)
    assert server.returncode == -signal.SIGKILL
    assert api_key in out  # a fresh data dir prints its new local key
    assert {p.name for p in (data_dir / "audio").iterdir()} == set(ids[1:])  # unfinished uploads survive

    restarted = _serve(data_dir, port, delay=0.0)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
            assert http.get(f"{JOBS}/{ids[0]}").json() == first  # the completed job is untouched
            done = [wait_job(http, job_id).json() for job_id in ids[1:]]
            assert [j["status"] for j in done] == ["completed", "completed"]
            assert [j["result"]["audio_seconds"] for j in done] == [4.0, 12.5]
            listed = http.get(JOBS).json()["data"]
            assert [j["job_id"] for j in listed] == ids[::-1]
            assert list((data_dir / "audio").iterdir()) == []

            runner = CliRunner()
            minted = runner.invoke(
                app,
                ["serve", "--create-key", "--data-dir", str(data_dir), "--live", "--credit-seconds", "60"],
            )
            assert minted.exit_code == 0, minted.output
            live_key = minted.stdout.strip()
            assert live_key.startswith("pyai_live_")
            me = httpx.get(
                f"http://127.0.0.1:{port}/v1/me", headers={"Authorization": f"Bearer {live_key}"}
            ).json()
            assert me["env"] == "live" and me["credit"]["gated"] is True
            database = (data_dir / "engine.sqlite3").read_bytes().decode("latin-1")
            assert live_key not in database  # stored hashed
            shown = runner.invoke(app, ["serve", "--show-webhook-secret", "--data-dir", str(data_dir)])
            status = http.get("/v1/webhooks/signing-secret").json()
            assert shown.stdout.strip().startswith("whsec_")
            assert shown.stdout.strip()[-4:] == status["last4"]
    finally:
        restarted.send_signal(signal.SIGTERM)
        out, _ = restarted.communicate(timeout=20)
    assert api_key not in out  # not a fresh data dir: the key is not printed again
