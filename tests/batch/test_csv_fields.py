"""A CSV row with more values than its header is refused before anything is sent (U5 finding 1: an
unquoted "Acme, Inc renewal" shifted every later value: rep " Inc renewal", date "Ana Lopez", team
lost, rc 0). The expected metadata is the CSV this test writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from hearkit.batch.recordings import discover
from tests.batch import audio
from tests.batch.cli_run import flat, run

HEADER = "path,title,rep,date,team\n"


@pytest.fixture
def calls(tmp_path: Path) -> Path:
    audio.mono(tmp_path / "calls" / "a.wav", 1.0, seed=1)
    audio.mono(tmp_path / "calls" / "b.wav", 1.2, seed=2)
    return tmp_path


def test_an_unquoted_comma_stops_the_batch_in_one_line(calls: Path) -> None:
    (calls / "m.csv").write_text(
        HEADER + "calls/a.wav,Acme, Inc renewal,Ana Lopez,2026-03-02,Enterprise\n"
        "calls/b.wav,Globex renewal,Ana Lopez,2026-03-03\n"
    )
    with pytest.raises(ValueError, match=r"m\.csv line 2: 6 values where the header has 5 columns"):
        discover(calls / "m.csv")
    done = run(["batch", "m.csv", "--out", "out", "--dry-run"], calls)
    assert done.returncode == 2, done.stdout + done.stderr
    said = flat(done.stdout + done.stderr)
    assert said.startswith("error:") and 'needs double quotes around it, e.g. "Acme, Inc"' in said
    assert "Traceback" not in done.stderr and not (calls / "out").exists()


def test_quoted_short_and_trailing_separator_rows_are_read_as_written(calls: Path) -> None:
    (calls / "m.csv").write_text(
        HEADER + 'calls/a.wav,"Acme, Inc renewal",Ana Lopez,2026-03-02,Enterprise,\n'  # a trailing comma
        "calls/b.wav,Globex renewal,Ana Lopez,2026-03-03\n"  # no team: a short row
    )
    meta = {rec.call_id: rec.metadata for rec in discover(calls / "m.csv")}
    assert meta["a"] == {
        "title": "Acme, Inc renewal",
        "rep": "Ana Lopez",
        "date": "2026-03-02",
        "team": "Enterprise",
    }
    assert meta["b"] == {"title": "Globex renewal", "rep": "Ana Lopez", "date": "2026-03-03"}


def test_a_semicolon_csv_names_its_own_separator(calls: Path) -> None:
    (calls / "m.csv").write_text("path;title;rep\ncalls/a.wav;Acme; Inc;Ana\n")
    with pytest.raises(
        ValueError, match=r"""a value holding a ';' needs double quotes around it, e.g. "Acme; Inc"""
    ):
        discover(calls / "m.csv")
