"""`hearkit analyze` shows the call's metadata (from ``call.meta.json`` beside it), its summary and its
action items; the planted items of a sample call's script are the ground truth."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rich.console import Console

from hearkit.cli.analysis import print_record
from hearkit.record import analyze_call, sample_dir, truth_to_result
from tests.cli.test_demo_analyze import first_seconds, flat, run


def test_the_printed_record_holds_metadata_summary_and_action_items() -> None:
    truth = json.loads((sample_dir() / "call_03_pricing.truth.json").read_text())
    record = analyze_call(
        truth_to_result(truth),
        call_id="call_03_pricing",
        roles={0: "rep", 1: "customer"},
        metadata={"title": "Pricing, Northwind", "team": "Mid-market"},
    )
    console = Console(record=True, width=200)
    print_record(record, console)
    text = console.export_text()
    assert "title: Pricing, Northwind" in text and "team: Mid-market" in text
    assert "Summary (extractive)" in text and "Action items" in text
    lines = [line for line in text.splitlines() if line.strip().startswith("- [")]
    for item in truth["action_items"]:
        turn = next(t for t in truth["turns"] if t["turn"] == item["turn"])
        minutes, seconds = divmod(int(turn["start"]), 60)
        owner, clock = f"[{item['owner_role']}]", f" {minutes}:{seconds:02d}"
        assert any(owner in line and line.endswith(clock) for line in lines), (item, lines)


def test_analyze_reads_the_sidecar_beside_the_file(tmp_path: Path) -> None:
    clip = first_seconds(sample_dir() / "call_01_discovery.stereo.ogg", tmp_path / "clip.wav", 4.0)
    (tmp_path / "clip.meta.json").write_text('{"title": "Discovery, Acme", "rep": "Ana"}', encoding="utf-8")
    done = run(["analyze", str(clip)], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "title: Discovery, Acme" in flat(done.stdout) and "rep: Ana" in flat(done.stdout)
    done = run(["analyze", str(clip), "--json"], tmp_path)
    metadata = json.loads(done.stdout)["metadata"]
    assert {k: v for k, v in metadata.items() if v is not None} == {"title": "Discovery, Acme", "rep": "Ana"}


def test_the_printed_transcript_shows_whole_turns_and_says_where_it_stops() -> None:
    """A new-user trial saw the transcript cut mid-word (``[01:16] spea…``) with no word of the rest,
    and an empty turn printed as ``[00:18] speaker_0 (rep): ``. Ground truth: the sample script's turns."""
    truth = json.loads((sample_dir() / "call_03_pricing.truth.json").read_text())
    result = truth_to_result(truth)
    # A turn without words over the customer's first turn, as the engine's mono path produced one.
    first_customer = result["segments"][1]
    end = first_customer["end"]
    empty = {
        "id": 99,
        "start": end - 0.3,
        "end": end - 0.05,
        "text": "",
        "speaker": "speaker_0",
        "channel": 0,
    }
    result["segments"].insert(2, empty)
    record = analyze_call(result, call_id="c", roles={0: "rep", 1: "customer"}, summary=False)
    console = Console(record=True, width=400)
    print_record(record, console)
    lines = console.export_text().splitlines()
    printed = [line for line in lines if re.match(r"\[\d\d:\d\d\] speaker_\d \((rep|customer)\):", line)]
    scripted = [t for t in truth["turns"] if t["text"].strip()]
    assert printed and len(printed) < len(scripted)  # the call is longer than the printout
    for line, turn in zip(printed, scripted, strict=False):  # whole turns, in order, none empty
        assert line.endswith(": " + turn["text"]), (line, turn["text"])
    notice = lines[lines.index(printed[-1]) + 1]
    minutes, seconds = divmod(int(scripted[-1]["start"]), 60)
    assert notice.startswith(f"… {len(scripted) - len(printed)} more turn(s), to {minutes:02d}:{seconds:02d}")
    assert "--json" in notice and "hearkit report" in notice
