"""A small scripted support call whose commitments, due phrases and objections are written down
here, by hand, independently of the rules that look for them."""

from __future__ import annotations

import re

import pandas as pd

from hearkit.frames import TURNS

# (role, text); the rep speaks on channel 0.
LINES: list[tuple[str, str]] = [
    ("rep", "Good morning, this is Sam from Northwind support. How can I help you today?"),
    ("customer", "Hi Sam. Our invoices stopped syncing to the accounting system on Monday."),
    ("rep", "I'm sorry to hear that. Which accounting system do you use, and how many invoices are missing?"),
    ("customer", "We use Ledgerly, and about two hundred invoices from this week are missing."),
    ("rep", "Thanks. It looks like the connector token expired over the weekend, which stops the sync."),
    ("customer", "Honestly this is frustrating, it is the second time this quarter."),
    ("rep", "I understand. Let me walk you through reconnecting it now, it takes two minutes."),
    ("customer", "Okay, I am in the settings page now and I clicked reconnect."),
    ("rep", "Great, the connector is green again and new invoices will sync from now on."),
    ("customer", "What about the two hundred invoices that are already missing?"),
    ("rep", "I will run a backfill for the missing invoices tonight, so they show up by tomorrow morning."),
    ("customer", "Good. Can you also send me a short incident report for our finance lead?"),
    ("rep", "Sure, I'll email you the incident report by end of day Thursday."),
    ("customer", "We are also concerned that the token will expire again without warning."),
    ("rep", "That is fair. We'll add an expiry alert to your workspace before the next renewal."),
    ("customer", "I need to check with our IT lead about who should get those alerts."),
    ("customer", "I'll send you the name of the right contact by Friday."),
    (
        "rep",
        "Perfect. As a next step, let's schedule a short review call next Wednesday "
        "to confirm everything synced.",
    ),
    ("customer", "That works for me. Thanks for the quick help, Sam."),
    ("rep", "You're welcome. Have a good day."),
]

# Ground truth written by hand: (turn, owner_role, due as said or None).
ACTION_ITEMS: list[tuple[int, str, str | None]] = [
    (10, "rep", "tonight"),
    (11, "rep", None),  # "can you also send me…": the customer asks, the rep will do it
    (12, "rep", "by end of day Thursday"),
    (14, "rep", "before the next renewal"),
    (15, "customer", None),  # "I need to check with our IT lead"
    (16, "customer", "by Friday"),
    (17, "rep", "next Wednesday"),
]
OBJECTION_TURNS = [5, 13]  # turn 15 (checking with IT first) may count as a stall too
NEXT_STEP_TURNS = [17]


def turns_frame(*, asr_style: bool = False, call_id: str = "support_sync") -> pd.DataFrame:
    """The call as a turns frame; ``asr_style`` lowercases it and strips all punctuation."""
    rows = []
    clock = 0.0
    for turn, (role, text) in enumerate(LINES):
        duration = 0.4 * len(text.split())
        if asr_style:
            text = re.sub(r"[^\w\s']", "", text.lower())
        rows.append(
            {
                "call_id": call_id,
                "turn": turn,
                "speaker": "channel_0" if role == "rep" else "channel_1",
                "channel": 0 if role == "rep" else 1,
                "role": role,
                "role_source": "channel_convention",
                "start": round(clock, 3),
                "end": round(clock + duration, 3),
                "duration_s": round(duration, 3),
                "text": text,
                "n_words": len(text.split()),
            }
        )
        clock += duration + 0.6
    # the columns and dtypes of hearkit.frames' turns spec, as hearkit.transcript.turns() makes them
    return pd.DataFrame(rows, columns=list(TURNS.columns)).astype(dict(TURNS.dtypes))
