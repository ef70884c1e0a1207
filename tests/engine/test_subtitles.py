"""SRT/VTT rendering, checked by independent parsers (``srt``, ``webvtt-py``)."""

from __future__ import annotations

import io

import srt
import webvtt

from hearkit.engine.subtitles import render_srt, render_vtt
from hearkit.schema import Result, Segment

RESULT = Result(
    segments=[
        Segment(id=0, start=0.0, end=1.25, text="hello there", speaker="speaker_1"),
        Segment(
            id=1, start=1.5, end=2.0, text="price <b>&</b> terms\nsecond line", speaker="speaker_2", channel=1
        ),
        Segment(id=2, start=2.0, end=3.0, text="   "),
        Segment(id=3, start=3725.5, end=3726.75, text="late words", channel=0),
        Segment(id=4, start=4000.0, end=4001.0, text="no label"),
    ]
)


def test_srt_cues_parse_with_speaker_prefixes_and_times() -> None:
    cues = list(srt.parse(render_srt(RESULT)))
    assert [c.content for c in cues] == [
        "[speaker_1] hello there",
        "[speaker_2] price <b>&</b> terms second line",
        "[channel_0] late words",
        "no label",
    ]
    assert [c.index for c in cues] == [1, 2, 3, 4]
    assert cues[2].start.total_seconds() == 3725.5
    assert cues[2].end.total_seconds() == 3726.75


def test_vtt_parses_and_escapes_markup() -> None:
    text = render_vtt(RESULT)
    assert text.startswith("WEBVTT\n\n")
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in text
    captions = webvtt.from_buffer(io.StringIO(text)).captions
    assert [c.start for c in captions] == ["00:00:00.000", "00:00:01.500", "01:02:05.500", "01:06:40.000"]
    assert captions[0].text == "[speaker_1] hello there"


def test_empty_result_renders_empty_documents() -> None:
    assert render_srt(Result()) == ""
    assert webvtt.from_buffer(io.StringIO(render_vtt(Result()))).captions == []
