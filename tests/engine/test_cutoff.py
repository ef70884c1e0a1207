"""An upload cut off mid-body (a killed batch, a dropped connection) never becomes a job, nor a replay.

The cut-off request is written on a raw socket: headers that promise the whole file, then only
part of the body, then the connection closes. The same request sent again in full, with the same
``Idempotency-Key``, must create a fresh job from the full file (not replay anything).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx

from hearkit.engine import LocalEngine
from tests.engine.conftest import client_of, start_engine, wait_job

JOBS = "/v1/transcription/jobs"


def _multipart(engine: LocalEngine, audio: Path, idem_key: str) -> httpx.Request:
    return httpx.Request(
        "POST",
        engine.base_url + JOBS,
        files={"audio": ("call.wav", audio.read_bytes(), "audio/wav")},
        data={"call_id": "cut"},
        headers={"Authorization": f"Bearer {engine.api_key}", "Idempotency-Key": idem_key},
    )


def _send_cut(engine: LocalEngine, request: httpx.Request, keep: int) -> bytes:
    body = request.read()
    head = [f"POST {JOBS} HTTP/1.1", f"Host: 127.0.0.1:{engine.port}"]
    head += [f"{k}: {v}" for k, v in request.headers.items() if k.lower() != "host"]
    raw = ("\r\n".join(head) + "\r\n\r\n").encode() + body[:keep]
    with socket.create_connection(("127.0.0.1", engine.port), timeout=5) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)  # the client is gone: no more body will come
        sock.settimeout(5)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return answer


def test_a_cut_off_upload_creates_no_job_and_its_key_is_not_replayed(
    tmp_path: Path, audio: dict[str, Path]
) -> None:
    with start_engine(tmp_path) as engine, client_of(engine) as http:
        request = _multipart(engine, audio["long"], "batch-key-1")
        total = len(request.read())
        for keep in (0, 200, total // 2, total - 20):
            answer = _send_cut(engine, request, keep)
            assert b" 202 " not in answer.split(b"\r\n", 1)[0], (keep, answer[:200])
        # A body cut off before its closing boundary but sent with a matching Content-Length.
        for cut in (10, 4000):
            short = request.read()[:-cut]
            refused = http.post(
                JOBS, content=short, headers={"content-type": request.headers["content-type"]}
            )
            assert refused.status_code == 400, refused.text
        time.sleep(0.2)
        assert http.get(JOBS).json()["data"] == []  # nothing was created
        assert list((tmp_path / "audio").iterdir()) == []  # and no partial upload kept

        full = http.send(_multipart(engine, audio["long"], "batch-key-1"))
        assert full.status_code == 202, full.text
        assert "idempotent-replayed" not in full.headers
        job = wait_job(http, full.json()["job_id"]).json()
    assert job["status"] == "completed", job
    assert job["result"]["audio_seconds"] == 12.5  # the generator's length: the whole file arrived
