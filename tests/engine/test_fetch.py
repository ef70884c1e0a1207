"""https audio_url: a real TLS server with a trustme CA; SSRF refusals after DNS and on redirects."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyai
import pytest

from hearkit.engine import LocalEngine
from hearkit.engine.fetch import check_address
from tests.engine.conftest import TLSAudioServer, client_of, start_engine, wait_job


@pytest.fixture(scope="module")
def trusting_engine(
    tmp_path_factory: pytest.TempPathFactory, tls_server: TLSAudioServer
) -> Iterator[LocalEngine]:
    """Trusts the test CA and allows loopback; small fetch limits to exercise them."""
    server = start_engine(
        tmp_path_factory.mktemp("fetch"),
        ca_bundle=str(tls_server.ca_file),
        allow_private_urls=True,
        fetch_timeout=1.5,
        max_fetch_bytes=300_000,
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def strict_engine(
    tmp_path_factory: pytest.TempPathFactory, tls_server: TLSAudioServer
) -> Iterator[LocalEngine]:
    """Trusts the test CA but allows no private address except 127.0.0.0/8."""
    server = start_engine(
        tmp_path_factory.mktemp("strict"),
        ca_bundle=str(tls_server.ca_file),
        allow_private_urls=False,
        allow_private_networks="127.0.0.0/8",
    )
    yield server
    server.stop()


def _client(engine: LocalEngine) -> httpx.Client:
    return client_of(engine)


def _run(engine: LocalEngine, audio_url: str) -> dict[str, object]:
    with _client(engine) as http:
        created = http.post("/v1/transcription/jobs", json={"audio_url": audio_url})
        assert created.status_code == 202, created.text
        body: dict[str, object] = wait_job(http, created.json()["job_id"]).json()
        return body


def test_https_audio_url_through_a_trusted_test_ca(
    trusting_engine: LocalEngine, tls_server: TLSAudioServer
) -> None:
    job = _run(trusting_engine, tls_server.url("/audio/stereo4.wav"))
    assert job["status"] == "completed", job
    assert job["result"]["audio_seconds"] == 4.0  # type: ignore[index]
    assert list((trusting_engine.data_dir / "tmp").iterdir()) == []  # fetched audio is gone


def test_untrusted_certificate_fails_the_job(tmp_path: Path, tls_server: TLSAudioServer) -> None:
    with start_engine(tmp_path, allow_private_urls=True) as engine:  # no ca_bundle: the test CA is unknown
        job = _run(engine, tls_server.url("/audio/mono3.wav"))
    assert job["status"] == "failed"
    assert "certificate" in str(job["error"]).lower()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/slow.wav", "timed out"),
        ("/audio/long.wav", "limit"),
        ("/page.wav", "not decodable audio"),
        ("/missing.wav", "HTTP 404"),
    ],
)
def test_fetch_limits_and_bad_targets_fail_with_a_clear_error(
    trusting_engine: LocalEngine, tls_server: TLSAudioServer, path: str, expected: str
) -> None:
    job = _run(trusting_engine, tls_server.url(path))
    assert job["status"] == "failed"
    assert expected in str(job["error"])


def test_loopback_is_refused_after_dns_resolution(tmp_path: Path, tls_server: TLSAudioServer) -> None:
    with start_engine(tmp_path, allow_private_urls=False, ca_bundle=str(tls_server.ca_file)) as engine:
        before = len(tls_server.hits)
        job = _run(engine, tls_server.url("/audio/mono3.wav", host="localhost"))
    assert job["status"] == "failed"
    assert "localhost" in str(job["error"]) and "loopback" in str(job["error"])
    assert len(tls_server.hits) == before  # never connected


def test_allowed_network_works_and_redirects_are_checked_on_every_hop(
    strict_engine: LocalEngine, tls_server: TLSAudioServer
) -> None:
    ok = _run(strict_engine, tls_server.url("/audio/mono3.wav", host="127.0.0.1"))
    assert ok["status"] == "completed", ok

    before = len(tls_server.hits)
    metadata = _run(
        strict_engine,
        tls_server.url("/redirect?to=https://169.254.169.254/latest/meta-data/", host="127.0.0.1"),
    )
    assert metadata["status"] == "failed"
    assert "169.254.169.254" in str(metadata["error"]) and "link-local" in str(metadata["error"])
    assert tls_server.hits[before:] == ["/redirect"]  # the first hop was fetched, the second refused

    downgrade = _run(
        strict_engine,
        tls_server.url(f"/redirect?to=http://127.0.0.1:{tls_server.port}/audio/mono3.wav", host="127.0.0.1"),
    )
    assert downgrade["status"] == "failed"
    assert "https" in str(downgrade["error"])


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("169.254.169.254", True),
        ("100.100.100.200", True),
        ("fd00:ec2::254", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.0.10", True),
        ("127.0.0.1", True),
        ("::1", True),
        ("fe80::1", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", True),
        ("8.8.8.8", False),
        ("2606:4700:4700::1111", False),
    ],
)
def test_address_policy(address: str, refused: bool) -> None:
    assert (check_address(ipaddress.ip_address(address)) is not None) is refused


def test_official_sdk_runs_unchanged(trusting_engine: LocalEngine, tls_server: TLSAudioServer) -> None:
    """Conformance: PyPI's pyai-sdk against the local engine (create, get, list, error parsing)."""
    import time

    with pyai.PyAI(trusting_engine.api_key, base_url=trusting_engine.base_url) as client:
        created = client.transcription_jobs.create(
            tls_server.url("/audio/stereo4.wav"),
            channel=True,
            output_formats=["json", "srt"],
            idempotency_key="sdk-1",
        )
        assert created["status"] == "queued"
        replay = client.transcription_jobs.create(
            tls_server.url("/audio/stereo4.wav"),
            channel=True,
            output_formats=["json", "srt"],
            idempotency_key="sdk-1",
        )
        assert replay["job_id"] == created["job_id"]
        deadline = time.monotonic() + 30
        job = client.transcription_jobs.get(created["job_id"])
        while job["status"] not in {"completed", "failed"} and time.monotonic() < deadline:
            time.sleep(0.05)
            job = client.transcription_jobs.get(created["job_id"])
        assert job["status"] == "completed", job
        assert job["result"]["speakers"] == 2
        assert set(job["result"]["formats"]) == {"srt"}
        page = client.transcription_jobs.list(limit=1)
        assert page["data"][0]["job_id"] == created["job_id"]
        assert page["has_more"] is True
        older = client.transcription_jobs.list(limit=100, cursor=page["next_cursor"])
        assert created["job_id"] not in {j["job_id"] for j in older["data"]}
        with pytest.raises(pyai.PyAIError) as missing:
            client.transcription_jobs.get("job_" + "0" * 24)
        assert missing.value.status == 404
        assert missing.value.code == "not_found"
        assert str(missing.value.request_id).startswith("req_")
