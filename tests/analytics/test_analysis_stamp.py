"""A saved set records which analysis computed it, and loading it under another one says so with the
way to recompute (U5 finding 19: after an upgrade that fixed questions and action items, a batch folder
kept "questions 9" and a false action item without a word; the package version never changes)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from hearkit.provenance import AnalysisChangedWarning, analysis_fingerprint
from hearkit.record import CallSet


def _saved(tmp_path: Path) -> Path:
    folder = CallSet.load_sample().save(tmp_path / "set")
    meta = json.loads((folder / "callset.json").read_text())
    assert meta["analysis"]["fingerprint"] == analysis_fingerprint()
    return folder


def test_the_same_analysis_loads_without_a_word(tmp_path: Path) -> None:
    folder = _saved(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AnalysisChangedWarning)
        CallSet.load(folder)


@pytest.mark.parametrize("stamp", [None, {"hearkit": "0.1.0", "fingerprint": "0123456789abcdef"}])
def test_another_or_no_stamp_warns_with_the_way_to_recompute(tmp_path: Path, stamp: object) -> None:
    folder = _saved(tmp_path)
    meta = json.loads((folder / "callset.json").read_text())
    if stamp is None:
        del meta["analysis"]  # a set saved before sets were stamped
    else:
        meta["analysis"] = stamp
    (folder / "callset.json").write_text(json.dumps(meta))
    with pytest.warns(AnalysisChangedWarning, match="analyse the calls again") as caught:
        CallSet.load(folder)
    assert ("an older" if stamp is None else "another") in str(caught[0].message)
    assert caught[0].filename == __file__  # the warning names the caller's line
