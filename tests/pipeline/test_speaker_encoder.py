"""The numpy port of Resemblyzer's speaker encoder against the original PyTorch model.

The reference values were recorded once from the original ``resemblyzer`` VoiceEncoder (torch,
float32 weights, librosa mel) by ``make_encoder_reference.py`` on excerpts of the real phone
call; the project itself never imports torch.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hearkit.engine.pipeline.decode import decode_audio
from hearkit.engine.pipeline.speaker_encoder import (
    SpeakerEncoder,
    _mel_filters,
    mel_spectrogram,
    normalize_volume,
)

REFERENCE = Path(__file__).resolve().parent / "data" / "encoder_reference.npz"
STEP = round(16_000 / 1.3 / 160)  # Resemblyzer's partial hop at its default rate of 1.3 per second


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(REFERENCE) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def call(realdata: Path) -> np.ndarray:
    return decode_audio(realdata / "pyannote_sample" / "sample.wav").samples[0]


def test_mel_front_end_matches_librosa(reference: dict[str, np.ndarray], call: np.ndarray) -> None:
    for i, (start, end) in enumerate(reference["excerpts"]):
        clip = normalize_volume(call[int(start * 16000) : int(end * 16000)])
        ours, theirs = mel_spectrogram(clip), reference[f"mel_{i}"]
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-4 * float(theirs.max()))


def test_embeddings_match_the_torch_original(reference: dict[str, np.ndarray], call: np.ndarray) -> None:
    encoder = SpeakerEncoder()
    for i, (start, end) in enumerate(reference["excerpts"]):
        clip = normalize_volume(call[int(start * 16000) : int(end * 16000)])
        mel = mel_spectrogram(clip)
        expected = reference[f"partials_{i}"]
        windows = np.zeros((len(expected), 160, 40), dtype=np.float32)
        for k in range(len(expected)):
            part = mel[k * STEP : k * STEP + 160]
            windows[k, : len(part)] = part
        ours = encoder.embed(windows)
        cosine = np.sum(ours * expected, axis=1)
        assert cosine.min() > 0.9995
        np.testing.assert_allclose(ours, expected, atol=3e-3)
        utterance = ours.mean(axis=0) / np.linalg.norm(ours.mean(axis=0))
        assert float(utterance @ reference[f"utterance_{i}"]) > 0.9995


def _peak_bytes(run: Callable[[], object]) -> int:
    """Peak bytes allocated (numpy arrays included) while ``run`` runs, above what was held before."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_encoder_memory_is_bounded_by_its_batch_not_by_the_number_of_windows(call: np.ndarray) -> None:
    """A long mono call gives thousands of windows: all at once held ~0.9 MB per window (2.6 GB
    extra on a 20 min call); batch by batch the peak is one batch's, whatever the count."""
    mel = mel_spectrogram(normalize_volume(call))
    windows = np.stack([mel[k * 25 : k * 25 + 160] for k in range(96)])
    encoder = SpeakerEncoder()
    few = _peak_bytes(lambda: encoder.embed(windows[:16], batch_size=16))
    many = _peak_bytes(lambda: encoder.embed(windows, batch_size=16))
    assert many < 1.5 * few, (few, many)
    # batching changes nothing: each window's embedding is its own
    np.testing.assert_allclose(
        encoder.embed(windows, batch_size=16), encoder.embed(windows, batch_size=96), atol=1e-5
    )


def test_mel_memory_is_bounded_by_its_block_not_by_the_length(call: np.ndarray) -> None:
    """The whole file's complex spectrum at once took ~50 bytes per sample (3 GB extra for an hour);
    block by block the extra is about 30 MB, and the result is the unblocked formula's."""
    wav = normalize_volume(np.tile(call, 16))  # 8 min of the real call
    out = mel_spectrogram(wav)
    extra = _peak_bytes(lambda: mel_spectrogram(wav)) - 2 * wav.nbytes - out.nbytes
    assert extra < 64 * 2**20, extra / 2**20
    padded = np.pad(wav[: 3 * 16000 * 60].astype(np.float32), 200)  # 3 min: across a block's edge
    frames = np.lib.stride_tricks.sliding_window_view(padded, 400)[::160]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400)).astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    whole = mel_spectrogram(wav[: 3 * 16000 * 60])
    np.testing.assert_allclose(whole, power.astype(np.float32) @ _mel_filters().T, rtol=1e-4, atol=1e-6)
