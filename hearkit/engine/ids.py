"""Identifiers and clocks of the engine: job ids, request ids, keys, Unix-ms time."""

from __future__ import annotations

import hashlib
import secrets
import string
import time

__all__ = ["hash_key", "new_api_key", "new_job_id", "new_key_id", "new_request_id", "now_ms", "random_base62"]

_BASE62 = string.digits + string.ascii_letters


def random_base62(length: int) -> str:
    """``length`` cryptographically random base62 characters."""
    return "".join(secrets.choice(_BASE62) for _ in range(length))


def new_job_id() -> str:
    """``job_`` + 24 base62 characters, like the hosted API."""
    return "job_" + random_base62(24)


def new_request_id() -> str:
    """``req_`` + 24 hex characters (the ``x-pyai-request-id`` of problem responses)."""
    return "req_" + secrets.token_hex(12)


def new_key_id() -> str:
    return "key_" + random_base62(16)


def new_api_key(env: str) -> str:
    """``pyai_test_…`` or ``pyai_live_…`` + 40 base62 characters (238 bits)."""
    return f"pyai_{env}_" + random_base62(40)


def hash_key(api_key: str) -> str:
    """How keys are stored: SHA-256 hex (keys are long random strings, so no salt is needed)."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def now_ms() -> int:
    """Current Unix time in milliseconds."""
    return time.time_ns() // 1_000_000
