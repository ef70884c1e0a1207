"""Reading and validating what a request carries, at the edge: bodies, form fields, query values.

Every value is bounded before it is used, and everything out of bounds is a 400 (or a 413 for
size) ``application/problem+json`` that says what to send instead:

* **Body size.** A create body is at most ``max_upload_bytes`` (multipart) or
  :data:`MAX_JSON_BYTES` (JSON), and all create bodies being received at once hold at most
  ``max_upload_bytes_in_flight`` (:class:`UploadBudget`; past it a body is refused 503 with
  ``Retry-After``, so disk use does not grow with concurrency × cap). A ``Content-Length`` above
  the cap is answered 413 at once, before reading; a body that turns out larger while streaming
  (chunked, or a false length) stops being read at the cap. Either way at most
  :data:`DRAIN_BYTES` more are read, for at most :data:`DRAIN_SECONDS`, so the client can see
  the answer, and the connection is closed. A multipart upload streams through Starlette's parser
  (file parts spooled to a temporary file past 1 MiB) and is copied to its job's file.
* **Pace.** A body that stops arriving for ``upload_idle_seconds``, or that has averaged less
  than ``upload_min_bytes_per_second`` once it has run that long (a stalled link, or a trickle
  that holds the connection), is answered 408 and the connection closed: nothing is stored.
* **JSON.** :func:`hearkit._boundedjson.loads`: nesting at most 32 levels, integers within
  Python's digit limit; the create parameters validated strictly; every integer within 64 bits,
  every string at most :data:`MAX_STRING_CHARS`, every list at most :data:`MAX_LIST_ITEMS`.
  Fields the API does not know are ignored (the hosted API ignores them too): they count in the
  idempotency hash but are not stored.
* **URLs.** ``audio_url`` and ``webhook_url`` through :func:`hearkit.engine.outbound.check_url`.
* **Query values.** ``limit`` 1-100; ``cursor`` only as this server issues it (two 64-bit ints).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message

from hearkit import _boundedjson
from hearkit.engine.outbound import FetchError, check_url
from hearkit.engine.problems import EngineError
from hearkit.engine.settings import EngineSettings
from hearkit.engine.store import JobRow
from hearkit.schema import JobCreateParams

__all__ = [
    "MAX_JSON_BYTES",
    "Submission",
    "UploadBudget",
    "check_sources",
    "decode_cursor",
    "encode_cursor",
    "parse_limit",
    "read_submission",
]

MAX_JSON_BYTES = 1024 * 1024
MAX_STRING_CHARS = 8192
MAX_LIST_ITEMS = 2000
MAX_FORM_FIELDS = 200
DRAIN_BYTES = 1024 * 1024
DRAIN_SECONDS = 1.0
_INT64 = 2**63 - 1
_LIST_FIELDS = {"output_formats", "vocabulary"}
_KNOWN_FIELDS = frozenset(JobCreateParams.model_fields)


class UploadBudget:
    """Bytes of create bodies being received now, over all requests of one app (event-loop only)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, size: int) -> bool:
        """Count ``size`` more bytes in flight; ``False`` (nothing counted) when that passes the limit."""
        if self.used + size > self.limit:
            return False
        self.used += size
        return True

    def give(self, size: int) -> None:
        self.used = max(0, self.used - size)


def _busy(budget: UploadBudget) -> EngineError:
    return EngineError(
        503,
        "server_busy",
        f"This server is receiving {budget.limit} bytes of uploads at once already; retry after Retry-After.",
        retry_after=2.0,
        headers={"connection": "close"},
    )


class Submission:
    """A parsed create request: its params (unknown fields dropped), its upload, its canonical hash."""

    def __init__(self, params: JobCreateParams, upload: Path | None, body_hash: str) -> None:
        self.params = params
        self.upload = upload
        self.body_hash = body_hash

    def stored_params(self) -> dict[str, Any]:
        """The parameters as stored with the job: only the fields of :class:`JobCreateParams`."""
        return {name: value for name, value in self.params.to_api().items() if name in _KNOWN_FIELDS}


