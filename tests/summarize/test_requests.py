"""Requests made of the other party are action items for that party ("send me a quote and we will
review it next week": the rep sends the quote, the customer reviews it).

These are the development examples of the request rules, written by hand; the held-out evaluation
calls (never used to tune the rules) are ``benchmarks/data/request_calls.json``, scored by
``benchmarks/bench_summaries.py``."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from hearkit._summarize.rules import find_commitments
from hearkit.summarize import summarize

# (said, [(owner, due as said)]): "other" = the person spoken to, "self" = the speaker.
REQUESTS: list[tuple[str, list[tuple[str, str | None]]]] = [
    ("Send me a quote and we will review it next week.", [("other", None), ("self", "next week")]),
    ("Please send over the signed order form by Monday.", [("other", "by Monday")]),
    ("Okay, email us the invoice.", [("other", None)]),
    ("Forward me the contract when it is ready.", [("other", None)]),
    ("Shoot me an email with the pricing for both plans.", [("other", None)]),
    ("Just send the deck to my assistant, she keeps the files.", [("other", None)]),
    ("Put together a proposal for the board.", [("other", None)]),
    ("Get me the numbers by Friday.", [("other", "by Friday")]),
    ("Call me back tomorrow, I'm in meetings all afternoon.", [("other", "tomorrow")]),
    ("Let us know by Wednesday which plan you pick.", [("other", "by Wednesday")]),
    ("I need you to sign the NDA before the demo.", [("other", "before the demo")]),
    ("We'd like you to send two customer references.", [("other", None)]),
    ("Make sure you send the renewal terms to procurement.", [("other", None)]),
    ("Don't forget to send the W-9 form.", [("other", None)]),
    ("Please include the tax in the quote.", [("other", None)]),
    ("Keep us in the loop on the migration.", [("other", None)]),
    ("Schedule the onboarding for the week after next.", [("other", "the week after next")]),
    ("and set up a call with our security team", [("other", None)]),
    ("great send me the recording", [("other", None)]),
    ("I'll send the draft by the end of the week.", [("self", "by the end of the week")]),
]

# In-call requests, questions and habits: no action item.
NOT_REQUESTS = [
    "Tell me about your team.",
    "Walk me through the setup.",
    "Show me the dashboard you use today.",
    "Give me a second.",
    "Share your screen please.",
    "They send me invoices every month.",
    "We usually send out the survey in March.",
    "Let me know if you have any questions.",
    "Hold on, let me check.",
    "Check your spam folder.",
    "Confirm your account number for me.",
    "Schedule is tight this quarter.",
    "Call volume doubled this year.",
    "Copy that.",
    "and they also send us a report",
]


# Unpunctuated speech (how a hosted ASR writes it): a request said to someone in the middle of a turn.
UNPUNCTUATED_REQUESTS: list[tuple[str, list[tuple[str, str | None]]]] = [
    ("thanks for the walkthrough send me the pricing sheet", [("other", None)]),
    ("our team needs more time forward me the proposal by monday", [("other", "by monday")]),
    ("the numbers look fine email us the final contract", [("other", None)]),
    ("that covers it keep me posted on the migration", [("other", None)]),
]
UNPUNCTUATED_NOT_REQUESTS = [
    "they usually send me a summary every month",
    "the vendors send us invoices twice a year",
    "you guys send me way too many emails",
    "we want to send you the survey",
    "and then they forward me whatever the system says",
]


def _plain(text: str) -> str:
    return re.sub(r"[^\w\s']", "", text.lower())


@pytest.mark.parametrize("asr_style", [False, True], ids=["punctuated", "asr"])
@pytest.mark.parametrize(("said", "items"), REQUESTS, ids=[r[0][:32] for r in REQUESTS])
def test_requests_are_owned_by_the_person_spoken_to(
    said: str, items: list[tuple[str, str | None]], asr_style: bool
) -> None:
    text = _plain(said) if asr_style else said
    found = [(c.owner, c.due.lower() if c.due else None) for c in find_commitments(text)]
    expected = [(owner, due and (_plain(due) if asr_style else due.lower())) for owner, due in items]
    assert found == expected


@pytest.mark.parametrize("asr_style", [False, True], ids=["punctuated", "asr"])
@pytest.mark.parametrize("said", NOT_REQUESTS)
def test_in_call_requests_and_habits_are_not_action_items(said: str, asr_style: bool) -> None:
    assert find_commitments(_plain(said) if asr_style else said) == []


def test_the_issue_example_gives_the_rep_the_quote_and_the_customer_the_review() -> None:
    turns = pd.DataFrame(
        {
            "turn": [0, 1],
            "speaker": ["channel_0", "channel_1"],
            "role": ["rep", "customer"],
            "start": [0.0, 4.0],
            "end": [3.5, 9.0],
            "text": [
                "So that is the whole platform, what do you think?",
                "send me a quote and we will review it next week",
            ],
        }
    )
    items = summarize(turns, method="extractive").action_items
    assert [(a.text, a.owner_role, a.due, a.citations[0].turn) for a in items] == [
        ("send me a quote", "rep", None, 1),
        ("we will review it next week", "customer", "next week", 1),
    ]


@pytest.mark.parametrize(
    ("said", "items"), UNPUNCTUATED_REQUESTS, ids=[r[0][:32] for r in UNPUNCTUATED_REQUESTS]
)
def test_unpunctuated_requests_said_to_someone_mid_turn(
    said: str, items: list[tuple[str, str | None]]
) -> None:
    assert [(c.owner, c.due) for c in find_commitments(said)] == items


@pytest.mark.parametrize("said", UNPUNCTUATED_NOT_REQUESTS)
def test_unpunctuated_habits_are_not_requests(said: str) -> None:
    assert find_commitments(said) == []


def test_the_mid_turn_rule_is_for_unpunctuated_text_only() -> None:
    assert find_commitments("We liked it, they send me a summary.") == []
    assert find_commitments("Thanks for the walkthrough, send me the pricing sheet.")[0].owner == "other"
