"""Mono speaker diarization, overlap-aware: who speaks when, two at once where they overlap.

1. **Segmentation** (:mod:`hearkit.engine.pipeline.segmentation`, pyannote segmentation-3.0 in
   ONNX): 10 s windows every second give up to 3 *local* speakers per window, overlap allowed,
   and the number of people speaking in every frame (16.9 ms) of the file.
2. **Voice windows**: 1.6 s windows inside the speech the segmentation found, every
   :attr:`VoiceSettings.hop_s` (:data:`WINDOW_HOP_S` for Resemblyzer, 1.5 s for CAM++), embedded
   with the voice embedding :data:`EMBEDDING_ENV` names: Resemblyzer's encoder by default (numpy
   port, :mod:`hearkit.engine.pipeline.speaker_encoder`), or CAM++
   (:mod:`hearkit.engine.pipeline.campplus`). A window is *clean* when one local speaker
   speaks alone in at least :data:`CLEAN_SHARE` of it (no overlap, no change of speaker).
3. **Clustering** of the clean windows: average linkage (cosine), cut at every count from 2 to
   :data:`MAX_SPEAKERS`, refined by moving windows to their nearest centroid; the count with
   the best silhouette wins, or one speaker if none reaches :data:`MIN_SILHOUETTE`. Clusters
   holding less than :data:`MIN_CLUSTER_SHARE` of the windows are merged into the nearest large
   cluster, so a stray cluster never becomes a phantom speaker; under
   :data:`MIN_WINDOWS_TO_SPLIT` windows (about 9 s of speech) the file is one speaker (JFK's 11 s
   split into three "speakers" without this rule). When the clean windows allow no split, the
   windows over the recogniser's VAD regions are clustered instead (aligned with utterances, so a
   short answer keeps a window of its own: the contact-centre call 49 needs it).
4. **Local to global**: every (window, local speaker) gets a voice print (the mean of the clean
   voice windows inside the window where it speaks alone, else an embedding of its own frames)
   and the most similar cluster, two local speakers of one window never sharing a cluster.
5. **Reconstruction** (as pyannote's): a frame's score for a speaker is the share of the windows
   covering it that give it to that speaker, plus :data:`VOICE_WEIGHT` × the similarity of the
   voice windows covering it to that speaker's centroid; the frame goes to its ``count`` best
   speakers (``count`` from step 1), so overlapped frames get two speakers and turns may overlap;
   the speakers after the first are ranked with a lighter voice term (:data:`OVERLAP_VOICE_WEIGHT`).

Labels are ``speaker_0``, ``speaker_1``, … in order of first appearance.

**Speaker count with a margin.** Every count the trees produce gets a score, its silhouette
(cosine; one speaker scores :data:`MIN_SILHOUETTE`, the bar a split must clear). The count is
chosen among the allowed ones and reported in :class:`SpeakerCount` with its *margin*: its score
minus the best score of any other count (small = the audio hardly prefers it). Constraints
(:class:`SpeakerConstraints`, the job options): ``min_speakers``/``max_speakers`` are hard bounds;
``speakers_expected`` is chosen whenever a split into that many clusters exists and reaches
:data:`EXPECTED_FLOOR`, and another count only when its score beats the expected count's by
:data:`STRONG_MARGIN` ("unless the audio strongly says otherwise"); the count the audio alone
would have chosen is kept in ``audio_count`` so the result can say what was overridden.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hearkit.engine.pipeline.decode import SAMPLE_RATE
from hearkit.engine.pipeline.segmentation import (
    FRAME_SIZE,
    FRAME_STEP,
    LOCAL_SPEAKERS,
    Segmentation,
    segment,
)
from hearkit.engine.pipeline.speaker_encoder import (
    FRAMES_PER_PARTIAL,
    HOP,
    default_encoder,
    mel_spectrogram,
    normalize_volume,
)

__all__ = [
    "DEFAULT_EMBEDDING",
    "EMBEDDING_ENV",
    "EXPECTED_FLOOR",
    "MAX_SPEAKERS",
    "MIN_CLUSTER_SHARE",
    "MIN_SILHOUETTE",
    "MIN_WINDOWS_TO_SPLIT",
    "SAME_VOICE_SIMILARITY",
    "SMALL_CLUSTER_SHARE",
    "STRONG_MARGIN",
    "VOICE_SETTINGS",
    "WINDOW_HOP_S",
    "Diarization",
    "SpeakerConstraints",
    "SpeakerCount",
    "Turn",
    "VoiceSettings",
    "choose_count",
    "diarize",
    "diarize_regions",
    "speaker_at",
    "speaker_embedding",
]

WINDOW_HOP_S = 0.75
MIN_SILHOUETTE = 0.1
MAX_SPEAKERS = 6
MIN_CLUSTER_SHARE = 0.05
SMALL_CLUSTER_SHARE = 0.2
SAME_VOICE_SIMILARITY = 0.8
MIN_WINDOWS_TO_SPLIT = 12
STRONG_MARGIN = 0.1
"""Silhouette by which another count must beat ``speakers_expected`` to be chosen instead."""
EXPECTED_FLOOR = 0.0
CLEAN_SHARE = 0.6
"""Share of an embedding window's frames one local speaker must speak alone in for the window to
take part in clustering (windows with two voices or a speaker change blur the voice clusters)."""
VOICE_WEIGHT = 5.0
"""Weight of the voice evidence (cosine similarity of the 1.6 s embedding windows to a speaker's
centroid) against the segmentation's (share of covering windows that give the frame to that speaker)
when frames are given to speakers. Development recordings: 0 (segmentation alone) 15.3 % pooled DER,
2: 13.1 %, 3: 9.2 %, 5: 8.5 % (two-party calls 6.6 % → 5.9 %; AMI-like files 31.8 % → 32.2 %)."""
OVERLAP_VOICE_WEIGHT = 0.5
"""The voice term's weight when the *other* speakers of an overlapped frame are chosen (the first
takes :data:`VOICE_WEIGHT`): a 1.6 s voice window over two voices at once carries no sign of the
second, so the second speaker is the one the segmentation windows give the frame to most, the voice
only separating near ties. Development recordings (pooled DER): 5 (as the first) 8.2 %, 2: 8.2 %, 1: 8.2 %,
0.5: 8.1 %, 0: 8.2 %; AMI-like files 32.4, 32.4, 32.1, 31.3, 31.5 %; two-party calls unchanged."""
MIN_LOCAL_FRAMES = 6
"""Fewest segmentation frames (about 0.1 s) a local speaker must be active in to be kept."""
"""Lowest silhouette at which a split into ``speakers_expected`` clusters is still taken."""
_FRAME_S = HOP / SAMPLE_RATE
_WINDOW_FRAMES = FRAMES_PER_PARTIAL
EMBEDDING_ENV = "HEARKIT_SPEAKER_EMBEDDING"
"""Which voice embedding the voice windows get: ``resemblyzer`` (the default, :data:`DEFAULT_EMBEDDING`:
the d-vector encoder of :mod:`hearkit.engine.pipeline.speaker_encoder`), ``campplus`` (CAM++,
:mod:`hearkit.engine.pipeline.campplus`, its weights shipped; the front end shared by overlapping
windows, :meth:`~hearkit.engine.pipeline.campplus.CampPlus.embed_windows`) or ``both`` (the two unit
vectors concatenated: cosine = the mean of the two cosines). CAM++ is not the default: on development
its pooled DER is lower (7.0 against 8.8 %), but its flags leave 3 of its 10 wrong calls unflagged
(Resemblyzer's flag all 12 of its own): two gated AMI pairs whose talk is off by the segmentation's extra
speech under either embedding, and a sample-call mix 5.03 pp off (docs/pipeline.md, "CAM++ as the
default?" and its D9 section). Its speaker stage costs 1.17x Resemblyzer's, measured side by side."""
DEFAULT_EMBEDDING = "resemblyzer"
CAMPPLUS_OFFSET = {"campplus": 0.524, "both": 0.28}
"""Calibration into the Resemblyzer cosine units every threshold here is set in: a constant
component ``sqrt(offset)`` appended to each unit vector before renormalising maps a cosine ``c`` to
``(c + offset) / (1 + offset)``. Chosen on the development windows of
``benchmarks/bench_speaker_embedding.py`` (1.6 s, 757 windows) so that the spread between
same-speaker and different-speaker mean cosines matches Resemblyzer's (0.77 - 0.56 = 0.21;
CAM++ 0.61 - 0.29 = 0.32, so 1 / (1 + offset) = 0.656; both 0.69 - 0.42 = 0.27: 0.78)."""


@dataclass(frozen=True)
class VoiceSettings:
    """What depends on the voice embedding: ``hop_s``, the voice windows' hop (the window-count bars are
    set at Resemblyzer's hop: :data:`MIN_WINDOWS_TO_SPLIT` is counted at that hop, the quality block's are
    scaled to the same speech time); ``same_voice``, the centroid similarity above which a small cluster
    is merged as the same voice (:func:`_merge_small`); ``voice_weight``, the voice term's weight when a
    frame's first speaker is chosen (:data:`VOICE_WEIGHT` for Resemblyzer)."""

    hop_s: float
    same_voice: float
    voice_weight: float
    clean_voice: bool = False
    """Whether a frame's voice term reads only the *clean* voice windows covering it (one local speaker
    alone, :func:`_clean`), frames no clean window covers going by the segmentation alone: a window
    straddling a change of speaker holds both voices, and at a 1.5 s hop it may be the only window over
    the frames before the change, so its similarity step (times the voice weight) moved the change the
    segmentation had placed to the frame (pyannote's call: 14.29 -> 13.67 s, Diane's words given to
    Sheila)."""


VOICE_SETTINGS = {
    "resemblyzer": VoiceSettings(WINDOW_HOP_S, SAME_VOICE_SIMILARITY, VOICE_WEIGHT),
    "both": VoiceSettings(WINDOW_HOP_S, SAME_VOICE_SIMILARITY, VOICE_WEIGHT),
    "campplus": VoiceSettings(1.5, 0.85, 7.6, clean_voice=True),
}
"""Per voice embedding (:data:`EMBEDDING_ENV`). CAM++'s were chosen on development
(``benchmarks/tune_speaker_embedding.py``; docs/pipeline.md, "CAM++ as the default"): a 1.5 s hop
halves the windows its network runs on (the speaker stage 0.074 -> 0.063 CPU s per audio second on
two sample calls) at the same pooled DER; a voice weight of 7.6 (5 / 0.656, the calibration's
compression of CAM++'s cosine spread undone) keeps sample call 2's espeak voices apart (talk-share
error 5.5 -> 2.7 pp); merging a small cluster as the same voice only above 0.85 keeps call 7's
second voice (11 % of its windows, centroid similarity 0.80 to the first, silhouette 0.44); the voice term
from clean windows only (:attr:`VoiceSettings.clean_voice`) keeps pyannote's turn change at the
segmentation's 14.29 s (development pooled DER 6.89 -> 7.01 %, the flags unchanged; docs/pipeline.md,
"CAM++ as the default, D9")."""


def speaker_embedding() -> str:
    """The voice embedding this process runs: :data:`EMBEDDING_ENV` or :data:`DEFAULT_EMBEDDING`."""
    kind = os.environ.get(EMBEDDING_ENV) or DEFAULT_EMBEDDING
    if kind not in VOICE_SETTINGS:
        raise ValueError(f"{EMBEDDING_ENV}={kind!r}: use resemblyzer, campplus or both")
    return kind


@dataclass(frozen=True)
class Turn:
    """A stretch of one speaker's speech, in seconds."""

    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class SpeakerConstraints:
    """What the job says about the number of speakers (all optional).

    ``expected``: the count to choose unless the audio strongly says otherwise; ``minimum`` and
    ``maximum``: hard bounds; ``reason``: why (shown in the quality block, e.g. "two-party call").
    """

    expected: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SpeakerCount:
    """How the number of speakers was chosen.

    ``scores`` maps each count the clustering produced to its silhouette (1 speaker: the bar
    :data:`MIN_SILHOUETTE`); ``margin`` = score of ``chosen`` − best score of any other count
    (``None`` when no other count was possible, e.g. too little speech to split); ``audio_count``
    = the count the audio alone would have given; ``constrained_by`` names the option that
    changed the choice, if any.
    """

    chosen: int
    audio_count: int
    scores: dict[int, float]
    margin: float | None
    constrained_by: str | None = None


@dataclass(frozen=True)
class Diarization:
    """The diarizer's whole answer: turns, the count choice, and the evidence behind them.

    ``embeddings`` (one 256-d unit vector per window) and ``window_times`` (start, end seconds)
    are kept so later steps can re-cluster or store per-turn voice prints without re-embedding;
    ``labels`` = each window's cluster, ``names`` = each cluster's speaker label;
    ``separation`` = silhouette of the chosen clustering (``None`` for one speaker);
    ``embedding`` = the voice embedding that ran (:func:`speaker_embedding`), ``window_hop_s`` = the
    voice windows' hop (:attr:`VoiceSettings.hop_s`).
    """

    turns: list[Turn]
    count: SpeakerCount
    separation: float | None
    embeddings: npt.NDArray[np.float32]
    window_times: list[tuple[float, float]]
    labels: npt.NDArray[np.int64]
    names: dict[int, str]
    embedding: str = "resemblyzer"
    window_hop_s: float = WINDOW_HOP_S

    def windows(self, at_resemblyzer_hop: int) -> int:
        """A number of windows at Resemblyzer's hop (:data:`WINDOW_HOP_S`) as the same speech time
        at this diarization's hop (at least 1)."""
        return max(1, round(at_resemblyzer_hop * WINDOW_HOP_S / self.window_hop_s))


def _window_starts(regions: list[tuple[int, int]], n_frames: int, hop_s: float = WINDOW_HOP_S) -> list[int]:
    """First mel frame of every window (one every ``hop_s`` inside each region)."""
    hop = max(1, round(hop_s / _FRAME_S))
    starts: list[int] = []
    for start, end in regions:
        f0, f1 = start // HOP, end // HOP
        if f1 - f0 <= _WINDOW_FRAMES:
            centre = (f0 + f1) // 2
            starts.append(min(max(0, centre - _WINDOW_FRAMES // 2), max(0, n_frames - _WINDOW_FRAMES)))
            continue
        last = f1 - _WINDOW_FRAMES
        starts.extend(range(f0, last + 1, hop))
        if (last - f0) % hop:
            starts.append(last)
    return starts


def _merge_small(
    embeddings: npt.NDArray[np.float32],
    labels: npt.NDArray[np.int64],
    same_voice: float = SAME_VOICE_SIMILARITY,
) -> npt.NDArray[np.int64]:
    """Merge away small clusters: phantom speakers are small and sound like a real one.

    A cluster is merged into its most similar neighbour when it holds fewer than
    :data:`MIN_CLUSTER_SHARE` of the windows, or fewer than :data:`SMALL_CLUSTER_SHARE` while
    its centroid is within cosine similarity ``same_voice`` (:attr:`VoiceSettings.same_voice`) of
    another one.
    """
    labels = labels.copy()
    n = len(labels)
    while True:
        ids, counts = np.unique(labels, return_counts=True)
        if len(ids) <= 1:
            break
        centroids = _centroids(embeddings, labels, ids)
        similarity = centroids @ centroids.T
        np.fill_diagonal(similarity, -np.inf)
        nearest = similarity.max(axis=1)
        share = counts / n
        mergeable = (counts < 2) | (share < MIN_CLUSTER_SHARE)
        mergeable |= (share < SMALL_CLUSTER_SHARE) & (nearest > same_voice)
        if not mergeable.any():
            break
        victim = int(np.argmin(np.where(mergeable, counts, n + 1)))
        labels[labels == ids[victim]] = ids[int(np.argmax(similarity[victim]))]
    _, labels = np.unique(labels, return_inverse=True)
    return labels.astype(np.int64)


def _centroids(
    embeddings: npt.NDArray[np.float32], labels: npt.NDArray[np.int64], ids: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    centroids = np.stack([embeddings[labels == i].mean(axis=0) for i in ids])
    return np.asarray(centroids / np.linalg.norm(centroids, axis=1, keepdims=True), dtype=np.float32)


def _candidates(
    embeddings: npt.NDArray[np.float32],
    settings: VoiceSettings | None = None,
    speech_windows: int | None = None,
) -> dict[int, tuple[npt.NDArray[np.int64], float]]:
    """Window labels and silhouette for every speaker count the clustering produces (≥ 2).

    Average-linkage (cosine) trees are cut into 2…:data:`MAX_SPEAKERS` clusters; tiny clusters
    are merged away and each window is moved to its nearest centroid (3 passes). A count reached
    by several cuts keeps its best-scoring clustering. No split when ``speech_windows`` (the windows
    the same speech gives at Resemblyzer's hop, :data:`WINDOW_HOP_S`; by default the embeddings'
    number) is under :data:`MIN_WINDOWS_TO_SPLIT`: a 1.5 s hop halves the windows of long speech but
    not of short phrases (JFK's 11 s: 7 windows at either hop), so the bar is not scaled.
    """
    settings = settings or VOICE_SETTINGS["resemblyzer"]
    n = len(embeddings)
    if (n if speech_windows is None else speech_windows) < MIN_WINDOWS_TO_SPLIT or n < 3:
        return {}
    from scipy.cluster.hierarchy import fcluster, linkage
    from sklearn.metrics import silhouette_score

    tree = linkage(embeddings.astype(np.float64), method="average", metric="cosine")
    out: dict[int, tuple[npt.NDArray[np.int64], float]] = {}
    seen: set[tuple[int, ...]] = set()
    for k in range(2, min(MAX_SPEAKERS, n - 1) + 1):
        cut = fcluster(tree, t=k, criterion="maxclust").astype(np.int64) - 1
        labels = _merge_small(embeddings, cut, settings.same_voice)
        for _ in range(3):
            ids = np.unique(labels)
            if len(ids) < 2:
                break
            nearest = np.argmax(embeddings @ _centroids(embeddings, labels, ids).T, axis=1)
            labels = _merge_small(embeddings, nearest.astype(np.int64), settings.same_voice)
        key = tuple(labels.tolist())
        count = len(np.unique(labels))
        if count < 2 or key in seen:
            continue
        seen.add(key)
        score = float(silhouette_score(embeddings, labels, metric="cosine"))
        if count not in out or score > out[count][1]:
            out[count] = (labels, score)
    return out


def choose_count(scores: dict[int, float], constraints: SpeakerConstraints | None = None) -> SpeakerCount:
    """Pick the number of speakers from each count's score (see the module's text)."""
    constraints = constraints or SpeakerConstraints()
    scores = {1: MIN_SILHOUETTE, **scores}
    audio = max(scores, key=lambda k: (scores[k], -k))
    low = max(1, constraints.minimum or 1)
    high = max(low, constraints.maximum or MAX_SPEAKERS)
    allowed = {k: v for k, v in scores.items() if low <= k <= high}
    if not allowed:  # the audio cannot be split that way: the nearest count it gives
        nearest = min(scores, key=lambda k: low - k if k < low else k - high)
        allowed = {nearest: scores[nearest]}
    chosen = max(allowed, key=lambda k: (allowed[k], -k))
    constrained_by = None
    if chosen != audio:
        constrained_by = "min_speakers" if audio < low else "max_speakers"
    expected = constraints.expected
    if expected is not None and expected in allowed and allowed[expected] >= EXPECTED_FLOOR:
        rival = max((k for k in allowed if k != expected), key=lambda k: allowed[k], default=None)
        if rival is None or allowed[rival] < allowed[expected] + STRONG_MARGIN:
            chosen = expected
            constrained_by = "speakers_expected" if expected != audio else None
    others = [v for k, v in scores.items() if k != chosen]
    margin = round(scores[chosen] - max(others), 3) if others else None
    return SpeakerCount(
        chosen, audio, {k: round(v, 3) for k, v in sorted(scores.items())}, margin, constrained_by
    )


def diarize_regions(signal: npt.NDArray[np.float32], regions: list[tuple[int, int]]) -> list[Turn]:
    """Speaker turns of a mono 16 kHz ``signal`` (``regions``: see :func:`diarize`)."""
    found = diarize(signal, regions)
    return found.turns if found is not None else []


def diarize(
    signal: npt.NDArray[np.float32],
    regions: list[tuple[int, int]],
    constraints: SpeakerConstraints | None = None,
) -> Diarization | None:
    """Turns (overlapping where two people speak at once), count choice and window embeddings.

    Where people speak comes from the segmentation model, not from ``regions`` (the recogniser's
    VAD regions, kept in the signature for the callers that pass them); ``None`` if nobody speaks.
    """
    seg = segment(signal)
    if not seg.count.any():
        return None
    mel = _Voices(signal)
    settings = VOICE_SETTINGS[mel.kind]
    starts = _window_starts(_speech_regions(seg), len(mel), settings.hop_s)
    if not starts:
        return None
    embeddings = _embed(mel, starts)
    solo = _solo_shares(seg, starts)  # (embedding windows, segmentation windows, local speakers)
    clean = _clean(seg, starts, solo)
    pool = embeddings[clean]
    speech_windows = None
    if settings.hop_s != WINDOW_HOP_S:
        at_hop = _window_starts(_speech_regions(seg), len(mel))
        speech_windows = int(_clean(seg, at_hop, _solo_shares(seg, at_hop)).sum())
    candidates = _candidates(pool, settings, speech_windows)
    if not candidates and regions:
        # No split among the one-voice windows: the recogniser's VAD regions give windows aligned
        # with utterances (a short answer gets a window of its own), as the diarizer had before.
        vad_starts = _window_starts(regions, len(mel), settings.hop_s)
        vad_embeddings = _embed(mel, vad_starts) if vad_starts else embeddings[:0]
        vad_candidates = _candidates(vad_embeddings, settings, len(_window_starts(regions, len(mel))))
        if vad_candidates:
            starts, embeddings, pool, candidates = vad_starts, vad_embeddings, vad_embeddings, vad_candidates
            solo = _solo_shares(seg, starts)
    count = choose_count({k: v[1] for k, v in candidates.items()}, constraints)
    if count.chosen in candidates:
        clean_labels, separation = candidates[count.chosen]
        n_clusters = int(clean_labels.max()) + 1
        centroids = _centroids(pool, clean_labels, np.arange(n_clusters))
    else:
        separation, n_clusters = None, 1
        centroids = _centroids(embeddings, np.zeros(len(embeddings), dtype=np.int64), np.arange(1))
    mapping = _assign(seg, mel, embeddings, solo, centroids)
    voiced = _clean(seg, starts, solo) if settings.clean_voice else np.ones(len(starts), dtype=bool)
    voice = _voice_scores(
        seg, [f for f, v in zip(starts, voiced, strict=True) if v], embeddings[voiced], centroids
    )
    turns, names = _relabel(_reconstruct(seg, mapping, voice, settings.voice_weight))
    labels = np.argmax(embeddings @ centroids.T, axis=1).astype(np.int64)
    times = [(f * _FRAME_S, (f + _WINDOW_FRAMES) * _FRAME_S) for f in starts]
    return Diarization(turns, count, separation, embeddings, times, labels, names, mel.kind, settings.hop_s)


class _Voices:
    """The signal's voice features and the embedding the setting names (:data:`EMBEDDING_ENV`):
    Resemblyzer's 40-band mel of the file raised to -30 dBFS, and/or CAM++'s 80-band fbank, both one
    frame per 10 ms (the fbank's frame ``i`` centred 12.5 ms after the mel's, close enough for 1.6 s
    windows)."""

    def __init__(self, signal: npt.NDArray[np.float32]) -> None:
        self.kind = speaker_embedding()
        self.n_frames = len(signal) // HOP + 1  # the mel's frames (one per 10 ms, centred)
        self.mel = None if self.kind == "campplus" else mel_spectrogram(normalize_volume(signal))
        self.fbank = None
        if self.kind != "resemblyzer":
            from hearkit.engine.pipeline.campplus import fbank

            self.fbank = fbank(signal)

    def __len__(self) -> int:
        return self.n_frames

    def embed(self, windows: list[npt.NDArray[np.int64]]) -> npt.NDArray[np.float32]:
        """Embeddings of the windows made of these frame indices (each ``_WINDOW_FRAMES`` long; an
        index past the end is a frame of zeros for the mel, the last frame for the fbank)."""
        parts = []
        if self.mel is not None:
            mel = np.zeros((len(windows), _WINDOW_FRAMES, self.mel.shape[1]), dtype=np.float32)
            for k, index in enumerate(windows):
                inside = index[index < len(self.mel)]
                mel[k, : len(inside)] = self.mel[inside]
            parts.append(default_encoder().embed(mel))
        if self.fbank is not None:
            from hearkit.engine.pipeline.campplus import default_campplus

            clipped = [np.clip(i, 0, len(self.fbank) - 1) for i in windows]
            parts.append(default_campplus().embed_windows(self.fbank, clipped))
        vectors = np.concatenate(parts, axis=1) / np.sqrt(len(parts))
        if self.kind != "resemblyzer":
            offset = np.full((len(vectors), 1), np.sqrt(CAMPPLUS_OFFSET[self.kind]), dtype=np.float32)
            vectors = np.concatenate([vectors, offset], axis=1)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.asarray(vectors, dtype=np.float32)


def _embed(mel: _Voices, starts: list[int]) -> npt.NDArray[np.float32]:
    """Embeddings of the 1.6 s windows starting at frames ``starts`` (padded at the end)."""
    return mel.embed([np.arange(f, f + _WINDOW_FRAMES) for f in starts])


def _speech_regions(seg: Segmentation) -> list[tuple[int, int]]:
    """Sample spans where the segmentation hears anyone (per-frame count ≥ 1)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], (seg.count > 0).astype(np.int8), [0]])))
    return [
        (int(a) * FRAME_STEP, int(b - 1) * FRAME_STEP + FRAME_SIZE)
        for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]


def _solo_shares(seg: Segmentation, starts: list[int]) -> npt.NDArray[np.float64]:
    """For every embedding window (1.6 s), segmentation window and local speaker: the share of the
    embedding window's frames in which that local speaker speaks alone (NaN: the segmentation
    window does not contain the embedding window)."""
    per_window = seg.activity.shape[1]
    alone = seg.activity & (seg.activity.sum(axis=2, keepdims=True) == 1)
    out = np.full((len(starts), len(seg.starts), LOCAL_SPEAKERS), np.nan)
    for p, f in enumerate(starts):
        # file frames whose middle lies inside the embedding window
        a = int(np.ceil((f * HOP - FRAME_SIZE / 2) / FRAME_STEP))
        b = int(np.ceil(((f + _WINDOW_FRAMES) * HOP - FRAME_SIZE / 2) / FRAME_STEP))
        if b <= a:
            continue
        lo, hi = np.searchsorted(seg.starts, [b - per_window, a + 1])
        for w in range(int(lo), int(hi)):
            first = int(seg.starts[w])
            out[p, w] = alone[w, a - first : b - first].mean(axis=0)
    return out


def _clean(seg: Segmentation, starts: list[int], solo: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Embedding windows that hold one voice: in the segmentation window centred nearest to them,
    one local speaker speaks alone in at least :data:`CLEAN_SHARE` of their frames."""
    half = seg.activity.shape[1] / 2
    out = np.zeros(len(starts), dtype=bool)
    for p, f in enumerate(starts):
        inside = np.flatnonzero(~np.isnan(solo[p, :, 0]))
        if not len(inside):
            continue
        middle = (f + _WINDOW_FRAMES / 2) * HOP / FRAME_STEP
        w = inside[np.argmin(np.abs(seg.starts[inside] + half - middle))]
        out[p] = solo[p, w].max() >= CLEAN_SHARE
    return out


def _assign(
    seg: Segmentation,
    mel: _Voices,
    embeddings: npt.NDArray[np.float32],
    solo: npt.NDArray[np.float64],
    centroids: npt.NDArray[np.float32],
) -> npt.NDArray[np.int64]:
    """Global speaker of every (segmentation window, local speaker); -1 = not active.

    A local speaker's voice print is the mean of the embedding windows inside its segmentation
    window where it speaks alone in at least half the frames (weighted by that share), else one
    embedding of its own frames (repeated to 1.6 s). Within a window, local speakers take distinct
    clusters (the assignment with the highest total similarity); any beyond the number of
    clusters takes its most similar one.
    """
    from scipy.optimize import linear_sum_assignment

    n_windows = len(seg.starts)
    frames = seg.activity.sum(axis=1)  # (windows, local speakers)
    active = frames >= MIN_LOCAL_FRAMES
    mapping = np.full((n_windows, LOCAL_SPEAKERS), -1, dtype=np.int64)
    if len(centroids) == 1:
        mapping[active] = 0
        return mapping
    prints = np.zeros((n_windows, LOCAL_SPEAKERS, embeddings.shape[1]), dtype=np.float32)
    missing: list[tuple[int, int]] = []
    for w in range(n_windows):
        for s in np.flatnonzero(active[w]):
            weights = np.nan_to_num(solo[:, w, s])
            weights[weights < 0.5] = 0.0
            if weights.sum() > 0:
                prints[w, s] = weights @ embeddings
            else:
                missing.append((w, int(s)))
    if missing:
        prints_missing = mel.embed([_own_frames(seg, len(mel), w, s) for w, s in missing])
        for (w_index, s_index), vector in zip(missing, prints_missing, strict=True):
            prints[w_index, s_index] = vector
    norms = np.linalg.norm(prints, axis=2, keepdims=True)
    similarity = (prints / np.maximum(norms, 1e-12)) @ centroids.T  # (windows, local, clusters)
    for w in range(n_windows):
        speakers = np.flatnonzero(active[w])
        if not len(speakers):
            continue
        rows, cols = linear_sum_assignment(similarity[w, speakers], maximize=True)
        mapping[w, speakers[rows]] = cols
        for s in speakers:
            if mapping[w, s] < 0:
                mapping[w, s] = int(np.argmax(similarity[w, s]))
    return mapping


def _own_frames(seg: Segmentation, n_frames: int, w: int, s: int) -> npt.NDArray[np.int64]:
    """The voice frames (indices) of local speaker ``s`` in window ``w`` (alone if it ever is),
    repeated to 1.6 s."""
    activity = seg.activity[w]
    chosen = activity[:, s] & (activity.sum(axis=1) == 1)
    if chosen.sum() < MIN_LOCAL_FRAMES:
        chosen = activity[:, s]
    seg_frames = seg.starts[w] + np.flatnonzero(chosen)
    # the mel frames (10 ms) nearest each segmentation frame's middle and its neighbours
    centres = (seg_frames * FRAME_STEP + FRAME_SIZE / 2) / HOP
    index = np.unique(np.clip(np.round(centres[:, None] + np.array([-1, 0, 1])), 0, n_frames - 1))
    reps = int(np.ceil(_WINDOW_FRAMES / len(index)))
    return np.tile(index.astype(np.int64), reps)[:_WINDOW_FRAMES]


def _voice_scores(
    seg: Segmentation,
    starts: list[int],
    embeddings: npt.NDArray[np.float32],
    centroids: npt.NDArray[np.float32],
) -> npt.NDArray[np.float64]:
    """Per file frame and global speaker: the mean cosine similarity between the speaker's
    centroid and the embedding windows (1.6 s) covering the frame's middle (NaN: none covers it)."""
    n_frames, n_clusters = seg.n_frames, len(centroids)
    total = np.zeros((n_frames, n_clusters), dtype=np.float64)
    cover = np.zeros(n_frames, dtype=np.float64)
    similarity = embeddings @ centroids.T
    for f, sims in zip(starts, similarity, strict=True):
        a = max(0, int(np.ceil((f * HOP - FRAME_SIZE / 2) / FRAME_STEP)))
        b = min(n_frames, int(np.ceil(((f + _WINDOW_FRAMES) * HOP - FRAME_SIZE / 2) / FRAME_STEP)))
        total[a:b] += sims
        cover[a:b] += 1
    with np.errstate(invalid="ignore"):
        return total / cover[:, None]


def _ranks(score: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Each speaker's rank in every frame (0 = highest score)."""
    order = np.argsort(-score, axis=1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(score.shape[1])[None, :], axis=1)
    return ranks


def _reconstruct(
    seg: Segmentation,
    mapping: npt.NDArray[np.int64],
    voice: npt.NDArray[np.float64],
    voice_weight: float = VOICE_WEIGHT,
) -> list[Turn]:
    """Frame-level speakers from the windows: each global speaker's activity summed over the
    windows covering a frame, plus the voice term; a frame goes to its ``count`` most active speakers
    (pyannote's reconstruction), so a frame where the segmentation hears two voices gets two speakers:
    the first by ``voice_weight`` (:attr:`VoiceSettings.voice_weight`), the others by
    :data:`OVERLAP_VOICE_WEIGHT`."""
    per_window = seg.activity.shape[1]
    n_frames, n_clusters = voice.shape
    score = np.zeros((n_frames, n_clusters), dtype=np.float64)
    windows = np.zeros(n_frames, dtype=np.float64)
    for w, first in enumerate(seg.starts):
        last = min(n_frames, first + per_window)
        if last <= first:
            continue
        for k in range(n_clusters):
            owned = mapping[w] == k
            if owned.any():
                score[first:last, k] += seg.activity[w, : last - first][:, owned].any(axis=1)
        windows[first:last] += 1
    present = score > 0
    score /= np.maximum(windows, 1)[:, None]
    others = score.copy()
    if n_clusters > 1 and voice_weight > 0:
        known = ~np.isnan(voice).any(axis=1)
        score[known] += voice_weight * voice[known]
        others[known] += OVERLAP_VOICE_WEIGHT * voice[known]
        present[known] = True
    count = np.minimum(seg.count, n_clusters)
    main = _ranks(score) < np.minimum(count, 1)[:, None]
    others[main] = -np.inf
    binary = (main | (_ranks(others) < (count - 1)[:, None])) & present
    turns: list[Turn] = []
    half = FRAME_STEP / 2 / SAMPLE_RATE
    for k in range(n_clusters):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], binary[:, k].astype(np.int8), [0]])))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            start = float(Segmentation.frame_time(float(a))) - half
            end = float(Segmentation.frame_time(float(b - 1))) + half
            turns.append(Turn(round(max(0.0, start), 3), round(end, 3), str(k)))
    return turns


def _relabel(turns: list[Turn]) -> tuple[list[Turn], dict[int, str]]:
    """Rename cluster ids to ``speaker_0``, ``speaker_1``, … in order of first appearance."""
    names: dict[str, str] = {}
    out = []
    for turn in sorted(turns, key=lambda t: t.start):
        name = names.setdefault(turn.speaker, f"speaker_{len(names)}")
        out.append(Turn(turn.start, turn.end, name))
    return out, {int(k): v for k, v in names.items()}


def speaker_at(turns: list[Turn], start: float, end: float) -> str:
    """The speaker of the turn that overlaps ``[start, end]`` most, else of the nearest turn.

    Whisper often gives a word no duration (``start == end``); such a word inside a turn
    belongs to that turn (distance 0), not to whichever turn boundary happens to be closest.
    Turns may overlap (two people at once): a word both cover equally goes to the turn that began
    first (``turns`` in time order), the one already talking, which the recogniser mostly follows.
    """
    if not turns:
        return "speaker_0"
    best, best_overlap = turns[0].speaker, 0.0
    for turn in turns:
        overlap = min(end, turn.end) - max(start, turn.start)
        if overlap > best_overlap:
            best, best_overlap = turn.speaker, overlap
    if best_overlap > 0:
        return best
    middle = (start + end) / 2
    nearest = min(turns, key=lambda t: max(t.start - middle, middle - t.end, 0.0))
    return nearest.speaker
