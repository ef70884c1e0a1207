"""The HTML report as text: structure, escaping, embedded JSON, plotly.js once, CSP, size, bad input."""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.offline
import pytest

from hearkit import report
from tests.report.frames import ATTRIBUTE_INJECTION, IMG_INJECTION, INJECTION, Frames

PLOTLY_BANNER = f"plotly.js v{plotly.offline.get_plotlyjs_version()}"
SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.DOTALL)


@pytest.fixture(scope="module")
def hostile_html(hostile: Frames) -> str:
    return report.render_html(hostile)


@pytest.fixture(scope="module")
def sample_html(sample: Frames) -> str:
    return report.render_html(sample, plotlyjs="cdn")


def _unpack(page: str, block: str) -> str:
    """A packed block of the page, unpacked here with gzip and base64."""
    pattern = rf'<script type="application/gzip\+base64" id="{block}">([A-Za-z0-9+/=]+)</script>'
    found = re.search(pattern, page)
    assert found, f"no {block} block"
    return gzip.decompress(base64.b64decode(found.group(1))).decode("utf-8")


def _figures(page: str) -> dict[str, Any]:
    return dict(json.loads(_unpack(page, "hk-figures")))


def test_transcript_markup_renders_as_text(hostile_html: str) -> None:
    for raw in (INJECTION, IMG_INJECTION, "<h1>fake heading</h1>", "<b>speaker_2</b>", "</details></ol>"):
        assert raw not in hostile_html
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in hostile_html
    assert "&lt;img src=x onerror=&#34;window.__pwned = 3&#34;&gt;" in hostile_html
    # the attribute injection (in a turn and as a rep name) never closes an attribute
    assert ATTRIBUTE_INJECTION not in hostile_html
    outside_scripts = SCRIPT.sub("", hostile_html)  # plotly.js itself mentions onmouseover
    assert 'onmouseover="' not in outside_scripts and "onerror=" not in outside_scripts.replace(
        "onerror=&#34;", ""
    )
    assert "&#34; onmouseover=&#34;window.__pwned = 2&#34; x=&#34;" in hostile_html


def test_every_script_block_is_ours(hostile_html: str) -> None:
    blocks = list(SCRIPT.finditer(hostile_html))
    packed = [b for b in blocks if 'type="application/gzip+base64"' in b.group("attrs")]
    code = [b for b in blocks if "type=" not in b.group("attrs")]
    assert len(blocks) == 3 and len(packed) == 2 and len(code) == 1  # plotly.js, figures; the loader
    assert all(re.fullmatch(r"[A-Za-z0-9+/=]+", b.group("body")) for b in packed)
    assert "__pwned" not in code[0].group("body")


def test_figure_store_holds_every_chart_and_escaped_text(hostile: Frames, hostile_html: str) -> None:
    figures = _figures(hostile_html)
    charts = re.findall(
        r'<div class="chart" id="([^"]+)" data-figure="([^"]+)"(?: data-overlay="([^"]+)")?', hostile_html
    )
    assert len(charts) == 4 + 2 * 2  # across calls; per call: timeline + metrics among all calls
    assert {f for _, f, _ in charts} | {o for _, _, o in charts if o} == set(figures)
    # the transcript text survives the JSON round trip, escaped for plotly's pseudo-HTML
    timeline = next(
        f for f in figures.values() if f["layout"].get("title", {}).get("text") == "Call timeline"
    )
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in json.dumps(timeline["data"])
    # per-call metrics: the across-calls figure with the call's markers laid over it
    overlays = [(f, o) for _, f, o in charts if o]
    assert len(overlays) == 2 and len({f for f, _ in overlays}) == 1
    assert [[m["x"] for m in figures[o]["data"]] for _, o in overlays] == [[[0.62], [8.0]], [[0.71], [10.0]]]
    assert [m.get("xaxis", "x") for m in figures[overlays[0][1]]["data"]] == ["x", "x2"]
    assert len(figures[overlays[0][0]]["data"]) == 2  # one box per metric
    assert set(report.figures(hostile)) == {c for c, _, _ in charts}


