"""The rep filter lists each rep once and no blank entry (U5 finding 6: a blank first option for the call
without a rep, where the team filter had none; U4 finding 29: "Ana Lopez", "Ana Lopez " and "ana lopez"
were three reps). The spellings are the ones this test writes."""

from __future__ import annotations

from hearkit import dashboard as D
from hearkit.record import CallSet


def _calls() -> CallSet:
    calls = CallSet.load_sample()
    frame = calls.calls.copy()
    frame["rep"] = frame["rep"].astype(object)
    frame.loc[0, "rep"] = None  # call_01: no rep
    frame.loc[1, "rep"] = "jordan  lee "  # call_02: the same rep, spelled another way
    frame.loc[2, "rep"] = "   "  # call_03: a blank cell
    frame["team"] = ["East", "east", None, "West", "West", "East", ""]
    calls.calls = frame
    return calls


def test_one_entry_per_rep_and_none_blank() -> None:
    index = D.build_index(_calls())
    assert index.reps == ("Jordan Lee", "Sam Ortiz")  # the sample's reps, in the spelling most calls have
    assert index.teams == ("East", "West")
    picked = D.apply_filters(index, D.FilterState(reps=("JORDAN LEE",)))
    names = {c.split("_")[1] for c in picked.call_ids}
    assert names == {"02", "05", "06", "07"}  # not the calls without a rep (01, 03), nor Sam's (04)
    east = D.apply_filters(index, D.FilterState(teams=("east",)))
    assert {c.split("_")[1] for c in east.call_ids} == {"01", "02", "06"}

    board = D.dashboard(_calls())
    assert board.rep.options == ("Jordan Lee", "Sam Ortiz") and board.team.options == ("East", "West")
