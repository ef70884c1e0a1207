"""The talk-ratio filter says how many calls it let through on a greyed rep talk ratio (U4 finding 5's
remainder: the dashboard filtered on values the table and the report grey, without a word). The
calls with the roles_guessed flag are the ones this test marks."""

from __future__ import annotations

from hearkit import dashboard as D
from hearkit.quality import quality_cells
from hearkit.record import CallSet
from hearkit.schema import Quality, QualityFlag

GUESSED = {"call_02_demo", "call_05_renewal", "call_06_overtalk"}


def _set_with_guessed_roles() -> CallSet:
    calls = CallSet.load_sample()
    guessed = Quality(
        trust="medium",
        flags=[QualityFlag(code="roles_guessed", meaning="guessed", severity="warning", affects=["roles"])],
    )
    frame = calls.calls.copy()
    for column, value in quality_cells(guessed).items():
        frame[column] = frame[column].astype(object)
        frame.loc[frame["call_id"].isin(GUESSED), column] = value
    calls.calls = frame
    return calls


def test_calls_passing_on_a_greyed_talk_ratio_are_counted() -> None:
    calls = _set_with_guessed_roles()
    index = D.build_index(calls)
    ratios = calls.calls.set_index("call_id")["talk_ratio_rep"]
    state = D.FilterState(talk_ratio=(0.55, 1.0))
    selection = D.apply_filters(index, state)
    passing = {c for c, r in ratios.items() if 0.55 <= r <= 1.0}
    assert set(selection.call_ids) == passing
    expected = len(passing & GUESSED)
    assert expected >= 2  # the sample's guessed calls run 63-65 % rep talk
    assert selection.doubted_talk == expected
    table = D.calls_table_html(index, selection)
    assert f"; {expected} of them pass the talk-ratio filter on a greyed rep talk ratio" in table
    assert table.count('style="opacity:.45"') == expected  # the same calls the table greys

    off = D.apply_filters(index, D.FilterState())
    assert off.doubted_talk == 0 and "greyed rep talk ratio" not in D.calls_table_html(index, off)
