"""Figures of hearkit.charts checked against values computed here, independently, from the input
frames (plain loops over records, not pandas group-bys like the code under test)."""

from __future__ import annotations

import html
from collections import defaultdict

import pandas as pd
import plotly.graph_objects as go
import pytest

from hearkit import charts
from tests.report.frames import INJECTION, Frames


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return frame.to_dict("records")


def _trace(fig: go.Figure, name: str) -> dict[str, object]:
    matches = [t for t in fig.to_dict()["data"] if t.get("name") == name]
    assert len(matches) == 1, [t.get("name") for t in fig.to_dict()["data"]]
    return matches[0]


def test_talk_ratio_bars_are_each_roles_share_of_talk_time(sample: Frames) -> None:
    talk: dict[tuple[str, str], float] = defaultdict(float)
    total: dict[str, float] = defaultdict(float)
    for t in _records(sample.turns):
        talk[(t["call_id"], t["role"])] += t["end"] - t["start"]
        total[t["call_id"]] += t["end"] - t["start"]
    order = list(sample.calls["call_id"])

    fig = charts.talk_ratio(sample.turns, sample.calls)

    assert fig.layout.barmode == "stack"
    for role in ("rep", "customer"):
        trace = _trace(fig, role)
        assert list(trace["y"]) == order
        expected = [100 * talk[(c, role)] / total[c] for c in order]
        assert list(trace["x"]) == pytest.approx(expected, abs=0.01)
    # rep first, so the rep's share starts at 0 and can be read against the reference lines
    assert [t.name for t in fig.data][:2] == ["rep", "customer"]


def test_talk_ratio_draws_golden_ratio_line_and_warning_band(sample: Frames) -> None:
    shapes = charts.talk_ratio(sample.turns).to_dict()["layout"]["shapes"]
    lines = [s for s in shapes if s["type"] == "line"]
    bands = [s for s in shapes if s["type"] == "rect"]
    assert [(s["x0"], s["x1"]) for s in lines] == [(43.0, 43.0)]
    assert [(s["x0"], s["x1"]) for s in bands] == [(65.0, 100)]
    texts = [a["text"] for a in charts.talk_ratio(sample.turns).to_dict()["layout"]["annotations"]]
    assert any("43%" in t for t in texts) and any("65%" in t for t in texts)


def test_call_timeline_has_a_lane_per_speaker_with_its_turns(sample: Frames) -> None:
    call_id = "call_06_overtalk"
    own = [t for t in _records(sample.turns) if t["call_id"] == call_id]

    fig = charts.call_timeline(sample.turns, call_id, hits=sample.hits)

    for speaker in ("rep", "customer"):
        mine = sorted((t for t in own if t["speaker"] == speaker), key=lambda t: t["start"])
        trace = _trace(fig, speaker)  # speaker label equals the role in the sample truth: no "(role)" suffix
        assert trace["type"] == "bar" and trace["orientation"] == "h"
        assert list(trace["base"]) == pytest.approx([t["start"] for t in mine], abs=1e-3)
        assert list(trace["x"]) == pytest.approx([t["end"] - t["start"] for t in mine], abs=2e-3)
        assert len(trace["customdata"]) == len(mine)


def test_call_timeline_overtalk_and_silence_from_hand_built_turns(hostile: Frames) -> None:
    # evil: rep 0-5, customer 4.5-9, gap 9-12, rep 12-20, speaker_2 19-22 (call lasts 22 s)
    fig = charts.call_timeline(hostile.turns, "evil", duration_s=22.0, min_silence_s=2.0)
    overtalk = _trace(fig, "overtalk")
    assert (list(overtalk["base"]), list(overtalk["x"])) == ([4.5, 19.0], [0.5, 1.0])
    silence = _trace(fig, "silence")
    assert (list(silence["base"]), list(silence["x"])) == ([9.0], [3.0])

    # a longer threshold hides the 3 s gap; a trailing gap up to duration_s counts as silence
    fig = charts.call_timeline(hostile.turns, "evil", duration_s=30.0, min_silence_s=5.0)
    silence = _trace(fig, "silence")
    assert (list(silence["base"]), list(silence["x"])) == ([22.0], [8.0])


def test_call_timeline_marks_tracker_hits_on_the_speakers_lane(sample: Frames) -> None:
    call_id = "call_03_pricing"
    fig = charts.call_timeline(sample.turns, call_id, hits=sample.hits)
    for hit_tracker in {h["tracker"] for h in _records(sample.hits) if h["call_id"] == call_id}:
        mine = [h for h in _records(sample.hits) if h["call_id"] == call_id and h["tracker"] == hit_tracker]
        trace = _trace(fig, hit_tracker)
        assert trace["mode"] == "markers"
        assert list(trace["x"]) == pytest.approx([h["start"] for h in mine], abs=1e-3)
        assert list(trace["y"]) == [h["speaker"] for h in mine]


def test_keyword_timeline_places_hits_at_their_position_in_the_call(sample: Frames) -> None:
    duration = dict(zip(sample.calls["call_id"], sample.calls["duration_s"], strict=True))
    fig = charts.keyword_timeline(sample.hits)
    points = []
    for trace in fig.to_dict()["data"]:
        points += [(trace["name"], y, x) for x, y in zip(trace["x"], trace["y"], strict=True)]
    expected = [
        (h["role"], h["tracker"], 100 * h["start"] / duration[h["call_id"]]) for h in _records(sample.hits)
    ]
    assert [p[:2] for p in sorted(points)] == [e[:2] for e in sorted(expected)]
    assert [p[2] for p in sorted(points)] == pytest.approx([e[2] for e in sorted(expected)], abs=0.01)
    assert list(fig.layout.yaxis.categoryarray) == sorted({h["tracker"] for h in _records(sample.hits)})[::-1]


