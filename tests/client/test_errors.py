"""Error parsing: both body shapes, request ids, the class per code, and actionable messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from hearkit import errors
from hearkit.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    CreditExhaustedError,
    DailyCapExceededError,
    IdempotencyConflictError,
    InsufficientQuotaError,
    KeyBudgetExceededError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    error_from_response,
    parse_retry_after,
)


def envelope(code: str, message: str, type_: str = "invalid_request_error") -> bytes:
    return json.dumps({"error": {"message": message, "type": type_, "code": code, "param": None}}).encode()


def problem(code: str, detail: str, status: int, request_id: str = "req_0123456789abcdef01234567") -> bytes:
    return json.dumps(
        {
            "type": f"https://api.pyai.com/problems/{code}",
            "title": "Conflict",
            "status": status,
            "detail": detail,
            "request_id": request_id,
        }
    ).encode()


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (401, "unauthorized", AuthenticationError),
        (401, "invalid_api_key", AuthenticationError),
        (402, "credit_exhausted", CreditExhaustedError),
        (402, "key_budget_exceeded", KeyBudgetExceededError),
        (402, "insufficient_quota", InsufficientQuotaError),
        (403, "forbidden", PermissionDeniedError),
        (429, "rate_limit_exceeded", RateLimitError),
        (429, "daily_cap_exceeded", DailyCapExceededError),
        (429, "sandbox_limit_reached", DailyCapExceededError),
    ],
)
def test_gateway_envelope_maps_each_catalog_code_to_its_class(status: int, code: str, cls: type) -> None:
    headers = httpx.Headers({"x-request-id": "5f0c6c1e-uuid"})
    err = error_from_response(status, headers, envelope(code, "Nope."))
    assert type(err) is cls
    assert err.status_code == status
    assert err.code == code
    assert err.message == "Nope."
    assert err.request_id == "5f0c6c1e-uuid"
    assert "5f0c6c1e-uuid" in str(err)


def test_payment_subclasses_share_a_parent() -> None:
    for code in ("credit_exhausted", "key_budget_exceeded", "insufficient_quota"):
        err = error_from_response(402, httpx.Headers(), envelope(code, "x"))
        assert isinstance(err, PaymentRequiredError)


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "invalid_request", BadRequestError),
        (404, "not_found", NotFoundError),
        (409, "idempotency_conflict", IdempotencyConflictError),
    ],
)
def test_problem_json_code_is_last_segment_of_type(status: int, code: str, cls: type) -> None:
    err = error_from_response(status, httpx.Headers(), problem(code, "detail text", status))
    assert type(err) is cls
    assert err.code == code
    assert err.message == "detail text"
    assert err.request_id == "req_0123456789abcdef01234567"


def test_request_id_precedence_body_then_pyai_header_then_x_request_id() -> None:
    body = json.dumps({"type": "https://api.pyai.com/problems/not_found", "title": "Not Found"}).encode()
    both = httpx.Headers({"x-pyai-request-id": "req_pyai", "x-request-id": "uuid"})
    assert error_from_response(404, both, body).request_id == "req_pyai"
    assert error_from_response(404, httpx.Headers({"x-request-id": "uuid"}), body).request_id == "uuid"
    err = error_from_response(404, both, problem("not_found", "gone", 404, request_id="req_body"))
    assert err.request_id == "req_body"
    # problem without detail: the title is the message
    assert error_from_response(404, both, body).message == "Not Found"


def test_forbidden_message_names_both_job_scopes() -> None:
    err = error_from_response(403, httpx.Headers(), envelope("forbidden", "Key lacks scope."))
    assert "hear:transcribe" in str(err)
    assert "transcribe:jobs" in str(err)


def test_idempotency_conflict_says_key_reused_with_different_body() -> None:
    err = error_from_response(409, httpx.Headers(), problem("idempotency_conflict", "reused", 409))
    assert "different request body" in str(err)


def test_unauthorized_tells_where_the_key_comes_from() -> None:
    err = error_from_response(401, httpx.Headers(), envelope("unauthorized", "Invalid key."))
    assert "PYAI_API_KEY" in str(err)


def test_rate_limit_carries_retry_after_seconds() -> None:
    err = error_from_response(
        429, httpx.Headers({"Retry-After": "7"}), envelope("rate_limit_exceeded", "Slow down.")
    )
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 7.0
    assert "Retry after 7 s" in str(err)
    no_header = error_from_response(429, httpx.Headers(), envelope("rate_limit_exceeded", "Slow down."))
    assert isinstance(no_header, RateLimitError)
    assert no_header.retry_after is None


@pytest.mark.parametrize(
    ("status", "content"),
    [
        (502, b"<html>Bad Gateway</html>"),
        (500, b""),
        (503, b"not json {"),
        (500, b"\xff\xfe\x00garbage"),
    ],
)
def test_non_json_server_errors_become_server_error(status: int, content: bytes) -> None:
    err = error_from_response(status, httpx.Headers(), content)
    assert type(err) is ServerError
    assert err.code is None
    assert err.message.startswith(f"HTTP {status}")
    assert "retry later" in str(err)


def test_odd_bodies_do_not_crash() -> None:
    # A JSON array, a string error envelope (seen live on a 405), an unknown status.
    assert error_from_response(400, httpx.Headers(), b"[1, 2]").message == "HTTP 400: [1, 2]"
    err = error_from_response(405, httpx.Headers(), b'{"error":"Method Not Allowed","service":"hear"}')
    assert type(err) is APIError
    assert err.message == "Method Not Allowed"


def test_parse_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("-1") is None
    assert parse_retry_after("soon") is None
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(30.0)
    past = format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(past, now=now.timestamp()) == 0.0


def test_all_lists_every_public_name_once() -> None:
    public = {name for name in vars(errors) if not name.startswith("_")} - {
        "TYPE_CHECKING",
        "Any",
        "Mapping",
        "annotations",
        "json",
        "math",
        "time",
        "parsedate_to_datetime",
        "Job",
    }
    assert len(errors.__all__) == len(set(errors.__all__))
    assert set(errors.__all__) == public
