"""A recording that cannot be the call is not cut for clips (U4 finding 23: a 20 s file given for a
60 s call embedded empty clips for every moment past 0:20 under "this file embeds 4 short clips").

Ground truth: the sample calls' lengths in sample_data/index.json (written by the script that made
the audio) and the 20 s cut this test writes with PyAV."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hearkit import report_audio
from hearkit.cli.main import app
from hearkit.record import CallSet, sample_dir

CALL = "call_01_discovery"


@pytest.fixture(scope="module")
def calls() -> CallSet:
    return CallSet.load_sample("truth")


@pytest.fixture(scope="module")
def lengths() -> dict[str, float]:
    index = json.loads((sample_dir() / "index.json").read_text())
    return {entry["call_id"]: float(entry["duration_s"]) for entry in index["calls"]}


@pytest.fixture(scope="module")
def short_cut(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 20 s of call 01's recording, as a 16 kHz mono WAV."""
    path = tmp_path_factory.mktemp("wrong") / "call.wav"
    with av.open(str(sample_dir() / f"{CALL}.stereo.ogg")) as source:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16_000)
        chunks = [
            f.to_ndarray().reshape(-1) for frame in source.decode(audio=0) for f in resampler.resample(frame)
        ]
    samples = np.concatenate(chunks)[: 20 * 16_000]
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=16_000, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 16_000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def _build(calls: CallSet, files: dict[str, Path]) -> report_audio.ReportAudio:
    return report_audio.build(calls.calls, calls.turns, calls.hits, mode="moments", audio_files=files)


def test_a_recording_shorter_than_the_call_gives_no_clip_and_is_named(
    calls: CallSet, lengths: dict[str, float], short_cut: Path
) -> None:
    assert lengths[CALL] > 150  # the script's call runs 2:39
    built = _build(calls, {CALL: short_cut})
    assert CALL not in built.clips and CALL in built.mismatched
    assert f"call.wav holds 20.0 s of audio but call '{CALL}' is {lengths[CALL]:.1f} s long" in built.notice
    assert len(built.clips) == len(lengths) - 1  # every other call still has its clips


def test_another_calls_recording_is_refused_and_the_right_one_kept(
    calls: CallSet, lengths: dict[str, float]
) -> None:
    other = sample_dir() / "call_02_demo.stereo.ogg"  # 2.2 s shorter than call 01
    assert abs(lengths["call_02_demo"] - lengths[CALL]) > 1.0
    wrong = _build(calls, {CALL: other})
    assert CALL in wrong.mismatched and CALL not in wrong.clips
    right = _build(calls, {CALL: sample_dir() / f"{CALL}.stereo.ogg"})
    assert right.mismatched == {} and right.clips and "No audio of" not in right.notice
    assert "not this call's recording" not in right.notice


def test_without_audio_seconds_a_file_ending_before_the_last_turn_is_refused(
    calls: CallSet, short_cut: Path
) -> None:
    frame = calls.calls.drop(columns=["audio_seconds"])
    last_turn = float(calls.turns.loc[calls.turns["call_id"] == CALL, "end"].max())
    frame.loc[frame["call_id"] == CALL, "duration_s"] = last_turn
    built = report_audio.build(frame, calls.turns, calls.hits, mode="moments", audio_files={CALL: short_cut})
    assert f"runs to {last_turn:.1f} s" in built.mismatched[CALL]


def test_play_with_the_wrong_recording_says_so(calls: CallSet, short_cut: Path) -> None:
    with pytest.raises(ValueError, match=r"holds 20\.0 s of audio"):
        calls.play(CALL, 45, audio=short_cut)
    with pytest.raises(ValueError, match=r"holds 20\.0 s of audio"):
        calls.record(CALL).play(10, audio=short_cut)  # even a time inside the file: it is not the call
    with pytest.raises(ValueError, match=r"t=45 s is past the end of call.wav \(20.0 s of audio\)"):
        report_audio.play(short_cut, 45)  # the bare player, which knows no call


def test_report_cli_names_the_wrong_recording(calls: CallSet, short_cut: Path, tmp_path: Path) -> None:
    def mine(frame: pd.DataFrame) -> pd.DataFrame:  # not a sample id, so its recording is audio_path
        return frame[frame["call_id"] == CALL].assign(call_id="my_call")

    saved = CallSet(
        calls=mine(calls.calls).assign(audio_path=str(short_cut)),
        turns=mine(calls.turns),
        words=mine(calls.words),
        hits=mine(calls.hits),
        speakers=mine(calls.speakers),
    )
    saved.save(tmp_path / "set")
    result = CliRunner().invoke(app, ["report", str(tmp_path / "set"), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert "note: call.wav holds 20.0 s of audio" in result.output
    assert "embeds" not in result.stdout  # no clip of the only call
    page = (tmp_path / "r.html").read_text()
    assert "not this call&#39;s recording" in page or "not this call's recording" in page


def test_dashboard_moments_say_the_recording_is_not_the_calls(calls: CallSet, short_cut: Path) -> None:
    from hearkit.dashboard_tabs import MomentsBox

    frame = calls.calls[calls.calls["call_id"] == CALL].assign(call_id="my_call", audio_path=str(short_cut))
    box = MomentsBox(frame)
    turns = calls.turns[calls.turns["call_id"] == CALL].assign(call_id="my_call")
    hits = calls.hits[calls.hits["call_id"] == CALL].assign(call_id="my_call")
    box.show("my_call", turns, hits)
    assert "call.wav holds 20.0 s of audio" in box.note.value
    box.picker.value = len(box.picker.options) - 1  # the last moment, past 0:20
    assert box.play() is None and box.player.children == ()
