"""Webhook signatures (``X-PyAI-Signature``): sign and verify, standard library only.

The scheme (PyAI's official receiver, ``reference/pyai-api.md`` §4.2)::

    X-PyAI-Signature: t=<unix seconds>,v1=<hex hmac_sha256(secret, f"{t}." + raw_body)>[,v1=<hex>…]

* The signature covers the exact raw body bytes: verify before parsing JSON.
* Exactly one ``t`` (digits) and one or more ``v1`` (64 lower-case hex digits); several ``v1``
  values appear during secret rotation and any one matching accepts the delivery.
* ``abs(now - t) > tolerance`` (300 s) is rejected in both directions (too old and too new).
* Anything else (missing header, unknown part, repeated ``t``, bad hex) is rejected: fail closed.

This module is pure (no I/O, no hearkit imports but the error type), so both the engine's
webhook delivery (:mod:`hearkit.engine.delivery`) and the receiver (:mod:`hearkit.webhooks`)
import it without importing each other.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from collections.abc import Sequence

from hearkit.errors import WebhookVerificationError

__all__ = ["DEFAULT_TOLERANCE", "SIGNATURE_HEADER", "secrets_or_env", "sign", "verify_signature"]

SIGNATURE_HEADER = "X-PyAI-Signature"
DEFAULT_TOLERANCE = 300
"""Seconds a signature timestamp may differ from now, either way."""

_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def sign(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The ``X-PyAI-Signature`` header value for ``payload`` signed with ``secret`` at ``timestamp``.

    >>> sign(b'{"type":"transcription.job.completed","data":{"job_id":"job_x"}}', "s", timestamp=1)
    't=1,v1=…'
    """
    if not secret:
        raise ValueError("webhook signing secret is empty")
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},v1={_digest(secret, t, payload)}"


def verify_signature(
    raw_body: bytes,
    header: str | None,
    secrets: str | Sequence[str] | None = None,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check ``header`` against ``raw_body``; raise :class:`WebhookVerificationError` with the reason.

    ``secrets`` is one secret or several (rotation); None reads ``PYAI_WEBHOOK_SECRET``.
    """
    keys = secrets_or_env(secrets)
    if header is None or not header.strip():
        raise WebhookVerificationError(f"missing {SIGNATURE_HEADER} header")
    timestamp, signatures = _parse_header(header)
    current = time.time() if now is None else now
    age = current - timestamp
    if age > tolerance:
        raise WebhookVerificationError(
            f"signature timestamp is too old ({age:.1f} s > {tolerance} s): a replay, or a clock that is off"
        )
    if age < -tolerance:
        raise WebhookVerificationError(
            f"signature timestamp is too new ({-age:.1f} s ahead > {tolerance} s): check the clocks"
        )
    expected = [_digest(key, timestamp, raw_body).encode("ascii") for key in keys]
    # Compare every pair so timing does not reveal which candidate came close.
    matched = False
    for candidate in signatures:
        for digest in expected:
            matched |= hmac.compare_digest(candidate.encode("ascii"), digest)
    if not matched:
        raise WebhookVerificationError(
            "no v1 signature matches the body: wrong secret, or the body was changed after signing "
            "(verify the raw bytes, before any JSON parsing)"
        )


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def secrets_or_env(secrets: str | Sequence[str] | None) -> list[str]:
    if secrets is None:
        secrets = os.environ.get("PYAI_WEBHOOK_SECRET", "")
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    keys = [key for key in keys if key]
    if not keys:
        raise ValueError(
            "no webhook signing secret: pass secrets=... or set PYAI_WEBHOOK_SECRET "
            "(the secret shown in the PyAI console, or the local engine's)"
        )
    return keys


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamps: list[str] = []
    signatures: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise WebhookVerificationError(f"malformed {SIGNATURE_HEADER} part {part.strip()[:40]!r}")
        if name == "t":
            timestamps.append(value)
        elif name == "v1":
            signatures.append(value)
        else:
            raise WebhookVerificationError(f"unknown {SIGNATURE_HEADER} part {name[:20]!r}")
    if len(timestamps) != 1:
        raise WebhookVerificationError(
            f"{SIGNATURE_HEADER} must carry exactly one t=, found {len(timestamps)}"
        )
    if not _TIMESTAMP.fullmatch(timestamps[0]):
        raise WebhookVerificationError("signature timestamp t= is not unix seconds")
    if not signatures:
        raise WebhookVerificationError(f"{SIGNATURE_HEADER} carries no v1= signature")
    for signature in signatures:
        if not _HEX_DIGEST.fullmatch(signature):
            raise WebhookVerificationError("a v1= signature is not 64 lower-case hex digits")
    return int(timestamps[0]), signatures
