"""Speaker embeddings side by side: Resemblyzer's encoder against CAM++ (both shipped).

Run: ``uv run --no-sync python benchmarks/bench_speaker_embedding.py [--windows 1.6,3.0]
[--max-per-speaker 40]`` (``HEARKIT_CAMPPLUS_PT`` loads other CAM++ weights, e.g. the float32 original).

Development recordings only (the ones ``bench_diarization.py --set dev`` reads, without its level
mixes): pyannote's phone call, the AMI debug and "seriously" excerpts, EN2002a, pyAudioAnalysis,
Falcon, the AWS contact-centre calls and the SpokenWOZ call with their two legs mixed to mono, and
the 7 sample calls' mono mixes. Truth is third-party or from outside hearkit: the RTTM/segment
files, the sample calls' scripts, and for the split-channel calls each leg's own energy detector.

Windows: consecutive, non-overlapping windows of each length inside stretches where exactly one
reference speaker talks (0.1 s kept clear of each edge), cut from the mono recording, at most
``--max-per-speaker`` per speaker and file (evenly spaced). Both encoders embed the same windows:
Resemblyzer as the diarizer does (the file raised to -30 dBFS, 40-band mel; a 1.6 s window is one
partial, a longer one the mean of 1.6 s partials every 0.8 s, renormalised), CAM++ from the
window's 80-band fbank, mean-normalised over the window (``campplus``, :meth:`CampPlus.embed`) or
around each frame with the front end shared by all windows of the recording as the diarizer runs it
(``cam shared``, :meth:`CampPlus.embed_windows`).

Trials: every pair of windows of one recording (never across recordings: the same voice may occur
in two files under different names). *Same* = one reference speaker, *different* = two.

* **EER** = the rate at which false acceptances (different-speaker pairs with cosine ≥ threshold,
  over all different-speaker pairs) equal false rejections (same-speaker pairs below it, over all
  same-speaker pairs), the threshold swept over all scores; pooled over recordings and per group.
* **d'** = (mean same − mean different) / sqrt((var same + var different) / 2).
* **CPU s per window** = process CPU seconds of embedding all windows of one length / windows
  (features included), one BLAS thread for both.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_diarization import Item, development_items

from hearkit.engine.pipeline.campplus import WEIGHTS_ENV, CampPlus, default_campplus, fbank, weights_path
from hearkit.engine.pipeline.decode import SAMPLE_RATE
from hearkit.engine.pipeline.speaker_encoder import (
    FRAMES_PER_PARTIAL,
    default_encoder,
    mel_spectrogram,
    normalize_volume,
)

LEVEL_MIX_FOLDERS = {"seriously_pairs", "aws_lca_levels", "sample_levels"}
REAL_CALLS = {"pyannote_sample", "aws_lca_calls", "spokenwoz_speechbrain"}
MEETINGS = {"pyannote_ami_debug", "pyannote_ami_seriously", "diarizen_ami_en2002a"}
OTHER = {"pyaudioanalysis", "picovoice_falcon"}
GROUPS = {
    "real recordings": REAL_CALLS | MEETINGS | OTHER,
    "real phone calls": REAL_CALLS,
    "meetings (AMI)": MEETINGS,
    "other (concatenated)": OTHER,
    "synthetic calls": {"sample_data"},
}
"""Groups of the pooled rows; the sample calls are espeak voices (synthetic), kept apart."""
EDGE_S = 0.1


@dataclass
class Windows:
    item: Item
    starts: list[int]
    speakers: list[str]


def single_speaker_stretches(truth: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Stretches where exactly one reference speaker talks (10 ms resolution)."""
    end = max(e for _, e, _ in truth)
    n = int(np.ceil(end * 100)) + 1
    names = sorted({s for _, _, s in truth})
    active = np.zeros((n, len(names)), dtype=bool)
    for a, b, s in truth:
        active[round(a * 100) : round(b * 100), names.index(s)] = True
    alone = active.sum(axis=1) == 1
    who = np.argmax(active, axis=1)
    out = []
    start = None
    for i in range(n + 1):
        same = i < n and alone[i] and start is not None and who[i] == who[start]
        if start is not None and not same:
            out.append((start / 100, i / 100, names[who[start]]))
            start = None
        if start is None and i < n and alone[i]:
            start = i
    return out


def cut(item: Item, seconds: float, max_per_speaker: int) -> Windows:
    assert item.truth is not None
    per: dict[str, list[int]] = {}
    total = item.audio.samples.shape[1]
    for a, b, speaker in single_speaker_stretches(item.truth):
        a, b = a + EDGE_S, min(b - EDGE_S, total / SAMPLE_RATE)
        t = a
        while t + seconds <= b:
            per.setdefault(speaker, []).append(int(t * SAMPLE_RATE))
            t += seconds
    starts, speakers = [], []
    for speaker, found in per.items():
        if len(found) > max_per_speaker:
            found = [found[i] for i in np.linspace(0, len(found) - 1, max_per_speaker).round().astype(int)]
        starts += found
        speakers += [speaker] * len(found)
    return Windows(item, starts, speakers)


def resemblyzer(
    signal: npt.NDArray[np.float32], starts: list[int], seconds: float
) -> npt.NDArray[np.float32]:
    mel = mel_spectrogram(normalize_volume(signal))
    frames = round(seconds * 100)
    hop = FRAMES_PER_PARTIAL // 2
    out = []
    for s in starts:
        f0 = s // 160
        offsets = list(range(0, max(1, frames - FRAMES_PER_PARTIAL + 1), hop))
        if frames > FRAMES_PER_PARTIAL and offsets[-1] != frames - FRAMES_PER_PARTIAL:
            offsets.append(frames - FRAMES_PER_PARTIAL)
        partials = np.stack([mel[f0 + o : f0 + o + FRAMES_PER_PARTIAL] for o in offsets])
        vectors = default_encoder().embed(partials).mean(axis=0)
        out.append(vectors / np.linalg.norm(vectors))
    return np.stack(out).astype(np.float32)


