"""Diarization benchmark on recordings with third-party speaker references (mono path, ``diarize: true``).

Run: ``uv run --no-sync python benchmarks/bench_diarization.py [--set dev|eval] [--fresh] [--only NAME,...]``
(``--stage-cpu resemblyzer,campplus [--rounds 2]``: the speaker stage's CPU per embedding, side by side)

Data discipline (../shared/realdata/SOURCES.md): ``pyannote_ami_train/`` and
``google_commercial_call/`` are **evaluation only**: thresholds are tuned on the development rows,
the evaluation rows are printed in their own table and never used to choose anything.

Speed: the speech regions and the recognised words of every file are cached
(``~/.cache/hearkit/bench_diarization``, keyed by the file's bytes and the model) with the wall and
CPU seconds they took, so the diarization can be rerun alone (``--fresh`` recomputes them). RTF =
(recognition seconds, from the cache or this run + this run's diarization and assembly seconds) /
audio seconds.

Metrics, per file and pooled (pooled = sums over files before dividing):

* **DER** = (missed speech + false alarm + speaker confusion) / reference speech, pyannote.metrics
  ``DiarizationErrorRate(collar=0.25, skip_overlap=False)`` over the file's UEM (the whole file where
  none is given); hypothesis = the result's segments with their speakers. ``miss``, ``fa`` and
  ``conf`` are the three terms over the same denominator, so they add up to DER.
* **Missed speech against the detectors** (:class:`MissParts`, from the reference and the
  detectors alone): reference speaker-time that neither the segmentation nor Silero hears (the
  floor no reassignment reaches), that only Silero hears, overlap the segmentation's count leaves
  under two voices, voices beyond two at once (beyond the powerset model's reach), and the DER miss
  term of oracle hypotheses: with the segmentation's count and perfect assignment, and the best
  reachable (up to two true speakers wherever either detector hears).
* **Speakers** found / true: found = ``Result.speakers``; ``±1`` counts files within one speaker.
* **Talk-share error** = max over true speakers of |found share − true share| in percentage points;
  share = the union of a speaker's spans / the sum of all speakers' spans; found labels mapped to
  true ones by DER's optimal mapping (unmapped found speakers count for nobody, so a phantom's
  share shows up as the true speakers' shortfall).
* **Mono vs stereo truth**: for calls with one party per channel (the contact-centre calls, the
  SpokenWOZ call, the sample calls) the mono mix is diarized and its talk shares compared with the
  truth taken from the separate channels: that is the talk-share column of those rows.
* **Flags**: a call is *wrong* when its count is off (two-party calls: not exactly 2; meetings: off
  by more than 1) or its talk-share error is > 5 pp; it is *flagged* when its quality block carries
  a warning (or worse) flag about the speaker count or talk ratio (ASR-only flags do not count).
  Printed: wrong calls flagged / wrong calls, right calls flagged / right calls (false alarms).
* Two-party calls run as ``hearkit analyze --mono`` runs them: ``speakers_expected=2``.

Truth for the split-channel calls (aws_lca, SpokenWOZ) comes from a plain energy detector, not
hearkit's (``references.channel_truth``: 50 ms frames 20 dB above the channel's 10th-percentile
level and above -50 dBFS, pauses < 0.3 s bridged, runs < 0.1 s dropped).

Machine note: 2 cores shared with other engineers' jobs; wall times move with their load (printed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pyannote.core import Annotation, Segment, Timeline
from pyannote.metrics.diarization import DiarizationErrorRate
from references import Spans, channel_truth, falcon_spans, rttm_spans

from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.engine.pipeline import diarize as diarize_module
from hearkit.engine.pipeline.asr import RecognizedWord, resolve_model
from hearkit.engine.pipeline.decode import SAMPLE_RATE, DecodedAudio, decode_audio
from hearkit.engine.pipeline.diarize import SpeakerConstraints
from hearkit.engine.pipeline.segmentation import FRAME_STEP, Segmentation
from hearkit.engine.pipeline.transcriber import _single_signal
from hearkit.engine.pipeline.vad import speech_regions
from hearkit.schema import JobCreateParams, Result

warnings.filterwarnings("ignore", message="'uem' was approximated")
warnings.filterwarnings("ignore", category=UserWarning, module="pyannote")

REPO = Path(__file__).resolve().parents[1]
REAL = REPO / ".." / "shared" / "realdata"
SAMPLES = REPO / "sample_data"
CACHE = Path.home() / ".cache" / "hearkit" / "bench_diarization"


PEERS = [
    ("pyannote 2022.07", "AMI Mix-Headset (full test set)", "18.2 %", "no collar, overlap scored"),
    ("pyannote 2022.07", "CALLHOME (part 2)", "30.2 %", "no collar, overlap scored"),
    ("diarize (CPU-only package)", "AMI Mix-Headset", "~15 %", "its README; collar not stated"),
]


@dataclass
class Item:
    name: str
    folder: str
    audio: DecodedAudio
    truth: Spans | None
    true_speakers: int
    two_party: bool
    key: str
    uem: tuple[float, float] | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    item: Item
    result: Result
    asr_s: float
    label_s: float
    terms: dict[str, float] = field(default_factory=dict)
    talk_err: float = float("nan")
    quality_s: float = 0.0
    label_cpu_s: float = 0.0
    segment_cpu_s: float = 0.0
    """CPU seconds of the segmentation model's run inside ``label_cpu_s``."""
    count: npt.NDArray[np.int64] | None = None
    """The segmentation's per-frame speaker count of this run (recorded, not recomputed)."""
    regions: list[tuple[int, int]] = field(default_factory=list)
    """The recogniser's Silero regions (cached with the words)."""

    @property
    def found(self) -> int:
        return int(self.result.speakers or 0)

    @property
    def rtf(self) -> float:
        return (self.asr_s + self.label_s) / self.item.audio.duration

    @property
    def count_ok(self) -> bool:
        if self.item.two_party:
            return self.found == 2
        return abs(self.found - self.item.true_speakers) <= 1

    @property
    def wrong(self) -> bool:
        return not self.count_ok or (not np.isnan(self.talk_err) and self.talk_err > 5.0)

    @property
    def trust(self) -> str:
        return "none" if self.result.quality is None else self.result.quality.trust

    @property
    def flags(self) -> list[str]:
        """Codes of the flags that doubt the speaker count or talk shares (warning or worse)."""
        quality = self.result.quality
        if quality is None:
            return []
        return [
            f.code
            for f in quality.flags
            if f.severity != "info" and {"speaker_count", "talk_ratio"} & set(f.affects)
        ]


