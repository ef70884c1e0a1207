"""Fixtures of the engine tests: real servers (uvicorn on loopback) and generated audio.

Audio is synthesized here with known durations and channel counts, so the expected
``audio_seconds`` comes from the generator, not from the code under test.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from hearkit.engine import LocalEngine
from tests.servers import LoopbackServer as ThreadedServer

REPO = Path(__file__).resolve().parents[2]
SAMPLE_DATA = REPO / "sample_data"


def write_wav(path: Path, seconds: float, channels: int = 1, rate: int = 16_000) -> Path:
    """A sine tone (440 Hz left, 660 Hz right) of exactly ``seconds`` × ``rate`` frames."""
    frames = round(seconds * rate)
    t = np.arange(frames) / rate
    tones = [np.sin(2 * np.pi * f * t) for f in (440.0, 660.0)[:channels]]
    samples = (np.stack(tones, axis=1) * 0.3 * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


@pytest.fixture(scope="session")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated recordings: ``mono3`` (3.0 s), ``stereo4`` (4.0 s, 2 channels), ``long`` (12.5 s)."""
    d = tmp_path_factory.mktemp("audio")
    return {
        "mono3": write_wav(d / "mono3.wav", 3.0),
        "stereo4": write_wav(d / "stereo4.wav", 4.0, channels=2),
        "long": write_wav(d / "long.wav", 12.5),
    }


def start_engine(data_dir: Path, **settings: Any) -> LocalEngine:
    options: dict[str, Any] = {"transcriber": "fake", "allow_private_urls": True, "poll_interval": 0.05}
    options.update(settings)
    return LocalEngine(data_dir, **options).start()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    """A real engine (uvicorn on a free loopback port) with the fake transcriber."""
    server = start_engine(tmp_path_factory.mktemp("engine"), webhook_retry_base=0.2)
    yield server
    server.stop()


def client_of(engine: LocalEngine, api_key: str | None = None) -> httpx.Client:
    """Raw HTTP client of ``engine`` with ``api_key`` (default: the engine's local key)."""
    key = api_key or engine.api_key
    return httpx.Client(base_url=engine.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


@pytest.fixture()
def http(engine: LocalEngine) -> Iterator[httpx.Client]:
    """Raw HTTP client with the engine's local key."""
    with client_of(engine) as client:
        yield client


def wait_job(client: httpx.Client, job_id: str, timeout: float = 30.0) -> httpx.Response:
    """Poll ``GET /v1/transcription/jobs/{id}`` until the job is terminal; returns the last response."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/v1/transcription/jobs/{job_id}")
        assert response.status_code == 200, response.text
        if response.json()["status"] in {"completed", "failed", "cancelled"}:
            return response
        assert time.monotonic() < deadline, f"job {job_id} still {response.json()['status']}"
        time.sleep(0.05)


def sandbox_key(engine: LocalEngine) -> str:
    """A fresh test key in its own project (jobs of other tests are invisible to it)."""
    response = httpx.post(engine.base_url + "/v1/sandbox/keys", json={"label": "test"})
    assert response.status_code == 201, response.text
    return str(response.json()["api_key"])


class TLSAudioServer:
    """An https server with a ``trustme`` CA, serving generated audio and misbehaving routes."""

    def __init__(self, directory: Path, audio: dict[str, Path]) -> None:
        import asyncio

        import trustme
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import FileResponse, RedirectResponse, Response
        from starlette.routing import Route

        ca = trustme.CA()
        cert = ca.issue_cert("localhost", "127.0.0.1")
        self.ca_file = directory / "ca.pem"
        certfile, keyfile = directory / "cert.pem", directory / "key.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        cert.private_key_pem.write_to_path(str(keyfile))
        cert.cert_chain_pems[0].write_to_path(str(certfile))
        for extra in cert.cert_chain_pems[1:]:
            extra.write_to_path(str(certfile), append=True)
        self.hits: list[str] = []

        async def serve_audio(request: Request) -> Response:
            self.hits.append(request.url.path)
            return FileResponse(audio[request.path_params["name"]], media_type="audio/wav")

        async def redirect(request: Request) -> Response:
            self.hits.append(request.url.path)
            return RedirectResponse(request.query_params["to"], status_code=302)

        async def slow(request: Request) -> Response:
            await asyncio.sleep(5)
            return Response(b"late")

        async def not_audio(request: Request) -> Response:
            return Response(b"<html>login page</html>", media_type="text/html")

        app = Starlette(
            routes=[
                Route("/audio/{name}.wav", serve_audio),
                Route("/redirect", redirect),
                Route("/slow.wav", slow),
                Route("/page.wav", not_audio),
            ]
        )
        self.server = ThreadedServer(app, certfile=certfile, keyfile=keyfile)
        self.port = self.server.port

    def url(self, path: str, host: str = "localhost") -> str:
        return f"https://{host}:{self.port}{path}"


@pytest.fixture(scope="session")
def tls_server(tmp_path_factory: pytest.TempPathFactory, audio: dict[str, Path]) -> Iterator[TLSAudioServer]:
    server = TLSAudioServer(tmp_path_factory.mktemp("tls"), audio)
    yield server
    server.server.stop()
