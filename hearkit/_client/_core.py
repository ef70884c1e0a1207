"""The sync/async-agnostic core of the PyAI jobs client.

Everything that decides something lives here, once: configuration, request building, response
handling (errors, models, units ledger), the retry policy and the multi-step flows (poll until
done, fetch an offloaded result). A flow is a generator that yields what it needs done —
:class:`Send` an ``httpx.Request`` or :class:`Sleep` — and receives the ``httpx.Response`` (or
the transport exception). :mod:`hearkit._client._sync` and :mod:`hearkit._client._async` drive
the same flows with blocking or awaitable I/O; they contain no policy of their own (the same
trick as httpx's ``Auth.auth_flow``).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import mimetypes
import os
import time
import uuid
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeAlias, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from hearkit import __version__
from hearkit.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    ClientConfigError,
    InsecureAudioURLError,
    JobFailedError,
    PaginationError,
    ResultUnavailableError,
    WaitTimeoutError,
    error_from_response,
    parse_retry_after,
)
from hearkit.ledger import UNITS_HEADER, Ledger
from hearkit.retry import PollPolicy, RetryPolicy
from hearkit.schema import Identity, Job, JobList, Result, speaker_options_problem

logger = logging.getLogger("hearkit.client")

DEFAULT_BASE_URL = "https://api.pyai.com"
#: Set to 1 to let ``PYAI_BASE_URL`` be plain http on a non-loopback host (a trusted network's engine).
ENV_ALLOW_INSECURE_BASE_URL = "HEARKIT_ALLOW_INSECURE_BASE_URL"
DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
JOBS_PATH = "/v1/transcription/jobs"
SUBTITLE_FORMATS = ("srt", "vtt")

AudioInput: TypeAlias = str | os.PathLike[str] | bytes | bytearray | IO[bytes]
ProgressCallback: TypeAlias = Callable[[Job], object]
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Send:
    """Ask the driver to send ``request`` and send back the response (or the transport error)."""

    request: httpx.Request


@dataclass(frozen=True)
class Sleep:
    """Ask the driver to wait ``seconds`` (``time.sleep`` or ``anyio.sleep``)."""

    seconds: float


Reply: TypeAlias = httpx.Response | httpx.TransportError | None
Flow: TypeAlias = Generator[Send | Sleep, Reply, T]


@dataclass
class CursorGuard:
    """Walks ``next_cursor`` and refuses a cursor seen before (a server bug would loop forever)."""

    seen: set[str] = field(default_factory=set)

    def next_cursor(self, page: JobList) -> str | None:
        """The cursor of the next page, or None when the walk is over."""
        cursor = page.next_cursor
        if not page.has_more or not cursor:
            return None
        if cursor in self.seen:
            raise PaginationError(
                f"the server returned cursor {cursor[:40]!r} twice; stopping instead of looping "
                f"(after {len(self.seen) + 1} pages)"
            )
        self.seen.add(cursor)
        return cursor


@dataclass(frozen=True)
class AudioUpload:
    """A local recording to send as the multipart part ``audio``."""

    filename: str
    content: bytes
    content_type: str


_ENGINE_LOGGED = False


def configured(api_key: str | None, base_url: str | None) -> tuple[str | None, str | None]:
    """The API key and base URL a client gets: the arguments, else ``PYAI_API_KEY`` / ``PYAI_BASE_URL``
    (empty = unset). ``(None, None)``: the embedded local engine.

    The key loses surrounding whitespace (a key read from a file keeps its newline); a key with a space
    or control character inside is refused in a line that does not repeat it (httpx's error for such a
    header quotes the whole value, so the secret would reach the terminal and the logs)."""
    key = api_key if api_key is not None else os.environ.get("PYAI_API_KEY") or None
    if key is not None:
        key = key.strip() or None
        if key is not None and any(c.isspace() or not c.isprintable() for c in key):
            position = next(i for i, c in enumerate(key) if c.isspace() or not c.isprintable())
            raise ClientConfigError(
                f"the API key has a space or control character at position {position + 1} of {len(key)}:"
                " copy the key again (from `hearkit serve --create-key` or the PyAI console) without it"
            )
    url = base_url if base_url is not None else os.environ.get("PYAI_BASE_URL") or None
    return key, url


def embedded_engine() -> tuple[str, str]:
    """``(base_url, api_key)`` of the process-wide local engine (the no-key default)."""
    global _ENGINE_LOGGED
    from hearkit.engine import LocalEngine

    engine = LocalEngine.default()
    if not _ENGINE_LOGGED:
        _ENGINE_LOGGED = True
        logger.info(
            "No PYAI_API_KEY and no base_url: using hearkit's embedded local engine at %s "
            "(set PYAI_API_KEY to use the hosted PyAI API).",
            engine.base_url,
        )
    return engine.base_url, engine.api_key


class BaseClient:
    """Configuration and every flow of the jobs API; subclasses only add I/O."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        *,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        allow_insecure_audio_url: bool,
        poll: PollPolicy,
        retry: RetryPolicy | None,
        allow_insecure_base_url: bool | None = None,
    ) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be an integer >= 0, not {max_retries!r}")
        self._api_key, url = configured(api_key, base_url)
        self._base_url = _normalize_base_url(url) if url else None
        if allow_insecure_base_url is None:
            allow_insecure_base_url = os.environ.get(ENV_ALLOW_INSECURE_BASE_URL, "").strip() in ("1", "true")
        if self._base_url is not None and not allow_insecure_base_url:
            _check_base_url_encrypted(self._base_url)
        if self._api_key is None and self._base_url is not None:
            raise ClientConfigError(
                f"no API key for {self._base_url}: pass api_key=... or set PYAI_API_KEY "
                "(leave both the key and base_url unset to use the embedded local engine)"
            )
        if self._api_key is not None and self._base_url is None:
            self._base_url = DEFAULT_BASE_URL
        self.timeout = timeout if timeout is not None else DEFAULT_TIMEOUT
        self.retry = retry if retry is not None else RetryPolicy(max_retries=max_retries)
        self.poll = poll
        self.allow_insecure_audio_url = allow_insecure_audio_url
        self.ledger = Ledger()
        self._audio_urls: dict[str, str] = {}

    # --- configuration ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API root (``https://api.pyai.com`` or the local engine's); paths add ``/v1/...``."""
        self._resolve()
        assert self._base_url is not None
        return self._base_url

    def _resolve(self) -> None:
        if self._base_url is None or self._api_key is None:
            self._base_url, self._api_key = embedded_engine()

    def _headers(self) -> dict[str, str]:
        self._resolve()
        return {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": "application/json",
            "User-Agent": f"hearkit/{__version__}",
        }

    def _url(self, path: str) -> str:
        return self.base_url + path

    # --- requests --------------------------------------------------------------------------

    def _send(self, build: Callable[[], httpx.Request]) -> Flow[httpx.Response]:
        """Send the request ``build`` makes, retrying per :attr:`retry`; error responses raise."""
        attempt = 0
        while True:
            request = build()
            reply = yield Send(request)
            if isinstance(reply, httpx.TransportError):
                if attempt < self.retry.max_retries and self.retry.retryable(request, None):
                    delay = self.retry.delay(attempt, None)
                    if delay is not None:
                        attempt += 1
                        yield Sleep(delay)
                        continue
                detail = str(reply)
                secret = self._api_key is not None and self._api_key in detail
                if self._api_key is not None and secret:
                    detail = detail.replace(self._api_key, "<API key>")
                error = APIConnectionError(
                    f"could not reach {request.url.scheme}://{request.url.netloc.decode()} "
                    f"({type(reply).__name__}: {detail}); check the network or base_url, then retry"
                )
                # The transport's own error is kept as the cause unless it quotes the key.
                raise error from (None if secret else reply)
            assert reply is not None
            if reply.status_code < 400:
                return reply
            if attempt < self.retry.max_retries and self.retry.retryable(request, reply.status_code):
                delay = self.retry.delay(attempt, parse_retry_after(reply.headers.get("retry-after")))
                if delay is not None:
                    attempt += 1
                    yield Sleep(delay)
                    continue
            raise error_from_response(
                reply.status_code,
                reply.headers,
                reply.content,
                local_engine=_on_this_machine(request.url.host),
            )

    def _api(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        form: Mapping[str, Any] | None = None,
        upload: AudioUpload | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Flow[httpx.Response]:
        """An authenticated API call; one request object per attempt, same headers each time."""
        all_headers = {**self._headers(), **headers} if headers else self._headers()
        url = self._url(path) + (f"?{urlencode(params)}" if params else "")

        def build() -> httpx.Request:
            if upload is not None:
                files = {"audio": (upload.filename, upload.content, upload.content_type)}
                return httpx.Request(method, url, data=form, files=files, headers=all_headers)
            if body is not None:
                return httpx.Request(method, url, json=body, headers=all_headers)
            return httpx.Request(method, url, headers=all_headers)

        return (yield from self._send(build))

    def _model(self, response: httpx.Response, model: type[M]) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            preview = response.content[:120].decode("utf-8", "replace")
            raise APIResponseValidationError(
                response.status_code,
                None,
                f"{response.request.method} {response.request.url.path} answered a body that is not a "
                f"{model.__name__} ({exc.error_count()} problem(s)): {preview!r}",
                response.headers.get("x-pyai-request-id") or response.headers.get("x-request-id"),
                hint="Check base_url: it must point at the PyAI API root, not a proxy page.",
            ) from exc

    def _job(self, response: httpx.Response) -> Job:
        job = self._model(response, Job)
        units = response.headers.get(UNITS_HEADER)
        if units is not None:
            self.ledger.record(job.job_id, units, url=str(response.request.url))
        self._note_result(job)
        return job

    def _note_result(self, job: Job) -> None:
        """Tell the ledger the transcript seconds of a job that carries its result."""
        if job.result is not None:
            self.ledger.note_result(job.job_id, job.result)

    # --- jobs flows ------------------------------------------------------------------------

    def _create_flow(
        self,
        audio: AudioInput | None,
        audio_url: str | None,
        fields: Mapping[str, Any],
        idempotency_key: str | None,
    ) -> Flow[Job]:
        if (audio is None) == (audio_url is None):
            raise ValueError(
                "give exactly one audio source: audio= (a path, bytes or a binary file) "
                "or audio_url= (an https URL), not both and not neither"
            )
        key = idempotency_key or f"hearkit-{uuid.uuid4()}"
        if not 1 <= len(key) <= 255:
            raise ValueError("idempotency_key must be 1 to 255 characters")
        params = {name: value for name, value in fields.items() if value is not None}
        problem = speaker_options_problem(params)
        if problem:
            raise ValueError(problem)
        if "vocabulary" in params:
            # Like the official SDK: blank entries dropped, an empty list not sent.
            params["vocabulary"] = [str(v).strip() for v in params["vocabulary"] if str(v).strip()]
            if not params["vocabulary"]:
                del params["vocabulary"]
        headers = {"Idempotency-Key": key}
        if audio_url is not None:
            self._check_audio_url(audio_url)
            body = {"audio_url": audio_url, **params}
            response = yield from self._api("POST", JOBS_PATH, body=body, headers=headers)
        else:
            assert audio is not None
            form = {name: _form_value(value) for name, value in params.items()}
            upload = _read_audio(audio)
            response = yield from self._api("POST", JOBS_PATH, form=form, upload=upload, headers=headers)
        job = self._job(response)
        if audio_url is not None:
            self._audio_urls[job.job_id] = audio_url
        return job

    def _check_audio_url(self, audio_url: str) -> None:
        parts = urlsplit(audio_url)
        if parts.scheme.lower() == "https" and parts.netloc:
            return
        if parts.scheme.lower() == "http" and parts.netloc and self.allow_insecure_audio_url:
            return
        raise InsecureAudioURLError(
            f"audio_url must be an https URL, got {audio_url[:80]!r}: PyAI fetches only https "
            "(customer audio must not travel in clear text). Host it on https, or upload the file "
            "with audio=<path>; for a local test server pass allow_insecure_audio_url=True."
        )

    def _get_flow(self, job_id: str) -> Flow[Job]:
        response = yield from self._api("GET", f"{JOBS_PATH}/{_job_path(job_id)}")
        return self._job(response)

    def _list_flow(self, limit: int | None, cursor: str | None) -> Flow[JobList]:
        params: dict[str, str] = {}
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
                raise ValueError(f"limit must be an integer from 1 to 100, not {limit!r}")
            params["limit"] = str(limit)
        if cursor:
            params["cursor"] = cursor
        response = yield from self._api("GET", JOBS_PATH, params=params or None)
        page = self._model(response, JobList)
        for job in page.data:
            self._note_result(job)
        return page

    def _wait_flow(
        self,
        job: str | Job,
        timeout: float,
        on_progress: ProgressCallback | None,
        poll: PollPolicy,
    ) -> Flow[Job]:
        job_id = job if isinstance(job, str) else job.job_id
        deadline = time.monotonic() + timeout
        delay = poll.initial
        last: Job | None = job if isinstance(job, Job) else None
        while True:
            if last is None or not last.is_terminal:
                last = yield from self._get_flow(job_id)
                if on_progress is not None:
                    on_progress(last)
            if last.status == "completed":
                return last
            if last.status in ("failed", "cancelled"):
                raise JobFailedError(last)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeoutError(job_id, last.status, timeout, hint=self._stuck_hint(last))
            yield Sleep(min(delay, remaining))
            delay = poll.after(delay)
            last = None

    def _stuck_hint(self, job: Job) -> str | None:
        if job.status != "queued":
            return None
        audio_url = self._audio_urls.get(job.job_id) or getattr(job, "audio_url", None)
        if isinstance(audio_url, str) and urlsplit(audio_url).scheme.lower() != "https":
            return (
                f"It is still queued and its audio_url is not https ({audio_url[:80]!r}): the hosted "
                "API fetches only https URLs, so it may never start. Host the audio on https or "
                "upload the file with audio=<path>."
            )
        return None

    def _result_flow(self, job: str | Job) -> Flow[Result]:
        if isinstance(job, str):
            job = yield from self._get_flow(job)
        if job.status in ("failed", "cancelled"):
            raise JobFailedError(job)
        if job.result is not None:
            self.ledger.note_result(job.job_id, job.result)
            return job.result
        if job.status != "completed":
            raise ResultUnavailableError(
                f"job {job.job_id} is {job.status}: wait for it first, "
                f"client.jobs.wait({job.job_id!r}), then ask for its result"
            )
        if not job.result_url:
            raise ResultUnavailableError(
                f"job {job.job_id} is completed but has neither result nor result_url; "
                "fetch it again with client.jobs.get(job_id), and report the job id if it persists"
            )
        try:
            response = yield from self._fetch_signed(job.result_url)
        except APIError as exc:
            if exc.status_code not in (401, 403, 404, 410):
                raise
            # Signed links expire: a fresh GET of the job signs a new one.
            fresh = yield from self._get_flow(job.job_id)
            if fresh.result is not None:
                self.ledger.note_result(fresh.job_id, fresh.result)
                return fresh.result
            if not fresh.result_url or fresh.result_url == job.result_url:
                raise
            response = yield from self._fetch_signed(fresh.result_url)
        result = self._model(response, Result)
        units = response.headers.get(UNITS_HEADER)
        if units is not None:
            self.ledger.record(job.job_id, units, url=str(response.request.url).split("?")[0])
        self.ledger.note_result(job.job_id, result)
        return result

    def _format_flow(self, job: str | Job, fmt: str) -> Flow[str]:
        if fmt not in SUBTITLE_FORMATS:
            raise ValueError(f"format must be one of {', '.join(SUBTITLE_FORMATS)}, not {fmt!r}")
        result = yield from self._result_flow(job)
        job_id = job if isinstance(job, str) else job.job_id
        value = (result.formats or {}).get(fmt)
        if not value:
            raise ResultUnavailableError(
                f"job {job_id} has no {fmt} rendering: create the job with "
                f"output_formats=['json', '{fmt}'] to get subtitles"
            )
        if not value.startswith(("https://", "http://")):
            return value  # some servers inline the text itself
        response = yield from self._fetch_signed(value)
        return response.text

    def _fetch_signed(self, url: str) -> Flow[httpx.Response]:
        """GET a signed link with no Authorization header (the signature is the credential)."""
        self._check_signed_url(url)
        headers = {"Accept": "*/*", "User-Agent": f"hearkit/{__version__}"}
        return (yield from self._send(lambda: httpx.Request("GET", url, headers=headers)))

    def _check_signed_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.netloc:
            return
        base = urlsplit(self.base_url)
        if parts.scheme == "http" and (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
            return  # a local engine on plain http links to itself
        raise ResultUnavailableError(
            f"refusing to fetch {url[:80]!r}: result links must be https (or on the API's own origin)"
        )

    def _me_flow(self) -> Flow[Identity]:
        response = yield from self._api("GET", "/v1/me")
        return self._model(response, Identity)


def _normalize_base_url(url: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ClientConfigError(f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL}, not {url!r}")
    # The docs give the REST base as .../v1 while paths here start with /v1.
    return url.removesuffix("/v1")


def _on_this_machine(host: str) -> bool:
    """Whether ``host`` is a loopback name or address: the jobs server there is hearkit's own engine
    (``hearkit serve`` or the embedded one; the hosted API is never on this machine)."""
    host = host.lower().strip("[]")
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_base_url_encrypted(url: str) -> None:
    """Refuse a plain-http root that is not on this machine: the key and the audio would travel in clear."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    host = (parts.hostname or "").lower()
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ClientConfigError(
            f"refusing base_url {url!r}: plain http to {host} would send the API key and customer audio "
            "in clear text. Use https://..., or for an engine on a trusted network pass "
            f"allow_insecure_base_url=True (or set {ENV_ALLOW_INSECURE_BASE_URL}=1). "
            "http://127.0.0.1 / localhost (hearkit serve on this machine) is always allowed."
        )


def _job_path(job_id: str) -> str:
    if not isinstance(job_id, str) or not job_id.strip():
        raise ValueError(f"job_id must be a non-empty string such as 'job_…', not {job_id!r}")
    return quote(job_id, safe="")


def _form_value(value: Any) -> str | list[str]:
    """Multipart form fields: booleans as "true"/"false", lists as repeated fields."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _read_audio(audio: AudioInput) -> AudioUpload:
    if isinstance(audio, bytes | bytearray):
        if not audio:
            raise ValueError("audio is empty (0 bytes): pass the recording's bytes, a path or a file")
        return AudioUpload("audio", bytes(audio), "application/octet-stream")
    if isinstance(audio, str | os.PathLike):
        path = Path(audio)
        if not path.is_file():
            raise FileNotFoundError(f"audio file not found: {path} (give a path to a recording)")
        content = path.read_bytes()
        if not content:
            raise ValueError(f"audio file {path} is empty (0 bytes)")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return AudioUpload(path.name, content, kind)
    read = getattr(audio, "read", None)
    if read is None:
        raise TypeError(f"audio must be a path, bytes or a binary file object, not {type(audio).__name__}")
    content = read()
    if isinstance(content, str):
        raise TypeError("audio file object is open in text mode: open it with 'rb'")
    name = Path(str(getattr(audio, "name", "audio"))).name or "audio"
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return AudioUpload(name, bytes(content), kind)


def create_fields(
    *,
    model: str | None,
    channel: bool | None,
    diarize: bool | None,
    numerals: bool | None,
    output_formats: Sequence[str] | None,
    webhook_url: str | None,
    vocabulary: Sequence[str] | None,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    """The create fields in the order the official SDK sends them; unknown ``extra`` pass through."""
    return {
        "model": model,
        "diarize": diarize,
        "channel": channel,
        "numerals": numerals,
        **extra,
        "vocabulary": list(vocabulary) if vocabulary is not None else None,
        "output_formats": list(output_formats) if output_formats is not None else None,
        "webhook_url": webhook_url,
    }
