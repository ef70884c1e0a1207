"""Benchmark of the local transcription pipeline (hearkit.engine.pipeline) against naive baselines.

Run: ``uv run python benchmarks/bench_pipeline.py [--quick] [--only stereo|mono]``

Stereo (``channel: true``): the pipeline (VAD regions of both channels batched through the model,
bleed dropped, fallback decode) against the **naive baseline** measured in the same run: the
same model over each full channel, one after the other, with faster-whisper's default decoding
(beam 5, word timestamps, temperature fallback: the issue's "naive approach"). The pipeline decodes
with beam 3 and the same fallback; both are printed. Mono (``diarize: true``): ASR + diarization,
against third-party speaker references.

Per file it prints: audio seconds, wall seconds, real-time factor (wall / audio), WER against the
reference words where there are some (jiwer, lower-cased, punctuation stripped), DER
(pyannote.metrics, collar 0.25 s, overlap scored) where there are speaker references, speakers
found vs true, words lost against the naive path, the talk-ratio error per speaker and the
process's peak RSS so far. Decoding the file is not timed (it is the same for both).

* **Words lost** (stereo): naive words deleted in an alignment of the naive transcript with ours,
  per channel, / naive words. Printed twice: ``raw`` on the lower-cased words, and ``speech``
  where (a) numbers are written the same way on both sides first (``text_to_num.alpha2digit``,
  digits split one per token, so "2018" and "two thousand and eighteen" or "1256" and "one two
  five six" agree) and (b) naive words said over silence are left out of both counts: a word is
  over silence when no 20 ms frame within 0.1 s of it is 10 dB above the channel's noise floor
  (10th percentile of frame levels) — Whisper's well-known "thank you" / repeated "okay" at the
  end of a file or in a pause, which no path should be asked to keep.
* **Talk-ratio error**: max over true speakers of |found share - true share|, in percentage
  points. ``turns``: share = the union of a speaker's segments / summed talk time (the talk ratio
  hearkit's analytics report), truth from the script's turns; ``words``: share = a speaker's word
  time / all word time, truth from the script's word times (the script's words leave gaps
  between words that Whisper's do not, so this one reads high on both paths).

Machine note: 2 cores shared with other engineers' jobs; wall times move with their load.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
import numpy.typing as npt
from pyannote.core import Annotation, Segment
from pyannote.metrics.diarization import DiarizationErrorRate
from text_to_num import alpha2digit

from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.engine.pipeline.asr import DecodeSettings, RecognizedWord, get_model, transcribe_full
from hearkit.engine.pipeline.decode import DecodedAudio, decode_audio
from hearkit.schema import JobCreateParams, Result

warnings.filterwarnings("ignore", message="'uem' was approximated")
REPO = Path(__file__).resolve().parents[1]
REAL = REPO / ".." / "shared" / "realdata"
SAMPLES = REPO / "sample_data"


NAIVE_BEAM = 5
"""The naive baseline's beam: faster-whisper's default."""

_EXPAND = {"gonna": ["going", "to"], "wanna": ["want", "to"], "gotta": ["got", "to"]}
_FILLERS = {"uh", "um", "mm", "hmm", "mhm", "ah", "er"}


def norm_words(text: str) -> list[str]:
    """Lower-case words without punctuation; gonna/wanna/gotta expanded, fillers (uh, um, mm…) dropped."""
    text = text.lower().replace("-", " ")
    out: list[str] = []
    for word in re.sub(r"[^a-z0-9' ]+", " ", text).split():
        if word not in _FILLERS:
            out.extend(_EXPAND.get(word, [word]))
    return out


def wer(reference: list[str], hypothesis: list[str]) -> float:
    if not reference:
        return float("nan")
    return float(jiwer.wer(" ".join(reference), " ".join(hypothesis) or "<empty>"))


def deletions(reference: list[str], hypothesis: list[str]) -> int:
    if not reference:
        return 0
    if not hypothesis:
        return len(reference)
    return int(jiwer.process_words(" ".join(reference), " ".join(hypothesis)).deletions)


def number_words(text: str) -> list[str]:
    """:func:`norm_words` after numbers are written as digits, one digit per token."""
    digits = alpha2digit(text, "en")
    return [t for w in norm_words(digits) for t in (list(w) if w.isdigit() else [w])]


def silent_words(
    words: list[RecognizedWord], samples: npt.NDArray[np.float32], margin_db: float = 10.0
) -> set[int]:
    """Indices of ``words`` said over silence: no 20 ms frame within 0.1 s is ``margin_db`` over the floor."""
    frame = 320
    n = len(samples) // frame
    frames = samples[: n * frame].reshape(n, frame).astype(np.float64)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    floor = float(np.percentile(level, 10))
    silent = set()
    for index, word in enumerate(words):
        a = max(0, int((word.start - 0.1) * 50))
        b = min(n, int((word.end + 0.1) * 50) + 1)
        if b <= a or level[a:b].max() < floor + margin_db:
            silent.add(index)
    return silent


def speech_lost(naive: list[RecognizedWord], samples: npt.NDArray[np.float32], ours: str) -> tuple[int, int]:
    """(naive words lost, naive words) with numbers written alike and words over silence left out."""
    silent = silent_words(naive, samples)
    spoken = " ".join(w.text for i, w in enumerate(naive) if i not in silent)
    reference = number_words(spoken)
    return deletions(reference, number_words(ours)), len(reference)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def annotation(spans: list[tuple[float, float, str]]) -> Annotation:
    ann = Annotation()
    for start, end, label in spans:
        if end > start:
            ann[Segment(start, end)] = label
    return ann


def shares(spans: list[tuple[float, float, str]]) -> dict[str, float]:
    """Each label's share (%) of summed talk time; a label's time is the union of its spans."""
    totals: dict[str, float] = {}
    reach: dict[str, float] = {}
    for start, end, label in sorted(spans):
        begin = max(start, reach.get(label, float("-inf")))
        totals[label] = totals.get(label, 0.0) + max(0.0, end - begin)
        reach[label] = max(reach.get(label, float("-inf")), end)
    whole = sum(totals.values()) or 1.0
    return {k: 100 * v / whole for k, v in totals.items()}


def talk_ratio_error(
    truth: list[tuple[float, float, str]], found: list[tuple[float, float, str]], mapping: dict[str, str]
) -> float:
    """Max over true speakers of |found share - true share| (pp), found labels mapped to true ones."""
    true_share = shares(truth)
    found_share: dict[str, float] = {}
    for label, value in shares(found).items():
        key = mapping.get(label, label)
        found_share[key] = found_share.get(key, 0.0) + value
    return max(abs(found_share.get(k, 0.0) - v) for k, v in true_share.items())


@dataclass
class Row:
    name: str
    audio_s: float
    wall_s: float
    wer: float = float("nan")
    der: float = float("nan")
    speakers: str = ""
    lost: str = ""
    speech_lost: str = ""
    talk_err: float = float("nan")
    talk_err_words: float = float("nan")
    baseline_wall_s: float = float("nan")
    baseline_wer: float = float("nan")

    def show(self) -> str:
        rtf = self.wall_s / self.audio_s
        base = ""
        if not np.isnan(self.baseline_wall_s):
            base = (
                f" | naive wall {self.baseline_wall_s:6.1f}s RTF {self.baseline_wall_s / self.audio_s:.3f}"
                f" WER {self.baseline_wer:6.1%} speedup {self.baseline_wall_s / self.wall_s:4.2f}x"
            )
        lost = f" lost raw {self.lost:8s} speech {self.speech_lost:8s}" if self.lost else ""
        words = "" if np.isnan(self.talk_err_words) else f" (words {self.talk_err_words:4.1f}pp)"
        return (
            f"{self.name:34s} audio {self.audio_s:6.1f}s wall {self.wall_s:6.1f}s RTF {rtf:.3f}"
            f" WER {self.wer:6.1%} DER {self.der:6.1%} spk {self.speakers:5s}{lost}"
            f" talk-err {self.talk_err:4.1f}pp{words} RSS {peak_rss_mb():5.0f}MB{base}"
        )


def words_by_channel(result: Result, channels: int = 2) -> list[list[str]]:
    out: list[list[str]] = [[] for _ in range(channels)]
    for word in result.words:
        out[word.channel or 0].extend(norm_words(word.word))
    return out


def word_spans(result: Result, key: str) -> list[tuple[float, float, str]]:
    return [(w.start, w.end, str(getattr(w, key))) for w in result.words]


StereoItem = tuple[str, DecodedAudio, list[list[str]] | None, dict[str, Any] | None]
MonoItem = tuple[str, Path, list[tuple[float, float, str]], list[str] | None]


def stereo_items(quick: bool) -> list[StereoItem]:
    items: list[StereoItem] = []
    ref_lines = (
        (REAL / "faster_whisper" / "stereo_diarization.reference.derived.txt").read_text().splitlines()
    )
    refs = [norm_words(line.split("\t", 1)[1]) for line in ref_lines if "\t" in line]
    items.append(
        (
            "fw_stereo_diarization (5s)",
            decode_audio(REAL / "faster_whisper" / "stereo_diarization.wav"),
            refs,
            None,
        )
    )
    for call in ["40", "49"]:
        agent = decode_audio(REAL / "aws_lca_calls" / f"Auto_Repairs_{call}_UTC_agent.wav")
        caller = decode_audio(REAL / "aws_lca_calls" / f"Auto_Repairs_{call}_UTC_caller.wav")
        n = min(agent.samples.shape[1], caller.samples.shape[1])
        stereo = np.stack([caller.samples[0, :n], agent.samples[0, :n]])  # L=caller, R=agent
        items.append((f"aws_lca_{call} (8k, mixed)", DecodedAudio(stereo, 8000, 2), None, None))
    if not quick:
        woz = decode_audio(REAL / "spokenwoz_speechbrain" / "MUL1011.opus")
        items.append(("spokenwoz MUL1011 (real stereo)", woz, None, None))
    calls = sorted(SAMPLES.glob("*.truth.json"))
    for truth_path in calls[:2] if quick else calls:
        truth = json.loads(truth_path.read_text())
        refs = [[], []]
        for word in truth["words"]:
            refs[word["channel"]].extend(norm_words(word["word"]))
        audio = decode_audio(SAMPLES / f"{truth['call_id']}.stereo.ogg")
        items.append((truth["call_id"] + ".stereo", audio, refs, truth))
    return items


def bench_stereo(transcriber: WhisperTranscriber, quick: bool) -> None:
    print(
        f"\n== stereo, channel: true — pipeline (beam {transcriber.beam_size}) vs naive"
        f" (each full channel, same model, beam {NAIVE_BEAM}) =="
    )
    model = get_model(transcriber.model, cpu_threads=transcriber.cpu_threads)
    options = JobCreateParams(channel=True)
    total_ours = total_naive = 0.0
    lost_total = naive_total = speech_lost_total = speech_total = ref_words_total = 0
    errors_ours = errors_naive = 0.0
    for name, audio, refs, truth in stereo_items(quick):
        t0 = time.perf_counter()
        result = transcriber.transcribe_audio(audio, options)
        ours_wall = time.perf_counter() - t0
        t0 = time.perf_counter()
        naive_words = [
            transcribe_full(model, audio.samples[c], DecodeSettings(beam_size=NAIVE_BEAM)) for c in range(2)
        ]
        naive_wall = time.perf_counter() - t0
        naive = [[w for word in naive_words[c] for w in norm_words(word.text)] for c in range(2)]
        total_ours += ours_wall
        total_naive += naive_wall
        ours = words_by_channel(result)
        lost = sum(deletions(naive[c], ours[c]) for c in range(2))
        n_naive = sum(len(n) for n in naive)
        ours_text = [" ".join(w.word for w in result.words if (w.channel or 0) == c) for c in range(2)]
        speech = [speech_lost(naive_words[c], audio.samples[c], ours_text[c]) for c in range(2)]
        lost_total += lost
        naive_total += n_naive
        speech_lost_total += sum(x[0] for x in speech)
        speech_total += sum(x[1] for x in speech)
        row = Row(name, audio.duration, ours_wall, baseline_wall_s=naive_wall)
        row.lost = f"{lost}/{n_naive}"
        row.speech_lost = f"{sum(x[0] for x in speech)}/{sum(x[1] for x in speech)}"
        row.speakers = f"{result.speakers}/2"
        if refs:
            row.wer = wer(refs[0] + refs[1], ours[0] + ours[1])
            row.baseline_wer = wer(refs[0] + refs[1], naive[0] + naive[1])
            ref_words_total += len(refs[0]) + len(refs[1])
            errors_ours += row.wer * (len(refs[0]) + len(refs[1]))
            errors_naive += row.baseline_wer * (len(refs[0]) + len(refs[1]))
        if truth:
            true_turns = [(t["start"], t["end"], str(t["channel"])) for t in truth["turns"]]
            found_turns = [(s.start, s.end, str(s.channel)) for s in result.segments]
            row.talk_err = talk_ratio_error(true_turns, found_turns, {})
            true_words = [(w["start"], w["end"], str(w["channel"])) for w in truth["words"]]
            row.talk_err_words = talk_ratio_error(true_words, word_spans(result, "channel"), {})
        print(row.show(), flush=True)
    print(
        f"STEREO TOTAL: pipeline {total_ours:.1f}s vs naive {total_naive:.1f}s"
        f" -> speedup {total_naive / total_ours:.2f}x;"
        f" naive words lost raw {lost_total}/{naive_total} ({lost_total / max(naive_total, 1):.2%}),"
        f" speech {speech_lost_total}/{speech_total} ({speech_lost_total / max(speech_total, 1):.2%});"
        f" WER over {ref_words_total} reference words: pipeline {errors_ours / max(ref_words_total, 1):.1%},"
        f" naive {errors_naive / max(ref_words_total, 1):.1%}"
    )


def rttm_spans(path: Path, uri: str | None = None) -> list[tuple[float, float, str]]:
    spans = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER" and (uri is None or parts[1] == uri):
            start, dur = float(parts[3]), float(parts[4])
            spans.append((start, start + dur, parts[7]))
    return spans


def mono_items(quick: bool) -> list[MonoItem]:
    items: list[MonoItem] = []
    stm = (REAL / "pyannote_sample" / "sample.stm").read_text().splitlines()
    ref_words = [w for line in stm for w in norm_words(" ".join(line.split()[5:]))]
    items.append(
        (
            "pyannote_sample (real phone)",
            REAL / "pyannote_sample" / "sample.wav",
            rttm_spans(REAL / "pyannote_sample" / "sample.rttm"),
            ref_words,
        )
    )
    calls = sorted(SAMPLES.glob("*.truth.json"))
    for truth_path in calls[:2] if quick else calls:
        truth = json.loads(truth_path.read_text())
        spans = [(t["start"], t["end"], t["speaker"]) for t in truth["turns"]]
        words = [w for word in truth["words"] for w in norm_words(word["word"])]
        items.append((truth["call_id"] + ".mono", SAMPLES / f"{truth['call_id']}.mono.ogg", spans, words))
    if not quick:
        items.append(
            (
                "ami dev00 (meeting, 2 spk)",
                REAL / "pyannote_ami_debug" / "dev00.wav",
                rttm_spans(REAL / "pyannote_ami_debug" / "debug.development.rttm", "dev00"),
                None,
            )
        )
        falcon = json.loads((REAL / "picovoice_falcon" / "test_data.json").read_text())
        items.append(
            ("picovoice_falcon (3 spk)", REAL / "picovoice_falcon" / "test.wav", falcon_spans(falcon), None)
        )
    return items


def falcon_spans(data: object) -> list[tuple[float, float, str]]:
    spans: list[tuple[float, float, str]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if {"start_sec", "end_sec", "speaker_tag"} <= node.keys():
                spans.append((float(node["start_sec"]), float(node["end_sec"]), str(node["speaker_tag"])))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    return spans


def bench_mono(transcriber: WhisperTranscriber, quick: bool) -> None:
    print("\n== mono, diarize: true — ASR + diarization (RTF includes ASR) ==")
    options = JobCreateParams(diarize=True)
    total_audio = total_wall = 0.0
    for name, path, truth_spans, ref_words in mono_items(quick):
        audio = decode_audio(path)
        t0 = time.perf_counter()
        result = transcriber.transcribe_audio(audio, options)
        wall = time.perf_counter() - t0
        total_audio += audio.duration
        total_wall += wall
        hyp_spans = [(s.start, s.end, str(s.speaker)) for s in result.segments]
        reference, hypothesis = annotation(truth_spans), annotation(hyp_spans)
        metric = DiarizationErrorRate(collar=0.25, skip_overlap=False)
        row = Row(name, audio.duration, wall)
        row.der = float(metric(reference, hypothesis))
        mapping = {str(k): str(v) for k, v in metric.optimal_mapping(reference, hypothesis).items()}
        row.speakers = f"{result.speakers}/{len(set(s[2] for s in truth_spans))}"
        row.talk_err = talk_ratio_error(truth_spans, hyp_spans, mapping)
        if ref_words:
            row.wer = wer(ref_words, [w for word in result.words for w in norm_words(word.word)])
        print(row.show(), flush=True)
    print(f"MONO TOTAL: RTF {total_wall / total_audio:.3f} over {total_audio:.0f}s of audio")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two sample calls, no AMI/falcon")
    parser.add_argument("--only", choices=["stereo", "mono"])
    args = parser.parse_args(argv)
    transcriber = WhisperTranscriber()
    load = time.perf_counter()
    get_model(transcriber.model, cpu_threads=transcriber.cpu_threads)
    loadavg = Path("/proc/loadavg").read_text().split()[:3]
    print(f"model load {time.perf_counter() - load:.1f}s; load average {loadavg} (2 cores, shared)")
    if args.only in (None, "stereo"):
        bench_stereo(transcriber, args.quick)
    if args.only in (None, "mono"):
        bench_mono(transcriber, args.quick)
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
