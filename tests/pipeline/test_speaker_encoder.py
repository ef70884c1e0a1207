"""The numpy port of Resemblyzer's speaker encoder against the original PyTorch model.

The reference values were recorded once from the original ``resemblyzer`` VoiceEncoder (torch,
float32 weights, librosa mel) by ``make_encoder_reference.py`` on excerpts of the real phone
call; the project itself never imports torch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hearkit.engine.pipeline.decode import decode_audio
from hearkit.engine.pipeline.speaker_encoder import SpeakerEncoder, mel_spectrogram, normalize_volume

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
