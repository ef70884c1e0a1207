"""PyAI (sync) against an in-memory API over httpx.MockTransport."""

from __future__ import annotations

import io
import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from hearkit.client import AsyncPyAI, PollPolicy, PyAI, RetryPolicy
from hearkit.errors import (
    APIConnectionError,
    APIResponseValidationError,
    AuthenticationError,
    IdempotencyConflictError,
    InsecureAudioURLError,
    JobFailedError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    ResultUnavailableError,
    ServerError,
    WaitTimeoutError,
)
from hearkit.schema import Job

from .fakeapi import FakeAPI, envelope, json_body, multipart_fields

URL = "https://calls.example.com/2026/call-0001.wav"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def api() -> FakeAPI:
    return FakeAPI()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(api: FakeAPI, sleeps: Sleeps) -> PyAI:
    client = PyAI("pyai_test_key", transport=api.transport())
    client._sleep = sleeps  # type: ignore[method-assign]
    return client


def test_create_from_url_sends_json_auth_and_an_idempotency_key(client: PyAI, api: FakeAPI) -> None:
    job = client.jobs.create(audio_url=URL, channel=True, output_formats=["json", "srt"], smart_format=True)
    assert job.status == "queued"
    (request,) = api.requests
    assert (request.method, str(request.url)) == ("POST", "https://api.pyai.com/v1/transcription/jobs")
    assert request.headers["authorization"] == "Bearer pyai_test_key"
    assert request.headers["content-type"] == "application/json"
    assert json_body(request) == {
        "audio_url": URL,
        "channel": True,
        "output_formats": ["json", "srt"],
        "smart_format": True,
    }
    key = request.headers["idempotency-key"]
    assert 1 <= len(key) <= 255
    client.jobs.create(audio_url=URL)
    assert api.requests[1].headers["idempotency-key"] != key  # one key per logical call


def test_create_uses_the_callers_idempotency_key(client: PyAI, api: FakeAPI) -> None:
    first = client.jobs.create(audio_url=URL, idempotency_key="call-0001")
    replay = client.jobs.create(audio_url=URL, idempotency_key="call-0001")
    assert replay.job_id == first.job_id
    assert [r.headers["idempotency-key"] for r in api.requests] == ["call-0001", "call-0001"]


def test_key_reused_with_a_different_body_is_a_clear_409(client: PyAI, api: FakeAPI) -> None:
    client.jobs.create(audio_url=URL, idempotency_key="k1")
    with pytest.raises(IdempotencyConflictError, match="different request body") as caught:
        client.jobs.create(audio_url=URL, idempotency_key="k1", diarize=True)
    assert caught.value.request_id == "req_000000000000000000000001"
    assert len(api.requests) == 2  # a 409 is not retried


def test_create_retries_reuse_the_same_key(client: PyAI, api: FakeAPI, sleeps: Sleeps) -> None:
    api.fail("/v1/transcription/jobs", error=httpx.ConnectError("connection reset"))
    api.fail("/v1/transcription/jobs", 503, {"error": {"message": "busy", "code": "unavailable"}})
    job = client.jobs.create(audio_url=URL)
    assert job.status == "queued"
    keys = {r.headers["idempotency-key"] for r in api.requests}
    assert len(api.requests) == 3
    assert len(keys) == 1
    assert len(api.jobs) == 1
    assert len(sleeps) == 2


def test_post_without_idempotency_key_is_never_retried() -> None:
    policy = RetryPolicy()
    post = httpx.Request("POST", "https://api.pyai.com/v1/transcription/jobs", json={})
    keyed = httpx.Request("POST", "https://x/v1", json={}, headers={"Idempotency-Key": "k"})
    get = httpx.Request("GET", "https://api.pyai.com/v1/transcription/jobs/job_x")
    assert not policy.retryable(post, None)
    assert not policy.retryable(post, 503)
    assert policy.retryable(keyed, 503)
    assert policy.retryable(get, None)
    assert policy.retryable(get, 429)
    assert policy.retryable(get, 500)
    assert not policy.retryable(get, 404)
    assert not policy.retryable(get, 400)


