"""Cohort readings say how many compared values the quality block greys (U4 finding 13: "A talks
less than B: 95 % interval 7.0–10 pp" where all of A's rep talk ratios were roles_guessed)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from hearkit import cohorts
from hearkit.quality import quality_cells
from hearkit.schema import Quality, QualityFlag


def test_greyed_values_are_counted_and_named() -> None:
    rng = np.random.default_rng(1)
    guessed = Quality(
        trust="medium",
        flags=[QualityFlag(code="roles_guessed", meaning="guessed", severity="warning", affects=["roles"])],
    )
    cells_a, cells_b = quality_cells(guessed), quality_cells(Quality())
    frame = pd.DataFrame(
        {
            "call_id": [f"c{i}" for i in range(24)],
            "rep": ["A"] * 12 + ["B"] * 12,
            "talk_ratio_rep": np.r_[rng.normal(0.51, 0.01, 12), rng.normal(0.60, 0.01, 12)],
            "words_rep": rng.integers(100, 200, 24),
            "quality": [cells_a["quality"]] * 12 + [cells_b["quality"]] * 12,
        }
    )
    assert json.loads(frame["quality"][0])["flags"][0]["code"] == "roles_guessed"
    result = cohorts.compare(frame, ["talk_ratio_rep", "words_rep"], by="rep")
    groups = result.groups.set_index(["metric", "group"])["n_flagged"]
    assert groups[("talk_ratio_rep", "A")] == 12 and groups[("talk_ratio_rep", "B")] == 0
    assert groups[("words_rep", "A")] == 0  # roles doubts do not grey word counts
    (talk,) = result.readings("talk_ratio_rep")
    assert talk.startswith("A talks less than B")
    assert "greyed in their calls: 12 of A's and 0 of B's values, roles_guessed" in talk
    assert "greyed" not in result.readings("words_rep")[0]
