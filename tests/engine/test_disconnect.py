"""A client that goes away mid-upload (a killed batch, a dropped connection) creates nothing and
leaves the server healthy, with no server-error traceback in its log."""

from __future__ import annotations

import logging
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from hearkit.engine import LocalEngine


def test_upload_cut_off_mid_body_creates_nothing_and_logs_no_traceback(
    engine: LocalEngine, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    before = http.get("/v1/transcription/jobs", params={"limit": 100}).json()["data"]
    url = urlsplit(engine.base_url)
    head = (
        "POST /v1/transcription/jobs HTTP/1.1\r\n"
        f"Host: {url.hostname}:{url.port}\r\n"
        f"Authorization: Bearer {engine.api_key}\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        "Content-Length: 100000\r\n\r\n"
    )
    with caplog.at_level(logging.ERROR), socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(head.encode() + b'--xyz\r\nContent-Disposition: form-data; name="audio"\r\n\r\nRIFF')
        time.sleep(0.2)
    time.sleep(0.3)  # let the server notice the disconnect

    assert http.get("/v1/me").status_code == 200
    after = http.get("/v1/transcription/jobs", params={"limit": 100}).json()["data"]
    assert [job["job_id"] for job in after] == [job["job_id"] for job in before]
    assert not [r for r in caplog.records if "Exception in ASGI application" in r.getMessage()]