def test_create_multipart_from_path_bytes_and_file(client: PyAI, api: FakeAPI, tmp_path: Path) -> None:
    audio = tmp_path / "call.wav"
    audio.write_bytes(b"RIFF....WAVEfmt fake audio")
    client.jobs.create(audio, diarize=True, numerals=False, output_formats=["json", "vtt"], model="pyai-hear")
    client.jobs.create(b"\x00\x01raw")
    with audio.open("rb") as handle:
        client.jobs.create(handle, channel=True)
    first, second, third = api.requests
    fields, files = multipart_fields(first)
    assert files == {"audio": ("call.wav", b"RIFF....WAVEfmt fake audio", "audio/x-wav")}
    assert fields == {
        "model": ["pyai-hear"],
        "diarize": ["true"],
        "numerals": ["false"],
        "output_formats": ["json", "vtt"],
    }
    assert "idempotency-key" in first.headers
    assert multipart_fields(second)[1]["audio"][:2] == ("audio", b"\x00\x01raw")
    fields, files = multipart_fields(third)
    assert files["audio"][0] == "call.wav"
    assert fields == {"channel": ["true"]}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, ValueError, "exactly one audio source"),
        ({"audio": b"x", "audio_url": URL}, ValueError, "exactly one audio source"),
        ({"audio": b""}, ValueError, "empty"),
        ({"audio": "/nonexistent/call.wav"}, FileNotFoundError, "not found"),
        ({"audio": io.StringIO("text")}, TypeError, "text mode"),
        ({"audio": 12}, TypeError, "path, bytes or a binary file"),
        ({"audio_url": URL, "idempotency_key": "k" * 256}, ValueError, "1 to 255"),
        ({"audio": b"x", "speakers_expected": 2}, ValueError, "add diarize=true"),
        ({"audio_url": URL, "diarize": False, "max_speakers": 3}, ValueError, "add diarize=true"),
    ],
)
def test_bad_create_arguments_fail_before_sending(
    client: PyAI, api: FakeAPI, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        client.jobs.create(**kwargs)
    assert api.requests == []


@pytest.mark.parametrize(
    "url", ["http://calls.example.com/a.wav", "ftp://x/a.wav", "file:///etc/passwd", "calls/a.wav"]
)
def test_non_https_audio_url_is_refused_before_sending(client: PyAI, api: FakeAPI, url: str) -> None:
    with pytest.raises(InsecureAudioURLError, match="https"):
        client.jobs.create(audio_url=url)
    assert api.requests == []


def test_http_audio_url_allowed_only_when_asked(api: FakeAPI) -> None:
    client = PyAI("pyai_test_key", transport=api.transport(), allow_insecure_audio_url=True)
    client.jobs.create(audio_url="http://127.0.0.1:8000/a.wav")
    with pytest.raises(InsecureAudioURLError):
        client.jobs.create(audio_url="ftp://127.0.0.1/a.wav")


@pytest.mark.parametrize(
    "base_url", ["http://192.0.2.2:8799", "http://pyai.internal.example/v1", "http://[2001:db8::1]:80"]
)
def test_plain_http_base_url_off_this_machine_is_refused_before_sending(
    api: FakeAPI, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """U2 finding 6: PYAI_BASE_URL=http://<remote host> sent the key and the recording in clear text."""
    monkeypatch.delenv("HEARKIT_ALLOW_INSECURE_BASE_URL", raising=False)
    for make in (
        lambda: PyAI("sk_live_SECRET", base_url, transport=api.transport()),
        lambda: AsyncPyAI("sk_live_SECRET", base_url),
    ):
        with pytest.raises(ValueError, match="clear text") as refused:
            make()
        assert "sk_live_SECRET" not in str(refused.value)
    monkeypatch.setenv("PYAI_BASE_URL", base_url)
    with pytest.raises(ValueError, match="allow_insecure_base_url=True"):
        PyAI("sk_live_SECRET", transport=api.transport())
    assert api.requests == []


def test_plain_http_base_url_allowed_on_loopback_or_when_asked(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HEARKIT_ALLOW_INSECURE_BASE_URL", raising=False)
    for url in ("http://127.0.0.1:8080", "http://localhost:8000/v1", "http://[::1]:9000", "http://127.0.0.2"):
        PyAI("k", url, transport=api.transport())
    PyAI("k", "http://10.0.0.5:8080", transport=api.transport(), allow_insecure_base_url=True)
    monkeypatch.setenv("HEARKIT_ALLOW_INSECURE_BASE_URL", "1")
    PyAI("k", "http://10.0.0.5:8080", transport=api.transport())
    with pytest.raises(ValueError, match="clear text"):
        PyAI("k", "http://10.0.0.5:8080", transport=api.transport(), allow_insecure_base_url=False)


def test_get_retries_429_honouring_retry_after_seconds(
    client: PyAI, api: FakeAPI, sleeps: Sleeps, stereo_job: dict[str, Any]
) -> None:
    api.add_job(stereo_job)
    path = f"/v1/transcription/jobs/{stereo_job['job_id']}"
    api.fail(
        path,
        429,
        {"error": {"message": "Rate limit exceeded.", "code": "rate_limit_exceeded"}},
        headers={"Retry-After": "2"},
    )
    job = client.jobs.get(stereo_job["job_id"])
    assert job.status == "completed"
    assert len(sleeps) == 1
    assert 2.0 <= sleeps[0] <= 2.2


def test_get_retries_honour_retry_after_http_date(
    client: PyAI, api: FakeAPI, sleeps: Sleeps, stereo_job: dict[str, Any]
) -> None:
    api.add_job(stereo_job)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=4), usegmt=True)
    api.fail(f"/v1/transcription/jobs/{stereo_job['job_id']}", 503, {}, headers={"Retry-After": when})
    client.jobs.get(stereo_job["job_id"])
    assert 2.5 <= sleeps[0] <= 4.5


def test_get_backoff_without_retry_after_grows_with_jitter(
    client: PyAI, api: FakeAPI, sleeps: Sleeps, stereo_job: dict[str, Any]
) -> None:
    api.add_job(stereo_job)
    api.fail(f"/v1/transcription/jobs/{stereo_job['job_id']}", 500, {}, times=2)
    client.jobs.get(stereo_job["job_id"])
    assert 0.375 <= sleeps[0] <= 0.5
    assert 0.75 <= sleeps[1] <= 1.0


def test_retries_stop_at_max_retries(client: PyAI, api: FakeAPI, sleeps: Sleeps) -> None:
    api.fail("/v1/transcription/jobs/job_x", 502, {"detail": "bad gateway"}, times=3)
    with pytest.raises(ServerError):
        client.jobs.get("job_x")
    assert len(api.requests) == 3
    assert len(sleeps) == 2


def test_connection_errors_become_api_connection_error(client: PyAI, api: FakeAPI) -> None:
    api.fail("/v1/transcription/jobs/job_x", error=httpx.ConnectError("refused"), times=3)
    with pytest.raises(APIConnectionError, match=r"could not reach https://api\.pyai\.com"):
        client.jobs.get("job_x")


def test_retry_after_beyond_the_cap_is_raised_not_waited(client: PyAI, api: FakeAPI, sleeps: Sleeps) -> None:
    api.fail(
        "/v1/transcription/jobs/job_x",
        429,
        {"error": {"message": "cap", "code": "daily_cap_exceeded"}},
        headers={"Retry-After": "86400"},
    )
    with pytest.raises(RateLimitError) as caught:
        client.jobs.get("job_x")
    assert caught.value.retry_after == 86400
    assert sleeps == []


def test_errors_are_typed_and_not_retried(client: PyAI, api: FakeAPI) -> None:
    with pytest.raises(NotFoundError, match="No transcription job"):
        client.jobs.get("job_missing")
    api.fail(
        "/v1/transcription/jobs/job_y", 403, {"error": {"message": "Key lacks scope.", "code": "forbidden"}}
    )
    with pytest.raises(PermissionDeniedError, match="transcribe:jobs"):
        client.jobs.get("job_y")
    bad = PyAI("wrong", transport=api.transport())
    with pytest.raises(AuthenticationError, match="PYAI_API_KEY"):
        bad.jobs.get("job_x")
    assert len(api.requests) == 3


def test_success_with_a_foreign_body_is_a_validation_error(client: PyAI, api: FakeAPI) -> None:
    api.fail("/v1/transcription/jobs/job_x", 200, {"hello": "proxy"})
    with pytest.raises(APIResponseValidationError, match="not a Job"):
        client.jobs.get("job_x")


def test_job_ids_are_path_encoded(client: PyAI, api: FakeAPI) -> None:
    with pytest.raises(NotFoundError):
        client.jobs.get("../me")
    assert api.requests[0].url.raw_path == b"/v1/transcription/jobs/..%2Fme"
    with pytest.raises(ValueError, match="job_id"):
        client.jobs.get("")


def test_wait_polls_with_backoff_and_reports_progress(
    client: PyAI, api: FakeAPI, sleeps: Sleeps, stereo_job: dict[str, Any]
) -> None:
    api.add_job(
        stereo_job, statuses=["queued", "queued", "running", "running", "running", "running", "completed"]
    )
    seen: list[str] = []
    job = client.jobs.wait(stereo_job["job_id"], on_progress=lambda j: seen.append(j.status))
    assert job.status == "completed"
    assert seen == ["queued", "queued", "running", "running", "running", "running", "completed"]
    assert sleeps == pytest.approx([1.0, 1.5, 2.25, 3.375, 5.0, 5.0])


def test_wait_poll_policy_is_configurable(api: FakeAPI, sleeps: Sleeps, stereo_job: dict[str, Any]) -> None:
    client = PyAI(
        "pyai_test_key", transport=api.transport(), poll=PollPolicy(initial=0.5, factor=2, maximum=1)
    )
    client._sleep = sleeps  # type: ignore[method-assign]
    api.add_job(stereo_job, statuses=["queued", "running", "running", "completed"])
    client.jobs.wait(stereo_job["job_id"])
    assert sleeps == pytest.approx([0.5, 1.0, 1.0])
    with pytest.raises(ValueError, match="poll intervals"):
        PollPolicy(initial=0)


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_wait_raises_on_failed_and_cancelled_with_the_error(client: PyAI, api: FakeAPI, status: str) -> None:
    api.add_job({"job_id": "job_bad", "status": status, "error": "audio could not be decoded"})
    with pytest.raises(JobFailedError, match=f"job_bad ended {status}: audio could not be decoded") as caught:
        client.jobs.wait("job_bad")
    assert caught.value.job.error == "audio could not be decoded"


def test_wait_timeout_names_job_status_and_how_to_resume(api: FakeAPI) -> None:
    client = PyAI("pyai_test_key", transport=api.transport(), poll=PollPolicy(initial=0.01, maximum=0.02))
    api.add_job({"job_id": "job_slow", "status": "running"})
    started = time.monotonic()
    with pytest.raises(WaitTimeoutError) as caught:
        client.jobs.wait("job_slow", timeout=0.1)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert (caught.value.job_id, caught.value.last_status) == ("job_slow", "running")
    assert "job_slow" in message
    assert "'running'" in message
    assert "client.jobs.wait('job_slow')" in message
    assert "https" not in message


def test_wait_timeout_on_a_queued_non_https_url_says_why(api: FakeAPI) -> None:
    client = PyAI(
        "pyai_test_key",
        transport=api.transport(),
        allow_insecure_audio_url=True,
        poll=PollPolicy(initial=0.01, maximum=0.02),
    )
    job = client.jobs.create(audio_url="http://files.internal/call.wav")
    with pytest.raises(WaitTimeoutError, match="queued and its audio_url is not https"):
        client.jobs.wait(job, timeout=0.05)


def test_transcribe_is_create_then_wait(client: PyAI, api: FakeAPI, stereo_job: dict[str, Any]) -> None:
    original = api.create

    def create_then_complete(request: httpx.Request) -> httpx.Response:
        response = original(request)
        job_id = response.json()["job_id"]
        api.jobs[job_id] = {**stereo_job, "job_id": job_id, "status": "running"}
        api.statuses[job_id] = __import__("collections").deque(["running", "completed"])
        return response

    api.create = create_then_complete  # type: ignore[method-assign]
    job = client.jobs.transcribe(audio_url=URL, channel=True)
    assert job.status == "completed"
    assert job.result is not None and job.result.speakers == 2


def test_result_inline(client: PyAI, stereo_job: dict[str, Any]) -> None:
    result = client.jobs.result(Job.model_validate(stereo_job))
    assert result.audio_seconds == 10.84
    assert [s.speaker for s in result.segments][:2] == ["speaker_1", "speaker_2"]


def test_result_offloaded_is_fetched_without_authorization(
    client: PyAI, api: FakeAPI, offloaded_job: dict[str, Any], stereo_job: dict[str, Any]
) -> None:
    api.add_job(offloaded_job)
    api.sign(offloaded_job["result_url"], 200, stereo_job["result"], {"x-pyai-units": "audio_seconds=10.84"})
    result = client.jobs.result(offloaded_job["job_id"])
    assert result.speakers == 2
    get_job, fetch = api.requests
    assert "authorization" in get_job.headers
    assert str(fetch.url) == offloaded_job["result_url"]
    assert "authorization" not in fetch.headers
    assert client.ledger[offloaded_job["job_id"]] == 10.84
    assert client.ledger.reconcile() == []


def test_expired_result_link_is_refreshed_once(
    client: PyAI, api: FakeAPI, offloaded_job: dict[str, Any], stereo_job: dict[str, Any]
) -> None:
    stale = Job.model_validate(offloaded_job)
    fresh_url = offloaded_job["result_url"].replace("sig=0f1e2d", "sig=fresh")
    api.add_job({**offloaded_job, "result_url": fresh_url})
    api.sign(offloaded_job["result_url"], 403, {"error": {"message": "Link expired", "code": "forbidden"}})
    api.sign(fresh_url, 200, stereo_job["result"])
    assert client.jobs.result(stale).speakers == 2
    assert [str(r.url) for r in api.requests][-1] == fresh_url


def test_result_url_must_be_https(client: PyAI, offloaded_job: dict[str, Any]) -> None:
    offloaded_job["result_url"] = "http://evil.example.com/r.json"
    with pytest.raises(ResultUnavailableError, match="must be https"):
        client.jobs.result(Job.model_validate(offloaded_job))


def test_result_of_unfinished_or_empty_jobs_says_what_to_do(client: PyAI) -> None:
    with pytest.raises(ResultUnavailableError, match="is running: wait for it first"):
        client.jobs.result(Job(job_id="job_r", status="running"))
    with pytest.raises(ResultUnavailableError, match="neither result nor result_url"):
        client.jobs.result(Job(job_id="job_e", status="completed"))
    with pytest.raises(JobFailedError, match="no audio"):
        client.jobs.result(Job(job_id="job_f", status="failed", error="no audio"))


def test_result_document_that_is_not_a_result(
    client: PyAI, api: FakeAPI, offloaded_job: dict[str, Any]
) -> None:
    api.sign(offloaded_job["result_url"], 200, {"segments": "oops"})
    with pytest.raises(APIResponseValidationError, match="not a Result"):
        client.jobs.result(Job.model_validate(offloaded_job))


def test_download_format_fetches_the_signed_link(
    client: PyAI, api: FakeAPI, stereo_job: dict[str, Any]
) -> None:
    srt = "1\n00:00:00,000 --> 00:00:02,100\n[speaker_1] hi this is dana from acme\n"
    api.sign(stereo_job["result"]["formats"]["srt"], 200, srt)
    job = Job.model_validate(stereo_job)
    assert client.jobs.download_format(job, "srt") == srt
    assert "authorization" not in api.requests[-1].headers
    with pytest.raises(ValueError, match="srt, vtt"):
        client.jobs.download_format(job, "docx")
    del stereo_job["result"]["formats"]
    with pytest.raises(ResultUnavailableError, match=r"output_formats=\['json', 'vtt'\]"):
        client.jobs.download_format(Job.model_validate(stereo_job), "vtt")


def test_download_format_inline_text_is_returned_as_is(client: PyAI, stereo_job: dict[str, Any]) -> None:
    stereo_job["result"]["formats"] = {"vtt": "WEBVTT\n\n00:00.000 --> 00:02.100\nhi\n"}
    assert client.jobs.download_format(Job.model_validate(stereo_job), "vtt").startswith("WEBVTT")


def page(ids: list[str], cursor: str | None, has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"job_id": i, "status": "completed"} for i in ids],
        "has_more": has_more,
        "next_cursor": cursor,
    }


