"""Saved calls are found in a batch output folder, its dataset/ and a CallSet.save() folder alike;
anything else gets one line saying what was expected."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hearkit.locate import CALLSET_FILES, callset_folder
from hearkit.record import CallSet, analyze_calls, sample_dir, truth_to_result


@pytest.fixture(scope="module")
def saved() -> CallSet:
    import json

    truth = json.loads((sample_dir() / "call_03_pricing.truth.json").read_text())
    return analyze_calls({"call_03_pricing": truth_to_result(truth)}, roles={0: "rep", 1: "customer"})


def test_a_batch_folder_its_dataset_and_a_saved_set_all_load(saved: CallSet, tmp_path: Path) -> None:
    plain = saved.save(tmp_path / "plain")
    batch = tmp_path / "batch"
    saved.save(batch / "dataset")
    sqlite3.connect(batch / "manifest.sqlite").close()

    assert callset_folder(plain) == plain
    assert callset_folder(batch) == batch / "dataset"
    assert callset_folder(batch / "dataset") == batch / "dataset"
    for folder in (plain, batch, batch / "dataset"):
        loaded = CallSet.load(folder)
        assert loaded.call_ids == ["call_03_pricing"]
        assert loaded.summaries.keys() == {"call_03_pricing"}


def test_wrong_folders_say_what_was_expected_in_one_line(saved: CallSet, tmp_path: Path) -> None:
    expected = "expected a `hearkit batch --out` folder (with dataset/ inside), its dataset/ folder"
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.txt").write_text("x")
    cases = {
        tmp_path / "missing": "does not exist",
        tmp_path / "empty": "holds no saved calls",
        tmp_path / "file.txt": "is a file, not a folder",
    }
    for folder, what in cases.items():
        with pytest.raises(FileNotFoundError) as caught:
            CallSet.load(folder)
        message = str(caught.value)
        assert what in message and expected in message and "\n" not in message

    partial = saved.save(tmp_path / "partial")
    (partial / CALLSET_FILES[1]).unlink()
    with pytest.raises(FileNotFoundError, match=r"incomplete saved CallSet \(missing turns\.parquet\)"):
        CallSet.load(partial)

    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    sqlite3.connect(unfinished / "manifest.sqlite").close()
    with pytest.raises(FileNotFoundError, match=r"batch` output folder without a complete dataset/ yet"):
        CallSet.load(unfinished)