def _too_large(cap: int, what: str) -> EngineError:
    return EngineError(
        413,
        "payload_too_large",
        f"The {what} is larger than this server's limit of {cap} bytes.",
        headers={"connection": "close"},
    )


def _declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise EngineError(
            400, "invalid_request", "header 'Content-Length': not a byte count", param="Content-Length"
        )
    return int(raw)


@dataclasses.dataclass(frozen=True)
class Pace:
    """How slowly a body may arrive: no gap longer than ``idle_seconds``, and at least
    ``min_bytes_per_second`` on average once it has run ``idle_seconds``."""

    idle_seconds: float = 60.0
    min_bytes_per_second: float = 1024.0

    @classmethod
    def of(cls, settings: EngineSettings) -> Pace:
        return cls(settings.upload_idle_seconds, settings.upload_min_bytes_per_second)


class _Stalled(Exception):
    """The body stopped arriving, or arrives too slowly (:class:`Pace`)."""


class _CappedBody:
    """The request's ``receive``, ending the body early (and remembering it) past ``cap`` bytes,
    and raising :class:`_Stalled` when it arrives slower than ``pace``."""

    def __init__(
        self, request: Request, cap: int, budget: UploadBudget | None = None, pace: Pace | None = None
    ) -> None:
        self.receive_inner = request.receive
        self.cap = cap
        self.budget = budget
        self.pace = pace or Pace()
        self.started = time.monotonic()
        self.size = 0
        self.exceeded = False
        self.busy = False
        self.ended = False

    def release(self) -> None:
        """Give the bytes counted for this body back to the budget (the request is over)."""
        if self.budget is not None and not self.busy:
            self.budget.give(self.size)
        self.size = 0

    async def receive(self) -> Message:
        if self.exceeded or self.busy:
            return {"type": "http.request", "body": b"", "more_body": False}
        try:
            async with asyncio.timeout(self.pace.idle_seconds):
                message = await self.receive_inner()
        except TimeoutError:
            raise _Stalled(f"no data arrived for {self.pace.idle_seconds:g} s") from None
        if message["type"] == "http.request":
            chunk = len(message.get("body", b""))
            elapsed = time.monotonic() - self.started
            if (
                message.get("more_body", False)
                and elapsed > self.pace.idle_seconds
                and (self.size + chunk) / elapsed < self.pace.min_bytes_per_second
            ):
                raise _Stalled(
                    f"it arrived at {(self.size + chunk) / elapsed:.0f} bytes/s, below this server's"
                    f" {self.pace.min_bytes_per_second:g}"
                )
            if self.budget is not None and not self.budget.take(chunk):
                self.budget.give(self.size)
                self.busy = True
                return {"type": "http.request", "body": b"", "more_body": False}
            self.size += chunk
            if not message.get("more_body", False):
                self.ended = True
            if self.size > self.cap:
                self.exceeded = True
                return {"type": "http.request", "body": b"", "more_body": False}
        return message

    async def drain(self) -> None:
        """Read and drop at most ``DRAIN_BYTES`` more, for at most ``DRAIN_SECONDS``."""
        if self.ended:
            return
        drained = 0
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAIN_SECONDS):
                while drained < DRAIN_BYTES:
                    message = await self.receive_inner()
                    if message["type"] != "http.request" or not message.get("more_body", False):
                        return
                    drained += len(message.get("body", b""))


async def _refuse_declared(request: Request, cap: int, what: str) -> None:
    declared = _declared_length(request)
    if declared is not None and declared > cap:
        await _CappedBody(request, 0).drain()
        raise _too_large(cap, what)


def _stalled(reason: _Stalled) -> EngineError:
    return EngineError(
        408,
        "request_timeout",
        f"The upload stalled ({reason}); nothing was stored: send the request again.",
        headers={"connection": "close"},
    )


def _disconnected() -> EngineError:
    # The client went away mid-upload (a killed batch, a dropped connection): nothing was
    # created, so this is an ordinary refused request, not a server error with a traceback.
    return EngineError(
        400, "invalid_request", "The client disconnected before the request body was complete."
    )


