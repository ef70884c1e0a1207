"""The dashboard's call order and date filter (U3 findings 18 and 32).

18: undated calls came FIRST in the calls table and call picker (the NaT sentinel negated back to the
smallest value), and past 100 calls the dated ones dropped out of the table. 32: a sidecar date with
a UTC offset was moved to the UTC day, so the dashboard's filter put a 2 March call on 3 March, where
the report and cohorts say 2 March. The expected order and days are written here by hand."""

from __future__ import annotations

import datetime as dt

from hearkit.dashboard import FilterState, apply_filters, build_index, calls_table_html, newest_first
from tests.dashboard.conftest import make_frames


def test_undated_calls_come_last_and_an_offset_date_keeps_its_own_day() -> None:
    frames = make_frames(5, seed=1)
    frames.calls["date"] = [None, "2026-03-01", "garbage", "2026-03-02T23:30:00-08:00", "2026-03-05"]
    index = build_index(frames)
    everything = apply_filters(index, FilterState())
    order = [index.call_ids[p] for p in newest_first(index, everything)]
    assert order == ["call_0004", "call_0003", "call_0001", "call_0000", "call_0002"]

    on_the_2nd = apply_filters(index, FilterState(date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 2)))
    assert on_the_2nd.call_ids == ("call_0003",)
    assert (
        apply_filters(index, FilterState(date_from=dt.date(2026, 3, 3), date_to=dt.date(2026, 3, 3))).call_ids
        == ()
    )


def test_past_the_table_limit_the_dated_calls_are_the_ones_shown() -> None:
    frames = make_frames(6, seed=2)
    frames.calls["date"] = [None, None, None, "2026-01-01", "2026-02-01", None]
    index = build_index(frames)
    table = calls_table_html(index, apply_filters(index, FilterState()), limit=2)
    assert "call_0004" in table and "call_0003" in table
    assert "call_0000" not in table
