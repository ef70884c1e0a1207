"""Where the mono path misses speech, and the speech/no-speech levers, on DEVELOPMENT data (issue 20, D7).

Run: ``uv run --no-sync python benchmarks/tune_missed_speech.py [--only NAME,...] [--variants V;V;...]
[--diagnose] [--per-file]``

Every development file of ``bench_diarization --set dev`` is diarized once per *variant* in one process;
the segmentation model's log-probabilities, the voice encoder's embeddings and Silero's speech
probabilities are computed once per input and reused (kept in :data:`DISK` between runs), so only the
speech decision and what follows it change between variants. A variant is ``+``-joined knobs:

* ``base``: the shipped path;
* ``cls:T``: in every segmentation window, a frame whose most probable class is "nobody" takes its most
  probable speech class when P(somebody) = 1 - P(nobody) reaches ``T`` (the per-window activity, hence the
  count and the local speakers, follow);
* ``mean:T``: a frame the count leaves at 0 gets one voice where the mean over its covering windows of
  P(somebody) reaches ``T`` (the voice windows decide who);
* ``sil:T[:PAD]``: a frame the count leaves at 0 gets one voice where Silero hears speech at threshold
  ``T`` (faster-whisper's hysteresis, min speech 120 ms, min silence 300 ms, padding ``PAD`` ms, default 0);
* ``pad:MS``: every run of heard frames widened by ``MS`` on both sides (one voice in the added frames);
* ``gap:MS``: pauses shorter than ``MS`` between heard frames filled (one voice);
* ``loud:T:DB``: a frame the count leaves at 0 gets one voice where the segmentation's mean P(somebody)
  reaches ``T`` and its 20 ms level is ``DB`` over the file's noise floor (both detectors half-hear it);
* ``energy:own|abs|leg|rel|peakN|lvlN|off``: what the mono turns are trimmed to (the shipped
  ``vad.voice_activity``, whose floor follows the voice peak; ``energy_activity``, with its absolute
  -45 dBFS floor, what the path used before; ``leg_activity``, whose floor is the voice peak
  - 30 dB on a quiet leg; the noise floor + 15 dB alone; the floor at the file's voice peak - N dB;
  ``lvlN``: the lower of -45 dBFS and the voice peak - N dB; no trimming);
* ``wordless:S``: the shortest word-less turn part kept as a segment (``assemble.MIN_WORDLESS_S``).

``--diagnose`` prints, for the base variant, the reference speech no hypothesis segment covers at all,
as regions: their length, their level against the file's noise floor (10th percentile of 20 ms levels),
the segmentation's mean P(somebody), Silero's mean probability there, and whether the segmentation's
count heard them (then the speech was lost after the count: trimming, short pieces). Never run on the
evaluation folders (``pyannote_ami_train``, ``google_commercial_call``).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import pickle
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import faster_whisper.vad as fw_vad
import numpy as np
import numpy.typing as npt
from bench_diarization import Item, Outcome, der_parts, development_items, evaluation_items, miss_parts, run
from tune_overlap_count import per_frame_mean

from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.engine.pipeline import assemble as assemble_module
from hearkit.engine.pipeline import diarize as diarize_module
from hearkit.engine.pipeline import segmentation as segmentation_module
from hearkit.engine.pipeline import transcriber as transcriber_module
from hearkit.engine.pipeline import vad as vad_module
from hearkit.engine.pipeline.decode import SAMPLE_RATE, DecodedAudio
from hearkit.engine.pipeline.segmentation import _POWERSET, FRAME_STEP, Segmentation
from hearkit.engine.pipeline.speaker_encoder import default_encoder
from hearkit.engine.pipeline.transcriber import _single_signal

DISK = Path("/tmp/d7/tune_missed_cache.pkl")
FRAGILE = "aws_lca_49.mix@-6"
"""The file whose count tips between 1 and 2 on small changes of its speech regions (sixth round): pooled
DER is also printed without it."""
AMI_LIKE = ("pyannote_ami_debug", "pyannote_ami_seriously", "diarizen_ami_en2002a")
_SILERO_CHUNK = 512


def frame_times(n_frames: int) -> npt.NDArray[np.float64]:
    return np.asarray(Segmentation.frame_time(np.arange(n_frames, dtype=np.float64)))


@dataclass
class Knobs:
    cls: float | None = None
    mean: float | None = None
    silero: tuple[float, int] | None = None
    pad_ms: int = 0
    gap_ms: int = 0
    energy: str = "own"
    wordless: float | None = None
    loud: tuple[float, float] | None = None


def parse(variant: str) -> Knobs:
    knobs = Knobs()
    for part in variant.split("+"):
        name, _, value = part.partition(":")
        if name == "base":
            continue
        if name == "cls":
            knobs.cls = float(value)
        elif name == "mean":
            knobs.mean = float(value)
        elif name == "sil":
            threshold, _, pad = value.partition(":")
            knobs.silero = (float(threshold), int(pad or 0))
        elif name == "pad":
            knobs.pad_ms = int(value)
        elif name == "gap":
            knobs.gap_ms = int(value)
        elif name == "energy":
            knobs.energy = value
        elif name == "loud":
            threshold, _, db = value.partition(":")
            knobs.loud = (float(threshold), float(db))
        elif name == "wordless":
            knobs.wordless = float(value)
        else:
            raise ValueError(part)
    return knobs


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


class Caches:
    """Model outputs per input, computed once: segmentation (with every window's log-probabilities),
    voice embeddings per mel window, Silero probabilities per signal."""

    def __init__(self) -> None:
        self.segmentations: dict[str, tuple[Segmentation, npt.NDArray[np.float32]]] = {}
        self.embeddings: dict[bytes, npt.NDArray[np.float32]] = {}
        self.silero: dict[str, npt.NDArray[np.float32]] = {}
        if DISK.exists():
            self.segmentations, self.embeddings, self.silero = pickle.loads(DISK.read_bytes())
        self.knobs = Knobs()
        self.last: dict[str, Any] = {}
        self.real_segment = segmentation_module.segment
        self.real_session = segmentation_module._session
        encoder = default_encoder()
        self.real_embed = encoder.embed
        encoder.embed = self.embed  # type: ignore[method-assign]
        diarize_module.__dict__["segment"] = self.segment
        self.real_vad_model = fw_vad.get_vad_model()
        fw_vad.__dict__["get_vad_model"] = lambda: self.vad_model
        self.real_energy = transcriber_module.voice_activity
        self.real_wordless = assemble_module.MIN_WORDLESS_S

    # -- cached models -----------------------------------------------------------------------------
    def vad_model(self, audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        key = hashlib.sha1(np.ascontiguousarray(audio).tobytes()).hexdigest()
        if key not in self.silero:
            self.silero[key] = np.asarray(self.real_vad_model(audio), dtype=np.float32)
        return self.silero[key]

    def silero_probs(self, signal: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Silero's probability per 512-sample chunk of ``signal`` (as the recogniser hears it)."""
        audible = vad_module._audible(signal)
        padded = np.pad(audible, (0, _SILERO_CHUNK - audible.shape[0] % _SILERO_CHUNK))
        return self.vad_model(padded).reshape(-1)

    def embed(self, mels: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        keys = [hashlib.sha1(np.ascontiguousarray(m, dtype=np.float32).tobytes()).digest() for m in mels]
        missing = [i for i, k in enumerate(keys) if k not in self.embeddings]
        if missing:
            fresh = self.real_embed(mels[missing])
            for i, vector in zip(missing, fresh, strict=True):
                self.embeddings[keys[i]] = vector
        return np.stack([self.embeddings[k] for k in keys]) if keys else self.real_embed(mels)

    def raw_segment(self, signal: npt.NDArray[np.float32]) -> tuple[Segmentation, npt.NDArray[np.float32]]:
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
                seg = self.real_segment(signal)
            finally:
                segmentation_module.__dict__["_session"] = self.real_session
            log_probs = np.full((len(seg.starts), seg.activity.shape[1], 7), -30.0, dtype=np.float32)
            log_probs[:, :, 0] = 0.0
            if outputs:
                starts = (seg.starts * FRAME_STEP).tolist()
                audible = np.flatnonzero(segmentation_module._audible_windows(signal, starts))
                log_probs[audible] = np.concatenate(outputs)
            self.segmentations[key] = (seg, log_probs)
        return self.segmentations[key]

    # -- the variant's speech decision -------------------------------------------------------------
    def segment(self, signal: npt.NDArray[np.float32], step_s: float | None = None) -> Segmentation:
        seg, log_probs = self.raw_segment(signal)
        knobs = self.knobs
        somebody = 1.0 - np.exp(log_probs[:, :, 0].astype(np.float64))
        activity = seg.activity
        if knobs.cls is not None:
            classes = np.argmax(log_probs, axis=2)
            best_speech = np.argmax(log_probs[:, :, 1:], axis=2) + 1
            classes = np.where((classes == 0) & (somebody >= knobs.cls), best_speech, classes)
            activity = _POWERSET[classes]
        count = np.rint(per_frame_mean(seg, activity.sum(axis=2).astype(np.float64))).astype(np.int64)
        added = np.zeros(len(count), dtype=bool)
        if knobs.mean is not None:
            added |= per_frame_mean(seg, somebody) >= knobs.mean
        if knobs.silero is not None:
            added |= self.silero_frames(signal, len(count), *knobs.silero)
        if knobs.loud is not None:
            levels = vad_module.frame_levels(signal)
            floor = float(np.percentile(levels, 10)) if levels.size else 0.0
            index = np.minimum((frame_times(len(count)) * 50).astype(np.int64), max(0, len(levels) - 1))
            loud = levels[index] >= floor + knobs.loud[1] if levels.size else np.zeros(len(count), bool)
            added |= (per_frame_mean(seg, somebody) >= knobs.loud[0]) & loud
        heard = (count > 0) | added
        if knobs.gap_ms:
            gap = int(knobs.gap_ms / 1000 * SAMPLE_RATE / FRAME_STEP)
            runs = _runs(heard)
            for (_, b), (a, _) in itertools.pairwise(runs):
                if a - b < gap:
                    heard[b:a] = True
        if knobs.pad_ms:
            pad = round(knobs.pad_ms / 1000 * SAMPLE_RATE / FRAME_STEP)
            for a, b in _runs(heard.copy()):
                heard[max(0, a - pad) : b + pad] = True
        count = np.where(heard & (count == 0), 1, count)
        self.last = {"seg": seg, "somebody": per_frame_mean(seg, somebody), "count": count}
        return Segmentation(seg.starts, activity, count)

    def silero_frames(
        self, signal: npt.NDArray[np.float32], n_frames: int, threshold: float, pad_ms: int
    ) -> Any:
        options = fw_vad.VadOptions(
            threshold=threshold,
            min_speech_duration_ms=120,
            min_silence_duration_ms=300,
            speech_pad_ms=pad_ms,
            max_speech_duration_s=float("inf"),
        )
        stamps = fw_vad.get_speech_timestamps(vad_module._audible(signal), options, sampling_rate=SAMPLE_RATE)
        times = frame_times(n_frames)
        mask = np.zeros(n_frames, dtype=bool)
        for stamp in stamps:
            mask |= (times >= stamp["start"] / SAMPLE_RATE) & (times < stamp["end"] / SAMPLE_RATE)
        return mask

    def apply(self, knobs: Knobs) -> None:
        self.knobs = knobs
        energy: Callable[..., Any]
        if knobs.energy.startswith(("peak", "lvl")):
            below = float(knobs.energy[4:] if knobs.energy.startswith("peak") else knobs.energy[3:])
            capped = knobs.energy.startswith("lvl")

            def energy(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
                level = vad_module.frame_levels(samples)
                peak = vad_module._voice_peak(level)
                floor_db = vad_module.MIN_LEVEL_DB if peak is None else peak - below
                if capped:
                    floor_db = min(vad_module.MIN_LEVEL_DB, floor_db)
                return vad_module._active(level, vad_module.FLOOR_MARGIN_DB, floor_db)

        else:
            energy = {
                "abs": vad_module.energy_activity,
                "own": self.real_energy,
                "leg": vad_module.leg_activity,
                "rel": lambda s: vad_module.energy_activity(s, min_level_db=-200.0),
                "off": lambda s: np.ones(len(s) // 320, dtype=bool),
            }[knobs.energy]
        transcriber_module.__dict__["voice_activity"] = energy
        assemble_module.MIN_WORDLESS_S = self.real_wordless if knobs.wordless is None else knobs.wordless

    def save(self) -> None:
        DISK.parent.mkdir(parents=True, exist_ok=True)
        DISK.write_bytes(pickle.dumps((self.segmentations, self.embeddings, self.silero)))


def summary(name: str, outcomes: list[Outcome]) -> str:
    def part(group: list[Outcome]) -> str:
        if not group:
            return "–"
        der, miss, fa, conf = der_parts(group)
        return f"{100 * der:5.2f} ({100 * miss:4.1f}/{100 * fa:4.1f}/{100 * conf:4.1f})"

    two = [o for o in outcomes if o.item.two_party]
    ami = [o for o in outcomes if o.item.folder in AMI_LIKE]
    pairs = [o for o in outcomes if o.item.folder == "seriously_pairs"]
    wrong = [o for o in outcomes if o.wrong]
    right = [o for o in outcomes if not o.wrong]
    talk = [o.talk_err for o in two if not np.isnan(o.talk_err)]
    steady = [o for o in outcomes if o.item.name != FRAGILE]
    return (
        f"| {name} | {part(outcomes)} | {part(steady)} | {part(ami)} | {part(two)} | {part(pairs)} |"
        f" {sum(o.found == 2 for o in two)}/{len(two)} |"
        f" {sum(o.talk_err > 5 for o in two)} (max {max(talk or [0]):.1f}) |"
        f" {sum(abs(o.found - o.item.true_speakers) <= 1 for o in outcomes)}/{len(outcomes)} |"
        f" {sum(bool(o.flags) for o in wrong)}/{len(wrong)} |"
        f" {sum(bool(o.flags) for o in right)}/{len(right)} |"
    )


# -- diagnosis -------------------------------------------------------------------------------------
def diagnose(outcome: Outcome, caches: Caches, signal: npt.NDArray[np.float32]) -> list[dict[str, float]]:
    """The reference speech no hypothesis segment covers, as regions with their evidence."""
    item = outcome.item
    if item.truth is None:
        return []
    count = caches.last["count"]
    somebody = caches.last["somebody"]
    times = frame_times(len(count))
    start, end = item.uem or (0.0, item.audio.duration)
    inside = (times >= start) & (times < end)
    talking = np.zeros(len(times), dtype=np.int64)
    for a, b, _ in item.truth:
        talking += (times >= a) & (times < b)
    covered = np.zeros(len(times), dtype=bool)
    for s in outcome.result.segments:
        covered |= (times >= s.start) & (times < s.end)
    missed = inside & (talking > 0) & ~covered
    levels = vad_module.frame_levels(signal)
    floor = float(np.percentile(levels, 10))
    silero = caches.silero_probs(signal)
    out = []
    for a, b in _runs(missed):
        t0, t1 = times[a], times[b - 1]
        lv = levels[int(t0 * 50) : max(int(t0 * 50) + 1, int(t1 * 50))]
        sp = silero[int(t0 * SAMPLE_RATE / _SILERO_CHUNK) : int(t1 * SAMPLE_RATE / _SILERO_CHUNK) + 1]
        out.append(
            {
                "start": t0,
                "length": (b - a) * FRAME_STEP / SAMPLE_RATE,
                "speaker_s": float(talking[a:b].sum()) * FRAME_STEP / SAMPLE_RATE,
                "level_over_floor": float(np.percentile(lv, 90)) - floor if lv.size else float("nan"),
                "level_dbfs": float(np.percentile(lv, 90)) if lv.size else float("nan"),
                "p_somebody": float(somebody[a:b].mean()),
                "silero": float(sp.mean()) if sp.size else float("nan"),
                "counted": float((count[a:b] > 0).mean()),
            }
        )
    return out


def print_diagnosis(rows: list[tuple[str, list[dict[str, float]], float]]) -> None:
    print("\n### reference speech no segment covers (base), per file\n")
    print(
        "| file | speaker-s | missed regions | missed speaker-s | < 0.5 s | 0.5-1 s | >= 1 s | counted by the"
        " segmentation s | P(somebody) >= 0.3 / 0.2 s | Silero >= 0.3 / 0.15 s | level over floor"
        " median dB (<10 dB s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    total: list[dict[str, float]] = []
    for name, regions, speech in rows:
        total += regions
        print(_diag_line(name, regions, speech))
    print(_diag_line("**all**", total, sum(r[2] for r in rows)))


def _diag_line(name: str, regions: list[dict[str, float]], speech: float) -> str:
    def s(cond: Callable[[dict[str, float]], bool]) -> float:
        return sum(r["speaker_s"] for r in regions if cond(r))

    lv = [r["level_over_floor"] for r in regions if not np.isnan(r["level_over_floor"])]
    return (
        f"| {name} | {speech:.1f} | {len(regions)} | {s(lambda r: True):.1f} |"
        f" {s(lambda r: r['length'] < 0.5):.1f} | {s(lambda r: 0.5 <= r['length'] < 1):.1f} |"
        f" {s(lambda r: r['length'] >= 1):.1f} | {sum(r['speaker_s'] * r['counted'] for r in regions):.1f} |"
        f" {s(lambda r: r['p_somebody'] >= 0.3):.1f} / {s(lambda r: r['p_somebody'] >= 0.2):.1f} |"
        f" {s(lambda r: r['silero'] >= 0.3):.1f} / {s(lambda r: r['silero'] >= 0.15):.1f} |"
        f" {np.median(lv) if lv else float('nan'):.1f} ({s(lambda r: r['level_over_floor'] < 10):.1f}) |"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only")
    parser.add_argument("--variants", default="base")
    parser.add_argument("--diagnose", action="store_true")
    parser.add_argument("--per-file", action="store_true")
    parser.add_argument("--attenuate", type=float, default=0.0, help="every file scaled down by this many dB")
    parser.add_argument(
        "--evaluation", action="store_true", help="the evaluation set (report once, never tune)"
    )
    args = parser.parse_args(argv)
    transcriber = WhisperTranscriber()
    caches = Caches()
    items: list[Item] = evaluation_items(args.only) if args.evaluation else development_items(args.only)
    if args.attenuate:
        # recognition output of the file at its own level is reused (cached by the file's key)
        gain = np.float32(10 ** (-args.attenuate / 20))
        items = [
            replace(
                i, audio=DecodedAudio(i.audio.samples * gain, i.audio.source_rate, i.audio.source_channels)
            )
            for i in items
        ]
    print(f"load {Path('/proc/loadavg').read_text().split()[:3]}; {len(items)} files", flush=True)
    rows: list[str] = []
    per_file: dict[str, dict[str, tuple[float, float, float, float, int, float]]] = {}
    for variant in [v for v in args.variants.split(";") if v]:
        caches.apply(parse(variant))
        c0 = time.process_time()
        outcomes = []
        diag: list[tuple[str, list[dict[str, float]], float]] = []
        for item in items:
            outcome = run(transcriber, item, False)
            outcomes.append(outcome)
            terms = outcome.terms
            total = terms.get("total", 0.0) or float("nan")
            per_file.setdefault(item.name, {})[variant] = (
                terms.get("diarization error rate", float("nan")),
                terms.get("missed detection", 0.0) / total,
                terms.get("false alarm", 0.0) / total,
                terms.get("confusion", 0.0) / total,
                outcome.found,
                outcome.talk_err,
            )
            if args.diagnose and variant == "base":
                parts = miss_parts(outcome)
                speech = parts.speech if parts is not None else 0.0
                diag.append((item.name, diagnose(outcome, caches, _single_signal(item.audio)), speech))
        caches.save()
        rows.append(summary(variant, outcomes))
        print(
            rows[-1],
            f"CPU {time.process_time() - c0:.0f} s, load {Path('/proc/loadavg').read_text().split()[:3]}",
            flush=True,
        )
        if diag:
            print_diagnosis(diag)
    print(
        "\n| variant | all DER (miss/FA/conf) | all but the fragile file | AMI-like | two-party calls"
        " | gated AMI pairs | two-party at 2 | two-party > 5 pp | ±1 | wrong flagged | right flagged |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if args.per_file:
        for name, figures in per_file.items():
            print(
                name,
                " | ".join(
                    f"{v}: {100 * d:.1f}% ({100 * m:.1f}/{100 * f:.1f}/{100 * c:.1f}) {n} {t:.1f}"
                    for v, (d, m, f, c, n, t) in figures.items()
                ),
            )


if __name__ == "__main__":
    main(sys.argv[1:])
