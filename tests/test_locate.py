"""Saved calls are found in a batch output folder, its dataset/ and a CallSet.save() folder alike;
anything else gets one line saying what was expected."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hearkit.dashboard_app import write_app_notebook
from hearkit.locate import CALLSET_FILES, SavedCallsWarning, callset_folder
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


def test_save_refuses_a_batch_folder_and_its_dataset(saved: CallSet, tmp_path: Path) -> None:
    """U2 finding 5: a save at the top of a batch folder was read instead of its dataset from then on."""
    batch = tmp_path / "batch"
    saved.save(batch / "dataset")
    sqlite3.connect(batch / "manifest.sqlite").close()
    for target in (batch, batch / "dataset", batch / "dataset" / "."):
        with pytest.raises(ValueError, match="`hearkit batch` output folder") as caught:
            saved.save(target)
        assert "hearkit.batch.with_roles" in str(caught.value) and "\n" not in str(caught.value)
    assert not (batch / "calls.parquet").exists()
    saved.save(batch / "mine")  # a folder of its own inside the batch folder is fine
    assert CallSet.load(batch / "mine").call_ids == ["call_03_pricing"]


def test_a_save_beside_a_batch_dataset_is_not_read_and_is_named(saved: CallSet, tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    saved.save(batch / "dataset")
    sqlite3.connect(batch / "manifest.sqlite").close()
    other = CallSet.load_sample("truth")
    for name in CALLSET_FILES:  # what an older save(batch) wrote
        (batch / name).write_bytes((other.save(tmp_path / "other") / name).read_bytes())
    with pytest.warns(SavedCallsWarning, match=r"read the batch's dataset/ .*\(1 call, .*\(7 calls"):
        assert CallSet.load(batch).call_ids == ["call_03_pricing"]
    with pytest.warns(SavedCallsWarning, match="it also holds calls saved there"):
        notebook = write_app_notebook(batch, directory=tmp_path)  # what `hearkit dashboard` serves
    assert f"CallSet.load({str((batch / 'dataset').resolve())!r})" in notebook.read_text()
    (batch / "dataset" / "calls.parquet").unlink()  # no dataset: the stray save is still not read
    with pytest.raises(
        FileNotFoundError, match=r"without a complete dataset/ yet.*CallSet.save\(\) \(7 calls"
    ):
        CallSet.load(batch)


def test_demo_save_into_a_batch_folder_is_refused_before_transcribing(saved: CallSet, tmp_path: Path) -> None:
    """CallSet.save() refuses a batch folder; demo --save found out only after minutes of transcription."""
    from typer.testing import CliRunner

    from hearkit.cli.main import app

    batch = tmp_path / "batch"
    saved.save(batch / "dataset")
    sqlite3.connect(batch / "manifest.sqlite").close()
    for target in (batch, batch / "dataset"):
        result = CliRunner().invoke(
            app, ["demo", "--limit", "1", "--save", str(target), "-o", str(tmp_path / "r.html")]
        )
        said = " ".join(result.output.replace("│", " ").split())
        assert result.exit_code == 2 and "give --save a folder of its own" in said, result.output
        assert "transcribing" not in said and not (tmp_path / "r.html").exists()