# -- references ------------------------------------------------------------------------------------
def table_spans(path: Path) -> Spans:
    spans = []
    for line in path.read_text().splitlines():
        parts = line.replace(",", " ").split()
        if len(parts) >= 3:
            spans.append((float(parts[0]), float(parts[1]), parts[2]))
    return spans


def mixed(samples: list[npt.NDArray[np.float32]]) -> DecodedAudio:
    length = min(len(s) for s in samples)
    mix = np.mean(np.stack([s[:length] for s in samples]), axis=0).astype(np.float32)
    return DecodedAudio(samples=mix[None, :], source_rate=SAMPLE_RATE, source_channels=1)


def level_mix(first: npt.NDArray[np.float32], second: npt.NDArray[np.float32], db: float) -> DecodedAudio:
    """Two separately recorded parties mixed to mono with ``first`` ``db`` dB louder than at equal gain."""
    return mixed([first * np.float32(10 ** (db / 20)), second])


LEVELS_DB = (-6.0, 0.0, 6.0)
"""Relative levels of the first party in the development level mixes."""
SERIOUSLY_SOURCES = {"source0": "MEO015", "source1": "FEE013", "source3": "FEE016"}
"""The ami_seriously headset sources and the RTTM speaker each one carries (its energy detector's
speech lies 95, 90 and 100 % inside that speaker's reference turns and covers 82, 82 and 94 % of them;
source2, MEE014's headset, who talks 1.2 s, is mostly the others' crosstalk and is left out)."""


def file_key(*paths: Path) -> str:
    digest = hashlib.sha1()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def wanted(name: str, only: str | None) -> bool:
    """``--only``: comma-separated parts, each a substring of the item's name, or its whole name
    when it ends in ``$``."""
    if only is None:
        return True
    parts = [p for p in only.split(",") if p]
    return any(name == p[:-1] if p.endswith("$") else p in name for p in parts)


def development_items(only: str | None) -> list[Item]:
    items: list[Item] = []

    def want(name: str) -> bool:
        return wanted(name, only)

    if want("pyannote_sample"):
        path = REAL / "pyannote_sample" / "sample.wav"
        truth = rttm_spans(REAL / "pyannote_sample" / "sample.rttm")
        items.append(
            Item("pyannote_sample", "pyannote_sample", decode_audio(path), truth, 2, True, file_key(path))
        )
    debug = REAL / "pyannote_ami_debug"
    for uri, rttm in (
        ("dev00", "development"),
        ("dev01", "development"),
        ("tst00", "test"),
        ("tst01", "test"),
    ):
        if want(uri):
            path = debug / f"{uri}.wav"
            truth = rttm_spans(debug / f"debug.{rttm}.rttm", uri)
            n = len({s[2] for s in truth})
            items.append(
                Item(uri, "pyannote_ami_debug", decode_audio(path), truth, n, False, file_key(path), (0, 30))
            )
    if want("ami_seriously"):
        path = REAL / "pyannote_ami_seriously" / "mixture.wav"
        truth = rttm_spans(REAL / "pyannote_ami_seriously" / "mixture.rttm")
        items.append(
            Item(
                "ami_seriously", "pyannote_ami_seriously", decode_audio(path), truth, 4, False, file_key(path)
            )
        )
    if want("EN2002a_30s"):
        path = REAL / "diarizen_ami_en2002a" / "EN2002a_30s.wav"
        truth = rttm_spans(REAL / "diarizen_ami_en2002a" / "EN2002a_30s.derived.rttm")
        items.append(
            Item("EN2002a_30s", "diarizen_ami_en2002a", decode_audio(path), truth, 4, False, file_key(path))
        )
    for stem in ("diarizationExample", "diarizationExample2"):
        if want(stem):
            path = REAL / "pyaudioanalysis" / f"{stem}.wav"
            truth = table_spans(REAL / "pyaudioanalysis" / f"{stem}.segments")
            n = len({s[2] for s in truth})
            items.append(Item(stem, "pyaudioanalysis", decode_audio(path), truth, n, False, file_key(path)))
    if want("falcon"):
        path = REAL / "picovoice_falcon" / "test.wav"
        truth = falcon_spans(REAL / "picovoice_falcon" / "test_data.json")
        items.append(Item("falcon", "picovoice_falcon", decode_audio(path), truth, 3, False, file_key(path)))
    for call in ("40", "49"):
        if want(f"aws_lca_{call}.mix"):
            legs = [
                REAL / "aws_lca_calls" / f"Auto_Repairs_{call}_UTC_{leg}.wav" for leg in ("agent", "caller")
            ]
            decoded = [decode_audio(p).samples[0] for p in legs]
            truth = channel_truth(decoded[0], "agent") + channel_truth(decoded[1], "caller")
            items.append(
                Item(f"aws_lca_{call}.mix", "aws_lca_calls", mixed(decoded), truth, 2, True, file_key(*legs))
            )
    if want("spokenwoz.mix"):
        path = REAL / "spokenwoz_speechbrain" / "MUL1011.opus"
        stereo = decode_audio(path).samples
        truth = channel_truth(stereo[0], "user") + channel_truth(stereo[1], "agent")
        items.append(
            Item(
                "spokenwoz.mix",
                "spokenwoz_speechbrain",
                mixed([stereo[0], stereo[1]]),
                truth,
                2,
                True,
                file_key(path),
            )
        )
    items += level_mix_items(want)
    for truth_path in sorted(SAMPLES.glob("*.truth.json")):
        data = json.loads(truth_path.read_text())
        if want(data["call_id"] + ".mono"):
            path = SAMPLES / f"{data['call_id']}.mono.ogg"
            truth = [(t["start"], t["end"], t["speaker"]) for t in data["turns"]]
            items.append(
                Item(
                    data["call_id"] + ".mono",
                    "sample_data",
                    decode_audio(path),
                    truth,
                    2,
                    True,
                    file_key(path),
                )
            )
    return items


