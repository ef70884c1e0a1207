"""Summaries follow a role change (U4 finding 26: after with_roles the summary still read "Rep: …"
for the new customer's turn, and action items kept their old owners)."""

from __future__ import annotations

from hearkit.record import CallSet


def test_with_roles_rewrites_the_summary_of_the_call() -> None:
    calls = CallSet.load_sample()
    before = calls.summaries["call_01_discovery"]
    swapped = calls.with_roles({"call_01_discovery": {"speaker_0": "customer", "speaker_1": "rep"}})
    after = swapped.summaries["call_01_discovery"]
    roles = swapped.turns[swapped.turns["call_id"] == "call_01_discovery"].set_index("turn")["role"]
    assert before.action_items and len(after.action_items) == len(before.action_items)
    for old, new in zip(before.action_items, after.action_items, strict=True):
        assert new.text == old.text
        assert new.owner_role == {"rep": "customer", "customer": "rep"}[old.owner_role]
        assert new.owner_role == roles[new.citations[0].turn]
    assert after.summary[0].text.startswith("Customer: Hi, Priya")
    assert before.summary[0].text.startswith("Rep: Hi, Priya")
    # other calls keep theirs
    assert swapped.summaries["call_02_demo"] == calls.summaries["call_02_demo"]


def test_merge_speakers_rewrites_it_too() -> None:
    calls = CallSet.load_sample()
    merged = calls.merge_speakers("call_01_discovery", ["speaker_1", "speaker_0"])
    owners = {item.owner_role for item in merged.summaries["call_01_discovery"].action_items}
    assert owners == {"customer"}  # every turn is now the customer's (speaker_1's role)