def test_list_returns_a_typed_page_and_validates_limit(client: PyAI, api: FakeAPI) -> None:
    api.pages[None] = page(["job_a", "job_b"], "c1", True)
    listed = client.jobs.list(limit=2)
    assert [j.job_id for j in listed.data] == ["job_a", "job_b"]
    assert (listed.has_more, listed.next_cursor) == (True, "c1")
    assert api.requests[0].url.params["limit"] == "2"
    for bad in (0, 101, True):
        with pytest.raises(ValueError, match="limit"):
            client.jobs.list(limit=bad)


def test_iter_walks_every_page(client: PyAI, api: FakeAPI) -> None:
    api.pages[None] = page(["job_a", "job_b"], "c1", True)
    api.pages["c1"] = page(["job_c", "job_d"], "c2", True)
    api.pages["c2"] = page(["job_e"], None, False)
    assert [j.job_id for j in client.jobs.iter(limit=2)] == ["job_a", "job_b", "job_c", "job_d", "job_e"]
    assert [r.url.params.get("cursor") for r in api.requests] == [None, "c1", "c2"]


def test_iter_stops_on_has_more_false_even_with_a_cursor(client: PyAI, api: FakeAPI) -> None:
    api.pages[None] = page(["job_a"], "c1", False)
    api.pages["c1"] = page(["job_b"], None, False)
    assert [j.job_id for j in client.jobs.iter()] == ["job_a"]
    api.pages[None] = page(["job_a"], None, True)  # has_more but a null cursor: stop
    assert [j.job_id for j in client.jobs.iter()] == ["job_a"]