async def read_submission(
    request: Request, settings: EngineSettings, upload_path: Path, budget: UploadBudget
) -> Submission:
    """The create request's body parsed by its ``Content-Type`` (JSON or multipart)."""
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        await _refuse_declared(request, settings.max_upload_bytes, "request body")
        declared = _declared_length(request)
        if declared is not None and budget.used + declared > budget.limit:
            await _CappedBody(request, 0).drain()
            raise _busy(budget)
        body = _CappedBody(request, settings.max_upload_bytes, budget, Pace.of(settings))
        try:
            return await _read_multipart(request, body, upload_path)
        except _Stalled as stalled:
            raise _stalled(stalled) from None
        finally:
            body.release()
    if content_type == "application/json" or content_type.endswith("+json"):
        await _refuse_declared(request, MAX_JSON_BYTES, "JSON body")
        try:
            return await _read_json(request, Pace.of(settings))
        except _Stalled as stalled:
            raise _stalled(stalled) from None
    raise EngineError(
        400,
        "invalid_request",
        f"header 'Content-Type': {content_type[:100]!r} is not supported; send application/json"
        " or multipart/form-data",
        param="Content-Type",
    )


async def _read_json(request: Request, pace: Pace) -> Submission:
    body = _CappedBody(request, MAX_JSON_BYTES, pace=pace)
    try:
        raw = await Request(request.scope, body.receive).body()
    except ClientDisconnect:
        raise _disconnected() from None
    if body.exceeded:
        await body.drain()
        raise _too_large(MAX_JSON_BYTES, "JSON body")
    try:
        data = _boundedjson.loads(raw) if raw.strip() else {}
    except _boundedjson.JSONBoundsError as exc:
        raise EngineError(400, "invalid_request", f"The request body is not acceptable: {exc}.") from None
    if not isinstance(data, dict):
        raise EngineError(400, "invalid_request", "The request body must be a JSON object.")
    params = _validated(data, strict=True)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return Submission(params, None, hashlib.sha256(b"json\n" + canonical.encode()).hexdigest())


def _validated(data: dict[str, Any], *, strict: bool) -> JobCreateParams:
    try:
        params = JobCreateParams.model_validate(data, strict=strict)
    except ValidationError as exc:
        raise _field_errors(exc) from None
    for name, value in params.to_api().items():
        if name in _KNOWN_FIELDS:
            _check_bounds(name, value)
    return params


def _check_bounds(name: str, value: Any) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return
    if isinstance(value, int) and not -_INT64 <= value <= _INT64:
        raise EngineError(400, "invalid_request", f"field '{name}': integer out of range", param=name)
    if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
        raise EngineError(
            400, "invalid_request", f"field '{name}': longer than {MAX_STRING_CHARS} characters", param=name
        )
    if isinstance(value, list):
        if len(value) > MAX_LIST_ITEMS:
            raise EngineError(
                400, "invalid_request", f"field '{name}': more than {MAX_LIST_ITEMS} items", param=name
            )
        for item in value:
            _check_bounds(name, item)


def _field_errors(exc: ValidationError) -> EngineError:
    problems = []
    field = None
    for error in exc.errors()[:10]:
        field = ".".join(str(part) for part in error["loc"])[:100] or "body"
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
                parsed = _boundedjson.loads(stripped)
            except _boundedjson.JSONBoundsError as exc:
                raise EngineError(
                    400,
                    "invalid_request",
                    f"field '{name}': not an acceptable JSON array ({exc})",
                    param=name,
                ) from None
            items.extend(parsed if isinstance(parsed, list) else [parsed])
        else:
            items.extend(part.strip() for part in stripped.split(",") if part.strip())
    return items


