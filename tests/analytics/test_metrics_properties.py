"""Hypothesis properties of the metrics: ratios sum to 1, order does not matter, splitting a turn
changes no talk time, and every call of a batch gets the same answer as alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from hearkit.metrics import scorecards

ROLES = {"a": "rep", "b": "customer", "c": "other_person"}
RATIOS = ["talk_ratio_rep", "talk_ratio_customer", "talk_ratio_other"]
TIME_COLUMNS = ["talk_s_rep", "talk_s_customer", "speech_s", "silence_s", "overtalk_s", "talk_s_total"]

turn = st.tuples(
    st.sampled_from(["a", "b", "c"]),
    st.floats(0, 300, allow_nan=False).map(lambda x: round(x, 3)),
    st.floats(0.01, 40, allow_nan=False).map(lambda x: round(x, 3)),
)


def build(rows: list[tuple[str, float, float]], call_id: str = "c") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "call_id": [call_id] * len(rows),
            "speaker": [s for s, _, _ in rows],
            "role": [ROLES[s] for s, _, _ in rows],
            "start": [start for _, start, _ in rows],
            "end": [start + length for _, start, length in rows],
            "text": ["what do you think?"] * len(rows),
        }
    )


@settings(max_examples=30, deadline=None)
@given(st.lists(turn, min_size=1, max_size=30))
def test_ratios_sum_to_one(rows: list[tuple[str, float, float]]) -> None:
    row = scorecards(build(rows)).iloc[0]
    if {ROLES[s] for s, _, _ in rows} == {"other_person"}:  # no rep nor customer: not measured, flagged
        assert all(pd.isna(row[c]) for c in RATIOS) and "no_rep_or_customer" in row["flags"]
    else:
        assert abs(sum(row[c] for c in RATIOS) - 1) < 1e-9
    assert 0 <= row["silence_share"] <= 1 and row["speech_s"] <= row["talk_s_total"] + 1e-9


@settings(max_examples=25, deadline=None)
@given(st.lists(turn, min_size=1, max_size=30), st.randoms(use_true_random=False))
def test_order_of_turns_does_not_matter(rows: list[tuple[str, float, float]], rnd) -> None:
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    a, b = scorecards(build(rows)).iloc[0], scorecards(build(shuffled)).iloc[0]
    for col in [*RATIOS, *TIME_COLUMNS, "overtalk_count", "interruptions_total", "switches", "patience_s"]:
        if pd.isna(a[col]):
            assert pd.isna(b[col])
        else:
            assert np.isclose(a[col], b[col]), col


@settings(max_examples=25, deadline=None)
@given(st.lists(turn, min_size=1, max_size=20), st.integers(0, 19), st.floats(0.05, 0.95))
def test_splitting_a_turn_changes_no_talk_time(
    rows: list[tuple[str, float, float]], k: int, at: float
) -> None:
    speaker, start, length = rows[k % len(rows)]
    cut = round(start + length * at, 6)
    split = [r for i, r in enumerate(rows) if i != k % len(rows)]
    split += [(speaker, start, cut - start), (speaker, cut, start + length - cut)]
    a, b = scorecards(build(rows)).iloc[0], scorecards(build(split)).iloc[0]
    for col in [*RATIOS, *TIME_COLUMNS]:
        if pd.isna(a[col]):
            assert pd.isna(b[col])
        else:
            assert np.isclose(a[col], b[col], atol=1e-6), col


@settings(max_examples=12, deadline=None)
@given(st.lists(st.lists(turn, min_size=1, max_size=12), min_size=2, max_size=5))
def test_a_batch_equals_each_call_alone(calls: list[list[tuple[str, float, float]]]) -> None:
    frames = [build(rows, call_id=f"call{i}") for i, rows in enumerate(calls)]
    together = scorecards(pd.concat(frames, ignore_index=True)).set_index("call_id")
    for i, one in enumerate(frames):
        alone = scorecards(one).iloc[0]
        row = together.loc[f"call{i}"]
        for col in [
            *RATIOS,
            *TIME_COLUMNS,
            "overtalk_count",
            "interruptions_total",
            "switches",
            "patience_s",
        ]:
            if pd.isna(alone[col]):
                assert pd.isna(row[col])
            else:
                assert np.isclose(alone[col], row[col]), col