def test_plotly_json_escapes_markup(hostile: Frames) -> None:
    for fig in report.figures(hostile).values():
        assert "<" not in fig.to_json()


def test_plotlyjs_is_embedded_once_inline_and_not_at_all_with_cdn(hostile: Frames, hostile_html: str) -> None:
    assert hostile_html.count('id="hk-plotly"') == 1
    assert _unpack(hostile_html, "hk-plotly") == plotly.offline.get_plotlyjs()
    assert PLOTLY_BANNER in _unpack(hostile_html, "hk-plotly")
    cdn = report.render_html(hostile, plotlyjs="cdn")
    assert 'id="hk-plotly"' not in cdn
    url = f"https://cdn.plot.ly/plotly-{plotly.offline.get_plotlyjs_version()}.min.js"
    digest = base64.b64encode(hashlib.sha384(plotly.offline.get_plotlyjs().encode()).digest()).decode()
    assert f'<body data-plotly-src="{url}" data-plotly-integrity="sha384-{digest}">' in cdn
    assert len(cdn) < 100_000
    # plotly.js gzipped and base64-encoded: about 2 MB instead of 4.8 MB
    assert len(hostile_html) < len(plotly.offline.get_plotlyjs()) / 2 + 100_000


def test_content_security_policy_runs_only_the_loader(hostile_html: str) -> None:
    found = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', hostile_html)
    assert found
    csp = html.unescape(found.group(1))
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src")).split()[1:]
    code = [b.group("body") for b in SCRIPT.finditer(hostile_html) if "type=" not in b.group("attrs")]
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(c.encode()).digest()).decode() + "'" for c in code}
    assert set(script_src) == hashes | {"'strict-dynamic'"}
    assert "'unsafe-inline'" not in script_src and "default-src 'none'" in csp


def test_tracker_phrases_are_highlighted_in_the_transcript(sample: Frames, sample_html: str) -> None:
    legend = re.findall(r"Trackers: (.*?)</span>", sample_html)[0]
    names = dict(re.findall(r'<mark class="h(\d)">([^<]+)</mark>', legend))
    assert sorted(names.values()) == sorted(set(sample.hits["tracker"]))
    transcripts = "".join(re.findall(r'<ol class="transcript">(.*?)</ol>', sample_html, re.DOTALL))
    marks = re.findall(r'<mark class="h(\d)">([^<]+)</mark>', transcripts)
    found = {(names[t], html.unescape(p).lower()) for t, p in marks}
    planted = {(h["tracker"], h["phrase"].lower()) for h in sample.hits.to_dict("records")}
    assert planted <= found, planted - found


def test_one_collapsible_section_per_call_with_its_transcript(sample: Frames, sample_html: str) -> None:
    sections = re.findall(r'<details class="call" id="(call-\d+)">', sample_html)
    assert len(sections) == len(sample.calls)
    turn_ids = re.findall(r'<li id="(c\d+t\d+)" class="r-(rep|customer)">', sample_html)
    assert len(turn_ids) == len(sample.turns)
    first = sample.turns.iloc[0]
    assert f"<b>{sample.calls.iloc[0]['rep']} (rep)</b>" in sample_html
    assert first["text"].replace("'", "&#39;") in sample_html


def test_summary_citations_link_to_the_cited_turns(sample: Frames, sample_html: str) -> None:
    links = re.findall(r'<a class="cite" href="#(c\d+t\d+)"', sample_html)
    expected = sum(len(i.citations) for s in sample.summaries.values() for i in s.next_steps)
    assert len(links) == expected > 0
    for link in links:
        assert f'<li id="{link}"' in sample_html
    first = next(iter(sample.summaries.values())).next_steps[0]
    assert first.text.replace("'", "&#39;") in sample_html


def test_overview_table_flags_talkative_reps(hostile_html: str) -> None:
    # rep shares from hand-built turns: evil 13/(13+4.5+3)=63.4% (no flag), calm 10/14=71.4% (flag)
    rows = re.findall(r"<tr>(.*?)</tr>", hostile_html, re.DOTALL)[1:]
    assert 'class="num">63.4%</td>' in rows[0]
    assert 'class="num warn">71.4%</td>' in rows[1]


