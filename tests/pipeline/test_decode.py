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


@pytest.mark.parametrize(("suffix", "codec"), [("flac", "flac"), ("ogg", "libopus")])
def test_a_truncated_compressed_file_keeps_its_first_part_and_says_so(
    tmp_path: Path, realdata: Path, suffix: str, codec: str
) -> None:
    """A FLAC or Opus copy that stopped a third of the way ends in a partial packet FFmpeg refuses:
    the part before it is the recording (as for a truncated WAV or MP3), flagged, not a failed job."""
    source = realdata / "pyannote_sample" / "sample.wav"
    whole = encode(source, tmp_path / f"whole.{suffix}", codec, 16_000, 1)
    cut = tmp_path / f"cut.{suffix}"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    audio = decode_audio(cut)
    assert 5.0 < audio.duration < 20.0  # about a third of the 30 s recording
    assert audio.cut_short
    assert not decode_audio(whole).cut_short
    assert decode_audio(whole).duration == pytest.approx(30.0, abs=0.1)
    # the first part is the recording's own samples, not noise from the broken packet
    reference = decode_audio(whole).samples[0, : int(4 * SAMPLE_RATE)]
    assert np.corrcoef(reference, audio.samples[0, : len(reference)])[0, 1] > 0.99


def test_a_truncated_flac_is_transcribed_up_to_the_break_and_flagged(tmp_path: Path, realdata: Path) -> None:
    """The user's case: a FLAC copy that stopped gave a failed job telling them to send a FLAC."""
    from hearkit.engine.pipeline import WhisperTranscriber
    from hearkit.schema import JobCreateParams

    whole = encode(realdata / "pyannote_sample" / "sample.wav", tmp_path / "whole.flac", "flac", 16_000, 1)
    cut = tmp_path / "cut.flac"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    result = WhisperTranscriber().transcribe(cut, JobCreateParams())
    assert result.words and result.quality is not None
    (flag,) = [f for f in result.quality.flags if f.code == "cut_short"]
    assert "30 s" in flag.meaning  # FLAC's header states the whole recording's length
    assert result.quality.trust != "high"


def test_a_damaged_file_with_less_than_a_second_readable_is_refused(tmp_path: Path, realdata: Path) -> None:
    whole = encode(realdata / "pyannote_sample" / "sample.wav", tmp_path / "whole.flac", "flac", 16_000, 1)
    cut = tmp_path / "cut.flac"
    cut.write_bytes(whole.read_bytes()[:9_000])  # header and a fraction of a second
    try:
        audio = decode_audio(cut)
    except AudioError as error:
        assert "flac" in str(error)
    else:  # whatever decodes before the break is kept only when it is at least a second
        assert audio.duration >= 1.0 and audio.cut_short


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
