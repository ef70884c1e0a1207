"""Per-key rate limiting: a token bucket refilled at ``rps`` tokens/s, holding at most ``burst``."""

from __future__ import annotations

import threading
import time

__all__ = ["RateLimiter"]


class RateLimiter:
    """In-memory buckets keyed by an arbitrary string (key id, client network)."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, bucket: str, rps: float, burst: int, *, now: float | None = None) -> float | None:
        """Take one token. ``None`` when allowed; else the seconds until a token is available."""
        t = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(bucket, (float(burst), t))
            tokens = min(float(burst), tokens + (t - last) * rps)
            if tokens >= 1.0:
                self._buckets[bucket] = (tokens - 1.0, t)
                return None
            self._buckets[bucket] = (tokens, t)
            return (1.0 - tokens) / rps if rps > 0 else 60.0
