"""The CLI calls table (`hearkit demo`) shows each call's trust level and its flags in plain words."""

from __future__ import annotations

from rich.console import Console

from hearkit.cli.analysis import calls_table
from hearkit.record import CallSet


def test_the_trust_column_names_the_flags_in_words() -> None:
    calls = CallSet.load_sample()
    first, second = calls.calls.index[:2]
    calls.calls.loc[first, ["trust", "quality_flags"]] = ["medium", "voices_alike,much_overlap"]
    calls.calls.loc[second, ["trust", "quality_flags"]] = ["high", ""]
    console = Console(width=400, record=True)
    console.print(calls_table(calls))
    text = console.export_text()
    assert "medium: one voice may be counted twice; much talking over each other" in text
    assert "voices_alike" not in text  # the code is not what the reader sees
    assert " high " in text


def test_an_80_column_terminal_reads_one_call_per_line() -> None:
    calls = CallSet.load_sample()
    console = Console(width=80, record=True)
    console.print(calls_table(calls, console.width))
    lines = console.export_text().splitlines()
    for call_id in calls.calls["call_id"]:
        row = [line for line in lines if call_id in line]
        assert len(row) == 1, f"{call_id} is cut or wrapped: {lines}"  # the whole id, on one line
    assert max(len(line) for line in lines) <= 80