def test_iter_refuses_a_repeated_cursor(client: PyAI, api: FakeAPI) -> None:
    api.pages[None] = page(["job_a"], "c1", True)
    api.pages["c1"] = page(["job_b"], "c1", True)
    seen: list[str] = []
    with pytest.raises(PaginationError, match="twice"):
        seen.extend(j.job_id for j in client.jobs.iter())
    assert seen == ["job_a", "job_b"]


def test_ledger_records_units_and_reconciles(
    client: PyAI, api: FakeAPI, stereo_job: dict[str, Any], mono_job: dict[str, Any]
) -> None:
    api.add_job(stereo_job, units="audio_seconds=10.84")
    api.add_job(mono_job, units="25.0")  # bare number; the result says 21.174
    api.add_job({"job_id": "job_nounits", "status": "completed", "result": {"audio_seconds": 3.0}})
    for job_id in (stereo_job["job_id"], mono_job["job_id"], "job_nounits"):
        client.jobs.get(job_id)
    client.jobs.get(stereo_job["job_id"])  # re-reading reports the same units, not more
    ledger = client.ledger
    assert dict(ledger) == {stereo_job["job_id"]: 10.84, mono_job["job_id"]: 25.0}
    assert ledger.total_seconds == pytest.approx(35.84)
    assert len(ledger.records) == 3
    mismatches = {m.job_id: m for m in ledger.reconcile()}
    assert set(mismatches) == {mono_job["job_id"], "job_nounits"}
    assert mismatches[mono_job["job_id"]].kind == "differs"
    assert mismatches[mono_job["job_id"]].difference == pytest.approx(25.0 - 21.174)
    assert mismatches["job_nounits"].kind == "result_without_units"


