"""`hearkit remap --speakers N` says which role a speaker it left without one mostly holds (U7 finding 9)."""

from __future__ import annotations

import pandas as pd

from hearkit.cli.remap import _role_hints


def _turns(*rows: tuple[str, str, float, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["speaker", "role", "start", "end"])


def test_a_merged_speaker_is_told_the_role_it_mostly_was() -> None:
    # before: the rep talks 0-19 s, the customer 19-20 s; after --speakers 1: one voice of no role
    before = _turns(
        ("speaker_0", "rep", 0.0, 9.5),
        ("speaker_1", "customer", 19.0, 20.0),
        ("speaker_0", "rep", 10.0, 19.0),
    )
    after = _turns(("speaker_0", "unknown", 0.0, 20.0))
    (line,) = _role_hints(before, after, "hearkit remap OUT --call c")
    assert line.startswith("speaker_0 has no role; 92% of its talk is where the rep spoke before")
    assert line.endswith("`hearkit remap OUT --call c --rep speaker_0` gives it that role")


def test_speakers_with_roles_or_no_clear_majority_get_no_line() -> None:
    before = _turns(("speaker_0", "rep", 0.0, 10.0), ("speaker_1", "customer", 10.0, 20.0))
    assert _role_hints(before, _turns(("speaker_0", "rep", 0.0, 20.0)), "x") == []
    # half rep, half customer: neither role holds more than half of its talk
    assert _role_hints(before, _turns(("speaker_0", "unknown", 5.0, 15.0)), "x") == []