def gated(signal: npt.NDArray[np.float32], label: str) -> tuple[npt.NDArray[np.float32], Spans]:
    """A headset signal kept only where its own energy detector (:func:`references.channel_truth`)
    hears its speaker (10 ms ramps at the edges), and those spans: the other speakers' crosstalk
    between them is muted, so the mix holds the two parties and nobody else."""
    truth = channel_truth(signal, label)
    gain = np.zeros(len(signal), dtype=np.float32)
    for start, end, _ in truth:
        gain[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)] = 1.0
    ramp = np.ones(SAMPLE_RATE // 100, dtype=np.float32) / (SAMPLE_RATE // 100)
    gain = np.convolve(gain, ramp, mode="same").astype(np.float32)
    return signal * gain, truth


def level_mix_items(want: Any) -> list[Item]:
    """Development two-party mixes made here from separately recorded parties (issue 20, fourth round):

    * ``seriously.<a>+<b>@<dB>``: two of ami_seriously's headset sources (:data:`SERIOUSLY_SOURCES`),
      each kept only where its own energy detector hears it (:func:`gated`: the other speakers'
      crosstalk, which the segmentation heard as a third voice in 12-18 s of the ungated mixes with
      source3, is muted), mixed at :data:`LEVELS_DB`: real two-voice overlap; truth = those spans;
    * ``aws_lca_<call>.mix@<dB>``: the contact-centre calls' agent and caller legs at -6 and +6 dB
      (0 dB is the ``.mix`` row); truth = each leg's own energy (:func:`references.channel_truth`);
    * ``<sample call>.stereo@<dB>``: the sample calls' two channels mixed, the rep's channel +6 dB
      (calls 01, 03, 05, 07) or -6 dB (02, 04, 06) against the customer's; truth = the script's turns.

    All run as two-party calls (``speakers_expected=2``)."""
    items: list[Item] = []
    seriously = REAL / "pyannote_ami_seriously"
    names = list(SERIOUSLY_SOURCES)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            for db in LEVELS_DB:
                name = f"seriously.{a[-1]}+{b[-1]}@{db:+.0f}"
                if not want(name):
                    continue
                paths = [seriously / "sources" / f"{x}.wav" for x in (a, b)]
                parts = [
                    gated(decode_audio(path).samples[0], SERIOUSLY_SOURCES[x])
                    for path, x in zip(paths, (a, b), strict=True)
                ]
                truth = parts[0][1] + parts[1][1]
                key = f"{file_key(*paths)}g{db:+.0f}"
                audio = level_mix(parts[0][0], parts[1][0], db)
                items.append(Item(name, "seriously_pairs", audio, truth, 2, True, key))
    for call in ("40", "49"):
        for db in (-6.0, 6.0):
            name = f"aws_lca_{call}.mix@{db:+.0f}"
            if not want(name):
                continue
            legs = [
                REAL / "aws_lca_calls" / f"Auto_Repairs_{call}_UTC_{leg}.wav" for leg in ("agent", "caller")
            ]
            agent, caller = (decode_audio(p).samples[0] for p in legs)
            truth = channel_truth(agent, "agent") + channel_truth(caller, "caller")
            key = f"{file_key(*legs)}{db:+.0f}"
            items.append(Item(name, "aws_lca_levels", level_mix(agent, caller, db), truth, 2, True, key))
    for index, truth_path in enumerate(sorted(SAMPLES.glob("*.truth.json"))):
        data = json.loads(truth_path.read_text())
        db = 6.0 if index % 2 == 0 else -6.0
        name = f"{data['call_id']}.stereo@{db:+.0f}"
        if not want(name):
            continue
        path = SAMPLES / f"{data['call_id']}.stereo.ogg"
        stereo = decode_audio(path).samples
        rep_channel = next(t["channel"] for t in data["turns"] if t["role"] == "rep")
        first, second = stereo[rep_channel], stereo[1 - rep_channel]
        truth = [(t["start"], t["end"], t["speaker"]) for t in data["turns"]]
        key = f"{file_key(path)}{db:+.0f}"
        items.append(Item(name, "sample_levels", level_mix(first, second, db), truth, 2, True, key))
    return items


def evaluation_items(only: str | None) -> list[Item]:
    items: list[Item] = []
    train = REAL / "pyannote_ami_train"
    for index in range(10):
        uri = f"trn{index:02d}"
        if wanted(uri, only):
            path = train / f"{uri}.wav"
            truth = rttm_spans(train / "debug.train.rttm", uri)
            n = len({s[2] for s in truth})
            items.append(
                Item(uri, "pyannote_ami_train", decode_audio(path), truth, n, False, file_key(path), (0, 30))
            )
    if wanted("commercial_mono", only):
        path = REAL / "google_commercial_call" / "commercial_mono.wav"
        items.append(
            Item(
                "commercial_mono", "google_commercial_call", decode_audio(path), None, 2, True, file_key(path)
            )
        )
    return items


# -- running ---------------------------------------------------------------------------------------
def recognised(
    transcriber: WhisperTranscriber, item: Item, fresh: bool
) -> tuple[Any, list[Any], list[RecognizedWord], float]:
    """The mono signal, its speech regions and words: from the cache, or computed and cached."""
    signal = _single_signal(item.audio)
    model = Path(resolve_model(transcriber.model)).name
    cache = CACHE / f"{item.key}-{model}-b{transcriber.beam_size}.json"
    if cache.exists() and not fresh:
        data = json.loads(cache.read_text())
        regions = [tuple(r) for r in data["regions"]]
        words = [RecognizedWord(**w) for w in data["words"]]
        return signal, regions, words, float(data["asr_s"])
    t0 = time.perf_counter()
    regions = speech_regions(signal, transcriber.vad)
    from hearkit.engine.pipeline.asr import DecodeSettings

    settings = DecodeSettings(beam_size=transcriber.beam_size, batch_size=transcriber.batch_size)
    words = transcriber._recognize([signal], [regions], settings).words
    asr_s = time.perf_counter() - t0
    CACHE.mkdir(parents=True, exist_ok=True)
    payload = {
        "regions": regions,
        "words": [w.__dict__ for w in words],
        "asr_s": asr_s,
        "load": Path("/proc/loadavg").read_text().split()[:3],
    }
    cache.write_text(json.dumps(payload))
    return signal, regions, words, asr_s


def annotation(spans: Spans) -> Annotation:
    ann = Annotation()
    for start, end, label in spans:
        if end > start:
            ann[Segment(start, end)] = label
    return ann


def shares(spans: Spans) -> dict[str, float]:
    totals: dict[str, float] = {}
    reach: dict[str, float] = {}
    for start, end, label in sorted(spans):
        begin = max(start, reach.get(label, float("-inf")))
        totals[label] = totals.get(label, 0.0) + max(0.0, end - begin)
        reach[label] = max(reach.get(label, float("-inf")), end)
    whole = sum(totals.values()) or 1.0
    return {k: 100 * v / whole for k, v in totals.items()}


def talk_share_error(truth: Spans, found: Spans, mapping: dict[str, str]) -> float:
    true_share = shares(truth)
    found_share: dict[str, float] = {}
    for label, value in shares(found).items():
        if label in mapping:
            found_share[mapping[label]] = found_share.get(mapping[label], 0.0) + value
    return max(abs(found_share.get(k, 0.0) - v) for k, v in true_share.items())


def run(transcriber: WhisperTranscriber, item: Item, fresh: bool) -> Outcome:
    signal, regions, words, asr_s = recognised(transcriber, item, fresh)
    # A two-party call is run as `hearkit analyze --mono` runs it: speakers_expected=2.
    options = JobCreateParams(diarize=True, speakers_expected=2 if item.two_party else None, **item.options)
    seen: list[Segmentation] = []
    real_segment = diarize_module.__dict__["segment"]

    segment_cpu: list[float] = []

    def recording(*args: Any, **kwargs: Any) -> Segmentation:
        c0 = time.process_time()
        seg: Segmentation = real_segment(*args, **kwargs)
        segment_cpu.append(time.process_time() - c0)
        seen.append(seg)
        return seg

    diarize_module.__dict__["segment"] = recording
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        result = transcriber.label_speakers(signal, regions, words, options, item.audio.duration)
        outcome = Outcome(item, result, asr_s, time.perf_counter() - t0, label_cpu_s=time.process_time() - c0)
    finally:
        diarize_module.__dict__["segment"] = real_segment
    outcome.count = seen[0].count if seen else None
    outcome.segment_cpu_s = sum(segment_cpu)
    outcome.regions = [(int(a), int(b)) for a, b in regions]
    # The quality block's own cost, timed again on its own (the activity is computed for trimming anyway).
    from hearkit.engine.pipeline.quality import mono_quality
    from hearkit.engine.pipeline.vad import energy_activity

    activity = energy_activity(signal)
    q0 = time.perf_counter()
    mono_quality(result, None, SpeakerConstraints(expected=options.speakers_expected), activity, regions)
    outcome.quality_s = time.perf_counter() - q0
    if item.truth is not None:
        found = [(s.start, s.end, str(s.speaker)) for s in result.segments]
        reference, hypothesis = annotation(item.truth), annotation(found)
        start, end = item.uem or (0.0, item.audio.duration)
        uem = Timeline([Segment(start, end)])
        metric = DiarizationErrorRate(collar=0.25, skip_overlap=False)
        outcome.terms = dict(metric(reference, hypothesis, uem=uem, detailed=True))
        mapping = {str(k): str(v) for k, v in metric.optimal_mapping(reference, hypothesis).items()}
        outcome.talk_err = talk_share_error(item.truth, found, mapping)
    return outcome


# -- printing --------------------------------------------------------------------------------------
@dataclass
class MissParts:
    """Where the reference speech lies against what the detectors hear, per 16.9 ms segmentation frame
    (frame middles inside the UEM; no collar). Seconds of reference speaker-time (a frame where k people
    talk counts k × 16.9 ms):

    * ``speech``: all of it;
    * ``unheard``: in frames where neither the segmentation (its per-frame count is 0) nor the
      recogniser's Silero regions (threshold 0.3, 0.2 s padding, cached with the words) hear anyone:
      no reassignment of the detected speech can label it, the floor of the miss;
    * ``silero_only``: in frames only Silero hears (count 0): a diarizer that also labelled Silero's
      regions could reach it; ``silero_empty``: seconds of frames only Silero hears where nobody talks
      (the false alarm labelling them would add);
    * ``under_two``: in frames the segmentation hears, the voices it under-counts within two
      (count 1 where two or more talk): max(0, min(talking, 2) − count);
    * ``beyond_two``: in frames either detector hears, the voices past the second
      (max(0, talking − 2)): beyond the powerset model's two speakers per window;
    * ``over``: the opposite error, speaker-time the count adds where fewer talk (max(0, count − talking)).

    And two DER miss terms (pyannote.metrics, collar 0.25, the file's UEM, the same as the DER table)
    of oracle hypotheses that take the *true* speakers: ``count_miss`` / ``reachable_miss`` = seconds
    missed when every frame carries the first ``count`` true speakers talking in it (the miss the
    segmentation's count allows with perfect assignment), resp. up to two true speakers in every frame
    the segmentation or Silero hears (the best a diarizer built on these detectors, at most two voices a
    frame, can reach); ``scored`` = the DER's denominator (reference speech after the collar)."""

    speech: float = 0.0
    unheard: float = 0.0
    silero_only: float = 0.0
    silero_empty: float = 0.0
    under_two: float = 0.0
    beyond_two: float = 0.0
    over: float = 0.0
    count_miss: float = 0.0
    reachable_miss: float = 0.0
    scored: float = 0.0

    def __add__(self, other: MissParts) -> MissParts:
        return MissParts(*(a + b for a, b in zip(self.values(), other.values(), strict=True)))

    def values(self) -> list[float]:
        return [
            self.speech,
            self.unheard,
            self.silero_only,
            self.silero_empty,
            self.under_two,
            self.beyond_two,
            self.over,
            self.count_miss,
            self.reachable_miss,
            self.scored,
        ]


def _oracle_miss(
    truth: Spans,
    speakers: list[str],
    talking: npt.NDArray[np.bool_],
    allowed: npt.NDArray[np.int64],
    times: npt.NDArray[np.float64],
    uem: Timeline,
) -> tuple[float, float]:
    """DER miss seconds and denominator of the true speakers kept in at most ``allowed`` per frame."""
    keep = talking & (np.cumsum(talking, axis=1) <= allowed[:, None])
    half = FRAME_STEP / SAMPLE_RATE / 2
    spans: Spans = []
    for k, speaker in enumerate(speakers):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], keep[:, k].astype(np.int8), [0]])))
        spans += [
            (times[a] - half, times[b - 1] + half, speaker)
            for a, b in zip(edges[::2], edges[1::2], strict=True)
        ]
    metric = DiarizationErrorRate(collar=0.25, skip_overlap=False)
    terms = metric(annotation(truth), annotation(spans), uem=uem, detailed=True)
    return float(terms["missed detection"]), float(terms["total"])