def test_configuration_from_environment(monkeypatch: pytest.MonkeyPatch, api: FakeAPI) -> None:
    monkeypatch.setenv("PYAI_API_KEY", "pyai_test_key")
    monkeypatch.setenv("PYAI_BASE_URL", "https://eu.pyai.example/v1/")
    client = PyAI(transport=api.transport())
    assert client.base_url == "https://eu.pyai.example"
    with pytest.raises(NotFoundError):
        client.jobs.get("job_x")
    assert str(api.requests[0].url) == "https://eu.pyai.example/v1/transcription/jobs/job_x"


def test_base_url_without_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="no API key"):
        PyAI(base_url="https://api.pyai.com")
    with pytest.raises(ValueError, match="base_url must be an http"):
        PyAI("k", base_url="api.pyai.com")
    with pytest.raises(ValueError, match="max_retries"):
        PyAI("k", max_retries=-1)
    with pytest.raises(ValueError, match="not both"):
        PyAI("k", transport=httpx.MockTransport(lambda r: httpx.Response(200)), http_client=httpx.Client())


def test_me(client: PyAI, api: FakeAPI) -> None:
    api.fail("/v1/me", 200, {"object": "identity", "key_id": "key_1", "scopes": ["hear:transcribe"]})
    assert client.me().scopes == ["hear:transcribe"]


