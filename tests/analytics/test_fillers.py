"""Filler words (U4 finding 21): "you know" / "I mean" only when set off, "uh-huh" is a backchannel,
"ER" is no "er"."""

from __future__ import annotations

import pandas as pd
import pytest

from hearkit.metrics import scorecards


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Do you know the price?", 0),
        ("Do you know what time it is?", 0),
        ("Do you know?", 0),
        ("Well, you know what? Let's fix it.", 0),
        ("I mean it.", 0),
        ("What do you mean?", 0),
        ("Uh-huh.", 0),
        ("Uh huh, right.", 0),
        ("Er, the ER team.", 1),
        ("Um, so, uh, the price is fine.", 2),
        ("Yeah, you know, it's fine.", 1),
        ("I mean, we need more time.", 1),
        ("It is fine, you know", 1),
        ("uhh so the price is fine", 1),
    ],
)
def test_fillers_of_a_turn(text: str, expected: int) -> None:
    turns = pd.DataFrame(
        {"call_id": "c", "speaker": "a", "role": "rep", "start": [0.0], "end": [2.0], "text": [text]}
    )
    assert scorecards(turns).iloc[0]["fillers_rep"] == expected
