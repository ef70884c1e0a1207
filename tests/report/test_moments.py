"""Moments worth hearing and their clips: counts against the metrics' own definitions, clips
against the recording they were cut from, and the notebook / dashboard players."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest

from hearkit import clips, report_audio
from hearkit.moments import moments, spans
from hearkit.record import CallSet, sample_dir


@pytest.fixture(scope="module")
def calls() -> CallSet:
    return CallSet.load_sample("truth")


def test_interruptions_are_the_ones_the_scorecard_counts(calls: CallSet) -> None:
    found = moments(calls.turns, calls.hits)
    per_call = found[found["kind"] == "interruption"].groupby("call_id").size()
    expected = calls.calls.set_index("call_id")["interruptions_total"]
    assert {c: int(per_call.get(c, 0)) for c in expected.index} == {c: int(v) for c, v in expected.items()}
    assert (
        found[found["kind"] == "hit"].groupby("call_id").size() == calls.hits.groupby("call_id").size()
    ).all()
    longest = calls.calls.set_index("call_id")["longest_monologue_s"]
    monologues = found[found["kind"] == "monologue"]
    assert set(monologues["call_id"]) <= set(longest[longest >= 30].index)
    assert (found["clip_start"] <= found["at"]).all() and (found["clip_end"] > found["at"]).all()


def test_spans_never_embed_a_second_twice(calls: CallSet) -> None:
    cut = spans(moments(calls.turns, calls.hits))
    for _, group in cut.groupby("call_id"):
        ordered = group.sort_values("start")
        assert (ordered["start"].to_numpy()[1:] > ordered["end"].to_numpy()[:-1]).all()


def _decode_bytes(data: bytes) -> np.ndarray:  # type: ignore[type-arg]
    with av.open(io.BytesIO(data)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=clips.SAMPLE_RATE)
        chunks = [
            f.to_ndarray().reshape(-1)
            for frame in container.decode(audio=0)
            for f in resampler.resample(frame)
        ]
    return np.concatenate(chunks)


def test_a_clip_is_that_stretch_of_the_recording(calls: CallSet) -> None:
    path = clips.audio_files(calls.calls)["call_03_pricing"]
    hit = calls.hits[calls.hits["call_id"] == "call_03_pricing"].iloc[0]
    start, end = float(hit["start"]) - 1.0, float(hit["end"]) + 2.0
    (data,) = clips.encode_spans(path, [(start, end)])
    assert data[:4] == b"OggS" and len(data) < 2_500 * (end - start)  # Opus at a speech bitrate
    heard = _decode_bytes(data)
    assert abs(len(heard) / clips.SAMPLE_RATE - (end - start)) < 0.1
    # the same audio as the recording there (PyAV decode of the source), through a lossy codec:
    # the clip's loudness envelope follows the source's (correlation of 50 ms RMS frames)
    source = clips.decode(path)[int(start * clips.SAMPLE_RATE) : int(end * clips.SAMPLE_RATE)]
    n = min(len(source), len(heard)) // 800 * 800
    rms = [np.sqrt(np.mean(x[:n].reshape(-1, 800) ** 2, axis=1)) for x in (source, heard)]
    assert np.corrcoef(rms[0], rms[1])[0, 1] > 0.8


def test_bad_audio_and_kinds_say_what_to_do(calls: CallSet, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown moment kinds"):
        moments(calls.turns, calls.hits, kinds=["laughter"])
    not_audio = tmp_path / "call.wav"
    not_audio.write_text("this is not audio")
    with pytest.raises(ValueError, match="cannot read audio"):
        clips.encode_spans(not_audio, [(0.0, 1.0)])
    with pytest.raises(FileNotFoundError, match="no recording at"):
        clips.audio_files(calls.calls, {"call_01_discovery": tmp_path / "missing.ogg"})
    record = calls.record("call_01_discovery")
    with pytest.raises(FileNotFoundError, match="no recording of"):
        record.model_copy(update={"call_id": "not_a_sample"}).play(3.0)


def test_a_report_with_no_moment_to_cut_says_none_is_embedded(calls: CallSet) -> None:
    """A new-user trial's report of calls without turns read "embeds 0 short clips … of 0 calls"."""
    one = calls.calls[calls.calls["call_id"] == "call_01_discovery"]
    recording = {"call_01_discovery": sample_dir() / "call_01_discovery.stereo.ogg"}
    built = report_audio.build(
        one, calls.turns.iloc[:0], calls.hits.iloc[:0], mode="moments", audio_files=recording
    )
    assert built.clips == {} and built.what == "" and built.audio_bytes == 0
    assert built.notice == "Audio: none embedded in this file."


def test_notebook_and_dashboard_play_the_same_moments(calls: CallSet) -> None:
    import ipywidgets

    widget = calls.record("call_03_pricing").play(20.0)
    assert isinstance(widget, ipywidgets.Audio) and widget.format == "ogg"
    assert abs(len(_decode_bytes(widget.value)) / clips.SAMPLE_RATE - 10.0) < 0.1
    assert len(calls.moments()) == len(moments(calls.turns, calls.hits))

    from hearkit.dashboard import dashboard

    board = dashboard(calls)
    call = board.selected_call
    assert call is not None
    expected = moments(board.turns_of([call]), board.hits_of(call))
    assert len(board.moments.picker.options) == len(expected) > 0
    board.moments.picker.value = 0
    (audio,) = board.moments.player.children
    assert isinstance(audio, ipywidgets.Audio) and audio.value[:4] == b"OggS"
    assert board.compare.metric.value == "talk_ratio_rep"
    (drawn,) = board.compare.chart.outputs
    assert "application/vnd.plotly.v1+json" in drawn["data"]
    assert "not enough calls to say" in board.compare.readings.value  # 7 sample calls: 1-6 a rep
    board.compare.by.value = "kind"
    assert board.compare.chart.outputs[0]["data"]["text/plain"] == "<plotly figure: talk_ratio_rep by kind>"


def test_a_few_short_clips_are_counted_in_kilobytes_not_as_zero_megabytes() -> None:
    """A new-user check: 4 clips of 56 KB read "0.0 MB of Opus audio", as if none were embedded."""
    from hearkit.report_audio import audio_size

    assert audio_size(56_000) == "56 KB"
    assert audio_size(1_340_000) == "1.3 MB"
