"""The support call's closing offer is no commitment (U5 finding 10: "Anything else I can do for
you today?" on the real AWS call 49 became the rep's action item "I can do for you today", due
today, in the report of every encoding of the call)."""

from __future__ import annotations

import pytest

from hearkit._summarize.rules import find_commitments

OFFERS = [
    "You're welcome. Anything else I can do for you today?",
    "Is there anything else I can do for you today?",
    "Anything I can do for you before Friday?",
    "anything else we can do for you today",
    "Is there something else I can send you by Monday?",
]


@pytest.mark.parametrize("said", OFFERS)
def test_an_offer_to_do_anything_else_is_not_an_action_item(said: str) -> None:
    assert find_commitments(said) == []


@pytest.mark.parametrize(
    ("said", "due"),
    [
        ("Anything else? I can send you the quote by Friday.", "by Friday"),
        ("Nothing else from me. I'll email the contract today.", "today"),
    ],
)
def test_a_commitment_after_the_offer_is_still_one(said: str, due: str) -> None:
    (item,) = find_commitments(said)
    assert item.owner == "self" and item.due == due
