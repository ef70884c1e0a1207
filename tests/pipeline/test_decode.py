"""Decoding through PyAV: formats, rates and channel layouts in; 16 kHz float out; clear errors."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from hearkit.engine.pipeline.decode import SAMPLE_RATE, decode_audio
from hearkit.engine.transcriber import AudioError
from tests.pipeline.conftest import encode, write_wav


@pytest.mark.parametrize(
    ("suffix", "codec", "rate", "channels"),
    [
        ("mp3", "libmp3lame", 44_100, 1),
        ("m4a", "aac", 48_000, 2),
        ("ogg", "libopus", 48_000, 2),
        ("flac", "flac", 22_050, 1),
        ("wav", "pcm_s16le", 8_000, 1),
    ],
)
def test_formats_and_rates_decode_to_16k(
    tmp_path: Path, realdata: Path, suffix: str, codec: str, rate: int, channels: int
) -> None:
    target = encode(realdata / "whisper_jfk" / "jfk.flac", tmp_path / f"jfk.{suffix}", codec, rate, channels)
    with av.open(str(target)) as written:  # the fixture really is what the test says
        stream = written.streams.audio[0]
        assert stream.codec_context.codec.id == av.codec.Codec(codec, "w").id
        assert (stream.rate, stream.channels) == (rate, channels)
    audio = decode_audio(target)
    assert audio.channels == channels
    assert audio.samples.dtype == np.float32
    assert audio.duration == pytest.approx(11.0, abs=0.06)  # mp3/aac add a few ms of priming
    assert 0.1 < float(np.abs(audio.samples).max()) <= 1.0


def test_stereo_source_keeps_both_channels(realdata: Path) -> None:
    audio = decode_audio(realdata / "faster_whisper" / "stereo_diarization.wav")
    assert audio.samples.shape == (2, 5 * SAMPLE_RATE)
    assert audio.source_rate == 16_000 and audio.source_channels == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "could not be decoded"),
        (b"this is not audio at all, just text" * 20, "could not be decoded"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + bytes(200), "could not be decoded"),
    ],
)
def test_undecodable_files_raise_audio_error(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    with pytest.raises(AudioError, match=message) as info:
        decode_audio(bad)
    assert "wav, mp3, m4a, flac or ogg/opus" in str(info.value)


def test_truncated_real_file_is_cut_cleanly_or_rejected(tmp_path: Path, realdata: Path) -> None:
    data = (realdata / "pyannote_sample" / "sample.wav").read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 3])
    audio = decode_audio(cut)  # WAV truncated mid-stream: what is there decodes
    assert audio.duration == pytest.approx(10.0, abs=0.1)
    # ... and says it is cut short: its header still states the whole recording's 30 s
    assert audio.cut_short and audio.stated_seconds == pytest.approx(30.0, abs=0.1)
    assert not decode_audio(realdata / "pyannote_sample" / "sample.wav").cut_short


def test_a_cut_off_file_is_flagged_in_the_result(tmp_path: Path) -> None:
    """A 12 s WAV whose last 9 s never arrived: the result says so, in every metric's trust."""
    from hearkit.engine.pipeline import WhisperTranscriber
    from hearkit.schema import JobCreateParams

    whole = write_wav(tmp_path / "whole.wav", 0.1 * np.sin(np.arange(12 * SAMPLE_RATE) / 8.0))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[: 44 + 3 * SAMPLE_RATE * 2])
    result = WhisperTranscriber().transcribe(cut, JobCreateParams())
    assert result.quality is not None and result.quality.trust == "medium"
    (flag,) = [f for f in result.quality.flags if f.code == "cut_short"]
    assert "12 s" in flag.meaning and "3.0 s" in flag.meaning
    intact = WhisperTranscriber().transcribe(whole, JobCreateParams())
    assert intact.quality is not None and "cut_short" not in {f.code for f in intact.quality.flags}


def test_missing_file_and_zero_samples(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="not found"):
        decode_audio(tmp_path / "nope.wav")
    empty = write_wav(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32))
    with pytest.raises(AudioError):
        decode_audio(empty)
