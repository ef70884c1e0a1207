"""What a batch costs: PyAI Hear's batch rate against the realtime rate it replaces.

Prices are the published per-minute rates of audio transcribed (``reference/pyai-api.md`` §6):
batch jobs at $0.0015 per audio minute, realtime at $0.003. The billed quantity of a job is
its ``result.audio_seconds`` (the ``x-pyai-units`` header states it); before sending, the
estimate uses the container duration that PyAV reads from each file.

hearkit's own engine (the embedded one when no key or URL is set, a ``hearkit serve`` on this
machine, a ``--dask`` cluster) charges nothing: there the figures are what the hosted API *would*
charge for the same audio, and every printed line says so (:func:`cost_line`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "BATCH_USD_PER_MIN",
    "REALTIME_USD_PER_MIN",
    "CostEstimate",
    "batch_cost",
    "cost_line",
    "estimate",
    "format_usd",
    "is_local_url",
    "realtime_cost",
]

BATCH_USD_PER_MIN = 0.0015
REALTIME_USD_PER_MIN = 0.003


def format_usd(amount: float) -> str:
    """``$12.34``; amounts under a dollar keep four decimals (``$0.0015``) so small batches show."""
    return f"${amount:,.2f}" if amount >= 1 else f"${amount:.4f}"


def batch_cost(audio_seconds: float) -> float:
    """US dollars for ``audio_seconds`` of audio at the batch rate (seconds / 60 × $0.0015)."""
    return audio_seconds / 60.0 * BATCH_USD_PER_MIN


def realtime_cost(audio_seconds: float) -> float:
    """US dollars the same audio would cost at the realtime rate (seconds / 60 × $0.003)."""
    return audio_seconds / 60.0 * REALTIME_USD_PER_MIN


def is_local_url(base_url: str) -> bool:
    """True for an API URL on this machine (``localhost``, ``127.0.0.0/8``, ``::1``: a ``hearkit
    serve`` or the embedded engine). Any other host is taken to be the hosted API and priced."""
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cost_line(audio_seconds: float, *, charged: bool) -> str:
    """The cost of ``audio_seconds`` in words for the batch summary and the dry run.

    Hosted (``charged``): ``$0.0136 batch (realtime would be $0.0273)``. On hearkit's own engine:
    ``$0: the local engine charges nothing (the hosted API would charge $0.0136 batch, $0.0273
    realtime)``.
    """
    batch, realtime = format_usd(batch_cost(audio_seconds)), format_usd(realtime_cost(audio_seconds))
    if charged:
        return f"batch {batch} (realtime would be {realtime})"
    hosted = f"the hosted API would charge {batch} batch, {realtime} realtime"
    return f"$0: the local engine charges nothing ({hosted})"


@dataclass(frozen=True)
class CostEstimate:
    """A dry-run estimate over the recordings that would be sent.

    ``unknown_duration`` counts recordings (remote URLs without a ``duration_s`` column) whose
    duration is not known and are left out of ``audio_seconds`` and the costs.
    """

    recordings: int
    audio_seconds: float
    unknown_duration: int
    batch_usd: float
    realtime_usd: float

    @property
    def audio_hours(self) -> float:
        return self.audio_seconds / 3600.0

    @property
    def savings_usd(self) -> float:
        """Realtime cost minus batch cost of the same audio."""
        return self.realtime_usd - self.batch_usd


def estimate(durations: Iterable[float | None]) -> CostEstimate:
    """Total duration and cost of recordings with these durations (``None`` = unknown)."""
    known = 0.0
    unknown = 0
    count = 0
    for duration in durations:
        count += 1
        if duration is None:
            unknown += 1
        else:
            known += duration
    return CostEstimate(
        recordings=count,
        audio_seconds=known,
        unknown_duration=unknown,
        batch_usd=batch_cost(known),
        realtime_usd=realtime_cost(known),
    )
