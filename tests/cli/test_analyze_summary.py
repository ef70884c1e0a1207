"""`hearkit analyze` shows the call's metadata (from ``call.meta.json`` beside it), its summary and its
action items; the planted items of a sample call's script are the ground truth."""

from __future__ import annotations

import json
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
