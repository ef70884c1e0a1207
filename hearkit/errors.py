"""Exceptions raised by hearkit, each with a message that says what to do next.

The tree::

    HearkitError
    ├── APIError(status_code, code, message, request_id, body)     an HTTP error response
    │   ├── BadRequestError              400 (invalid_request, …)
    │   ├── AuthenticationError          401 (unauthorized, invalid_api_key)
    │   ├── PaymentRequiredError         402
    │   │   ├── CreditExhaustedError         credit_exhausted
    │   │   ├── KeyBudgetExceededError       key_budget_exceeded
    │   │   └── InsufficientQuotaError       insufficient_quota
    │   ├── PermissionDeniedError        403 (forbidden, insufficient_scope, …)
    │   ├── NotFoundError                404
    │   ├── IdempotencyConflictError     409 (idempotency_conflict)
    │   ├── RateLimitError               429 (.retry_after seconds or None)
    │   │   └── DailyCapExceededError        daily_cap_exceeded, sandbox_limit_reached
    │   ├── ServerError                  5xx
    │   └── APIResponseValidationError   a 2xx body that is not the documented shape
    ├── APIConnectionError               no HTTP response at all (DNS, refused, timeout)
    ├── JobFailedError(job)              the job ended failed or cancelled
    ├── WaitTimeoutError(job_id, last_status)
    ├── ResultUnavailableError           a job has neither ``result`` nor ``result_url``
    ├── PaginationError                  a list cursor repeated (the walk would never end)
    ├── WebhookVerificationError         a webhook delivery failed signature checks
    │   └── WebhookPayloadError              signed correctly, but not a JSON webhook event
    ├── ClientConfigError                a refused key or base URL (plain http off this machine)
    └── InsecureAudioURLError            an ``audio_url`` that is not https (also a ValueError)

Error bodies come in two shapes (``reference/pyai-api.md`` §5.1): the OpenAI-style envelope
``{"error": {"message", "type", "code"}}`` for gateway errors (401/402/403/429), and RFC 7807
problem+json for control-plane errors (400/404/409), whose code is the last ``/`` segment of
``type``. :func:`error_from_response` reads both.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hearkit.schema import Job

__all__ = [
    "JOB_SCOPES",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "AuthenticationError",
    "BadRequestError",
    "ClientConfigError",
    "CreditExhaustedError",
    "DailyCapExceededError",
    "HearkitError",
    "IdempotencyConflictError",
    "InsecureAudioURLError",
    "InsufficientQuotaError",
    "JobFailedError",
    "KeyBudgetExceededError",
    "NotFoundError",
    "PaginationError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResultUnavailableError",
    "ServerError",
    "WaitTimeoutError",
    "WebhookPayloadError",
    "WebhookVerificationError",
    "error_from_response",
    "parse_retry_after",
]

JOB_SCOPES = ("hear:transcribe", "transcribe:jobs")
"""The key scopes the transcription jobs API needs."""


class HearkitError(Exception):
    """Base of every exception hearkit raises on purpose."""


class APIError(HearkitError):
    """An HTTP error response from the PyAI API (or the local engine).

    ``code`` is the stable machine code (``forbidden``, ``not_found``, …) or None when the
    body carried none; ``message`` is the server's text; ``str(error)`` adds what to do.
    """

    def __init__(
        self,
        status_code: int,
        code: str | None,
        message: str,
        request_id: str | None = None,
        body: Any = None,
        *,
        hint: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.request_id = request_id
        self.body = body
        self.hint = hint
        label = f"{status_code} {code}" if code else str(status_code)
        request = f"(request id: {request_id})" if request_id else None
        super().__init__(" ".join(part for part in (f"[{label}] {message}", hint, request) if part))


class BadRequestError(APIError):
    """400: the request was malformed (``invalid_request``); the message says which part."""


class AuthenticationError(APIError):
    """401: the API key is missing, invalid, expired or revoked."""


class PaymentRequiredError(APIError):
    """402: billing stops this key (credit, key budget or plan quota)."""


class CreditExhaustedError(PaymentRequiredError):
    """402 ``credit_exhausted``: the organisation is out of prepaid credit."""


class KeyBudgetExceededError(PaymentRequiredError):
    """402 ``key_budget_exceeded``: this key's monthly budget is spent."""


class InsufficientQuotaError(PaymentRequiredError):
    """402 ``insufficient_quota``: the plan's quota is exhausted."""


class PermissionDeniedError(APIError):
    """403: the key lacks a scope (jobs need ``hear:transcribe`` and ``transcribe:jobs``)."""


class NotFoundError(APIError):
    """404: no such job (or route) for this key."""


class IdempotencyConflictError(APIError):
    """409 ``idempotency_conflict``: an Idempotency-Key was reused with a different body."""


