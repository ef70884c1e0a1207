"""One-off tool: convert Resemblyzer's weights and record reference embeddings from the original.

NOT part of the test run and not importable from the project: it needs PyTorch, librosa and
the ``resemblyzer`` wheel, which the project never installs. Run it in a throwaway venv::

    python -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch librosa
    pip download --no-deps resemblyzer -d /tmp/rz && unzip -o /tmp/rz/*.whl -d /tmp/rz/x
    /tmp/torchenv/bin/python tests/pipeline/make_encoder_reference.py /tmp/rz/x

It writes ``hearkit/engine/pipeline/assets/voice_encoder.npz`` (float16 LSTM + linear weights)
and ``tests/pipeline/data/encoder_reference.npz``: for a few excerpts of the real phone call
(pyannote_sample), librosa's mel spectrogram and the original torch model's partial and
utterance embeddings, which ``test_speaker_encoder.py`` compares with the numpy port.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / ".." / "shared" / "realdata" / "pyannote_sample" / "sample.wav"
EXCERPTS = [(0.0, 5.0), (12.0, 16.0), (20.5, 27.0)]


def main(wheel_dir: str) -> None:
    sys.path.insert(0, wheel_dir)
    sys.modules.setdefault("webrtcvad", types.ModuleType("webrtcvad"))  # only used by trimming
    import soundfile
    import torch
    from resemblyzer import VoiceEncoder, normalize_volume, wav_to_mel_spectrogram

    checkpoint = torch.load(Path(wheel_dir) / "resemblyzer" / "pretrained.pt", map_location="cpu")
    weights = {
        k: v.numpy().astype(np.float16)
        for k, v in checkpoint["model_state"].items()
        if k.startswith(("lstm.", "linear."))
    }
    np.savez_compressed(REPO / "hearkit" / "engine" / "pipeline" / "assets" / "voice_encoder.npz", **weights)

    encoder = VoiceEncoder(device="cpu", verbose=False)
    wav, rate = soundfile.read(str(SAMPLE), dtype="float32")
    assert rate == 16000
    out: dict[str, np.ndarray] = {"excerpts": np.array(EXCERPTS, dtype=np.float64)}
    for i, (start, end) in enumerate(EXCERPTS):
        clip = normalize_volume(wav[int(start * rate) : int(end * rate)], -30, increase_only=True)
        embed, partials, _ = encoder.embed_utterance(clip, return_partials=True)
        out[f"mel_{i}"] = wav_to_mel_spectrogram(clip)
        out[f"partials_{i}"] = partials
        out[f"utterance_{i}"] = embed
    np.savez_compressed(REPO / "tests" / "pipeline" / "data" / "encoder_reference.npz", **out)


if __name__ == "__main__":
    main(sys.argv[1])
