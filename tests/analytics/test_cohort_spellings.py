"""One rep spelled three ways is one group (U4 finding 29: "Ana Lopez", "Ana Lopez " and "ana lopez"
were three groups, each "not enough calls to say")."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hearkit import cohorts


def test_case_and_spaces_do_not_split_a_group() -> None:
    rng = np.random.default_rng(0)
    reps = ["Ana Lopez"] * 12 + ["Ana Lopez "] * 6 + ["ana  lopez"] * 6 + ["Bo Li"] * 12 + [""] * 2
    frame = pd.DataFrame(
        {
            "call_id": [f"c{i}" for i in range(len(reps))],
            "rep": reps,
            "talk_ratio_rep": rng.normal(0.5, 0.05, len(reps)),
        }
    )
    result = cohorts.compare(frame, "talk_ratio_rep", by="rep")
    groups = result.groups.set_index("group")["n_calls"].to_dict()
    assert groups == {"Ana Lopez": 24, "Bo Li": 12}
    assert any("24 and 12 calls" in reading for reading in result.readings())


def test_other_labels_unchanged() -> None:
    frame = pd.DataFrame(
        {"call_id": [f"c{i}" for i in range(4)], "team": [1, 1, 2, 2], "talk_ratio_rep": [0.4, 0.5, 0.6, 0.7]}
    )
    groups = cohorts.compare(frame, "talk_ratio_rep", by="team").groups
    assert sorted(str(g) for g in groups["group"]) == ["1", "2"]
