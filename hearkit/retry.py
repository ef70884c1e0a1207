"""When and how long to wait: the one retry/backoff policy and the one polling policy of hearkit.

Used by the client (:mod:`hearkit._client`: each HTTP request, ``jobs.wait``) and by the batch runner
(:mod:`hearkit.batch.runner`: each job submission, poll and result fetch; it turns the client's own
retries off so that every attempt is counted in the manifest), so both back off and poll alike.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

__all__ = ["DEFAULT_MAX_RETRIES", "PollPolicy", "RetryPolicy"]

DEFAULT_MAX_RETRIES = 2


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before sending a request again.

    Retried: GET/HEAD on connection errors, 408, 429 and 5xx; POST only when it carries an
    ``Idempotency-Key`` (the server then replays the first response instead of creating a
    second job). ``Retry-After`` (seconds or HTTP date) is honoured as a minimum, up to
    ``max_retry_after``; a longer ask (a daily cap) is not waited for: the error is raised.
    Otherwise the delay is ``initial_delay · 2^attempt`` (at most ``max_delay``) minus up to
    25 % jitter, so that many clients do not retry in lockstep. ``max_retries`` retries make
    ``attempts = max_retries + 1`` sends in all.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or not self.initial_delay >= 0 or not self.max_delay >= 0:
            raise ValueError(
                "RetryPolicy needs max_retries >= 0 and delays >= 0 seconds, got max_retries="
                f"{self.max_retries}, initial_delay={self.initial_delay}, max_delay={self.max_delay}"
            )

    @property
    def attempts(self) -> int:
        """Sends in all: the first one and ``max_retries`` retries."""
        return self.max_retries + 1

    def retryable(self, request: httpx.Request, status_code: int | None) -> bool:
        """Whether this request may be sent again after ``status_code`` (None: no response)."""
        safe = request.method in ("GET", "HEAD") or "Idempotency-Key" in request.headers
        if not safe:
            return False
        return status_code is None or status_code in (408, 429) or status_code >= 500

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based), without a Retry-After."""
        return min(self.max_delay, self.initial_delay * 2.0**attempt) * (1 - 0.25 * random.random())

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``; None when not worth waiting."""
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            return retry_after * (1 + 0.1 * random.random())
        return self.backoff(attempt)


@dataclass(frozen=True)
class PollPolicy:
    """How a job is polled until it ends: ``initial`` seconds, ×``factor`` each poll, at most ``maximum``."""

    initial: float = 1.0
    factor: float = 1.5
    maximum: float = 5.0

    def __post_init__(self) -> None:
        if not (self.initial > 0 and self.maximum >= self.initial and self.factor >= 1):
            raise ValueError("poll intervals need 0 < initial <= maximum and factor >= 1")

    def after(self, delay: float) -> float:
        """The wait after a poll that waited ``delay`` seconds."""
        return min(delay * self.factor, self.maximum)