def test_context_manager_closes_its_own_pool_only(api: FakeAPI) -> None:
    with PyAI("pyai_test_key", transport=api.transport()) as client:
        pass
    assert client._http.is_closed
    shared = httpx.Client(transport=api.transport())
    with PyAI("pyai_test_key", http_client=shared):
        pass
    assert not shared.is_closed
    shared.close()


def test_no_key_uses_the_embedded_engine_and_logs_once_without_the_key(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, api: FakeAPI
) -> None:
    from hearkit._client import _core
    from hearkit.engine import local

    class Engine:
        base_url = "http://127.0.0.1:9"
        api_key = "hk_local_secret_value"

    calls: list[int] = []

    def default() -> Engine:
        calls.append(1)
        return Engine()

    monkeypatch.setattr(local.LocalEngine, "default", staticmethod(default))
    monkeypatch.setattr(_core, "_ENGINE_LOGGED", False)
    api.api_key = Engine.api_key
    caplog.set_level(logging.INFO, logger="hearkit.client")
    client = PyAI(transport=api.transport())
    assert calls == []  # lazy: nothing started by the constructor
    with pytest.raises(NotFoundError):
        client.jobs.get("job_x")
    assert str(api.requests[0].url).startswith("http://127.0.0.1:9/v1/")
    assert api.requests[0].headers["authorization"] == "Bearer hk_local_secret_value"
    PyAI(transport=api.transport()).jobs.list  # noqa: B018
    second = PyAI(transport=api.transport())
    assert second.base_url == "http://127.0.0.1:9"
    logged = [r.getMessage() for r in caplog.records if r.name == "hearkit.client"]
    assert len(logged) == 1
    assert "embedded local engine" in logged[0]
    assert "hk_local_secret_value" not in caplog.text


