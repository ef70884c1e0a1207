"""Choosing the per-frame speaker count's overlap rule on DEVELOPMENT data (issue 20, sixth round).

Run: ``uv run --no-sync python benchmarks/tune_overlap_count.py [--only NAME,...] [--rules argmax,add:1.3,...]
[--attenuate DB,...]``

Every development file of ``bench_diarization --set dev`` is diarized once per *rule* in one process, the
segmentation model's output and the voice encoder's embeddings computed once per input and reused (the
numbers are those of a fresh run: only the count rule changes between rules). Rules:

* ``argmax``: the shipped count (the mean over covering windows of the argmax class's number of voices,
  rounded);
* ``add:B``: as argmax, and a frame it gives one voice gets two where the mean expected number of voices
  (sum of P(class) x voices of the class, averaged over covering windows) reaches ``B``;
* ``soft:B``: heard frames (argmax count >= 1) get two voices exactly where the expected number reaches ``B``;
* ``marg:T``: heard frames get the mean over covering windows of the number of local speakers whose
  marginal probability of speaking reaches ``T``, rounded, at least 1 (``margall:T``: silence too).

``--level-dbfs`` / ``--silent-db`` set the segmentation's level raise and silent-window bar for the run
(before this round: ``--level-dbfs none --silent-db -70``). ``--attenuate`` runs the argmax rule on the
files scaled down by each of these dB (the quiet-speech stress of the brief; recognition output cached for
the unscaled file is reused, so Silero's regions are the unscaled ones) and prints the share of the
reference speaker-time the segmentation still hears.

Prints per rule: pooled DER = miss + FA + confusion (pyannote.metrics, collar 0.25, overlap scored) for the
two-party calls, the meetings (AMI-like and the rest with > 2 voices) and all files; two-party calls with 2
speakers; files within +-1 speaker; wrong calls flagged and right calls flagged. Never run on the evaluation
folders (``pyannote_ami_train``, ``google_commercial_call``).
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from bench_diarization import (
    Item,
    Outcome,
    der_parts,
    development_items,
    miss_parts,
    run,
)

from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.engine.pipeline import diarize as diarize_module
from hearkit.engine.pipeline import segmentation as segmentation_module
from hearkit.engine.pipeline.decode import DecodedAudio
from hearkit.engine.pipeline.segmentation import _POWERSET, Segmentation
from hearkit.engine.pipeline.speaker_encoder import default_encoder


def per_frame_mean(seg: Segmentation, per_window: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Per file frame: the mean over the windows covering it of a per-window, per-frame value."""
    n_frames = seg.n_frames
    total = np.zeros(n_frames)
    cover = np.zeros(n_frames)
    for first, values in zip(seg.starts, per_window, strict=True):
        last = min(n_frames, int(first) + values.shape[0])
        if last > first:
            total[first:last] += values[: last - first]
            cover[first:last] += 1
    return np.divide(total, cover, out=np.zeros_like(total), where=cover > 0)


