"""The report of real hearkit.record CallSets/CallRecords (the sample calls analysed from their
scripted truth, no ASR), and the `hearkit report` command."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hearkit import report
from hearkit.cli.main import app
from hearkit.record import CallSet
from tests.report.frames import truth_calls


@pytest.fixture(scope="module")
def callset() -> CallSet:
    return CallSet.load_sample("truth")


@pytest.fixture(scope="module")
def page(callset: CallSet) -> str:
    return report.render_html(callset, plotlyjs="cdn")


def _turn(page: str, call_index: int, turn: int) -> str:
    found = re.search(rf'<li id="c{call_index}t{turn}" class="[^"]+">(.*?)</li>', page)
    assert found, (call_index, turn)
    return found.group(1)


def test_every_tracker_hit_is_highlighted_in_its_turn(callset: CallSet, page: str) -> None:
    legend = {name: index for index, name in re.findall(r'<mark class="h(\d)">([^<]+)</mark>', page[:20000])}
    order = callset.call_ids
    assert len(callset.hits) > 0
    own = 0
    for hit in callset.hits.to_dict("records"):
        text = _turn(page, order.index(hit["call_id"]), int(hit["turn"]))
        marks = [
            (t, html.unescape(m).lower()) for t, m in re.findall(r'<mark class="h(\d)">([^<]+)</mark>', text)
        ]
        phrase = hit["phrase"].lower().strip(".,;:!?")
        # a phrase inside a longer overlapping hit ("budget" in "budget is tight") is shown by that one
        assert any(phrase in m or m in phrase for _, m in marks), (hit["phrase"], text)
        own += any(t == legend[hit["tracker"]] and (phrase in m or m in phrase) for t, m in marks)
    assert own >= 0.9 * len(callset.hits)


def test_planted_phrases_of_the_scripts_are_highlighted(callset: CallSet, page: str) -> None:
    # ground truth from the scripts that generated the calls: each planted phrase (e.g. "I am not
    # sure we can commit") holds a highlight of its tracker ("not sure") in its turn
    legend = {name: index for index, name in re.findall(r'<mark class="h(\d)">([^<]+)</mark>', page[:20000])}
    found = total = 0
    for index, truth in enumerate(truth_calls()):
        assert callset.call_ids[index] == truth["call_id"]
        for planted in truth["planted"]:  # type: ignore[attr-defined]
            total += 1
            text = _turn(page, index, planted["turn"])
            marks = re.findall(rf'<mark class="h{legend[planted["tracker"]]}">([^<]+)</mark>', text)
            found += any(html.unescape(m).lower() in planted["phrase"].lower() for m in marks)
    assert found / total >= 0.9, f"{found} of {total} planted phrases highlighted"


def test_a_call_record_is_a_one_call_report(callset: CallSet) -> None:
    record = callset.record(callset.call_ids[2])
    page = report.render_html(record, plotlyjs="cdn")
    assert page.count('<details class="call"') == 1
    assert '<details class="call" id="call-0" open>' in page
    assert (
        html.escape(str(record.metadata.get("title", record.call_id)), quote=True).replace("&#x27;", "&#39;")
        in page
    )
    assert page.count("<li id=") == len(record.turns)
    both = report.render_html([callset.record(callset.call_ids[0]), record], plotlyjs="cdn")
    assert both.count('<details class="call"') == 2


def test_cli_writes_the_report_of_a_saved_callset(tmp_path: Path, callset: CallSet) -> None:
    folder = callset.save(tmp_path / "saved")
    out = tmp_path / "out" / "calls.html"
    result = CliRunner().invoke(app, ["report", str(folder), "-o", str(out), "--cdn"])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output and "7 calls" in result.output
    page = out.read_text(encoding="utf-8")
    assert page.count('<details class="call"') == len(callset.calls)
    assert "data-plotly-src=" in page

    inline = tmp_path / "inline.html"
    assert CliRunner().invoke(app, ["report", str(folder), "-o", str(inline)]).exit_code == 0
    assert 'id="hk-plotly"' in inline.read_text(encoding="utf-8")

    # Writing over a report says so; embedded customer audio is said where the report was asked for.
    again = CliRunner().invoke(app, ["report", str(folder), "-o", str(out), "--cdn", "--audio", "none"])
    assert "replaced the file that was there" in again.output and "anyone with the file" not in again.output
    sample = CliRunner().invoke(
        app, ["report", "sample", "-o", str(tmp_path / "s.html"), "--audio", "moments"]
    )
    assert sample.exit_code == 0, sample.output
    assert "short clips" in sample.output and "anyone with the file can hear them" in sample.output
    # The CLI says the same size as the notice a reader of the page sees.
    notice = re.search(r"this file embeds .+? \(([\d.]+ MB)", (tmp_path / "s.html").read_text("utf-8"))
    assert notice is not None and f"({notice.group(1)} of audio)" in sample.output


def _flat(output: str) -> str:
    """CLI output without the rich error box's borders and line breaks."""
    return " ".join(output.replace("│", " ").split())


def test_cli_refuses_what_is_not_a_saved_callset(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(tmp_path / "nope"), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert "does not exist; expected a `hearkit batch --out` folder" in _flat(result.output)
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["report", str(tmp_path / "empty"), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert "holds no saved calls; expected a `hearkit batch --out` folder" in _flat(result.output)
    assert len(result.output.strip().splitlines()) == 1, "one line, no usage box or traceback"
    assert not (tmp_path / "r.html").exists()
