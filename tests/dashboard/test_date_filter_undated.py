"""The date filter says how many calls it left out for having no date (U9 finding 6: the talk-ratio
filter counted the calls it left out, the date filter dropped undated calls without a word)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from hearkit import dashboard as D
from hearkit.record import CallSet

UNDATED = {"call_02_demo", "call_04_support"}


def _set_with_undated_calls() -> CallSet:
    calls = CallSet.load_sample()
    frame = calls.calls.copy()
    frame["date"] = frame["date"].astype(object)
    frame.loc[frame["call_id"].isin(UNDATED), "date"] = None
    calls.calls = frame
    return calls


def test_calls_without_a_date_left_out_by_the_date_filter_are_counted() -> None:
    calls = _set_with_undated_calls()
    index = D.build_index(calls)
    dates = pd.to_datetime(calls.calls.set_index("call_id")["date"])
    since = dt.date(2000, 1, 1)  # before every dated call: only the undated ones are left out
    selection = D.apply_filters(index, D.FilterState(date_from=since))
    assert set(selection.call_ids) == {c for c, d in dates.items() if pd.notna(d)}
    assert selection.undated == len(UNDATED)
    table = D.calls_table_html(index, selection)
    assert f"; {len(UNDATED)} calls without a date left out by the date filter" in table
    off = D.apply_filters(index, D.FilterState())
    assert off.undated == 0 and len(off) == len(calls.calls)
    assert "without a date" not in D.calls_table_html(index, off)
    # Another filter that leaves an undated call out first: it is not counted as the date filter's.
    rep = str(calls.calls.set_index("call_id").loc["call_02_demo", "rep"])
    others = set(calls.calls.loc[calls.calls["rep"] != rep, "call_id"]) & UNDATED
    reps = tuple(sorted(set(calls.calls["rep"].dropna()) - {rep}))
    narrowed = D.apply_filters(index, D.FilterState(date_from=since, reps=reps))
    assert narrowed.undated == len(others)
