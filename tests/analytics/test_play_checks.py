"""``CallSet.play`` / ``CallRecord.play`` say what is wrong with the time or the call id (U4 finding 15:
past the end an empty player, NaN "cannot convert float NaN to integer", an unknown id "no recording")."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hearkit.record import CallSet

from .conftest import SAMPLE_DIR


@pytest.fixture(scope="module")
def calls() -> CallSet:
    return CallSet.load_sample()


def test_a_time_past_the_end(calls: CallSet) -> None:
    duration = json.loads((SAMPLE_DIR / "call_03_pricing.truth.json").read_text())["duration_s"]
    assert 150 < duration < 153  # 2:32
    with pytest.raises(ValueError, match=r"t=500 s is past the end of call_03_pricing \(2:32\)"):
        calls.play("call_03_pricing", 500)
    with pytest.raises(ValueError, match=r"past the end of call_03_pricing"):
        calls.record("call_03_pricing").play(500)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "30", None])
def test_a_time_that_is_no_number(calls: CallSet, bad: object) -> None:
    with pytest.raises(ValueError, match="t must be a number of seconds into the call"):
        calls.play("call_03_pricing", bad)  # type: ignore[arg-type]


def test_an_unknown_call(calls: CallSet) -> None:
    with pytest.raises(
        ValueError, match=r"no call 'nope' in this set; calls: call_01_discovery, call_02_demo"
    ):
        calls.play("nope", 3)


def test_a_good_time_still_plays(calls: CallSet) -> None:
    assert type(calls.play("call_03_pricing", np.float64(30.0))).__name__ == "Audio"
    assert type(calls.play("call_03_pricing", np.int64(150))).__name__ == "Audio"