def campplus(
    model: CampPlus, signal: npt.NDArray[np.float32], starts: list[int], seconds: float
) -> npt.NDArray[np.float32]:
    length = int(seconds * SAMPLE_RATE)
    return model.embed(np.stack([fbank(signal[s : s + length]) for s in starts]))


def campplus_shared(
    model: CampPlus, signal: npt.NDArray[np.float32], starts: list[int], seconds: float
) -> npt.NDArray[np.float32]:
    """As the diarizer embeds: the recording's fbank once, windows as frame indices into it."""
    features = fbank(signal)
    frames = round(seconds * 100) - 2  # as many frames as fbank() gives a window of that length
    windows = [np.arange(s // 160, s // 160 + frames).clip(0, len(features) - 1) for s in starts]
    return model.embed_windows(features, windows)


def trials(emb: npt.NDArray[np.float32], speakers: list[str]) -> tuple[list[float], list[float]]:
    sim = emb @ emb.T
    labels = np.array(speakers)
    iu = np.triu_indices(len(labels), k=1)
    same = labels[iu[0]] == labels[iu[1]]
    return sim[iu][same].tolist(), sim[iu][~same].tolist()


def eer(same: list[float], diff: list[float]) -> float:
    if not same or not diff:
        return float("nan")
    s, d = np.sort(same), np.sort(diff)
    thresholds = np.concatenate([s, d])
    frr = np.searchsorted(s, thresholds, side="left") / len(s)
    far = 1 - np.searchsorted(d, thresholds, side="left") / len(d)
    i = int(np.argmin(np.abs(frr - far)))
    return float((frr[i] + far[i]) / 2)


def dprime(same: list[float], diff: list[float]) -> float:
    if len(same) < 2 or len(diff) < 2:
        return float("nan")
    return float((np.mean(same) - np.mean(diff)) / np.sqrt((np.var(same) + np.var(diff)) / 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--windows", default="1.6,3.0")
    parser.add_argument("--max-per-speaker", type=int, default=40)
    parser.add_argument("--only", default=None)
    args = parser.parse_args()
    if weights_path() is None:
        sys.exit(f"CAM++ weights not found: unset {WEIGHTS_ENV} or point it at campplus_cn_en_common.pt")
    model = default_campplus()
    default_encoder()
    items = [i for i in development_items(args.only) if i.folder not in LEVEL_MIX_FOLDERS and i.truth]
    print(f"{time.strftime('%H:%M:%S', time.gmtime())} UTC, load {os.getloadavg()}, {len(items)} recordings")
    print("both = the mean of the two encoders' cosines (their unit vectors concatenated, / sqrt 2)")
    encoders = ["resemblyzer", "campplus", "both", "cam shared"]
    for seconds in (float(x) for x in args.windows.split(",")):
        scores: dict[str, dict[str, tuple[list[float], list[float]]]] = {e: {} for e in encoders}
        cpu = dict.fromkeys(encoders, 0.0)
        n_windows = 0
        for item in items:
            win = cut(item, seconds, args.max_per_speaker)
            if len(win.starts) < 2:
                continue
            signal = item.audio.samples.mean(axis=0).astype(np.float32)
            n_windows += len(win.starts)
            t0 = time.process_time()
            old = resemblyzer(signal, win.starts, seconds)
            t1 = time.process_time()
            new = campplus(model, signal, win.starts, seconds)
            t2 = time.process_time()
            shared = campplus_shared(model, signal, win.starts, seconds)
            t3 = time.process_time()
            cpu["resemblyzer"] += t1 - t0
            cpu["campplus"] += t2 - t1
            cpu["cam shared"] += t3 - t2
            fused = np.concatenate([old, new], axis=1) / np.sqrt(2)
            for enc, emb in zip(encoders, (old, new, fused, shared), strict=True):
                scores[enc][item.name] = trials(emb, win.speakers)
        print(f"\n## windows of {seconds:g} s: {n_windows} windows, load {os.getloadavg()[0]:.2f}")
        print(
            f"{'set':<24}"
            + "".join(f"{e + ' EER':>17}{'d′':>6}{'cos same/diff':>15}" for e in encoders)
            + f"{'pairs same/diff':>17}"
        )
        rows = [("pooled", {i.name for i in items})] + [
            (g, {i.name for i in items if i.folder in folders}) for g, folders in GROUPS.items()
        ]
        rows += [(name, {name}) for name in scores["campplus"]]
        for label, names in rows:
            line = f"{label:<24}"
            for enc in encoders:
                same = [x for n in names if n in scores[enc] for x in scores[enc][n][0]]
                diff = [x for n in names if n in scores[enc] for x in scores[enc][n][1]]
                means = f"{np.mean(same) if same else np.nan:.2f}/{np.mean(diff) if diff else np.nan:.2f}"
                line += f"{100 * eer(same, diff):>16.1f}%{dprime(same, diff):>6.2f}{means:>15}"
            print(line + f"{len(same):>9}/{len(diff)}")
        print(
            f"CPU s per {seconds:g} s window (features included): "
            f"resemblyzer {cpu['resemblyzer'] / max(1, n_windows):.4f}, "
            f"campplus {cpu['campplus'] / max(1, n_windows):.4f}, "
            f"cam shared {cpu['cam shared'] / max(1, n_windows):.4f} (load {os.getloadavg()[0]:.2f})"
        )


if __name__ == "__main__":
    main()
