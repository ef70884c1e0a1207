"""The one audio probe: what a recording's header states, and the same refusals everywhere."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from hearkit.audio import NoAudioStreamError, UnreadableAudioError, probe_header
from tests.batch import audio


def test_header_of_a_stereo_wav_written_by_the_test(tmp_path: Path) -> None:
    path = audio.stereo(tmp_path / "call.wav", 2.5)
    stated = probe_header(path)
    assert (stated.channels, stated.sample_rate, stated.sample_format) == (2, audio.RATE, "s16")
    assert stated.seconds == pytest.approx(2.5, abs=1e-3)


def test_a_text_file_is_not_readable_audio(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio at all, just text" * 20)
    with pytest.raises(UnreadableAudioError, match="not a readable audio file"):
        probe_header(path)
    with pytest.raises(UnreadableAudioError):
        probe_header(tmp_path / "missing.wav")


def test_a_video_without_sound_has_no_audio_stream(tmp_path: Path) -> None:
    path = tmp_path / "silent.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for _ in range(5):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), dtype=np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(NoAudioStreamError, match="no audio stream"):
        probe_header(path)


def test_an_empty_file_says_it_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    path.write_bytes(b"")
    with pytest.raises(UnreadableAudioError, match=r"the audio file is empty \(0 bytes\)"):
        probe_header(path)