class RateLimitError(APIError):
    """429: too many requests. ``retry_after`` is the server's wait in seconds, if it sent one."""

    def __init__(
        self,
        status_code: int,
        code: str | None,
        message: str,
        request_id: str | None = None,
        body: Any = None,
        *,
        hint: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(status_code, code, message, request_id, body, hint=hint)


class DailyCapExceededError(RateLimitError):
    """429 ``daily_cap_exceeded``: the sandbox (test key) daily cap is reached until reset."""


class ServerError(APIError):
    """5xx: the server failed; safe to retry later."""


class APIResponseValidationError(APIError):
    """A success response whose body is not what the API documents (a proxy page, a wrong URL)."""


class APIConnectionError(HearkitError):
    """No HTTP response was received (connection refused, DNS failure, timeout)."""


class JobFailedError(HearkitError):
    """A job ended ``failed`` or ``cancelled``; ``job`` is the last state seen, with ``job.error``."""

    def __init__(self, job: Job) -> None:
        self.job = job
        reason = job.error or "no error message was given"
        super().__init__(
            f"Job {job.job_id} ended {job.status}: {reason}. Fix the audio or options and create a new job."
        )


class WaitTimeoutError(HearkitError):
    """A job did not reach a terminal status within the wait timeout; it may still finish."""

    def __init__(
        self, job_id: str, last_status: str, timeout: float | None = None, *, hint: str | None = None
    ) -> None:
        self.job_id = job_id
        self.last_status = last_status
        self.timeout = timeout
        within = f" within {timeout:g} s" if timeout is not None else ""
        text = (
            f"Job {job_id} did not finish{within}; its last status was {last_status!r}. "
            f"It keeps running on the server: fetch it later with client.jobs.wait({job_id!r}) "
            f"or client.jobs.get({job_id!r}), or `hearkit jobs wait {job_id}`."
        )
        super().__init__(f"{text} {hint}" if hint else text)


class ResultUnavailableError(HearkitError):
    """A job has no transcript to return (not completed, or neither ``result`` nor ``result_url``)."""


class PaginationError(HearkitError):
    """The server handed back a cursor it had already given: the walk stops instead of looping."""


class WebhookVerificationError(HearkitError):
    """A webhook delivery was rejected; the message gives the precise reason."""


class WebhookPayloadError(WebhookVerificationError):
    """The signature was valid but the body is not a JSON webhook event."""


class ClientConfigError(HearkitError, ValueError):
    """The client's configuration (API key, base URL) was refused before anything was sent."""


class InsecureAudioURLError(HearkitError, ValueError):
    """An ``audio_url`` that is not https was refused before anything was sent."""


_GATEWAY_TYPES_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: IdempotencyConflictError,
    429: RateLimitError,
}

_TYPES_BY_CODE: dict[str, type[APIError]] = {
    "credit_exhausted": CreditExhaustedError,
    "key_budget_exceeded": KeyBudgetExceededError,
    "insufficient_quota": InsufficientQuotaError,
    "daily_cap_exceeded": DailyCapExceededError,
    "sandbox_limit_reached": DailyCapExceededError,
}

_SCOPE_TEXT = " and ".join(f"`{scope}`" for scope in JOB_SCOPES)

# What to do, by code first and by status second (the guide's troubleshooting table).
_HINTS_BY_CODE: dict[str, str] = {
    "credit_exhausted": "The organisation is out of prepaid credit: add credit in the PyAI console, "
    "or use a pyai_test_ sandbox key (never billed) or the local engine (unset PYAI_API_KEY).",
    "key_budget_exceeded": "This key's monthly budget is spent: raise the key's budget in the console "
    "or use another key.",
    "insufficient_quota": "The plan's quota is exhausted: upgrade the plan or wait for the next period.",
    "daily_cap_exceeded": "The sandbox daily cap is reached: wait for the daily reset or use a "
    "pyai_live_ key.",
    "sandbox_limit_reached": "The sandbox daily cap is reached: wait for the daily reset or use a "
    "pyai_live_ key.",
    "idempotency_conflict": "The Idempotency-Key was already used with a different request body: "
    "send the identical body to replay the original job, or use a new key for a new job.",
    "org_suspended": "The organisation is suspended: contact PyAI support.",
    "origin_not_allowed": "This origin is not allow-listed for the key: add it in the console.",
}
_HINTS_BY_STATUS: dict[int, str] = {
    400: "Fix the request as the message says; retrying it unchanged will fail again.",
    401: "Check the API key (api_key= or PYAI_API_KEY): it is missing, mistyped, expired or revoked. "
    "Create a new key in the PyAI console, or unset PYAI_API_KEY to use the local engine.",
    403: f"The key lacks a required scope: transcription jobs need {_SCOPE_TEXT}. "
    "Create a key with both scopes in the PyAI console.",
    404: "Check the job id (ids look like job_…) and that it was created with this key and base URL. A "
    "404 on every request (a job list too) means the base URL is wrong: it is the API root "
    "(https://api.pyai.com, or http://HOST:PORT of a `hearkit serve`) with no path after it.",
    429: "Slow down: lower concurrency. hearkit retries GET requests automatically after Retry-After.",
}
_SERVER_HINT = "The server failed: retry later; if it persists, report the request id to PyAI support."

