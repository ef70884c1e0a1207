"""A client that goes away mid-upload (a killed batch, a dropped connection) creates nothing and
leaves the server healthy, with no server-error traceback in its log."""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from hearkit.engine import LocalEngine
from tests.engine.conftest import client_of, start_engine


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


def _start_upload(engine: LocalEngine, length: int) -> socket.socket:
    url = urlsplit(engine.base_url)
    sock = socket.create_connection((url.hostname, url.port), timeout=20)
    head = (
        "POST /v1/transcription/jobs HTTP/1.1\r\n"
        f"Host: {url.hostname}:{url.port}\r\n"
        f"Authorization: Bearer {engine.api_key}\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )
    sock.sendall(
        head.encode() + b'--xyz\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n\r\nRIFF'
    )
    return sock


def _answer(sock: socket.socket, data: bytes = b"") -> bytes:
    """The whole HTTP answer (head and body), given what of it has arrived already."""
    sock.settimeout(20)
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _length(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _length(data: bytes) -> int:
    for line in data.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_an_upload_that_stops_arriving_is_answered_408_and_creates_nothing(tmp_path: Path) -> None:
    """A link that stalls mid-body (no FIN, no more bytes) held the request open for ever."""
    with start_engine(tmp_path, upload_idle_seconds=0.5) as engine, client_of(engine) as http:
        with _start_upload(engine, 100_000) as sock:  # 100 kB announced, a few bytes sent, then nothing
            answer = _answer(sock)  # only the server can end this exchange (the socket waits 20 s)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"stalled" in answer and b"no data arrived" in answer
        assert http.get("/v1/transcription/jobs").json()["data"] == []
        assert http.get("/v1/me").status_code == 200


def test_an_upload_trickling_in_below_the_minimum_rate_is_answered_408(tmp_path: Path) -> None:
    with (
        start_engine(tmp_path, upload_idle_seconds=0.6, upload_min_bytes_per_second=2000) as engine,
        client_of(engine) as http,
    ):
        with _start_upload(engine, 100_000) as sock:
            sock.settimeout(0.2)
            answer = b""
            for _ in range(100):  # 20 bytes every 0.1 s: 200 bytes/s, never idle for 0.6 s
                try:
                    sock.sendall(b"x" * 20)
                    answer += sock.recv(65536)
                except TimeoutError:
                    continue
                except OSError:  # the server closed the connection after answering
                    break
                if b"\r\n\r\n" in answer:
                    answer = _answer(sock, answer)
                    break
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"bytes/s" in answer
        assert http.get("/v1/transcription/jobs").json()["data"] == []
        # a whole upload at an ordinary pace is still taken
        created = http.post("/v1/transcription/jobs", files={"audio": ("a.wav", _wav_bytes())})
        assert created.status_code == 202, created.text


def _wav_bytes() -> bytes:
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(b"\x00\x01" * 16_000)
    return buffer.getvalue()
