"""Words by which a caller gives themselves away in their first turns, shared by the two places
that decide or check roles: :mod:`hearkit.transcript` (which speaker of a mono call is the rep)
and :mod:`hearkit.engine.pipeline.quality` (whether a stereo call's channels look swapped).

A caller asks whether they reached the right place ("is this customer service?"), says why they
call ("I'm calling about my order") or what they want done ("I'd like to book a table").
"""

from __future__ import annotations

import re

__all__ = ["CALLER_CUE"]

CALLER_CUE = re.compile(
    r"\bis (?:this|that|it) (?:the )?(?:customer service|support|(?:\w+ )?(?:service|support|department"
    r"|desk|helpline|office))\b|\bi'?m calling(?: in)?(?: today)? (?:about|to|because|for|regarding)\b"
    r"|\bi (?:just )?(?:want|wanted) to give you(?: guys| all)? a call\b"
    r"|\bi(?: would|'d| want to| wanted to) (?:like to )?(?:book|order|cancel|return|change|report|make a)\b",
    re.IGNORECASE,
)
