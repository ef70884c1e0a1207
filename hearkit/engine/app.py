"""The FastAPI application: the PyAI Hear batch jobs contract, served from the local store.

Routes (all bodies are :mod:`hearkit.schema` models):

* ``POST /v1/transcription/jobs`` (JSON with ``audio_url``, or multipart with an ``audio`` file
  part and the same fields as form fields) → 202 queued ``Job``.
* ``GET /v1/transcription/jobs/{id}`` → ``Job`` (+ ``x-pyai-units: audio_seconds=<n>`` once
  completed); ``GET /v1/transcription/jobs?limit=&cursor=`` → ``JobList``, newest first.
* ``GET /v1/transcription/jobs/{id}/result`` and ``…/formats/{srt|vtt}``: signed, expiring links
  (no API key), the targets of ``result_url`` and of ``result.formats``.
* ``GET /v1/me``, ``GET /v1/webhooks/signing-secret``, ``POST /v1/sandbox/keys``, ``/openapi.json``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import logging
import shutil
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, PlainTextResponse, Response

from hearkit import __version__
from hearkit.engine.delivery import WebhookDeliverer
from hearkit.engine.ids import new_job_id, now_ms, random_base62
from hearkit.engine.problems import EngineError
from hearkit.engine.ratelimit import RateLimiter
from hearkit.engine.settings import EngineSettings
from hearkit.engine.signing import sign_link, verify_link
from hearkit.engine.store import JobRow, KeyRow, Store
from hearkit.engine.subtitles import render_srt, render_vtt
from hearkit.engine.transcriber import Transcriber
from hearkit.engine.worker import Worker, webhook_event
from hearkit.schema import (
    Identity,
    IdentityCredit,
    IdentityLimits,
    Job,
    JobCreateParams,
    JobList,
    Result,
    SandboxKey,
    SigningSecretStatus,
)

__all__ = ["JOBS_SCOPE", "Runtime", "create_app", "units_header"]

log = logging.getLogger("hearkit.engine")

JOBS_SCOPE = "transcribe:jobs"
LOCAL_KEY_FILE = "local_api_key"
_SUBTITLE_TYPES = {"srt": "application/x-subrip; charset=utf-8", "vtt": "text/vtt; charset=utf-8"}
_LIST_FIELDS = {"output_formats", "vocabulary"}
#: Batch price per audio second in cents ($0.0015/min), to show live credit as cents in /v1/me.
_CENTS_PER_SECOND = 0.15 / 60


def units_header(audio_seconds: float) -> dict[str, str]:
    """``x-pyai-units: audio_seconds=<n>``: ``n`` is ``result.audio_seconds`` exactly (shortest repr)."""
    return {"x-pyai-units": f"audio_seconds={audio_seconds!r}"}


class Runtime:
    """Everything one running app owns: store, secrets, rate limiter, worker and deliverer."""

    def __init__(self, settings: EngineSettings, transcriber: Transcriber | None = None) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(settings.data_dir / "engine.sqlite3")
        self.audio_dir = settings.data_dir / "audio"
        self.tmp_dir = settings.data_dir / "tmp"
        self.url_secret = self.store.secret("url_secret")
        # Same secret as `hearkit serve --show-webhook-secret` prints.
        self.webhook_secret = settings.webhook_secret or self.store.secret("webhook_secret", "whsec_")
        self.limiter = RateLimiter()
        self.transcriber: Transcriber | str = transcriber if transcriber is not None else settings.transcriber
        self.worker: Worker | None = None
        self.deliverer: WebhookDeliverer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def ensure_local_key(self) -> tuple[str, bool]:
        """The data dir's local key (``<data_dir>/local_api_key``), minted on first use.

        Returns (key, created). The file is the only place the plaintext is kept (mode 0600).
        """
        path = self.settings.data_dir / LOCAL_KEY_FILE
        if path.exists():
            existing = path.read_text().strip()
            key = self.store.key_by_secret(existing)
            if key is not None and key.status == "active":
                return existing, False
        api_key, _ = self.store.create_key(
            env="test",
            scopes=["hear:transcribe", JOBS_SCOPE],
            rps=self.settings.rate_rps,
            burst=self.settings.rate_burst,
            label="local",
        )
        path.write_text(api_key + "\n")
        path.chmod(0o600)
        return api_key, True

    async def start(self) -> None:
        requeued = self.store.recover()
        if requeued:
            log.info("requeued %d job(s) interrupted by a restart", len(requeued))
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.audio_dir.mkdir(parents=True, exist_ok=True)
        needed = self.store.referenced_audio()
        for orphan in self.audio_dir.iterdir():
            if str(orphan) not in needed:
                orphan.unlink(missing_ok=True)
        self.deliverer = WebhookDeliverer(self.store, self.settings, self.webhook_secret)
        self.worker = Worker(self.store, self.settings, self.transcriber, on_finished=self._job_finished)
        self._tasks = [
            asyncio.create_task(self.worker.run(), name="hearkit-worker"),
            asyncio.create_task(self.deliverer.run(), name="hearkit-webhooks"),
        ]

    def _job_finished(self, _job_id: str) -> None:
        if self.deliverer is not None:
            self.deliverer.wake()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.worker is not None:
            self.worker.shutdown()

    # -- request helpers ------------------------------------------------------------------------
    def authenticate(self, request: Request, scope: str | None) -> KeyRow:
        """The calling key, after auth (401), rate limit (429) and scope (403) checks."""
        header = request.headers.get("authorization", "")
        api_key = (
            header[7:].strip() if header[:7].lower() == "bearer " else request.headers.get("x-api-key", "")
        )
        if not api_key:
            raise EngineError(
                401, "unauthorized", "Missing API key: send 'Authorization: Bearer <key>' (or 'x-api-key')."
            )
        key = self.store.key_by_secret(api_key)
        if key is None or key.status != "active":
            raise EngineError(401, "unauthorized", "Invalid or revoked API key.")
        if key.expires_at is not None and key.expires_at < now_ms():
            raise EngineError(401, "unauthorized", "This API key has expired: mint a new one.")
        wait = self.limiter.acquire(key.key_id, key.rps, key.burst)
        if wait is not None:
            raise EngineError(
                429,
                "rate_limit_exceeded",
                f"Rate limit exceeded ({key.rps:g} requests/s, burst {key.burst}); retry after Retry-After.",
                retry_after=wait,
            )
        if scope is not None and scope not in key.scopes:
            raise EngineError(
                403,
                "forbidden",
                f"This key lacks the scope '{scope}'. Mint one with"
                " `hearkit serve --create-key --scopes hear:transcribe,transcribe:jobs`.",
            )
        return key

    def base_url(self, request: Request) -> str:
        return self.settings.public_base_url or str(request.base_url).rstrip("/")

    def job_body(self, job: JobRow, base_url: str) -> dict[str, Any]:
        """The wire ``Job``: ``result`` inline when small, else a signed ``result_url``.

        The stored result is already a dumped :class:`Result` (the worker wrote ``Result.to_api()``),
        so only the envelope goes through the model here: polls of long calls stay cheap.
        """
        envelope: dict[str, Any] = {
            "job_id": job.job_id,
            "status": job.status,
            "created_at": job.created_at,
            "updated_at": job.updated_at,
        }
        inline = None
        if job.status == "completed" and job.result is not None:
            if len(job.result) > self.settings.result_inline_max_bytes:
                envelope["result_url"] = self.link(base_url, f"/v1/transcription/jobs/{job.job_id}/result")
            else:
                inline = self.result_body(job, base_url)
        if job.error is not None:
            envelope["error"] = job.error
        body = Job.model_validate(envelope).to_api()
        if inline is not None:
            body["result"] = inline
        return body

    def result_body(self, job: JobRow, base_url: str) -> dict[str, Any]:
        assert job.result is not None
        result: dict[str, Any] = json.loads(job.result)
        formats = {
            fmt: self.link(base_url, f"/v1/transcription/jobs/{job.job_id}/formats/{fmt}")
            for fmt in job.params.get("output_formats") or []
            if fmt in _SUBTITLE_TYPES
        }
        if formats:
            result["formats"] = formats
        return result

    def link(self, base_url: str, path: str) -> str:
        return sign_link(self.url_secret, base_url, path, self.settings.signed_url_ttl)

    def check_billing(self, key: KeyRow) -> None:
        """402 for a live key out of credit; 429 for a test key over its daily audio cap."""
        if key.env == "live" and key.credit_seconds is not None:
            used = self.store.billed_seconds(key.key_id)
            if used >= key.credit_seconds:
                raise EngineError(
                    402,
                    "credit_exhausted",
                    f"This key's prepaid credit of {key.credit_seconds:g} audio seconds is used up"
                    f" ({used:.1f} s billed). Add credit:"
                    " `hearkit serve --create-key --live --credit-seconds N`.",
                )
        if key.env == "test" and key.daily_cap_seconds is not None:
            midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            used = self.store.billed_seconds(key.key_id, int(midnight.timestamp() * 1000))
            if used >= key.daily_cap_seconds:
                reset = (midnight + timedelta(days=1) - datetime.now(UTC)).total_seconds()
                raise EngineError(
                    429,
                    "daily_cap_exceeded",
                    f"This test key's daily cap of {key.daily_cap_seconds:g} audio seconds is reached"
                    " (resets at 00:00 UTC).",
                    retry_after=reset,
                )


# -- request parsing ---------------------------------------------------------------------------
async def _spool_body(request: Request, cap: int) -> tempfile.SpooledTemporaryFile[bytes]:
    """The request body in a temporary file; 413 (after draining what the client sends) above ``cap``."""
    declared = request.headers.get("content-length", "")
    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
    size = 0
    too_large = declared.isdigit() and int(declared) > cap
    drain_limit = cap + 64 * 1024 * 1024
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > cap:
                too_large = True
            if too_large:
                if size > drain_limit:
                    break
                continue
            spool.write(chunk)
    except ClientDisconnect:
        # The client went away mid-upload (a killed batch, a dropped connection): nothing was
        # created, so this is an ordinary refused request, not a server error with a traceback.
        spool.close()
        raise EngineError(
            400, "invalid_request", "The client disconnected before the request body was complete."
        ) from None
    if too_large:
        spool.close()
        raise EngineError(
            413,
            "payload_too_large",
            f"The request body is larger than this server's upload limit of {cap} bytes.",
        )
    spool.seek(0)
    return spool


def _field_errors(exc: ValidationError) -> EngineError:
    problems = []
    field = None
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "body"
        problems.append(f"field '{field}': {error['msg']}")
    return EngineError(400, "invalid_request", "; ".join(problems), param=field)


def _form_value(name: str, values: list[str]) -> Any:
    if name not in _LIST_FIELDS:
        return values[0] if len(values) == 1 else values
    items: list[Any] = []
    for value in values:
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                parsed = json.loads(stripped)
            except json.JSONDecodeError:
                raise EngineError(
                    400, "invalid_request", f"field '{name}': not a valid JSON array", param=name
                ) from None
            items.extend(parsed if isinstance(parsed, list) else [parsed])
        else:
            items.extend(part.strip() for part in stripped.split(",") if part.strip())
    return items


class _Submission:
    """A parsed create request: its params, where its upload went, and its canonical hash."""

    def __init__(self, params: JobCreateParams, upload: Path | None, body_hash: str) -> None:
        self.params = params
        self.upload = upload
        self.body_hash = body_hash


async def _parse_json(spool: tempfile.SpooledTemporaryFile[bytes]) -> _Submission:
    raw = spool.read()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise EngineError(400, "invalid_request", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise EngineError(400, "invalid_request", "The request body must be a JSON object.")
    try:
        params = JobCreateParams.model_validate(data, strict=True)
    except ValidationError as exc:
        raise _field_errors(exc) from None
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return _Submission(params, None, hashlib.sha256(b"json\n" + canonical.encode()).hexdigest())


async def _parse_multipart(
    request: Request, spool: tempfile.SpooledTemporaryFile[bytes], upload_path: Path
) -> _Submission:
    async def chunks() -> AsyncGenerator[bytes, None]:
        while data := spool.read(256 * 1024):
            yield data

    parser = MultiPartParser(request.headers, chunks(), max_files=4, max_fields=200)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise EngineError(400, "invalid_request", f"Malformed multipart body: {exc.message}") from None
    fields: dict[str, list[str]] = {}
    audio: UploadFile | None = None
    try:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if name != "audio":
                    raise EngineError(
                        400,
                        "invalid_request",
                        f"Unexpected file part '{name}': the file part is 'audio'.",
                        param=name,
                    )
                if audio is not None:
                    raise EngineError(
                        400, "invalid_request", "Send exactly one 'audio' file part.", param="audio"
                    )
                audio = value
            elif name == "audio":
                raise EngineError(
                    400,
                    "invalid_request",
                    "field 'audio' must be a file part, not a text field",
                    param="audio",
                )
            else:
                fields.setdefault(name, []).append(value)
        data = {name: _form_value(name, values) for name, values in fields.items()}
        try:
            params = JobCreateParams.model_validate(data)
        except ValidationError as exc:
            raise _field_errors(exc) from None
        digest = hashlib.sha256(b"multipart\n")
        for name in sorted(fields):
            digest.update(json.dumps([name, fields[name]]).encode() + b"\n")
        stored: Path | None = None
        if audio is not None:
            file_digest = hashlib.sha256()
            upload_path.parent.mkdir(parents=True, exist_ok=True)
            with upload_path.open("wb") as out:
                while data_chunk := await audio.read(256 * 1024):
                    file_digest.update(data_chunk)
                    out.write(data_chunk)
            digest.update(b"audio\n" + file_digest.hexdigest().encode())
            stored = upload_path
        return _Submission(params, stored, digest.hexdigest())
    finally:
        await form.close()


def _check_urls(params: JobCreateParams, has_upload: bool, allow_private: bool) -> str | None:
    """400 for a missing/double source or a malformed URL; returns the error of a non-https audio_url."""
    if (params.audio_url is None) == (not has_upload):
        raise EngineError(
            400,
            "invalid_request",
            "exactly one audio source required: provide 'audio_url' OR an upload"
            " (multipart part 'audio'), not both",
        )
    if params.webhook_url is not None:
        hook = urlsplit(params.webhook_url)
        allowed = {"https", "http"} if allow_private else {"https"}
        if hook.scheme not in allowed or not hook.hostname:
            raise EngineError(
                400,
                "invalid_request",
                "field 'webhook_url': must be an absolute https:// URL",
                param="webhook_url",
            )
    if params.audio_url is not None:
        audio = urlsplit(params.audio_url)
        if not audio.scheme or not audio.netloc:
            raise EngineError(
                400,
                "invalid_request",
                "field 'audio_url': must be an absolute https:// URL",
                param="audio_url",
            )
        if audio.scheme != "https":
            return (
                f"audio_url must use https (got '{audio.scheme}://'): host the recording behind https,"
                " or upload the file (multipart part 'audio')"
            )
    return None


def _decode_cursor(cursor: str) -> tuple[int, int]:
    """(created_at, seq) of the last job of the previous page."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, seq = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(created_at, int) or not isinstance(seq, int):
            raise ValueError(cursor)
        return created_at, seq
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise EngineError(
            400,
            "invalid_request",
            "query parameter 'cursor': not a cursor this server issued;"
            " pass next_cursor from the previous page",
            param="cursor",
        ) from None


