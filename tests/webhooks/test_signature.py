"""Signature checks: one test per failure mode, plus property tests that flip any byte."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearkit.errors import WebhookPayloadError, WebhookVerificationError
from hearkit.webhooks import sign, verify, verify_signature

SECRET = "whsec_test_3b9f1c"
BODY = b'{"type":"transcription.job.completed","data":{"job_id":"job_test"}}'
NOW = 1_788_800_000


def reference_header(body: bytes, secret: str, t: int) -> str:
    """The scheme written out independently of hearkit: HMAC-SHA256 over b"<t>." + body, hex."""
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def test_sign_matches_the_documented_scheme() -> None:
    assert sign(BODY, SECRET, timestamp=NOW) == reference_header(BODY, SECRET, NOW)


def test_verify_returns_the_event() -> None:
    event = verify(BODY, reference_header(BODY, SECRET, NOW), SECRET, now=NOW)
    assert event.type == "transcription.job.completed"
    assert event.data.job_id == "job_test"


def test_any_v1_may_match_during_rotation_and_whitespace_is_tolerated() -> None:
    good = reference_header(BODY, SECRET, NOW).split(",")[1]
    stale = "v1=" + "0" * 64
    verify(BODY, f" t={NOW} , {stale} , {good} ", SECRET, now=NOW)


def test_several_secrets_any_may_match() -> None:
    header = reference_header(BODY, "new-secret", NOW)
    verify(BODY, header, ["old-secret", "new-secret"], now=NOW)
    with pytest.raises(WebhookVerificationError, match="no v1 signature matches"):
        verify(BODY, header, ["old-secret"], now=NOW)


def test_secret_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYAI_WEBHOOK_SECRET", SECRET)
    verify(BODY, reference_header(BODY, SECRET, NOW), now=NOW)


def test_no_secret_at_all_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="PYAI_WEBHOOK_SECRET"):
        verify(BODY, reference_header(BODY, SECRET, NOW), now=NOW)


@pytest.mark.parametrize(
    ("offset", "reason"),
    [(301, "too old"), (-301, "too new")],
)
def test_timestamps_outside_tolerance_are_rejected_both_ways(offset: int, reason: str) -> None:
    header = reference_header(BODY, SECRET, NOW)
    with pytest.raises(WebhookVerificationError, match=reason):
        verify(BODY, header, SECRET, now=NOW + offset)
    verify(BODY, header, SECRET, now=NOW + (300 if offset > 0 else -300))


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("   ", "missing"),
        ("garbage", "malformed"),
        (f"v1={'a' * 64}", "exactly one t"),
        (f"t={NOW},t={NOW},v1={'a' * 64}", "exactly one t"),
        (f"t={NOW}", "no v1"),
        (f"t=abc,v1={'a' * 64}", "not unix seconds"),
        (f"t=-5,v1={'a' * 64}", "not unix seconds"),
        (f"t={NOW},v1={'a' * 63}", "64 lower-case hex"),
        (f"t={NOW},v1={'A' * 64}", "64 lower-case hex"),
        (f"t={NOW},v1={'g' * 64}", "64 lower-case hex"),
        (f"t={NOW},v0={'a' * 64}", "unknown"),
        (f"t={NOW},sha256={'a' * 64}", "unknown"),
        (f"t={NOW},v1=", "64 lower-case hex"),
    ],
)
def test_malformed_headers_fail_closed(header: str | None, reason: str) -> None:
    with pytest.raises(WebhookVerificationError, match=reason):
        verify(BODY, header, SECRET, now=NOW)


def test_valid_signature_over_non_json_body_is_a_payload_error() -> None:
    body = b"not json"
    with pytest.raises(WebhookPayloadError, match="not JSON"):
        verify(body, reference_header(body, SECRET, NOW), SECRET, now=NOW)
    other = b'{"hello": 1}'
    with pytest.raises(WebhookPayloadError, match="not a webhook event"):
        verify(other, reference_header(other, SECRET, NOW), SECRET, now=NOW)


def flip(data: bytes, index: int, mask: int) -> bytes:
    out = bytearray(data)
    out[index % len(out)] ^= mask
    return bytes(out)


masks = st.integers(min_value=1, max_value=255)


@settings(max_examples=120, deadline=None)
@given(index=st.integers(min_value=0), mask=masks)
def test_flipping_any_body_byte_is_rejected(index: int, mask: int) -> None:
    header = reference_header(BODY, SECRET, NOW)
    with pytest.raises(WebhookVerificationError):
        verify_signature(flip(BODY, index, mask), header, SECRET, now=NOW)


@settings(max_examples=120, deadline=None)
@given(index=st.integers(min_value=0), mask=masks)
def test_flipping_any_signature_header_byte_is_rejected(index: int, mask: int) -> None:
    header = reference_header(BODY, SECRET, NOW).encode()
    start = header.index(b"v1=") + 3
    position = start + index % (len(header) - start)
    mutated = flip(header, position, mask).decode("latin-1")
    with pytest.raises(WebhookVerificationError):
        verify_signature(BODY, mutated, SECRET, now=NOW)


@settings(max_examples=120, deadline=None)
@given(index=st.integers(min_value=0), mask=masks)
def test_flipping_any_timestamp_byte_is_rejected(index: int, mask: int) -> None:
    header = reference_header(BODY, SECRET, NOW).encode()
    end = header.index(b",")
    position = index % end  # anywhere in "t=<digits>"
    mutated = flip(header, position, mask).decode("latin-1")
    # A changed timestamp must fail even when the clock matches the new value.
    with pytest.raises(WebhookVerificationError):
        verify_signature(BODY, mutated, SECRET, now=NOW)
    with pytest.raises(WebhookVerificationError):
        altered = mutated.split(",")[0].removeprefix("t=")
        verify_signature(
            BODY, mutated, SECRET, now=int(altered) if altered.isascii() and altered.isdigit() else NOW
        )


@settings(max_examples=100, deadline=None)
@given(body=st.binary(min_size=0, max_size=512), secret=st.text(min_size=1, max_size=40))
def test_sign_then_verify_round_trips_any_body(body: bytes, secret: str) -> None:
    verify_signature(body, sign(body, secret, timestamp=NOW), secret, now=NOW)


@pytest.mark.parametrize(("offset", "said"), [(300.4, "300.4 s > 300 s"), (-300.4, "300.4 s ahead > 300 s")])
def test_a_timestamp_just_outside_the_tolerance_is_not_said_to_be_at_it(offset: float, said: str) -> None:
    """U8 note 2: 301 s ahead (300.4 s by the receiver's clock) read "300 s ahead > 300 s"."""
    header = reference_header(BODY, SECRET, NOW)
    with pytest.raises(WebhookVerificationError, match=re.escape(said)):
        verify(BODY, header, SECRET, now=NOW + offset)