async def _read_multipart(request: Request, body: _CappedBody, upload_path: Path) -> Submission:
    cap = body.cap
    capped = Request(request.scope, body.receive)
    try:
        form = await capped.form(max_files=4, max_fields=MAX_FORM_FIELDS)
    except ClientDisconnect:
        raise _disconnected() from None
    except (HTTPException, MultiPartException) as exc:
        if body.busy:
            await body.drain()
            raise _busy(body.budget or UploadBudget(0)) from None
        if body.exceeded:
            await body.drain()
            raise _too_large(cap, "request body") from None
        detail = exc.detail if isinstance(exc, HTTPException) else exc.message
        if "Too many fields" in str(detail):
            detail = (
                f"more than {MAX_FORM_FIELDS} form fields; a vocabulary is sent as one field per term, so"
                " send fewer terms (hearkit's CLI takes at most 50)"
            )
        raise EngineError(400, "invalid_request", f"Malformed multipart body: {detail}") from None
    try:
        if body.busy:
            await body.drain()
            raise _busy(body.budget or UploadBudget(0))
        if body.exceeded:
            await body.drain()
            raise _too_large(cap, "request body")
        fields: dict[str, list[str]] = {}
        audio: UploadFile | None = None
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if name != "audio":
                    raise EngineError(
                        400,
                        "invalid_request",
                        f"Unexpected file part '{name[:100]}': the file part is 'audio'.",
                        param=name[:100],
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
        params = _validated(
            {name: _form_value(name, values) for name, values in fields.items()}, strict=False
        )
        digest = hashlib.sha256(b"multipart\n")
        for name in sorted(fields):
            digest.update(json.dumps([name, fields[name]]).encode() + b"\n")
        stored: Path | None = None
        if audio is not None:
            file_digest = hashlib.sha256()
            upload_path.parent.mkdir(parents=True, exist_ok=True)
            with upload_path.open("wb") as out:
                while chunk := await audio.read(256 * 1024):
                    file_digest.update(chunk)
                    out.write(chunk)
            digest.update(b"audio\n" + file_digest.hexdigest().encode())
            stored = upload_path
        return Submission(params, stored, digest.hexdigest())
    finally:
        await form.close()


def check_sources(params: JobCreateParams, has_upload: bool, settings: EngineSettings) -> str | None:
    """400 for a missing/double source or a malformed URL; returns the error of a non-https audio_url."""
    if (params.audio_url is None) == (not has_upload):
        raise EngineError(
            400,
            "invalid_request",
            "exactly one audio source required: provide 'audio_url' OR an upload"
            " (multipart part 'audio'), not both",
        )
    if params.webhook_url is not None:
        schemes = frozenset({"https", "http"}) if settings.allow_private_urls else frozenset({"https"})
        try:
            check_url(params.webhook_url, field="webhook_url", schemes=schemes)
        except FetchError as exc:
            raise EngineError(
                400, "invalid_request", f"field 'webhook_url': {exc}", param="webhook_url"
            ) from None
    if params.audio_url is not None:
        try:
            check_url(params.audio_url, field="audio_url", schemes=frozenset({"https", "http"}))
        except FetchError as exc:
            raise EngineError(
                400, "invalid_request", f"field 'audio_url': {exc}", param="audio_url"
            ) from None
        scheme = params.audio_url.split(":", 1)[0].lower()
        if scheme != "https":
            return (
                f"audio_url must use https (got '{scheme}://'): host the recording behind https,"
                " or upload the file (multipart part 'audio')"
            )
    return None


def decode_cursor(cursor: str) -> tuple[int, int]:
    """(created_at, seq) of the last job of the previous page, each within 0 … 2**63-1."""
    try:
        if len(cursor) > 200:
            raise ValueError(cursor)
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, seq = json.loads(base64.urlsafe_b64decode(padded))
        for value in (created_at, seq):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _INT64:
                raise ValueError(cursor)
        return created_at, seq
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise EngineError(
            400,
            "invalid_request",
            "query parameter 'cursor': not a cursor this server issued;"
            " pass next_cursor from the previous page",
            param="cursor",
        ) from None


def encode_cursor(job: JobRow) -> str:
    raw = json.dumps([job.created_at, job.seq], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return 20
    digits = raw.strip().lstrip("+-")
    if not (digits.isascii() and digits.isdigit()) or len(raw) > 10:
        raise EngineError(
            400, "invalid_request", "query parameter 'limit': must be an integer from 1 to 100", param="limit"
        )
    limit = int(raw)
    if not 1 <= limit <= 100:
        raise EngineError(
            400, "invalid_request", "query parameter 'limit': must be between 1 and 100", param="limit"
        )
    return limit
