"""Issue 16: each fault found by attacking `hearkit serve`, attacked again (each test here fails on 238c42e).

1. webhook delivery steered to loopback by DNS rebinding (it was not pinned to the checked address);
2. the data dir and its databases world-readable (secrets inside);
3. bad input answered 500 (huge ``expires``, overflowing cursor, malformed URLs, huge ints, deep JSON);
4. an oversized upload not answered until drained, with no time bound;
5. the receiver's ``verify`` raising ``RecursionError`` on a deeply nested signed body;
6. 6to4 and other IPv6 forms of private IPv4 addresses passing the address policy;
and the "also seen" items: idempotency record and job in one transaction, unknown fields not
stored, the listener's secret off the command line, the duration read from the header first.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import re
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hearkit.batch.manifest import Manifest
from hearkit.engine.app import create_app
from hearkit.engine.delivery import WebhookDeliverer
from hearkit.engine.fetch import check_address
from hearkit.engine.settings import EngineSettings
from hearkit.engine.store import Store
from hearkit.engine.transcriber import AudioError
from hearkit.engine.worker import run_transcription
from hearkit.errors import WebhookPayloadError
from hearkit.webhooks import WebhookStore, sign, verify
from tests.engine.conftest import ThreadedServer, start_engine, wait_job

JOBS = "/v1/transcription/jobs"
REQUEST_ID = re.compile(r"req_[0-9a-f]{24}")


# -- fixtures ---------------------------------------------------------------------------------------
def _app(data_dir: Path) -> tuple[Any, str]:
    settings = EngineSettings(data_dir=data_dir, transcriber="fake", allow_private_urls=False)
    app = create_app(settings)
    key, _ = app.state.runtime.ensure_local_key()
    return app, key


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[TestClient]:
    """The real app through Starlette's ASGI test transport, with its local key.

    The lifespan is not run (no worker): jobs stay queued, nothing is fetched from the URLs used here.
    """
    app, key = _app(tmp_path / "data")
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["authorization"] = f"Bearer {key}"
    yield client
    client.close()
    app.state.runtime.store.close()


def _assert_400(response: Any, field: str | None = None) -> None:
    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json")
    if field is not None:
        assert field in response.json()["detail"]


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# -- 1. DNS rebinding of webhook deliveries -------------------------------------------------------
def test_webhook_delivery_connects_to_the_checked_address_not_a_rebound_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("hooks.example")
    ca_file, certfile, keyfile = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.private_key_pem.write_to_path(str(keyfile))
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    received: list[bytes] = []

    async def hook(request: Request) -> Response:
        received.append(await request.body())
        return Response(status_code=204)

    # The victim: a service listening on 127.0.0.1 only.
    victim = ThreadedServer(
        Starlette(routes=[Route("/hook", hook, methods=["POST"])]), certfile=certfile, keyfile=keyfile
    )
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if (host.decode() if isinstance(host, bytes) else host) != "hooks.example":  # anyio passes bytes
            return real_getaddrinfo(host, port, *args, **kwargs)
        # First answer: an address the policy allows; every later one: loopback (DNS rebinding).
        address = "127.0.0.2" if not lookups else "127.0.0.1"
        lookups.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    settings = EngineSettings(
        data_dir=tmp_path / "data",
        allow_private_urls=False,
        allow_private_networks="127.0.0.2/32",
        ca_bundle=str(ca_file),
        webhook_retry_base=60.0,
    )
    store = Store(settings.data_dir / "engine.sqlite3")
    key = store.create_key(env="test", scopes=["transcribe:jobs"], rps=1, burst=1)[1]
    url = f"https://hooks.example:{victim.port}/hook"
    event = (url, "transcription.job.failed", '{"type":"transcription.job.failed","data":{"job_id":"job_x"}}')
    store.insert_job(
        job_id="job_x",
        key=key,
        created_at=1,
        params={},
        audio_path=None,
        status="failed",
        error="x",
        webhook_event=event,
    )

    async def deliver_once() -> None:
        deliverer = WebhookDeliverer(store, settings, "whsec_test")
        task = asyncio.create_task(deliverer.run())
        deadline = time.monotonic() + 20
        while not store.deliveries("job_x")[0].attempts:
            assert time.monotonic() < deadline, "no delivery attempt"
            await asyncio.sleep(0.05)
        task.cancel()

    try:
        asyncio.run(deliver_once())
    finally:
        victim.stop()
        store.close()
    assert received == []  # the POST never reached the loopback-only service
    assert lookups[0] == "127.0.0.2"
    assert store.path.exists()


# -- 2. owner-only data dir and files --------------------------------------------------------------
def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_dir_is_0700_and_every_database_file_0600(tmp_path: Path) -> None:
    data = tmp_path / "engine"
    data.mkdir(mode=0o755)
    (data / "engine.sqlite3-wal").write_bytes(b"")  # left 0644 by an older version
    (data / "engine.sqlite3-wal").chmod(0o644)
    with start_engine(data) as engine:
        import httpx

        response = httpx.post(
            engine.base_url + JOBS,
            headers={"authorization": f"Bearer {engine.api_key}"},
            files={"audio": b"RIFF" + b"\0" * 100},
        )
        assert response.status_code == 202
        assert _mode(data) == 0o700
        for name in (
            "engine.sqlite3",
            "engine.sqlite3-wal",
            "engine.sqlite3-shm",
            "local_api_key",
            "engine.log",
        ):
            assert _mode(data / name) == 0o600, name
        for sub in ("audio", "tmp"):
            assert _mode(data / sub) == 0o700, sub
    receiver = WebhookStore(tmp_path / "batch" / "webhooks.sqlite")
    receiver.close()
    manifest = Manifest(tmp_path / "batch")
    manifest.close()
    for name in ("webhooks.sqlite", "webhooks.sqlite-wal", "webhooks.sqlite-shm", "manifest.sqlite"):
        path = tmp_path / "batch" / name
        if path.exists():
            assert _mode(path) == 0o600, name
    assert _mode(tmp_path / "batch" / "webhooks.sqlite") == 0o600


# -- 3. bad input is a 400, never a 500 -------------------------------------------------------------
def test_signed_link_with_a_5000_digit_expiry_is_refused_without_a_key(api: TestClient) -> None:
    response = api.get(
        f"{JOBS}/job_x/result",
        params={"expires": "9" * 5000, "signature": "x"},
        headers={"authorization": ""},
    )
    assert response.status_code == 403, response.text[:200]


def test_cursor_with_out_of_range_numbers_is_a_400(api: TestClient) -> None:
    for values in ([99999999999999999999999, 1], [1, -(2**70)], [True, 1], [1.5, 2]):
        cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
        _assert_400(api.get(JOBS, params={"cursor": cursor}), "cursor")


@pytest.mark.parametrize(
    "url",
    [
        "https://[::1/a",
        "https://[zz]/a",
        "https://" + "a" * 64 + ".example.com/a.wav",
        "https://example.com/a\r\nX-Injected: 1",
        "https://example.com:99999/a.wav",
        "https://" + "b" * 5000 + ".com/",
    ],
)
def test_malformed_urls_are_a_400_in_json_and_multipart(api: TestClient, url: str) -> None:
    _assert_400(api.post(JOBS, json={"audio_url": url}), "audio_url")
    body, content_type = _multipart({"audio_url": url})
    _assert_400(api.post(JOBS, content=body, headers={"content-type": content_type}), "audio_url")
    _assert_400(
        api.post(JOBS, json={"audio_url": "https://example.com/a.wav", "webhook_url": url}), "webhook_url"
    )
    body, content_type = _multipart({"webhook_url": url}, audio=b"RIFF" + b"\0" * 100)
    _assert_400(api.post(JOBS, content=body, headers={"content-type": content_type}), "webhook_url")


def _multipart(fields: dict[str, str], audio: bytes | None = None) -> tuple[bytes, str]:
    """A multipart body written out by hand (text fields only, or with an ``audio`` file part)."""
    parts = [
        f'--b0undary\r\ncontent-disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value.encode()
        + b"\r\n"
        for name, value in fields.items()
    ]
    if audio is not None:
        head = b'--b0undary\r\ncontent-disposition: form-data; name="audio"; filename="a.wav"\r\n\r\n'
        parts.append(head + audio + b"\r\n")
    return b"".join(parts) + b"--b0undary--\r\n", "multipart/form-data; boundary=b0undary"


def test_huge_integers_and_deep_nesting_are_a_400(api: TestClient) -> None:
    headers = {"content-type": "application/json"}
    bodies = [
        '{"audio_url": "https://example.com/a.wav", "x": ' + "7" * 5000 + "}",
        '{"audio_url": "https://example.com/a.wav", "x": ' + _nested(100_000) + "}",
        '{"audio_url": "https://example.com/a.wav", "x": ' + _nested(900) + "}",
        '{"audio_url": "https://example.com/a.wav", "vocabulary": ' + _nested(5000) + "}",
    ]
    for body in bodies:
        _assert_400(api.post(JOBS, content=body, headers=headers))
    deep_form = {"vocabulary": _nested(5000)}
    _assert_400(
        api.post(JOBS, data=deep_form, files={"audio": ("a.wav", b"RIFF" + b"\0" * 100)}), "vocabulary"
    )
    assert api.post(JOBS, json={"audio_url": "https://example.com/a.wav"}).status_code == 202  # still serving


# -- 3b. every unexpected error: logged with a traceback under the id its 500 names ---------------
def test_idempotency_record_and_job_are_one_transaction_and_a_500_names_its_logged_traceback(
    api: TestClient,
) -> None:
    runtime = api.app.state.runtime  # type: ignore[attr-defined]
    db = runtime.store._db
    # Fault injection at the database: the job row cannot be written, nor can a claim be released
    # (as when the process dies between the two writes).
    db.execute("CREATE TRIGGER no_jobs BEFORE INSERT ON jobs BEGIN SELECT RAISE(ABORT, 'disk gone'); END")
    db.execute("CREATE TRIGGER no_release BEFORE DELETE ON idempotency BEGIN SELECT RAISE(ABORT, 'x'); END")
    body = {"audio_url": "https://example.com/a.wav"}
    failed = api.post(JOBS, json=body, headers={"idempotency-key": "k-1"})
    assert failed.status_code == 500
    request_id = failed.json()["request_id"]
    assert request_id in failed.json()["detail"]
    log = runtime.log_path.read_text()
    assert request_id in log and "Traceback" in log and "IntegrityError" in log
    api_key = api.headers["authorization"].split()[1]
    assert api_key not in log
    db.execute("DROP TRIGGER no_jobs")
    db.execute("DROP TRIGGER no_release")
    retried = api.post(JOBS, json=body, headers={"idempotency-key": "k-1"})
    assert retried.status_code == 202 and "idempotent-replayed" not in retried.headers
    assert api.get(f"{JOBS}/{retried.json()['job_id']}").status_code == 200
    assert api.get(JOBS, params={"limit": 5}).status_code == 200  # the server keeps answering


def test_unknown_fields_are_not_stored(api: TestClient) -> None:
    runtime = api.app.state.runtime  # type: ignore[attr-defined]
    created = api.post(JOBS, json={"audio_url": "https://example.com/a.wav", "padding": "p" * 100_000})
    assert created.status_code == 202
    params = runtime.store.get_job(created.json()["job_id"]).params
    assert params == {"audio_url": "https://example.com/a.wav"}
    huge = api.post(JOBS, json={"audio_url": "https://example.com/a.wav", "padding": "p" * 10_000_000})
    assert huge.status_code == 413


# -- 4. oversized uploads answered at once, drain bounded --------------------------------------------
def _raw_request(port: int, head: bytes, body: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head + body)
        sock.settimeout(20)  # the client stalls: only the server can end this exchange
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def test_declared_length_over_the_cap_is_a_413_while_the_client_stalls(tmp_path: Path) -> None:
    with start_engine(tmp_path, max_upload_bytes=1_000_000) as engine:
        port = int(engine.base_url.rsplit(":", 1)[1])
        head = (
            f"POST {JOBS} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {engine.api_key}\r\n"
            "content-type: multipart/form-data; boundary=b\r\n"
            f"content-length: {700 * 1024 * 1024}\r\n\r\n"
        ).encode()
        answer = _raw_request(port, head, b"x" * 100_000)  # 100 kB of 700 MiB, then nothing
        assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
        # Chunked, no length: refused once past the cap, and nothing of it is kept.
        boundary = b"--b\r\ncontent-disposition: form-data; name=audio; filename=a.wav\r\n\r\n"
        chunked_head = (
            f"POST {JOBS} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {engine.api_key}\r\n"
            "content-type: multipart/form-data; boundary=b\r\ntransfer-encoding: chunked\r\n\r\n"
        ).encode()
        piece = boundary + b"\0" * 1_200_000
        answer = _raw_request(port, chunked_head, f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
        assert list((engine.data_dir / "audio").iterdir()) == []


def test_concurrent_uploads_hold_at_most_the_in_flight_budget(tmp_path: Path) -> None:
    """A stalled chunked upload holds its bytes; the next one past the budget is refused 503, not spooled."""
    with start_engine(tmp_path, max_upload_bytes=1_000_000, max_upload_bytes_in_flight=1_000_000) as engine:
        port = int(engine.base_url.rsplit(":", 1)[1])
        head = (
            f"POST {JOBS} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {engine.api_key}\r\n"
            "content-type: multipart/form-data; boundary=b\r\ntransfer-encoding: chunked\r\n\r\n"
        ).encode()
        piece = b"--b\r\ncontent-disposition: form-data; name=audio; filename=a.wav\r\n\r\n" + b"\0" * 700_000
        with socket.create_connection(("127.0.0.1", port), timeout=20) as stalled:
            stalled.sendall(head + f"{len(piece):x}\r\n".encode() + piece + b"\r\n")  # then nothing
            time.sleep(0.5)
            second = _raw_request(port, head, f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            assert second.startswith(b"HTTP/1.1 503"), second[:100]
            assert b"retry-after" in second.lower()
        deadline = time.monotonic() + 10  # the stalled client is gone: its bytes are given back
        import httpx

        while True:
            ok = httpx.post(
                engine.base_url + JOBS,
                headers={"authorization": f"Bearer {engine.api_key}"},
                files={"audio": ("a.wav", b"RIFF" + b"\0" * 700_000)},
            )
            if ok.status_code == 202 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert ok.status_code == 202, ok.text


# -- 5. the receiver's verify on deep nesting ------------------------------------------------------
@pytest.mark.parametrize("depth", [900, 5000, 100_000])
def test_verify_refuses_a_deeply_nested_signed_body_as_a_payload_error(depth: int) -> None:
    body = (
        '{"type":"transcription.job.completed","data":{"job_id":"j","x":' + _nested(depth) + "}}"
    ).encode()
    with pytest.raises(WebhookPayloadError):
        verify(body, sign(body, "s"), "s")


# -- 6. IPv6 forms of private IPv4 -------------------------------------------------------------------
@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "2002:808:808::",  # 6to4 of a public address: the relay still decides where it goes
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "::127.0.0.1",  # IPv4-compatible
        "::ffff:10.0.0.1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    ],
)
def test_ipv6_addresses_embedding_ipv4_are_refused(address: str) -> None:
    assert check_address(ipaddress.ip_address(address)) is not None


def test_public_addresses_stay_allowed() -> None:
    for address in ("2606:4700:4700::1111", "::ffff:8.8.8.8", "8.8.8.8"):
        assert check_address(ipaddress.ip_address(address)) is None, address


def test_a_6to4_audio_url_fails_the_job_without_connecting(tmp_path: Path) -> None:
    app, key = _app(tmp_path / "data")
    with TestClient(app, headers={"authorization": f"Bearer {key}"}) as live:  # lifespan: the worker runs
        job_id = live.post(JOBS, json={"audio_url": "https://[2002:7f00:1::]/a.wav"}).json()["job_id"]
        deadline = time.monotonic() + 20
        while (job := live.get(f"{JOBS}/{job_id}").json())["status"] not in {"completed", "failed"}:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert job["status"] == "failed" and "6to4" in job["error"]


# -- also seen: the listener's secret, the duration from the header ---------------------------------
def test_webhooks_listen_reads_the_secret_from_a_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from hearkit.cli import bound
    from hearkit.cli.main import app

    started: list[Any] = []

    def serve_on(sock: Any, asgi: Any, **options: Any) -> None:
        sock.close()
        started.append(asgi)

    monkeypatch.setattr(bound, "serve_on", serve_on)
    secret_file = tmp_path / "secret"
    secret_file.write_text("whsec_from_file\n")
    runner = CliRunner()
    from_file = runner.invoke(
        app,
        [
            "webhooks",
            "listen",
            "--out",
            str(tmp_path / "o"),
            "--port",
            "0",
            "--secret-file",
            str(secret_file),
        ],
        env={"PYAI_WEBHOOK_SECRET": ""},
    )
    assert from_file.exit_code == 0, from_file.output
    from_env = runner.invoke(
        app,
        ["webhooks", "listen", "--out", str(tmp_path / "o"), "--port", "0"],
        env={"PYAI_WEBHOOK_SECRET": "whsec_env"},
    )
    assert from_env.exit_code == 0, from_env.output
    on_argv = runner.invoke(
        app,
        ["webhooks", "listen", "--out", str(tmp_path / "o"), "--port", "0", "--secret", "whsec_argv"],
        env={"PYAI_WEBHOOK_SECRET": ""},
    )
    assert on_argv.exit_code == 0 and "deprecated" in on_argv.output
    assert len(started) == 3
    body = b'{"type":"transcription.job.completed","data":{"job_id":"j"}}'
    for asgi, secret in zip(started, ("whsec_from_file", "whsec_env", "whsec_argv"), strict=True):
        with TestClient(asgi) as client:
            assert (
                client.post(
                    "/webhooks/pyai", content=body, headers={"x-pyai-signature": sign(body, secret)}
                ).status_code
                == 204
            )


def test_a_file_whose_header_states_a_long_duration_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "silence.flac"
    rate, seconds = 8000, 600
    with av.open(str(path), "w", format="flac") as out:
        stream = out.add_stream("flac", rate=rate, layout="mono")
        for _ in range(seconds):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, rate), dtype=np.int16), format="s16", layout="mono"
            )
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    truncated = tmp_path / "truncated.flac"
    truncated.write_bytes(path.read_bytes()[:20_000])  # the header still says 600 s; a few seconds remain
    with pytest.raises(AudioError, match="600 s long; this server accepts at most 60 s"):
        run_transcription("fake", str(truncated), {}, 60.0)


def test_real_engine_still_serves_after_every_attack(tmp_path: Path) -> None:
    with start_engine(tmp_path) as engine:
        import httpx

        headers = {"authorization": f"Bearer {engine.api_key}"}
        with httpx.Client(base_url=engine.base_url, headers=headers, timeout=20) as http:
            for body in ('{"x": ' + _nested(100_000) + "}", '{"audio_url": "https://[::1/a"}'):
                assert (
                    http.post(JOBS, content=body, headers={"content-type": "application/json"}).status_code
                    == 400
                )
            ok = http.post(JOBS, files={"audio": ("a.wav", _wav())})
            assert ok.status_code == 202
            assert wait_job(http, ok.json()["job_id"]).json()["status"] == "completed"


def _wav() -> bytes:
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * 16000)
    return buffer.getvalue()
