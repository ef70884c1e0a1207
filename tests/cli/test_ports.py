"""`hearkit serve` and `hearkit webhooks listen` on a port that is taken, as subprocesses.

U3 finding 6's neighbour (finding 4): both defaulted to 8787; the second printed "listening on …"
and then died with uvicorn's "[Errno 98] error while attempting to bind".
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _hearkit(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HEARKIT_DATA_DIR": str(tmp_path / "engine"), "PYAI_WEBHOOK_SECRET": "whsec_x"}
    env |= {"HEARKIT_TRANSCRIBER": "fake", "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "hearkit.cli.main", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "command",
    [["serve"], ["webhooks", "listen", "--out", "runs"]],
    ids=["serve", "webhooks-listen"],
)
def test_a_taken_port_is_one_line_naming_port_and_nothing_claims_to_listen(
    tmp_path: Path, command: list[str]
) -> None:
    taken = socket.create_server(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    try:
        done = _hearkit([*command, "--port", str(port)], tmp_path)
    finally:
        taken.close()
    said = done.stdout + done.stderr
    assert done.returncode == 2, said
    assert f"port {port} on 127.0.0.1 is in use" in said and "--port" in said
    assert "listening" not in said and "hearkit engine:" not in said
    assert "Traceback" not in said and "Errno" not in said


def test_serve_and_webhooks_listen_default_to_different_ports(tmp_path: Path) -> None:
    defaults = []
    for command in (["serve"], ["webhooks", "listen"]):
        shown = _hearkit([*command, "--help"], tmp_path).stdout
        port_line = next(line for line in shown.splitlines() if "--port" in line)
        defaults.append(re.search(r"default: (\d+)", port_line))
    assert all(defaults), defaults
    serve_port, listen_port = (int(m.group(1)) for m in defaults if m)
    assert serve_port != listen_port


def test_serve_beyond_this_machine_needs_an_explicit_flag(tmp_path: Path) -> None:
    """U3 finding 16: --host 0.0.0.0 served API keys and recordings in plain HTTP on every interface."""
    refused = _hearkit(["serve", "--host", "0.0.0.0", "--port", "0"], tmp_path)
    said = refused.stdout + refused.stderr
    assert refused.returncode == 2, said
    assert "plain HTTP" in said and "--allow-insecure-http" in said and "Traceback" not in said
    assert "hearkit engine:" not in said


def test_the_local_key_serve_makes_says_that_the_created_keys_work_too(tmp_path: Path) -> None:
    """U8 note 1: `hearkit serve --create-key` printed key A, then `hearkit serve` minted and printed
    another, and the reader wondered which one to use. (The port is taken, so serve stops right after.)"""
    made = _hearkit(["serve", "--create-key"], tmp_path)
    assert made.returncode == 0 and made.stdout.strip().startswith("pyai_test_"), made.stderr
    taken = socket.create_server(("127.0.0.1", 0))
    try:
        done = _hearkit(["serve", "--port", str(taken.getsockname()[1])], tmp_path)
    finally:
        taken.close()
    assert "Created the local API key" in done.stderr
    assert "the 1 key(s) made with --create-key work too" in " ".join(done.stderr.split())


def test_serving_beyond_this_machine_says_who_can_mint_sandbox_keys(tmp_path: Path) -> None:
    """U8 note 5: with --allow-insecure-http on a LAN, anyone there could mint a sandbox key and
    transcribe for free, and nothing said so. (The port is taken, so serve stops right after.)"""
    taken = socket.create_server(("0.0.0.0", 0))
    port = str(taken.getsockname()[1])
    try:
        lan = _hearkit(["serve", "--host", "0.0.0.0", "--allow-insecure-http", "--port", port], tmp_path)
    finally:
        taken.close()
    said = " ".join(lan.stderr.split())
    assert "anyone who can reach this port can mint a sandbox key" in said
    assert "HEARKIT_SANDBOX_ENABLED=0" in said
