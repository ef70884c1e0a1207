"""A reading names the flags of its own two groups' greyed values (U5 finding 4: every pair's reading
listed the flags of the whole set, "Michelle vs Steve … unattributed_speech, roles_maybe_swapped,
roles_guessed, mixed_voices" where two of them were other reps' calls). The flags are the ones this
test gives each rep's calls."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from hearkit import cohorts
from hearkit.quality import quality_cells
from hearkit.schema import Quality, QualityFlag


def _quality(code: str | None, affects: str) -> str:
    flags = [QualityFlag(code=code, meaning=code, severity="warning", affects=[affects])] if code else []
    return str(quality_cells(Quality(trust="medium" if code else "high", flags=flags))["quality"])


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    reps = {"A": ("roles_guessed", "roles"), "B": (None, "roles"), "C": ("unattributed_speech", "talk_ratio")}
    rows = [
        {
            "call_id": f"{rep}{i}",
            "rep": rep,
            "talk_ratio_rep": rng.normal(0.5, 0.02),
            "quality": _quality(*flag),
        }
        for rep, flag in reps.items()
        for i in range(12)
    ]
    return pd.DataFrame(rows)


def _readings(pairs: Literal["all", "vs_rest"]) -> dict[tuple[str, str], str]:
    differences = cohorts.compare(_frame(), "talk_ratio_rep", by="rep", pairs=pairs).differences
    return {(str(r.a), str(r.b)): str(r.reading) for r in differences.itertuples()}


def test_each_pair_names_its_own_flags() -> None:
    readings = _readings("all")
    assert readings[("A", "B")].endswith("12 of A's and 0 of B's values, roles_guessed)")
    assert readings[("B", "C")].endswith("0 of B's and 12 of C's values, unattributed_speech)")
    assert readings[("A", "C")].endswith("roles_guessed, unattributed_speech)")


def test_against_the_rest_names_the_flags_of_both_sides() -> None:
    readings = _readings("vs_rest")
    assert readings[("B", "the rest")].endswith(
        "0 of B's and 24 of the rest's values, roles_guessed, unattributed_speech)"
    )
    assert readings[("A", "the rest")].endswith(
        "12 of A's and 12 of the rest's values, roles_guessed, unattributed_speech)"
    )
