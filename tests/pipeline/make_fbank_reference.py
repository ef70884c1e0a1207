"""Record the Kaldi fbank reference that ``test_campplus.py`` compares hearkit's numpy fbank with.

Run once, in a throwaway environment holding ``kaldi-native-fbank`` (Apache-2.0, k2-fsa's C++
port of Kaldi's feature code; not a hearkit dependency) and numpy, from the project root:

    uv venv /tmp/knf && uv pip install -p /tmp/knf/bin/python kaldi-native-fbank numpy soundfile
    /tmp/knf/bin/python tests/pipeline/make_fbank_reference.py

It reads two 1 s excerpts of the real phone call in ../shared/realdata/pyannote_sample (16 kHz,
scaled to [-1, 1]) and stores their 80-bin log mel filterbanks (``dither=0``, Kaldi's defaults
otherwise: 25 ms povey window every 10 ms, pre-emphasis 0.97, 20 Hz to Nyquist) in
``data/fbank_reference.npz``.
"""

from __future__ import annotations

from pathlib import Path

import kaldi_native_fbank as knf
import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]
CALL = ROOT.parent / "shared" / "realdata" / "pyannote_sample" / "sample.wav"
EXCERPTS = ((3.0, 4.0), (12.5, 13.5))


def main() -> None:
    audio, rate = sf.read(CALL, dtype="float32")
    assert rate == 16_000 and audio.ndim == 1
    out: dict[str, np.ndarray] = {"excerpts": np.array(EXCERPTS, dtype=np.float64)}
    for i, (start, end) in enumerate(EXCERPTS):
        clip = audio[int(start * rate) : int(end * rate)]
        opts = knf.FbankOptions()
        opts.frame_opts.dither = 0.0
        opts.frame_opts.samp_freq = rate
        opts.mel_opts.num_bins = 80
        fbank = knf.OnlineFbank(opts)
        fbank.accept_waveform(rate, clip.tolist())
        fbank.input_finished()
        out[f"fbank_{i}"] = np.stack([fbank.get_frame(k) for k in range(fbank.num_frames_ready)])
    np.savez_compressed(Path(__file__).resolve().parent / "data" / "fbank_reference.npz", **out)


if __name__ == "__main__":
    main()