def miss_parts(outcome: Outcome) -> MissParts | None:
    """The decomposition of :class:`MissParts` for one file (``None``: no reference or no count)."""
    truth, count = outcome.item.truth, outcome.count
    if truth is None or count is None:
        return None
    start, end = outcome.item.uem or (0.0, outcome.item.audio.duration)
    times = np.asarray(Segmentation.frame_time(np.arange(len(count), dtype=np.float64)))
    inside = (times >= start) & (times < end)
    speakers = sorted({s[2] for s in truth})
    talking = np.zeros((len(times), len(speakers)), dtype=bool)
    for a, b, who in truth:
        talking[:, speakers.index(who)] |= (times >= a) & (times < b)
    talking &= inside[:, None]
    silero = np.zeros(len(times), dtype=bool)
    for a, b in outcome.regions:
        silero |= (times >= a / SAMPLE_RATE) & (times < b / SAMPLE_RATE)
    n = talking.sum(axis=1)
    heard = count > 0
    dt = FRAME_STEP / SAMPLE_RATE
    uem = Timeline([Segment(start, end)])
    count_miss, scored = _oracle_miss(truth, speakers, talking, count, times, uem)
    reach = np.where(heard | silero, 2, 0).astype(np.int64)
    reachable_miss, _ = _oracle_miss(truth, speakers, talking, reach, times, uem)
    return MissParts(
        speech=dt * float(n.sum()),
        unheard=dt * float(n[~heard & ~silero].sum()),
        silero_only=dt * float(n[~heard & silero].sum()),
        silero_empty=dt * float((~heard & silero & inside & (n == 0)).sum()),
        under_two=dt * float(np.clip(np.minimum(n, 2) - count, 0, None)[heard].sum()),
        beyond_two=dt * float(np.clip(n - 2, 0, None)[heard | silero].sum()),
        over=dt * float(np.clip(count - n, 0, None)[inside].sum()),
        count_miss=count_miss,
        reachable_miss=reachable_miss,
        scored=scored,
    )


