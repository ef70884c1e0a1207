"""The one clock format of hearkit: a time offset or duration in seconds as ``m:ss`` or ``h:mm:ss``.

Used wherever a time is shown: the report and the dashboard (through :mod:`hearkit.views`), chart
hover labels (:mod:`hearkit.charts`) and the transcript lines of an LLM summary prompt.
"""

from __future__ import annotations

import math

__all__ = ["clock"]


def clock(seconds: float | None) -> str:
    """``m:ss`` for a time offset or duration in seconds, ``h:mm:ss`` from one hour on.

    Seconds are truncated (``59.9`` is ``0:59``, as a media player shows it); negative values are
    ``0:00``; ``None`` or NaN is ``–``.
    """
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    total = int(max(float(seconds), 0.0))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