def test_envelope_helper_is_the_documented_shape() -> None:
    # Guard the fake itself: it must speak the documented gateway envelope.
    body = envelope(429, "rate_limit_exceeded", "Slow down.").json()
    assert set(body["error"]) == {"message", "type", "code", "param"}


def test_a_key_read_from_a_file_with_its_newline_works_and_a_broken_key_is_never_echoed(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """U8 finding 1: ``api_key=open("key.txt").readline()`` kept the newline, httpx refused the header
    and the error quoted it, so the whole key reached the terminal."""
    api.api_key = "pyai_test_key"
    client = PyAI("pyai_test_key\n", base_url="https://api.pyai.com", transport=api.transport())
    with pytest.raises(NotFoundError):
        client.jobs.get("job_x")
    assert api.requests[0].headers["authorization"] == "Bearer pyai_test_key"
    monkeypatch.setenv("PYAI_API_KEY", "  pyai_test_key\r\n")
    assert PyAI(transport=api.transport())._api_key == "pyai_test_key"
    for broken in ("pyai_test key", "pyai_test\nkey", "pyai_test\x00key"):
        with pytest.raises(ValueError, match="space or control character") as refused:
            PyAI(broken, base_url="https://api.pyai.com")
        assert broken not in str(refused.value) and "pyai_test" not in str(refused.value)


def test_a_connection_error_does_not_quote_the_key() -> None:
    """A transport error whose text holds the key (as httpx's header errors do) is reported without it."""
    secret = "pyai_test_S3cr3tValue"

    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.LocalProtocolError(f"Illegal header value b'Bearer {secret}'")

    client = PyAI(secret, base_url="https://api.pyai.com", transport=httpx.MockTransport(fail), max_retries=0)
    with pytest.raises(APIConnectionError) as failed:
        client.jobs.get("job_x")
    assert secret not in str(failed.value) and "<API key>" in str(failed.value)
    assert failed.value.__cause__ is None
