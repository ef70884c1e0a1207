"""Adaptive concurrency for a batch: fewer jobs in flight when the server says 429.

The limit starts at the requested concurrency. A 429 halves it (never below one) and pauses
every new request until the server's ``Retry-After`` has passed (or an exponential backoff when
it sent none); each run of ``limit`` successes without a 429 raises it by one again, up to the
requested concurrency (additive increase, multiplicative decrease).
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType

__all__ = ["AdaptiveLimiter"]

_MAX_PAUSE = 60.0


class AdaptiveLimiter:
    """An async semaphore whose size follows the server's rate-limit answers."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("concurrency must be at least 1")
        self.max_limit = limit
        self.limit = limit
        self.active = 0
        self.rate_limited = 0
        self._successes = 0
        self._resume_at = 0.0
        self._backoff = 0.5
        self._cond = asyncio.Condition()

    async def __aenter__(self) -> AdaptiveLimiter:
        async with self._cond:
            await self._cond.wait_for(lambda: self.active < self.limit)
            self.active += 1
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        async with self._cond:
            self.active -= 1
            self._cond.notify_all()

    async def pace(self) -> None:
        """Wait until a pause ordered by a 429 is over (call before each request)."""
        delay = self._resume_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def on_rate_limited(self, retry_after: float | None) -> None:
        """The server answered 429: halve the limit and pause new requests."""
        self.rate_limited += 1
        self._successes = 0
        self.limit = max(1, self.limit // 2)
        if retry_after is None:
            pause = self._backoff
            self._backoff = min(self._backoff * 2, _MAX_PAUSE)
        else:
            pause = min(max(retry_after, 0.0), _MAX_PAUSE)
        self._resume_at = max(self._resume_at, time.monotonic() + pause)

    async def on_success(self) -> None:
        """A request went through: after ``limit`` of them in a row, allow one more in flight."""
        self._backoff = 0.5
        self._successes += 1
        if self._successes >= self.limit and self.limit < self.max_limit:
            self._successes = 0
            async with self._cond:
                self.limit += 1
                self._cond.notify_all()