def _encode_cursor(job: JobRow) -> str:
    raw = json.dumps([job.created_at, job.seq], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _parse_limit(raw: str | None) -> int:
    if raw is None:
        return 20
    try:
        limit = int(raw)
    except ValueError:
        raise EngineError(
            400, "invalid_request", "query parameter 'limit': must be an integer from 1 to 100", param="limit"
        ) from None
    if not 1 <= limit <= 100:
        raise EngineError(
            400, "invalid_request", "query parameter 'limit': must be between 1 and 100", param="limit"
        )
    return limit


_CREATE_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": JobCreateParams.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"audio": {"type": "string", "format": "binary"}},
                    "required": ["audio"],
                    "additionalProperties": True,
                }
            },
        },
    },
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 255},
        }
    ],
    "responses": {
        "202": {
            "description": "Job accepted",
            "content": {"application/json": {"schema": Job.model_json_schema()}},
        }
    },
}


def create_app(settings: EngineSettings, transcriber: Transcriber | None = None) -> FastAPI:
    """The ASGI app over the data dir of ``settings``; ``app.state.runtime`` is its :class:`Runtime`."""
    runtime = Runtime(settings, transcriber)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="hearkit local engine (PyAI Hear batch jobs compatible)",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime

    @app.exception_handler(EngineError)
    async def _engine_error(_request: Request, exc: EngineError) -> Response:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> Response:
        problems = [f"'{'.'.join(str(p) for p in e['loc'])}': {e['msg']}" for e in exc.errors()]
        return EngineError(400, "invalid_request", "; ".join(problems)).response()

    @app.exception_handler(HTTPException)
    async def _http_error(_request: Request, exc: HTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
        status = exc.status_code if exc.status_code in {404, 405} else 400
        return EngineError(status, code, str(exc.detail)).response()

    @app.exception_handler(Exception)
    async def _internal_error(_request: Request, exc: Exception) -> Response:
        log.exception("internal error")
        return EngineError(500, "internal_error", f"Internal server error ({type(exc).__name__}).").response()

    @app.post(
        "/v1/transcription/jobs", status_code=202, openapi_extra=_CREATE_OPENAPI, tags=["transcription jobs"]
    )
    async def create_job(request: Request) -> Response:
        """Create a transcription job from an https ``audio_url`` (JSON) or an upload (multipart)."""
        key = runtime.authenticate(request, JOBS_SCOPE)
        idem_key = request.headers.get("idempotency-key")
        if idem_key is not None and not 1 <= len(idem_key) <= 255:
            raise EngineError(
                400,
                "invalid_request",
                "header 'Idempotency-Key': must be 1 to 255 characters",
                param="Idempotency-Key",
            )
        content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        job_id = new_job_id()
        spool = await _spool_body(request, settings.max_upload_bytes)
        try:
            if content_type == "multipart/form-data":
                submission = await _parse_multipart(request, spool, runtime.audio_dir / job_id)
            elif content_type == "application/json" or content_type.endswith("+json"):
                submission = await _parse_json(spool)
            else:
                raise EngineError(
                    400,
                    "invalid_request",
                    f"header 'Content-Type': {content_type!r} is not supported; send application/json"
                    " or multipart/form-data",
                    param="Content-Type",
                )
        finally:
            spool.close()
        try:
            return await _accept(key, idem_key, job_id, submission)
        except BaseException:
            if submission.upload is not None:
                submission.upload.unlink(missing_ok=True)
            raise

    async def _accept(key: KeyRow, idem_key: str | None, job_id: str, submission: _Submission) -> Response:
        params = submission.params
        failure = _check_urls(params, submission.upload is not None, settings.allow_private_urls)
        created_at = now_ms()
        status = "queued" if failure is None else "failed"
        accepted: dict[str, Any] = {"job_id": job_id, "status": status, "created_at": created_at}
        accepted["updated_at"] = created_at
        if failure is not None:
            accepted["error"] = failure
        accepted = Job.model_validate(accepted).to_api()
        if idem_key is not None:
            previous = runtime.store.claim_idempotency(key.key_id, idem_key, submission.body_hash, accepted)
            if previous is not None:
                if submission.upload is not None:
                    submission.upload.unlink(missing_ok=True)
                if previous.body_hash != submission.body_hash:
                    raise EngineError(
                        409,
                        "idempotency_conflict",
                        "Idempotency-Key was reused with a different request body.",
                    )
                return JSONResponse(
                    previous.response, status_code=202, headers={"idempotent-replayed": "true"}
                )
        try:
            runtime.check_billing(key)
            stored_params = params.to_api()
            runtime.store.insert_job(
                job_id=job_id,
                key=key,
                created_at=created_at,
                params=stored_params,
                audio_path=str(submission.upload) if submission.upload else None,
                status=status,
                error=failure,
                webhook_event=webhook_event(job_id, stored_params, "failed") if failure else None,
            )
        except BaseException:
            if idem_key is not None:
                runtime.store.release_idempotency(key.key_id, idem_key)
            raise
        if runtime.worker is not None:
            runtime.worker.wake()
        if failure is not None and runtime.deliverer is not None:
            runtime.deliverer.wake()
        return JSONResponse(accepted, status_code=202)

    @app.get("/v1/transcription/jobs/{job_id}", response_model=Job, tags=["transcription jobs"])
    async def get_job(job_id: str, request: Request) -> Response:
        """One job; completed jobs carry ``x-pyai-units: audio_seconds=<n>``."""
        key = runtime.authenticate(request, JOBS_SCOPE)
        job = runtime.store.get_job(job_id, key.project_id)
        if job is None:
            raise EngineError(404, "not_found", f"No transcription job with id '{job_id}'.")
        headers = units_header(job.audio_seconds) if job.status == "completed" and job.audio_seconds else {}
        return JSONResponse(runtime.job_body(job, runtime.base_url(request)), headers=headers)

    @app.get("/v1/transcription/jobs", response_model=JobList, tags=["transcription jobs"])
    async def list_jobs(request: Request) -> Response:
        """Jobs newest first; ``limit`` 1–100 (default 20); ``cursor`` = previous ``next_cursor``."""
        key = runtime.authenticate(request, JOBS_SCOPE)
        limit = _parse_limit(request.query_params.get("limit"))
        cursor = request.query_params.get("cursor")
        before = _decode_cursor(cursor) if cursor else None
        rows = runtime.store.list_jobs(key.project_id, limit + 1, before)
        has_more = len(rows) > limit
        rows = rows[:limit]
        base = runtime.base_url(request)
        page = JobList(has_more=has_more, next_cursor=_encode_cursor(rows[-1]) if has_more else None).to_api()
        page["data"] = [runtime.job_body(r, base) for r in rows]
        return JSONResponse(page)

    def _signed_job(request: Request, job_id: str) -> JobRow:
        reason = verify_link(
            runtime.url_secret,
            request.url.path,
            request.query_params.get("expires"),
            request.query_params.get("signature"),
        )
        if reason is not None:
            raise EngineError(403, "forbidden", f"{reason.capitalize()}: GET the job again for a fresh link.")
        job = runtime.store.get_job(job_id)
        if job is None or job.status != "completed" or job.result is None:
            raise EngineError(404, "not_found", f"No completed transcription job with id '{job_id}'.")
        return job

    @app.get("/v1/transcription/jobs/{job_id}/result", response_model=Result, tags=["signed links"])
    async def get_result(job_id: str, request: Request) -> Response:
        """The offloaded result document (signed link, no API key)."""
        job = _signed_job(request, job_id)
        headers = units_header(job.audio_seconds) if job.audio_seconds else {}
        return JSONResponse(runtime.result_body(job, runtime.base_url(request)), headers=headers)

    @app.get("/v1/transcription/jobs/{job_id}/formats/{fmt}", tags=["signed links"])
    async def get_format(job_id: str, fmt: str, request: Request) -> Response:
        """SRT or WebVTT subtitles of a completed job (signed link, no API key)."""
        job = _signed_job(request, job_id)
        if fmt not in _SUBTITLE_TYPES:
            raise EngineError(404, "not_found", f"No format '{fmt}': use srt or vtt.")
        assert job.result is not None
        result = Result.model_validate_json(job.result)
        text = render_srt(result) if fmt == "srt" else render_vtt(result)
        return PlainTextResponse(text, media_type=_SUBTITLE_TYPES[fmt])

    @app.get("/v1/me", response_model=Identity, tags=["identity"])
    async def me(request: Request) -> Response:
        """Who the calling key is, its limits and remaining credit."""
        key = runtime.authenticate(request, None)
        credit = IdentityCredit(gated=key.env == "live" and key.credit_seconds is not None)
        if credit.gated and key.credit_seconds is not None:
            remaining = max(0.0, key.credit_seconds - runtime.store.billed_seconds(key.key_id))
            credit.available_cents = int(remaining * _CENTS_PER_SECOND)
            credit.available_audio_seconds = round(remaining, 3)  # type: ignore[attr-defined]
        identity = Identity(
            object="identity",
            key_id=key.key_id,
            org_id=key.org_id,
            project_id=key.project_id,
            env="live" if key.env == "live" else "test",
            status="active",
            org_status="active",
            scopes=list(key.scopes),
            expires_at=key.expires_at,
            plan="local",
            limits=IdentityLimits(
                rps=key.rps,
                burst=key.burst,
                concurrency=settings.workers,
                daily_unit_cap=key.daily_cap_seconds,
            ),
            credit=credit,
        )
        return JSONResponse(identity.to_api())

    @app.get("/v1/webhooks/signing-secret", response_model=SigningSecretStatus, tags=["webhooks"])
    async def signing_secret(request: Request) -> Response:
        """Whether a webhook signing secret is configured, and its last 4 characters."""
        runtime.authenticate(request, None)
        status = SigningSecretStatus(
            object="webhook_signing_secret", configured=True, last4=runtime.webhook_secret[-4:]
        )
        return JSONResponse(status.to_api())

    @app.post("/v1/sandbox/keys", status_code=201, response_model=SandboxKey, tags=["sandbox"])
    async def sandbox_key(request: Request) -> Response:
        """Mint a test key (no auth; rate-limited per client address). Each gets its own project."""
        if not settings.sandbox_enabled:
            raise EngineError(404, "not_found", "Sandbox key minting is disabled on this server.")
        client = request.client.host if request.client else "unknown"
        wait = runtime.limiter.acquire(
            f"sandbox:{client}",
            settings.sandbox_keys_per_minute / 60,
            max(1, int(settings.sandbox_keys_per_minute)),
        )
        if wait is not None:
            raise EngineError(
                429, "rate_limit_exceeded", "Too many sandbox keys minted; retry later.", retry_after=wait
            )
        raw = await request.body()
        label: Any = None
        if raw.strip():
            try:
                data = json.loads(raw)
            except json.JSONDecodeError:
                raise EngineError(400, "invalid_request", "The request body is not valid JSON.") from None
            label = data.get("label") if isinstance(data, dict) else None
            if label is not None and (not isinstance(label, str) or len(label) > 64):
                raise EngineError(
                    400,
                    "invalid_request",
                    "field 'label': must be a string of at most 64 characters",
                    param="label",
                )
        scopes = [s.strip() for s in settings.sandbox_scopes.split(",") if s.strip()]
        expires_at = now_ms() + int(settings.sandbox_key_ttl_days * 86_400_000)
        api_key, key = runtime.store.create_key(
            env="test",
            scopes=scopes,
            rps=settings.rate_rps,
            burst=settings.rate_burst,
            project_id="proj_" + random_base62(16),
            daily_cap_seconds=settings.test_daily_cap_seconds,
            expires_at=expires_at,
            label=label,
        )
        minted = SandboxKey(
            object="sandbox.key",
            api_key=api_key,
            environment="test",
            expires_at=expires_at,
            base_url=runtime.base_url(request),
            key_id=key.key_id,
            org_id=key.org_id,
            project_id=key.project_id,
            scopes=scopes,
            note="hearkit local engine test key: shown once, stored hashed.",
        )
        return JSONResponse(minted.to_api(), status_code=201)

    return app