# The same situations on hearkit's own engine (a `hearkit serve` or the embedded engine on this
# machine): keys, credit and caps are made with `hearkit serve --create-key`, there is no console,
# organisation or support desk (U3 finding 22: the advice mixed both, and "Add credit" meant "make
# a new key and switch to it").
_ENGINE_DIR = "DIR being the engine's --data-dir"
_LOCAL_HINTS_BY_CODE: dict[str, str] = {
    "credit_exhausted": f"Give the new key --data-dir DIR ({_ENGINE_DIR}), set PYAI_API_KEY to it "
    "and run again (a batch resumes where it stopped); a test key (`hearkit serve --create-key`) has "
    "no credit limit.",
    "daily_cap_exceeded": "This test key's daily cap is reached: wait for 00:00 UTC, or create a key "
    f"without a cap (`hearkit serve --create-key --data-dir DIR`, {_ENGINE_DIR}) and set PYAI_API_KEY to it.",
}
_LOCAL_HINTS_BY_CODE["sandbox_limit_reached"] = _LOCAL_HINTS_BY_CODE["daily_cap_exceeded"]
_LOCAL_HINTS_BY_STATUS: dict[int, str] = {
    401: "Check the API key (api_key= or PYAI_API_KEY): this hearkit engine does not know it (mistyped, "
    f"revoked, or a key of another data dir). Create one: `hearkit serve --create-key --data-dir DIR` "
    f"({_ENGINE_DIR}); or unset PYAI_API_KEY and PYAI_BASE_URL to use the embedded engine.",
    403: f"The key lacks a required scope: transcription jobs need {_SCOPE_TEXT}. Create a key with "
    f"both (`hearkit serve --create-key --data-dir DIR`, {_ENGINE_DIR}: both are its default scopes).",
}
_LOCAL_SERVER_HINT = "The engine failed: the `hearkit serve` log says why; retry once it is fixed."


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; None if unusable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def error_from_response(
    status_code: int, headers: Mapping[str, str], content: bytes, *, local_engine: bool = False
) -> APIError:
    """Build the right :class:`APIError` subclass from an HTTP error response.

    ``headers`` must be case-insensitive (an ``httpx.Headers``) or use lower-case names.
    ``local_engine``: the server is on this machine (hearkit's own engine), so the hint names
    ``hearkit serve`` rather than the hosted API's console and support.
    """
    body: Any = None
    try:
        body = json.loads(content.decode("utf-8")) if content else None
    except (UnicodeDecodeError, ValueError):
        body = None
    code, message, body_request_id = _read_body(body)
    if message is None:
        text = content[:200].decode("utf-8", "replace").strip()
        message = f"HTTP {status_code}" + (f": {text}" if text else "")
    request_id = body_request_id or headers.get("x-pyai-request-id") or headers.get("x-request-id")
    cls = _TYPES_BY_CODE.get(code or "")
    if cls is None:
        cls = ServerError if status_code >= 500 else _GATEWAY_TYPES_BY_STATUS.get(status_code, APIError)
    hint = _hint(status_code, code, local_engine)
    if issubclass(cls, RateLimitError):
        retry_after = parse_retry_after(headers.get("retry-after"))
        if retry_after is not None and hint is not None and cls is RateLimitError:
            hint = f"Retry after {retry_after:g} s. {hint}"
        return cls(status_code, code, message, request_id, body, hint=hint, retry_after=retry_after)
    return cls(status_code, code, message, request_id, body, hint=hint)


def _hint(status_code: int, code: str | None, local_engine: bool) -> str | None:
    """What to do, by code first and by status second; hearkit's own engine's words when local."""
    if local_engine:
        hint = _LOCAL_HINTS_BY_CODE.get(code or "")
        if hint is None:
            hint = _LOCAL_SERVER_HINT if status_code >= 500 else _LOCAL_HINTS_BY_STATUS.get(status_code)
        if hint is not None:
            return hint
    hint = _HINTS_BY_CODE.get(code or "")
    if hint is None:
        hint = _SERVER_HINT if status_code >= 500 else _HINTS_BY_STATUS.get(status_code)
    return hint


def _read_body(body: Any) -> tuple[str | None, str | None, str | None]:
    """(code, message, request_id) from an OpenAI envelope or a problem+json body."""
    if not isinstance(body, dict):
        return None, None, None
    envelope = body.get("error")
    if isinstance(envelope, dict):
        code = envelope.get("code") or envelope.get("type")
        message = envelope.get("message")
        request_id = envelope.get("request_id") or body.get("request_id")
        return _str_or_none(code), _str_or_none(message), _str_or_none(request_id)
    if isinstance(envelope, str):
        # Seen live on a 405: {"error": "Method Not Allowed", "service": "hear"}.
        return None, envelope, _str_or_none(body.get("request_id"))
    type_url = body.get("type")
    code = type_url.rstrip("/").rsplit("/", 1)[-1] if isinstance(type_url, str) else None
    if code == "about:blank":
        code = None
    message = body.get("detail") or body.get("title")
    return code, _str_or_none(message), _str_or_none(body.get("request_id"))


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