def print_miss_parts(outcomes: list[Outcome]) -> None:
    """Per file and pooled: where the missed speech lies (:class:`MissParts`) beside this run's miss."""
    rows: list[tuple[Outcome, MissParts]] = []
    for outcome in outcomes:
        parts = miss_parts(outcome)
        if parts is not None:
            rows.append((outcome, parts))
    if not rows:
        return
    print(
        "\nmissed speech against the detectors (reference speaker-time s per 16.9 ms frame, no collar;"
        " DER miss terms with the collar: this run / the segmentation's count with perfect assignment"
        " / best reachable with <= 2 voices wherever the segmentation or Silero hears):\n"
    )
    print(
        "| file | speaker-time s | unheard by both s | Silero only s (nobody talks there s)"
        " | under-counted <= 2 voices s | beyond two s | over-counted s | miss now | count-bound miss"
        " | best reachable miss |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")

    def cells(name: str, group: list[Outcome], parts: MissParts) -> str:
        missed = sum(o.terms.get("missed detection", 0.0) for o in group)
        total = sum(o.terms.get("total", 0.0) for o in group) or float("nan")
        scored = parts.scored or float("nan")
        return (
            f"| {name} | {parts.speech:.1f} | {parts.unheard:.1f} | {parts.silero_only:.1f}"
            f" ({parts.silero_empty:.1f}) |"
            f" {parts.under_two:.1f} | {parts.beyond_two:.1f} | {parts.over:.1f} | {pct(missed / total)} |"
            f" {pct(parts.count_miss / scored)} | {pct(parts.reachable_miss / scored)} |"
        )

    for outcome, parts in rows:
        print(cells(outcome.item.name, [outcome], parts))
    folders: dict[str, list[tuple[Outcome, MissParts]]] = {}
    for outcome, parts in rows:
        folders.setdefault(outcome.item.folder, []).append((outcome, parts))
    for folder, group in folders.items():
        if len(group) > 1:
            print(cells(f"**{folder}**", [o for o, _ in group], sum((p for _, p in group), MissParts())))
    print(cells("**pooled**", [o for o, _ in rows], sum((p for _, p in rows), MissParts())))


