"""Tiny recordings written by the tests themselves: the generator is the ground truth.

Each file is 16-bit PCM WAV written with the standard library from numpy tones, so its
duration, channel count and layout (true stereo, identical channels, one silent channel) are
known exactly without asking the code under test.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 8000


def tone(seconds: float, freq: float, *, amplitude: float = 0.3, rate: int = RATE) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t)


def write_wav(path: Path, channels: list[np.ndarray], *, rate: int = RATE) -> Path:
    """Write the channels (float arrays in −1..1, same length) as 16-bit PCM."""
    data = np.stack(channels, axis=1)
    pcm = np.clip(data * 32767, -32768, 32767).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(len(channels))
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm.tobytes())
    return path


def stereo(path: Path, seconds: float, *, seed: int = 0) -> Path:
    """Two parties: different tones on channel 0 and channel 1."""
    return write_wav(path, [tone(seconds, 300 + seed % 50), tone(seconds, 700 + seed % 70)])


def mono(path: Path, seconds: float, *, seed: int = 0) -> Path:
    return write_wav(path, [tone(seconds, 400 + seed % 100)])


def dual_mono(path: Path, seconds: float) -> Path:
    """One signal copied to both channels: stereo container, mono content."""
    signal = tone(seconds, 440)
    return write_wav(path, [signal, signal.copy()])


def one_silent(path: Path, seconds: float) -> Path:
    """Speech-like tone on channel 0, digital silence on channel 1."""
    return write_wav(path, [tone(seconds, 440), np.zeros(round(seconds * RATE))])


def many_mono(folder: Path, n: int, *, seconds: float = 0.5) -> list[Path]:
    """``n`` distinct short mono files (distinct content: the frequency varies with the index)."""
    paths = []
    for i in range(n):
        signal = tone(seconds, 200 + i * 0.37)
        paths.append(write_wav(folder / f"call_{i:05d}.wav", [signal]))
    return paths
