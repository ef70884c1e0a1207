"""``CallSet.save`` into a folder holding another saved set (U4 finding 27: saving 2 calls over 4
left only the 2, without a word)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hearkit.record import CallSet


def test_saving_a_subset_over_a_saved_set_is_refused(tmp_path: Path) -> None:
    calls = CallSet.load_sample()
    folder = calls.save(tmp_path / "results")
    subset = CallSet.from_records([calls.record("call_01_discovery"), calls.record("call_02_demo")])
    with pytest.raises(
        ValueError, match=r"already holds 7 saved calls, 5 of them not in this set \(call_03_pricing"
    ):
        subset.save(folder)
    assert len(CallSet.load(folder).calls) == 7  # nothing replaced
    # the same calls again (e.g. after a role fix) are saved, and overwrite=True replaces
    calls.with_roles({"call_01_discovery": {"speaker_0": "customer", "speaker_1": "rep"}}).save(folder)
    subset.save(folder, overwrite=True)
    assert sorted(CallSet.load(folder).calls["call_id"]) == ["call_01_discovery", "call_02_demo"]
