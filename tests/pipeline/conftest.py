"""Fixtures of the pipeline tests: real audio read in place from ../shared/realdata, clips made here."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from hearkit.engine.pipeline import WhisperTranscriber

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata"


def write_wav(path: Path, samples: np.ndarray, rate: int = 16_000) -> Path:
    """Write float samples shaped (n,) or (n, channels) as 16-bit PCM."""
    frames = samples if samples.ndim == 2 else samples[:, None]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(frames.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(frames, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def espeak(path: Path, text: str, voice: str = "en-us") -> Path:
    """Speak ``text`` with espeak-ng into a 16 kHz mono wav (the script is the ground truth)."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", str(path)], check=True)
    return path


@pytest.fixture(scope="session")
def transcriber() -> WhisperTranscriber:
    return WhisperTranscriber()