def test_one_call_report_opens_its_section(hostile: Frames) -> None:
    one = Frames(
        calls=hostile.calls[hostile.calls["call_id"] == "calm"],
        turns=hostile.turns[hostile.turns["call_id"] == "calm"],
        hits=hostile.hits[hostile.hits["call_id"] == "calm"],
    )
    page = report.render_html(one, plotlyjs="cdn")
    assert '<details class="call" id="call-0" open>' in page
    assert page.count('<details class="call"') == 1


def test_write_html_writes_the_file(tmp_path: Path, hostile: Frames) -> None:
    path = report.write_html(hostile, tmp_path / "out" / "r.html", plotlyjs="cdn")
    assert path.read_text(encoding="utf-8") == report.render_html(hostile, plotlyjs="cdn")


def test_list_of_call_sets_is_one_report(hostile: Frames, sample: Frames) -> None:
    page = report.render_html([hostile, sample], plotlyjs="cdn")
    assert page.count('<details class="call"') == len(hostile.calls) + len(sample.calls)


def test_bad_input_is_refused_with_a_clear_message(tmp_path: Path, hostile: Frames) -> None:
    with pytest.raises(ValueError, match="no calls to report"):
        report.render_html([])
    with pytest.raises(TypeError, match=r"CallSet.load\(path\)"):
        report.render_html("calls/")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cannot report on a int"):
        report.render_html(42)
    with pytest.raises(ValueError, match=r"call_id\(s\) appear twice: \['calm', 'evil'\]"):
        report.render_html([hostile, hostile])
    with pytest.raises(ValueError, match="plotlyjs must be 'inline' or 'cdn'"):
        report.render_html(hostile, plotlyjs="directory")  # type: ignore[arg-type]
    with pytest.raises(IsADirectoryError, match="give a file name"):
        report.write_html(hostile, tmp_path)
    broken = Frames(calls=hostile.calls, turns=hostile.turns.drop(columns=["text"]), hits=hostile.hits)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['text'\]"):
        report.render_html(broken)


def test_calls_without_hits_or_turns_still_report(hostile: Frames) -> None:
    calls = pd.concat([hostile.calls, pd.DataFrame({"call_id": ["silent"], "duration_s": [30.0]})])
    quiet = Frames(calls=calls, turns=hostile.turns, hits=hostile.hits.iloc[0:0])
    page = report.render_html(quiet, plotlyjs="cdn")
    assert page.count('<details class="call"') == 3
    assert "<mark" not in page
    charts = re.findall(r'<div class="chart" id="([^"]+)"', page)
    # talk ratio + distributions across calls; timeline + metrics for the two calls with turns,
    # metrics only for the silent one
    assert len(charts) == 2 + 2 + 2 + 1
    assert re.search(r'<td class="num">n/a</td>', page)  # no talk: no rep share, not 0%


def test_overview_greys_a_rep_talk_its_quality_block_calls_unreliable(hostile: Frames) -> None:
    """A call whose talk ratio is flagged shows its trust and a greyed rep talk with the reason,
    not the coaching warning (the call's own section greys it too)."""
    from hearkit.schema import Quality, QualityFlag

    flagged = Quality(
        trust="medium",
        flags=[
            QualityFlag(
                code="unattributed_speech",
                meaning="24% of the detected voice is in no segment",
                severity="warning",
                affects=["talk_ratio"],
            )
        ],
    )
    calls = hostile.calls.copy()
    calls["quality"] = [None, flagged.model_dump_json()]
    page = report.render_html(Frames(calls=calls, turns=hostile.turns, hits=hostile.hits), plotlyjs="cdn")
    header, evil, calm = re.findall(r"<tr>(.*?)</tr>", page, re.DOTALL)[:3]
    assert "<th" in header and ">trust</th>" in header
    assert ">not measured</td>" in evil and 'class="num">63.4%</td>' in evil
    assert ">medium</td>" in calm
    assert 'class="num unreliable" title="unreliable: unattributed_speech: 24% of the detected' in calm
    assert "warn" not in calm  # 71.4% would be flagged above the coaching line if it were trusted
