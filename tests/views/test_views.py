"""The call view shared by the report and the dashboard: both show the same marks and clocks."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from hearkit import report, views
from hearkit.dashboard import (
    FilterState,
    apply_filters,
    build_index,
    calls_table_html,
    dashboard,
    highlight_transcript_html,
)
from hearkit.frames import HIT_COLUMNS, TURN_COLUMNS
from hearkit.record import CallSet
from tests.report.frames import Frames

_REPORT_MARK = re.compile(r'<mark class="h(\d+)">([^<]*)</mark>')
_DASHBOARD_MARK = re.compile(r'<mark title="([^"]*)">([^<]*)</mark>')


def report_marks(page: str, index: int) -> list[list[tuple[str, str]]]:
    """(tracker, marked text) per transcript line of the report's ``index``-th call."""
    legend_html = page[page.index('class="legend') :]
    legend = {
        n: html.unescape(name) for n, name in _REPORT_MARK.findall(legend_html[: legend_html.index("</p>")])
    }
    section = page[page.index(f'id="call-{index}"') :]
    section = section[section.index('<ol class="transcript">') : section.index("</ol>")]
    lines = re.findall(r"<li id=[^>]*>(.*?)</li>", section, flags=re.DOTALL)
    return [[(legend[n], html.unescape(t)) for n, t in _REPORT_MARK.findall(line)] for line in lines]


def dashboard_marks(transcript: str) -> list[list[tuple[str, str]]]:
    """(tracker, marked text) per transcript line of the dashboard's call view."""
    lines = re.findall(r'<p class="hearkit-turn">(.*?)</p>', transcript, flags=re.DOTALL)
    return [
        [(html.unescape(k), html.unescape(t)) for k, t in _DASHBOARD_MARK.findall(line)] for line in lines
    ]


@pytest.mark.parametrize("source", ["stereo", "mono"])
def test_report_and_dashboard_mark_the_same_words_on_each_sample_call(source: str) -> None:
    calls = CallSet.load_sample(source=source)  # type: ignore[arg-type]
    page = report.render_html(calls, plotlyjs="cdn")
    board = dashboard(calls)
    total = 0
    for index, call_id in enumerate(calls.calls["call_id"].astype(str)):
        board.call_picker.value = call_id
        in_report = report_marks(page, index)
        in_dashboard = dashboard_marks(board.transcript.value)
        assert len(in_report) == len(in_dashboard) == int((calls.turns["call_id"] == call_id).sum())
        assert in_report == in_dashboard, call_id
        total += sum(map(len, in_report))
    # every hit of the trackers is shown (a phrase may be marked once for two hits of one turn)
    assert total >= calls.hits["turn"].groupby([calls.hits["call_id"], calls.hits["turn"]]).ngroups
    assert total > 0


def frames_with_one_price_hit() -> Frames:
    """Two turns say "price"; the tracker hit is the customer's, in turn 1 only."""
    turns = pd.DataFrame(
        [
            ("c1", 0, "speaker_0", 0, "rep", "explicit", 0.0, 4.0, 4.0, "The price is fine.", 4),
            ("c1", 1, "speaker_1", 1, "customer", "explicit", 4.5, 7.0, 2.5, "What price? Price, really?", 4),
        ],
        columns=list(TURN_COLUMNS),
    )
    hits = pd.DataFrame(
        [("c1", "pricing", "price?", "speaker_1", "customer", 5.0, 5.4, 0.7, "What price?", 1, "words")],
        columns=list(HIT_COLUMNS),
    )
    calls = pd.DataFrame({"call_id": ["c1"], "title": ["one hit"], "duration_s": [3600.0]})
    return Frames(calls=calls, turns=turns, hits=hits)


def test_a_phrase_is_marked_in_the_hits_turn_only_in_both_views() -> None:
    frames = frames_with_one_price_hit()
    expected = [[], [("pricing", "price"), ("pricing", "Price")]]
    assert report_marks(report.render_html(frames, plotlyjs="cdn"), 0) == expected
    assert dashboard_marks(highlight_transcript_html(frames.turns, frames.hits)) == expected
    board = dashboard(frames)
    assert dashboard_marks(board.transcript.value) == expected


def test_a_hit_without_turn_belongs_to_its_speakers_turn_around_its_start() -> None:
    frames = frames_with_one_price_hit()
    hits = frames.hits.drop(columns="turn")
    assert dashboard_marks(highlight_transcript_html(frames.turns, hits)) == [
        [],
        [("pricing", "price"), ("pricing", "Price")],
    ]
    # said by the rep at 1 s: the rep's turn 0
    hits = hits.assign(speaker="speaker_0", start=1.0)
    assert dashboard_marks(highlight_transcript_html(frames.turns, hits)) == [[("pricing", "price")], []]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0:00"),
        (59.9, "0:59"),
        (61.0, "1:01"),
        (3599.0, "59:59"),
        (3600.0, "1:00:00"),
        (3725.4, "1:02:05"),
        (float("nan"), "–"),
    ],
)
def test_clock(seconds: float, text: str) -> None:
    assert views.clock(seconds) == text


def test_an_hour_long_call_reads_the_same_in_report_and_dashboard() -> None:
    frames = frames_with_one_price_hit()
    index = build_index(frames)
    table = calls_table_html(index, apply_filters(index, FilterState()))
    assert "<td>1:00:00</td>" in table
    assert "60:00" not in table
    page = report.render_html(frames, plotlyjs="cdn")
    assert '<td class="num">1:00:00</td>' in page
