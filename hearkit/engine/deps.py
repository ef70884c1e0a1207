"""The checks every route shares, as FastAPI dependencies: runtime, API key, rate limit, scope, billing.

A route declares what it needs (``key: JobsKey``); FastAPI runs the chain in order, so every
route answers 401 (no or bad key), then 429 (rate limit), then 403 (scope) the same way:

* :func:`authenticated`: the key from ``Authorization: Bearer`` or ``x-api-key`` (401);
* :func:`rate_limited`: one token of the key's bucket (429 with ``Retry-After``);
* :class:`Scoped`: the key holds the scope (403);
* :func:`billing`: the check a create runs once the request is known not to be a replay
  (402 for a live key out of credit, 429 for a test key over its daily cap).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request

from hearkit.engine.ids import now_ms
from hearkit.engine.problems import EngineError
from hearkit.engine.runtime import JOBS_SCOPE, Runtime
from hearkit.engine.store import KeyRow

__all__ = ["AnyKey", "Billing", "JobsKey", "RuntimeDep", "Scoped", "authenticated", "billing", "get_runtime"]


async def get_runtime(request: Request) -> Runtime:
    """The :class:`Runtime` of the app serving the request."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def authenticated(request: Request, runtime: RuntimeDep) -> KeyRow:
    """The calling key (401 when missing, unknown, revoked or expired)."""
    header = request.headers.get("authorization", "")
    api_key = header[7:].strip() if header[:7].lower() == "bearer " else request.headers.get("x-api-key", "")
    if not api_key:
        raise EngineError(
            401, "unauthorized", "Missing API key: send 'Authorization: Bearer <key>' (or 'x-api-key')."
        )
    key = runtime.store.key_by_secret(api_key)
    if key is None or key.status != "active":
        raise EngineError(401, "unauthorized", "Invalid or revoked API key.")
    if key.expires_at is not None and key.expires_at < now_ms():
        raise EngineError(401, "unauthorized", "This API key has expired: mint a new one.")
    return key


async def rate_limited(key: Annotated[KeyRow, Depends(authenticated)], runtime: RuntimeDep) -> KeyRow:
    """The key, after taking one token of its bucket (429 when empty)."""
    wait = runtime.limiter.acquire(key.key_id, key.rps, key.burst)
    if wait is not None:
        raise EngineError(
            429,
            "rate_limit_exceeded",
            f"Rate limit exceeded ({key.rps:g} requests/s, burst {key.burst}); retry after Retry-After.",
            retry_after=wait,
        )
    return key


class Scoped:
    """Dependency: the rate-limited key, which must hold ``scope`` (403); ``None`` = any scope."""

    def __init__(self, scope: str | None) -> None:
        self.scope = scope

    async def __call__(self, key: Annotated[KeyRow, Depends(rate_limited)]) -> KeyRow:
        if self.scope is not None and self.scope not in key.scopes:
            raise EngineError(
                403,
                "forbidden",
                f"This key lacks the scope '{self.scope}'. Mint one with"
                " `hearkit serve --create-key --scopes hear:transcribe,transcribe:jobs`.",
            )
        return key


JobsKey = Annotated[KeyRow, Depends(Scoped(JOBS_SCOPE))]
AnyKey = Annotated[KeyRow, Depends(Scoped(None))]


async def billing(runtime: RuntimeDep) -> Callable[[KeyRow], None]:
    """The billing check of this runtime, for a route to call at the right moment."""

    def check(key: KeyRow) -> None:
        if key.env == "live" and key.credit_seconds is not None:
            used = runtime.store.billed_seconds(key.key_id)
            if used >= key.credit_seconds:
                raise EngineError(
                    402,
                    "credit_exhausted",
                    f"This key's prepaid credit of {key.credit_seconds:g} audio seconds is used up"
                    f" ({used:.1f} s billed). Credit belongs to a key: create another with"
                    " `hearkit serve --create-key --live --credit-seconds N` and use it.",
                )
        if key.env == "test" and key.daily_cap_seconds is not None:
            midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            used = runtime.store.billed_seconds(key.key_id, int(midnight.timestamp() * 1000))
            if used >= key.daily_cap_seconds:
                reset = (midnight + timedelta(days=1) - datetime.now(UTC)).total_seconds()
                raise EngineError(
                    429,
                    "daily_cap_exceeded",
                    f"This test key's daily cap of {key.daily_cap_seconds:g} audio seconds is reached"
                    " (resets at 00:00 UTC).",
                    retry_after=reset,
                )

    return check


Billing = Annotated[Callable[[KeyRow], None], Depends(billing)]