def der_parts(outcomes: list[Outcome]) -> tuple[float, float, float, float]:
    scored = [o for o in outcomes if o.terms]
    total = sum(o.terms["total"] for o in scored)
    if not total:
        return (float("nan"),) * 4
    miss = sum(o.terms["missed detection"] for o in scored) / total
    fa = sum(o.terms["false alarm"] for o in scored) / total
    conf = sum(o.terms["confusion"] for o in scored) / total
    return miss + fa + conf, miss, fa, conf


def pct(x: float) -> str:
    return "   –  " if np.isnan(x) else f"{100 * x:5.1f}%"


def line(name: str, outcomes: list[Outcome]) -> str:
    der, miss, fa, conf = der_parts(outcomes)
    exact = sum(o.found == o.item.true_speakers for o in outcomes)
    near = sum(abs(o.found - o.item.true_speakers) <= 1 for o in outcomes)
    errors = [o.talk_err for o in outcomes if not np.isnan(o.talk_err)]
    talk = f"{np.median(errors):5.1f} / {max(errors):5.1f}" if errors else "    –  /   –  "
    audio = sum(o.item.audio.duration for o in outcomes)
    rtf = sum(o.asr_s + o.label_s for o in outcomes) / audio
    flags = f"{outcomes[0].trust}: {' '.join(outcomes[0].flags)}" if len(outcomes) == 1 else ""
    found = (
        f"{outcomes[0].found}/{outcomes[0].item.true_speakers}"
        if len(outcomes) == 1
        else f"{exact}/{len(outcomes)}"
    )
    return (
        f"| {name:24s} | {audio:6.0f} | {pct(der)} | {pct(miss)} | {pct(fa)} | {pct(conf)} | {found:>5s} |"
        f" {near}/{len(outcomes)} | {talk} | {rtf:.3f} | {flags} |"
    )


