"""Words by which a caller or a rep gives themselves away, shared by the two places that decide or
check roles: :mod:`hearkit.transcript` (which speaker of a mono call is the rep) and
:mod:`hearkit.engine.pipeline.quality` (whether a stereo call's channels look swapped).

A caller asks whether they reached the right place ("is this customer service?"), says why they
call ("I'm calling about my order") or what they want done ("I'd like to book a table"), in their
first turns. A rep makes the offer, anywhere in the call: quotes a price ("$49 per seat per month")
and promises the follow-up ("I will send you a proposal").
"""

from __future__ import annotations

import re

__all__ = ["CALLER_CUE", "REP_OFFER_CUE", "offers", "offers_decide"]

CALLER_CUE = re.compile(
    r"\bis (?:this|that|it) (?:the )?(?:customer service|support|(?:\w+ )?(?:service|support|department"
    r"|desk|helpline|office))\b|\bi'?m calling(?: in)?(?: today)? (?:about|to|because|for|regarding)\b"
    r"|\bi (?:just )?(?:want|wanted) to give you(?: guys| all)? a call\b"
    r"|\bi(?: would|'d| want to| wanted to) (?:like to )?(?:book|order|cancel|return|change|report|make a)\b",
    re.IGNORECASE,
)

REP_OFFER_CUE = re.compile(
    r"\$\s?\d|\bper (?:seat|user|licen[cs]e|agent)\b"
    r"|\bi(?:'ll| will) (?:send|follow up|get back|set up|email|share|put together|schedule)\b",
    re.IGNORECASE,
)


def offers(texts: list[str]) -> int:
    """How many rep offer cues (:data:`REP_OFFER_CUE`: a price quoted, a follow-up promised) in ``texts``."""
    return sum(len(REP_OFFER_CUE.findall(text)) for text in texts)


def offers_decide(mine: int, theirs: int) -> bool:
    """Whether ``mine`` offer cues against ``theirs`` mark a speaker as the rep: at least 3, and more
    than twice the other's (customers quote prices and promise things too: sample call 03's customer
    says 3 of them against its rep's 4)."""
    return mine >= 3 and mine > 2 * theirs