def rule_count(rule: str, seg: Segmentation, log_probs: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
    """The per-frame count under ``rule`` (module docstring), from the windows' log-probabilities."""
    probs = np.exp(log_probs)
    count = np.rint(per_frame_mean(seg, seg.activity.sum(axis=2).astype(np.float64))).astype(np.int64)
    assert np.array_equal(count, seg.count)
    if rule == "argmax":
        return count
    kind, bar = rule.split(":")
    heard = count >= 1
    if kind in ("marg", "margall"):
        # local speakers whose marginal P(speaking) (the sum over the classes holding them) reaches the bar
        marginal = probs @ _POWERSET.astype(np.float32)
        voices = np.rint(per_frame_mean(seg, (marginal >= float(bar)).sum(axis=2).astype(np.float64)))
        voices = np.minimum(voices.astype(np.int64), 2)
        if kind == "margall":
            return voices
        count[heard] = np.maximum(voices[heard], 1)
        return count
    expected = per_frame_mean(seg, (probs @ _POWERSET.sum(axis=1).astype(np.float32)).astype(np.float64))
    if kind == "add":
        count[(count == 1) & (expected >= float(bar))] = 2
    elif kind == "soft":
        count[heard] = np.where(expected[heard] >= float(bar), 2, 1)
    else:
        raise ValueError(rule)
    return count


DISK = Path("/tmp/d5/tune_cache.pkl")
"""Where the caches are kept between runs (one file per ``--level-dbfs`` setting)."""


class Caches:
    """The segmentation of every input signal (with the model's log-probabilities of every window) and
    the embedding of every mel window, computed once (and kept in :data:`DISK` between runs)."""

    def __init__(self) -> None:
        self.segmentations: dict[str, tuple[Segmentation, npt.NDArray[np.float32]]] = {}
        self.embeddings: dict[bytes, npt.NDArray[np.float32]] = {}
        if DISK.exists():
            self.segmentations, self.embeddings = pickle.loads(DISK.read_bytes())
        self.rule = "argmax"
        self.saved = False
        self.real_segment = segmentation_module.segment
        self.real_session = segmentation_module._session
        encoder = default_encoder()
        self.real_embed = encoder.embed
        encoder.embed = self.embed  # type: ignore[method-assign]
        diarize_module.__dict__["segment"] = self.segment

    def segment(self, signal: npt.NDArray[np.float32], step_s: float | None = None) -> Segmentation:
        key = hashlib.sha1(np.ascontiguousarray(signal).tobytes()).hexdigest()
        if key not in self.segmentations:
            outputs: list[npt.NDArray[np.float32]] = []
            session = segmentation_module._session()

            class Recording:
                def run(self, names: object, feeds: dict[str, Any]) -> Any:
                    out = session.run(names, feeds)  # type: ignore[attr-defined]
                    outputs.append(out[0])
                    return out

            segmentation_module.__dict__["_session"] = lambda: Recording()
            try:
                seg = self.real_segment(signal, step_s)
            finally:
                segmentation_module.__dict__["_session"] = self.real_session
            log_probs = np.full((len(seg.starts), seg.activity.shape[1], 7), -30.0, dtype=np.float32)
            log_probs[:, :, 0] = 0.0
            if outputs:
                starts = segmentation_module._window_starts(
                    max(len(signal), 1),
                    int(seg.starts[1] - seg.starts[0]) * 270 if len(seg.starts) > 1 else 270,
                )
                audible = np.flatnonzero(segmentation_module._audible_windows(signal, starts))
                log_probs[audible] = np.concatenate(outputs)
            self.segmentations[key] = (seg, log_probs)
        seg, log_probs = self.segmentations[key]
        return replace(seg, count=rule_count(self.rule, seg, log_probs))

    def save(self) -> None:
        DISK.write_bytes(pickle.dumps((self.segmentations, self.embeddings)))
        self.saved = True

    def embed(self, mels: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        keys = [hashlib.sha1(np.ascontiguousarray(m, dtype=np.float32).tobytes()).digest() for m in mels]
        missing = [i for i, k in enumerate(keys) if k not in self.embeddings]
        if missing:
            fresh = self.real_embed(mels[missing])
            for i, vector in zip(missing, fresh, strict=True):
                self.embeddings[keys[i]] = vector
        return np.stack([self.embeddings[k] for k in keys]) if keys else self.real_embed(mels)


def summary(rule: str, outcomes: list[Outcome]) -> str:
    def part(group: list[Outcome]) -> str:
        der, miss, fa, conf = der_parts(group)
        return f"{100 * der:5.1f} ({100 * miss:4.1f}/{100 * fa:4.1f}/{100 * conf:4.1f})"

    two = [o for o in outcomes if o.item.two_party]
    meet = [o for o in outcomes if not o.item.two_party]
    ami = [
        o
        for o in outcomes
        if o.item.folder in ("pyannote_ami_debug", "pyannote_ami_seriously", "diarizen_ami_en2002a")
    ]
    pairs = [o for o in outcomes if o.item.folder == "seriously_pairs"]
    wrong = [o for o in outcomes if o.wrong]
    right = [o for o in outcomes if not o.wrong]
    under = sum((p.under_two for o in outcomes if (p := miss_parts(o)) is not None), 0.0)
    over = sum((p.over for o in outcomes if (p := miss_parts(o)) is not None), 0.0)
    talk = [o.talk_err for o in two if not np.isnan(o.talk_err)]
    return (
        f"| {rule} | {part(outcomes)} | {part(two)} | {part(pairs)} | {part(meet)} | {part(ami)} |"
        f" {sum(o.found == 2 for o in two)}/{len(two)} |"
        f" {sum(o.talk_err > 5 for o in two)} (max {max(talk or [0]):.1f}) |"
        f" {sum(abs(o.found - o.item.true_speakers) <= 1 for o in outcomes)}/{len(outcomes)} |"
        f" {sum(bool(o.flags) for o in wrong)}/{len(wrong)} |"
        f" {sum(bool(o.flags) for o in right)}/{len(right)} |"
        f" {under:.1f} / {over:.1f} |"
    )


def attenuated(item: Item, db: float) -> Item:
    gain = np.float32(10 ** (-db / 20))
    audio = DecodedAudio(item.audio.samples * gain, item.audio.source_rate, item.audio.source_channels)
    return replace(item, audio=audio)


def heard_share(outcome: Outcome) -> float:
    parts = miss_parts(outcome)
    if parts is None or not parts.speech:
        return float("nan")
    return 1 - (parts.unheard + parts.silero_only) / parts.speech


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only")
    parser.add_argument("--rules", default="argmax,add:1.2,add:1.3,add:1.4,soft:1.3,soft:1.4,soft:1.5")
    parser.add_argument("--attenuate", default="")
    parser.add_argument("--per-file", action="store_true")
    parser.add_argument(
        "--level-dbfs",
        default="shipped",
        help="segmentation.LEVEL_DBFS for this run: a number, none or shipped",
    )
    parser.add_argument("--silent-db", type=float, help="segmentation.SILENT_WINDOW_DB for this run")
    args = parser.parse_args(argv)
    global DISK
    if args.level_dbfs != "shipped":
        segmentation_module.LEVEL_DBFS = None if args.level_dbfs == "none" else float(args.level_dbfs)
    if args.silent_db is not None:
        segmentation_module.SILENT_WINDOW_DB = args.silent_db
    setting = f"{segmentation_module.LEVEL_DBFS}_{segmentation_module.SILENT_WINDOW_DB}"
    DISK = DISK.with_name(f"tune_cache_{setting}.pkl")
    print(f"segmentation.LEVEL_DBFS, SILENT_WINDOW_DB = {setting}")
    transcriber = WhisperTranscriber()
    caches = Caches()
    items = development_items(args.only)
    print(f"load {Path('/proc/loadavg').read_text().split()[:3]}; {len(items)} development files", flush=True)
    rows: list[str] = []
    per_file: dict[str, dict[str, Any]] = {}
    for rule in [r for r in args.rules.split(",") if r]:
        caches.rule = rule
        c0 = time.process_time()
        outcomes = [run(transcriber, item, False) for item in items]
        for o in outcomes:
            per_file.setdefault(o.item.name, {})[rule] = (
                o.terms.get("diarization error rate", float("nan")),
                o.found,
                o.talk_err,
            )
        rows.append(summary(rule, outcomes))
        if not caches.saved:
            caches.save()
        print(
            rows[-1],
            f"CPU {time.process_time() - c0:.0f} s, load {Path('/proc/loadavg').read_text().split()[:3]}",
            flush=True,
        )
    print(
        "\n| rule | all DER (miss/FA/conf) | two-party calls | gated AMI pairs | meetings | AMI-like |"
        " two-party at 2 | two-party > 5 pp | ±1 | wrong flagged | right flagged"
        " | under-counted / over-counted s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if args.per_file:
        for name, figures in per_file.items():
            print(name, " ".join(f"{r}: {100 * d:.1f}% {f} {t:.1f}" for r, (d, f, t) in figures.items()))
    levels = [float(x) for x in args.attenuate.split(",") if x]
    if levels:
        caches.rule = "argmax"
        print("\n| file | " + " | ".join(f"-{db:.0f} dB DER / heard" for db in [0.0, *levels]) + " |")
        for item in items:
            cells = []
            for db in [0.0, *levels]:
                o = run(transcriber, attenuated(item, db) if db else item, False)
                der = 100 * o.terms.get("diarization error rate", float("nan"))
                cells.append(f"{der:.1f} % / {100 * heard_share(o):.0f} %")
            print(f"| {item.name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
