"""Call dates read value by value for week/month groups (U4 finding 22: whether a date was readable
depended on the other calls' dates, "2026-03-02 09:15:00" was never read, and an offset date moved
to its UTC day)."""

from __future__ import annotations

import pandas as pd

from hearkit import cohorts
from hearkit.cohorts import call_dates


def test_each_date_on_its_own() -> None:
    mixed = ["2026-03-02", "03/02/2026", "2 March 2026", "2026-03-02T23:30:00-08:00", ""]
    assert call_dates(pd.Series(mixed, dtype="str")).tolist()[:4] == [
        pd.Timestamp("2026-03-02"),
        pd.NaT,  # March or February: not guessed
        pd.Timestamp("2026-03-02"),
        pd.Timestamp("2026-03-02"),  # the call's own evening, not 3 March UTC
    ]
    clock = ["2026-03-02T09:15:00Z", "2026-03-02 09:15:00", "2026-03-31T23:30:00-08:00"]
    assert call_dates(pd.Series(clock, dtype="str")).tolist() == [
        pd.Timestamp("2026-03-02"),
        pd.Timestamp("2026-03-02"),
        pd.Timestamp("2026-03-31"),
    ]


def test_month_groups_keep_every_readable_call() -> None:
    dates = ["2026-03-02", "2026-03-02 09:15:00", "2026-03-31T23:30:00-08:00", "2026-04-01"] * 3
    frame = pd.DataFrame(
        {"call_id": [f"c{i}" for i in range(len(dates))], "date": dates, "talk_ratio_rep": [0.5] * len(dates)}
    )
    groups = cohorts.compare(frame, "talk_ratio_rep", by="month").groups.set_index("group")["n_calls"]
    assert groups.to_dict() == {"2026-03": 9, "2026-04": 3}
