"""Fixtures of the pipeline tests: clips made here (PyAV encodes, espeak-ng speaks); real audio comes
from the ``realdata`` fixture of tests/conftest.py."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.schema import JobCreateParams, Result


def write_wav(path: Path, samples: np.ndarray, rate: int = 16_000) -> Path:
    """Write float samples shaped (n,) or (n, channels) as 16-bit PCM."""
    frames = samples if samples.ndim == 2 else samples[:, None]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(frames.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(frames, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def encode(source: Path, target: Path, codec: str, rate: int, channels: int) -> Path:
    """Re-encode ``source`` with PyAV into ``target`` (container from its suffix): ``codec`` at ``rate`` Hz
    with ``channels`` channels (mono is duplicated into stereo). The fixtures need no ffmpeg command."""
    layout = "stereo" if channels == 2 else "mono"
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)  # type: ignore[call-overload]
        accepted = {f.name for f in stream.codec_context.codec.audio_formats or ()}
        sample_format = next(f for f in ("fltp", "flt", "s16p", "s16", "s32p", "s32") if f in accepted)
        resampler = av.AudioResampler(format=sample_format, layout=layout, rate=rate)
        for frame in inp.decode(audio=0):
            for converted in resampler.resample(frame):
                out.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    return target


def espeak(path: Path, text: str, voice: str = "en-us") -> Path:
    """Speak ``text`` with espeak-ng into a 16 kHz mono wav (the script is the ground truth).

    espeak-ng is the one system program the tests need besides Chromium: no Python package speaks
    arbitrary text offline without a model download. Resampling is PyAV's (no sox)."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text], check=True)
    return encode(raw, path, "pcm_s16le", 16_000, 1)


@pytest.fixture(scope="session")
def transcriber() -> WhisperTranscriber:
    return WhisperTranscriber()


@pytest.fixture(scope="session")
def _diarized_phone_call_once(transcriber: WhisperTranscriber, realdata: Path) -> Result:
    return transcriber.transcribe(realdata / "pyannote_sample" / "sample.wav", JobCreateParams(diarize=True))


@pytest.fixture
def diarized_phone_call(_diarized_phone_call_once: Result) -> Result:
    """pyannote's two-person phone call (``pyannote_sample/sample.wav``) transcribed with ``diarize=True``
    by the code under test, once per worker process, for the tests that read that one result (four
    transcribed it again, about 2.7 CPU s each); every test gets its own copy."""
    return _diarized_phone_call_once.model_copy(deep=True)
