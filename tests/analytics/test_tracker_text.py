"""Tracker and search text rules found wrong by the analyst trial (U4 findings 3 and 6)."""

from __future__ import annotations

import pandas as pd
import pytest

from hearkit.record import CallSet
from hearkit.trackers import DEFAULT_TRACKERS, Tracker, find_hits


def _hits(sentence: str, trackers: tuple[Tracker, ...] = DEFAULT_TRACKERS) -> list[tuple[str, str]]:
    words = sentence.split()
    frame = pd.DataFrame(
        {
            "call_id": "c",
            "turn": 0,
            "speaker": "a",
            "role": "rep",
            "start": [float(i) for i in range(len(words))],
            "end": [i + 0.5 for i in range(len(words))],
            "word": words,
        }
    )
    return [(h.tracker, h.phrase) for h in find_hits(frame, trackers).itertuples()]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("I bought the car a month ago.", []),
        ("We meet once a month to review.", []),
        ("It took about a month", []),
        ("give everyone a seat at the table", []),
        ("We pay 500 a month.", [("pricing", "a month.")]),
        ("It is forty dollars a seat.", [("pricing", "forty dollars"), ("pricing", "a seat.")]),
        ("We pay $1,200 a year", [("pricing", "$1,200"), ("pricing", "a year")]),
    ],
)
def test_a_month_is_pricing_only_after_an_amount(sentence: str, expected: list[tuple[str, str]]) -> None:
    assert [h for h in _hits(sentence) if h[0] == "pricing"] == expected


def test_typographic_apostrophes_read_as_plain_ones() -> None:
    curly, plain = Tracker("curly", ("I’m already home",)), Tracker("plain", ("I'm already home",))
    assert [t for t, _ in _hits("I'm already home, thanks", (curly, plain))] == ["curly", "plain"]
    assert [t for t, _ in _hits("I’m already home, thanks", (curly, plain))] == ["curly", "plain"]


def test_search_with_a_typographic_apostrophe() -> None:
    calls = CallSet.load_sample()
    plain = calls.search("I'll send")
    assert len(plain) >= 2  # sample calls 01, 02, 07 ("I'll send you …")
    curly = calls.search("I’ll send")
    assert curly[["call_id", "start"]].values.tolist() == plain[["call_id", "start"]].values.tolist()


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("It's £30.", ["£30."]),
        ("It's €40 per user.", ["€40", "per user."]),
        ("USD 500.", ["USD 500."]),
        ("It costs 99 cents.", ["costs", "99 cents."]),
        ("£30 a seat", ["£30", "a seat"]),
        ("It's $34.", ["$34."]),
    ],
)
def test_pounds_euros_and_currency_codes_are_money(sentence: str, expected: list[str]) -> None:
    """U4 finding 20: only the dollar sign was money ("It's £30." gave no pricing hit)."""
    assert [phrase for tracker, phrase in _hits(sentence) if tracker == "pricing"] == expected
