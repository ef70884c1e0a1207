"""Turn times in the forms an analyst's CSV has (U4 finding 7): Timedeltas read as seconds, clock
text refused with the conversion that works."""

from __future__ import annotations

import pandas as pd
import pytest

from hearkit.metrics import scorecards


def _turns() -> pd.DataFrame:
    return pd.DataFrame(
        {"call_id": "c", "speaker": ["a", "b", "a", "b"], "role": ["rep", "customer", "rep", "customer"]}
    )


def test_timedelta_columns_are_seconds() -> None:
    turns = _turns().assign(
        start=pd.to_timedelta([0, 5, 10, 15], unit="s"), end=pd.to_timedelta([4, 9, 14, 19], unit="s")
    )
    row = scorecards(turns).iloc[0]
    assert (row["talk_s_rep"], row["talk_ratio_rep"], row["duration_s"]) == (8.0, 0.5, 19.0)


def test_clock_text_is_refused_with_a_conversion_that_works() -> None:
    turns = _turns().assign(
        start=["00:00", "00:05", "00:10", "00:15"], end=["00:04", "00:09", "00:14", "1:00:19"]
    )
    with pytest.raises(
        ValueError, match=r"turns 'start' holds clock text such as '00:00', not seconds"
    ) as info:
        scorecards(turns)
    # The conversion the message gives, applied as written, reads the times right.
    advice = str(info.value).split("e.g. ", 1)[1]
    assert advice.startswith("turns['start'] = ")
    for name in ("start", "end"):
        exec(advice.replace("'start'", repr(name)), {"pd": pd, "turns": turns})
    row = scorecards(turns).iloc[0]
    assert turns["end"].tolist() == [4.0, 9.0, 14.0, 3619.0]
    assert row["talk_s_rep"] == 8.0
