"""The quality block of a result travels into the calls frame, the record, the report and the CLI.

The results are the sample calls' stored mono results (``sample_data/*.mono.result.json``, made by
the pipeline) with a quality block written here, and a hosted-style result without one.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from hearkit.cli.analysis import print_record
from hearkit.record import analyze_call, analyze_calls
from hearkit.report import render_html
from hearkit.schema import Quality, QualityFlag, Result

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


def _result(with_quality: bool) -> Result:
    result = Result.model_validate(json.loads((SAMPLES / "call_01_discovery.mono.result.json").read_text()))
    result.quality = None
    if with_quality:
        flag = QualityFlag(
            code="phantom_speaker",
            meaning="speaker_2 3% of the talk: possibly one voice split in two",
            affects=["speaker_count", "talk_ratio"],
        )
        result.quality = Quality(
            trust="medium", flags=[flag], method="diarization", speaker_count_margin=0.03
        )
    return result


def test_record_carries_the_block_and_not_measured_stays_distinct() -> None:
    record = analyze_call(_result(True), call_id="c1", summary=False)
    assert record.quality is not None and record.quality.trust == "medium"
    assert record.quality.speaker_count_margin == 0.03
    assert "trust" not in record.metrics and "quality" not in record.metrics
    bare = analyze_call(_result(False), call_id="c2", summary=False)
    assert bare.quality is None
    calls = analyze_calls([_result(True), _result(False)], call_ids=["a", "b"], summaries=False).calls
    assert calls["trust"].tolist() == ["medium", "not measured"]
    assert calls["quality_flags"].tolist() == ["phantom_speaker", ""]


def test_report_shows_trust_flags_and_greys_affected_metrics() -> None:
    callset = analyze_calls([_result(True)], call_ids=["c1"], summaries=False)
    page = render_html(callset)
    assert "trust: medium (1 flag)" in page
    assert "phantom_speaker" in page and "possibly one voice split in two" in page
    # Talk-ratio metrics are greyed with the reason, not hidden.
    assert 'class="unreliable" title="unreliable: phantom_speaker' in page
    plain = render_html(analyze_calls([_result(False)], call_ids=["c2"], summaries=False))
    assert "trust: not measured" in plain
    assert 'class="unreliable"' not in plain


def test_cli_scorecard_prints_trust_and_flag_meanings() -> None:
    out = io.StringIO()
    print_record(analyze_call(_result(True), call_id="c1", summary=False), Console(file=out, width=200))
    text = out.getvalue()
    assert "trust: medium (1 flag)" in text
    assert "phantom_speaker (warning): speaker_2 3% of the talk" in text
    assert "(phantom_speaker)" in text  # a greyed metric says why
    silent = io.StringIO()  # an unmeasured metric reads as the report says it, not Python's None
    print_record(
        analyze_call({"segments": [], "audio_seconds": 30.0}, call_id="s"), Console(file=silent, width=200)
    )
    assert "talk_ratio_rep" in silent.getvalue() and "not measured" in silent.getvalue()
    assert "None" not in silent.getvalue()


def test_quality_survives_save_and_load(tmp_path: Path) -> None:
    from hearkit.record import CallSet

    callset = analyze_calls([_result(True), _result(False)], call_ids=["a", "b"], summaries=False)
    callset.save(tmp_path / "set")
    loaded = CallSet.load(tmp_path / "set")
    quality = loaded.record("a").quality
    assert quality is not None and [f.code for f in quality.flags] == ["phantom_speaker"]
    assert loaded.record("b").quality is None


def test_dashboard_greys_an_unreliable_talk_ratio_and_shows_the_flags() -> None:
    import numpy as np

    from hearkit.dashboard import Selection, build_index, calls_table_html
    from hearkit.quality import quality_html, quality_view

    callset = analyze_calls([_result(True), _result(False)], call_ids=["a", "b"], summaries=False)
    index = build_index(callset)
    table = calls_table_html(index, Selection(mask=np.ones(2, dtype=bool), call_ids=("a", "b")))
    assert table.count('title="unreliable: phantom_speaker: speaker_2 3% of the talk') == 1  # call a only
    assert "<th>trust</th>" in table and "<td>medium</td>" in table and "<td>not measured</td>" in table
    block = quality_html(quality_view(callset.calls.iloc[0]))
    assert "trust: medium (1 flag)" in block and "possibly one voice split in two" in block


def test_dashboard_and_report_grey_the_same_rep_talk_cells() -> None:
    """A trial saw five roles_guessed calls greyed in the report and plain in the dashboard's table
    (which greyed only a fixed list of talk-ratio flags) and no trust column there."""
    import re

    import numpy as np

    from hearkit.dashboard import Selection, build_index, calls_table_html

    flags = {
        "guessed": QualityFlag(code="roles_guessed", meaning="rep and customer guessed", affects=["roles"]),
        "phantom": QualityFlag(code="phantom_speaker", meaning="a 3% voice", affects=["talk_ratio"]),
        "asr": QualityFlag(code="low_asr_confidence", meaning="words uncertain", affects=["transcript"]),
        "info": QualityFlag(
            code="speaker_count_held", meaning="held", severity="info", affects=["talk_ratio"]
        ),
    }
    results = []
    for flag in flags.values():
        result = _result(False)
        result.quality = Quality(trust="medium" if flag.severity == "warning" else "high", flags=[flag])
        results.append(result)
    ids = list(flags)
    callset = analyze_calls(results, call_ids=ids, summaries=False)
    page = render_html(callset)
    table = calls_table_html(
        build_index(callset), Selection(mask=np.ones(len(ids), dtype=bool), call_ids=tuple(ids))
    )
    # the report's overview table: the rep talk cell of a call (class "num unreliable")
    in_report = {
        c for c in ids if re.search(rf'class="num unreliable" title="unreliable: {flags[c].code}:', page)
    }
    in_dashboard = {c for c in ids if f'title="unreliable: {flags[c].code}:' in table}
    assert in_report == in_dashboard == {"guessed", "phantom"}