def test_keyword_timeline_of_one_call_and_chosen_trackers(sample: Frames) -> None:
    fig = charts.keyword_timeline(sample.hits, call_id="call_03_pricing", trackers=["pricing"])
    n = sum(
        1 for h in _records(sample.hits) if h["call_id"] == "call_03_pricing" and h["tracker"] == "pricing"
    )
    assert sum(len(t.x) for t in fig.data) == n
    assert {y for t in fig.data for y in t.y} == {"pricing"}


def test_pricing_mentions_counts_every_call_including_zero(sample: Frames) -> None:
    counts: dict[str, int] = defaultdict(int)
    for h in _records(sample.hits):
        if h["tracker"] == "pricing":
            counts[h["call_id"]] += 1
    quiet = pd.DataFrame({"call_id": ["call_99_no_pricing"], "duration_s": [60.0]})
    calls = pd.concat([sample.calls, quiet], ignore_index=True)
    order = list(calls["call_id"])

    fig = charts.pricing_mentions(sample.hits, calls)

    bars = _trace(fig, "mentions")
    assert list(bars["y"]) == order
    assert list(bars["x"]) == [counts[c] for c in order]
    positions = sorted(x for t in fig.data if t.type == "scatter" for x in t.x)
    duration = dict(zip(sample.calls["call_id"], sample.calls["duration_s"], strict=True))
    expected = sorted(
        100 * h["start"] / duration[h["call_id"]] for h in _records(sample.hits) if h["tracker"] == "pricing"
    )
    assert positions == pytest.approx(expected, abs=0.01)


def test_metric_distributions_show_every_call_and_highlight_the_selected_one(hostile: Frames) -> None:
    fig = charts.metric_distributions(
        hostile.calls, ["talk_ratio_rep", "longest_monologue_s"], selected="calm"
    )
    boxes = [t for t in fig.data if t.type == "box"]
    assert [list(b.x) for b in boxes] == [[0.62, 0.71], [8.0, 10.0]]
    marks = [t for t in fig.data if t.type == "scatter"]
    assert [list(m.x) for m in marks] == [[0.71], [10.0]]
    assert all(m.marker.symbol == "diamond" for m in marks)


def test_figures_use_the_theme_and_okabe_ito_colours(sample: Frames) -> None:
    allowed = {c.upper() for c in charts.OKABE_ITO} | {"#999999", "#BBBBBB"}
    figures = [
        charts.talk_ratio(sample.turns, sample.calls),
        charts.call_timeline(sample.turns, "call_06_overtalk", hits=sample.hits),
        charts.keyword_timeline(sample.hits),
        charts.pricing_mentions(sample.hits, sample.calls),
        charts.metric_distributions(sample.calls, ["duration_s"], selected="call_01_discovery"),
    ]
    for fig in figures:
        assert fig.layout.template.layout.colorway == charts.THEME.layout.colorway
        for trace in fig.data:
            color = trace.marker.color
            if isinstance(color, str):
                assert color.upper() in allowed, (fig.layout.title.text, trace.name, color)


def test_hover_text_from_transcripts_is_escaped(hostile: Frames) -> None:
    fig = charts.call_timeline(hostile.turns, "evil", hits=hostile.hits)
    dumped = fig.to_json()
    cells = [t.customdata for t in fig.data if t.customdata is not None]
    hover = [str(cell) for block in cells for row in block for cell in row]
    assert any(html.escape(INJECTION, quote=False) in h.replace("<br>", " ") for h in hover)
    assert not any("<script" in h or "<img" in h or "<b>speaker_2" in h for h in hover)
    assert "<" not in dumped  # plotly's JSON writes "<" as \u003c
    lanes = set(fig.layout.yaxis.categoryarray)
    assert "&lt;b&gt;speaker_2&lt;/b&gt; (customer)" in lanes


def test_charts_reject_frames_without_the_needed_columns(sample: Frames) -> None:
    with pytest.raises(ValueError, match=r"turns frame lacks column\(s\) \['end'\]"):
        charts.talk_ratio(sample.turns.drop(columns=["end"]))
    with pytest.raises(ValueError, match="no turns for call_id 'nope'"):
        charts.call_timeline(sample.turns, "nope")
    with pytest.raises(ValueError, match=r"hits frame lacks column"):
        charts.keyword_timeline(sample.hits.drop(columns=["position"]))
    with pytest.raises(ValueError, match=r"metric column\(s\) \['bogus'\]"):
        charts.metric_distributions(sample.calls, ["bogus"])
    with pytest.raises(ValueError, match="selected call 'nope'"):
        charts.metric_distributions(sample.calls, ["duration_s"], selected="nope")


def test_metric_distributions_label_every_column_in_words(sample: Frames) -> None:
    """A new-user trial's report of calls with no talk measured fell back to the columns that vary,
    and its chart titles read ``audio_seconds`` and ``n_speakers``."""
    calls = sample.calls.assign(audio_seconds=[60.0 * (i + 1) for i in range(len(sample.calls))])
    columns = ["audio_seconds", "n_speakers", "talk_s_other", "hits_pricing", "overtalk_count"]
    fig = charts.metric_distributions(calls, [c for c in columns if c in calls.columns])
    titles = [a.text for a in fig.layout.annotations]
    assert titles[:2] == ["audio length (s)", "speakers found"]
    assert all("_" not in title for title in titles), titles