def print_table(title: str, outcomes: list[Outcome]) -> None:
    print(f"\n### {title}\n")
    print(
        "| file | audio s | DER | miss | FA | conf | spk found/true (files exact) | ±1"
        " | talk-share err pp (median / max) | RTF | trust: count/share flags |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for outcome in outcomes:
        print(line(outcome.item.name, [outcome]))
    folders: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        folders.setdefault(outcome.item.folder, []).append(outcome)
    for folder, group in folders.items():
        if len(group) > 1:
            print(line(f"**{folder}**", group))
    print(line("**pooled**", outcomes))
    audio = sum(o.item.audio.duration for o in outcomes)
    asr = sum(o.asr_s for o in outcomes)
    label = sum(o.label_s for o in outcomes)
    quality = sum(o.quality_s for o in outcomes)
    label_cpu = sum(o.label_cpu_s for o in outcomes)
    segment_cpu = sum(o.segment_cpu_s for o in outcomes)
    print(
        f"\nRTF parts: recognition {asr / audio:.3f} (cached, timed when first computed), speakers + assembly"
        f" + quality {label / audio:.4f} wall ({label:.1f} s; CPU {label_cpu:.1f} s, {label_cpu / audio:.4f}"
        f" per audio second, the segmentation model {segment_cpu:.1f} s of it), of which the quality block"
        f" {quality / audio:.5f} ({quality:.2f} s)"
    )
    print_miss_parts(outcomes)
    wrong = [o for o in outcomes if o.wrong]
    right = [o for o in outcomes if not o.wrong]
    flagged_wrong = sum(bool(o.flags) for o in wrong)
    flagged_right = sum(bool(o.flags) for o in right)
    alarms = ", ".join(f"{o.item.name}: {' '.join(o.flags)}" for o in right if o.flags) or "-"
    print(
        f"\nflags: wrong calls flagged {flagged_wrong}/{len(wrong)}"
        f" ({', '.join(o.item.name for o in wrong) or '-'}); right calls flagged (false alarms)"
        f" {flagged_right}/{len(right)} ({alarms})"
    )


def stereo_items() -> list[tuple[str, DecodedAudio, Spans]]:
    """Calls with one party per channel, as stereo, with the channel truth of their mono mixes."""
    items: list[tuple[str, DecodedAudio, Spans]] = []
    for call in ("40", "49"):
        legs = [
            decode_audio(REAL / "aws_lca_calls" / f"Auto_Repairs_{call}_UTC_{leg}.wav").samples[0]
            for leg in ("agent", "caller")
        ]
        truth = channel_truth(legs[0], "speaker_0") + channel_truth(legs[1], "speaker_1")
        items.append((f"aws_lca_{call}", DecodedAudio(np.stack(legs), SAMPLE_RATE, 2), truth))
    stereo = decode_audio(REAL / "spokenwoz_speechbrain" / "MUL1011.opus")
    truth = channel_truth(stereo.samples[0], "speaker_0") + channel_truth(stereo.samples[1], "speaker_1")
    items.append(("spokenwoz", stereo, truth))
    for truth_path in sorted(SAMPLES.glob("*.truth.json")):
        data = json.loads(truth_path.read_text())
        spans = [(t["start"], t["end"], f"speaker_{t['channel']}") for t in data["turns"]]
        items.append((data["call_id"], decode_audio(SAMPLES / f"{data['call_id']}.stereo.ogg"), spans))
    return items


def bench_stereo(transcriber: WhisperTranscriber, mono: dict[str, list[float]] | None = None) -> None:
    """The stereo path (``channel: true``) with its quality block: RTF, the block's own cost, the
    stereo result's talk shares against the channel truth (the same truth as the mono mixes' rows),
    and *mono vs stereo*: the largest difference between the mono mix's talk shares (this run's
    development row of the same call, ``mono``) and the stereo result's, in pp, the two sorted by
    size (two-party calls: no labels to map)."""
    from hearkit.engine.pipeline.quality import stereo_quality
    from hearkit.engine.pipeline.transcriber import _correlation

    print("\n### stereo path, channel: true (same run)\n")
    print(
        "| call | audio s | wall s | CPU s | RTF | quality block s | talk-share err pp | mono vs stereo pp"
        " | unattributed | trust: flags |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    total_audio = total_wall = total_quality = 0.0
    for name, audio, truth in stereo_items():
        t0, c0 = time.perf_counter(), time.process_time()
        result = transcriber.transcribe_audio(audio, JobCreateParams(channel=True))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        # The block's own cost, measured again on its own: correlation + flags (VAD, ASR excluded).
        q0 = time.perf_counter()
        activity, regions, bleed = transcriber._stereo_regions(audio)
        v0 = time.perf_counter() - q0
        q1 = time.perf_counter()
        stereo_quality(result, _correlation(audio.samples), bleed, activity, regions)
        quality_s = time.perf_counter() - q1
        found = [(s.start, s.end, str(s.speaker)) for s in result.segments]
        err = talk_share_error(truth, found, {"speaker_0": "speaker_0", "speaker_1": "speaker_1"})
        mono_shares = next((v for k, v in (mono or {}).items() if k.split(".")[0] == name), None)
        stereo_shares = sorted(shares(found).values())
        agree = (
            "–"
            if mono_shares is None or len(mono_shares) != len(stereo_shares)
            else f"{max(abs(a - b) for a, b in zip(sorted(mono_shares), stereo_shares, strict=True)):.1f}"
        )
        flags = (
            ""
            if result.quality is None
            else f"{result.quality.trust}: " + " ".join(f.code for f in result.quality.flags)
        )
        total_audio += audio.duration
        total_wall += wall
        total_quality += quality_s
        print(
            f"| {name} | {audio.duration:.0f} | {wall:.1f} | {cpu:.1f} | {wall / audio.duration:.3f} |"
            f" {quality_s:.3f} (regions {v0:.2f}, reused) | {err:.1f} | {agree} |"
            f" {result.quality.unattributed_speech if result.quality else None} | {flags} |",
            flush=True,
        )
    print(
        f"| **total** | {total_audio:.0f} | {total_wall:.1f} | | {total_wall / total_audio:.3f} |"
        f" {total_quality:.2f} (RTF +{total_quality / total_audio:.4f}) | | | | |"
    )


def bench_stage_cpu(
    transcriber: WhisperTranscriber, items: list[Item], kinds: list[str], rounds: int
) -> None:
    """The speaker stage's CPU under each voice embedding, side by side in one process: every file under
    every embedding in turn (``rounds`` times, interleaved, so both see the same load). Speaker stage =
    :meth:`WhisperTranscriber.label_speakers` (segmentation, voice windows, clustering, turns, words to
    turns, quality block); per audio second = its CPU seconds / the files' audio seconds. Mono RTF =
    the recognition's seconds per audio second (cached, timed when first computed: CPU RTF of the
    recogniser, which does not depend on the embedding) + the stage's CPU per audio second."""
    import os

    env = diarize_module.EMBEDDING_ENV
    before = os.environ.get(env)
    audio = sum(item.audio.duration for item in items)
    cpu = {kind: [0.0, 0.0] for kind in kinds}  # kind -> [stage CPU s, segmentation model CPU s]
    asr = 0.0
    load = [float(Path("/proc/loadavg").read_text().split()[0])]
    try:
        for _ in range(rounds):
            for item in items:
                for kind in kinds:
                    os.environ[env] = kind
                    outcome = run(transcriber, item, False)
                    cpu[kind][0] += outcome.label_cpu_s
                    cpu[kind][1] += outcome.segment_cpu_s
                asr += outcome.asr_s
                load.append(float(Path("/proc/loadavg").read_text().split()[0]))
    finally:
        if before is None:
            os.environ.pop(env, None)
        else:
            os.environ[env] = before
    total = audio * rounds
    print(
        f"\n### speaker stage CPU, side by side ({len(items)} files, {audio:.0f} audio s, {rounds} rounds)\n"
    )
    print(f"load average (1 min) over the run: {min(load)}-{max(load)}")
    print(
        "| embedding | stage CPU s per audio s | segmentation model of it | the rest"
        " | mono RTF (recognition + stage) |"
    )
    print("|---|---|---|---|---|")
    for kind in kinds:
        stage, seg = cpu[kind][0] / total, cpu[kind][1] / total
        print(
            f"| {kind} | {stage:.4f} | {seg:.4f} | {stage - seg:.4f}"
            f" | {asr / total:.3f} + {stage:.4f} = {asr / total + stage:.3f} |"
        )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set",
        choices=["dev", "eval", "none"],
        help="only the development or evaluation table (none: neither)",
    )
    parser.add_argument(
        "--only",
        help="only files whose name contains one of these comma-separated parts (NAME$: exactly NAME)",
    )
    parser.add_argument("--fresh", action="store_true", help="recompute the cached recognition output")
    parser.add_argument("--json", type=Path, help="also write per-file figures here")
    parser.add_argument(
        "--stereo", action="store_true", help="also run the stereo path on the split-channel calls"
    )
    parser.add_argument(
        "--stage-cpu",
        metavar="KIND,KIND",
        help="instead of the tables: the speaker stage's CPU under these voice embeddings, interleaved"
        " (e.g. resemblyzer,campplus; development files, narrowed by --only)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="rounds of --stage-cpu (default 2)")
    args = parser.parse_args(argv)
    transcriber = WhisperTranscriber()
    print(f"load average {Path('/proc/loadavg').read_text().split()[:3]} (2 cores, shared); tiny.en int8")
    if args.stage_cpu:
        bench_stage_cpu(transcriber, development_items(args.only), args.stage_cpu.split(","), args.rounds)
        return
    rows: list[dict[str, Any]] = []
    mono: dict[str, list[float]] = {}  # a call's mono talk shares (pp), for the stereo table
    for title, items in (
        ("development (tuned on)", development_items(args.only) if args.set in (None, "dev") else []),
        ("EVALUATION (never tuned on)", evaluation_items(args.only) if args.set in (None, "eval") else []),
    ):
        if not items:
            continue
        outcomes = []
        for item in items:
            outcome = run(transcriber, item, args.fresh)
            outcomes.append(outcome)
            mono[item.name] = list(
                shares([(g.start, g.end, str(g.speaker)) for g in outcome.result.segments]).values()
            )
            rows.append(
                {
                    "name": item.name,
                    "set": title.split()[0].lower(),
                    "terms": outcome.terms,
                    "found": outcome.found,
                    "true": item.true_speakers,
                    "talk_err": outcome.talk_err,
                    "rtf": outcome.rtf,
                    "trust": outcome.trust,
                    "flags": outcome.flags,
                    "quality": None if outcome.result.quality is None else outcome.result.quality.to_api(),
                }
            )
        print_table(title, outcomes)
    if args.stereo:
        bench_stereo(transcriber, mono)
    print("\n### peers (published figures, not run here; metric notes differ)\n")
    for system, data, der, note in PEERS:
        print(f"| {system} | {data} | {der} | {note} |")
    print(f"\nload average at the end {Path('/proc/loadavg').read_text().split()[:3]}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
