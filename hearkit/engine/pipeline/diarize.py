"""Mono speaker diarization: speaker embeddings over speech windows, clustering, turns.

1. Windows of 1.6 s (the encoder's partial length) every :data:`WINDOW_HOP_S` inside the
   VAD speech regions; a region shorter than a window gets one window centred on it.
2. Each window is embedded with Resemblyzer's encoder (numpy port,
   :mod:`hearkit.engine.pipeline.speaker_encoder`).
3. Agglomerative clustering (average linkage, cosine distance), cut at every count from 2 to
   :data:`MAX_SPEAKERS`, refined by moving windows to their nearest centroid; the count with
   the best silhouette wins, or one speaker if none reaches :data:`MIN_SILHOUETTE`: the
   number of speakers is estimated, not given. Clusters holding less than
   :data:`MIN_CLUSTER_SHARE` of the windows are merged into the nearest large cluster, so a
   stray cluster never becomes a phantom speaker; under :data:`MIN_WINDOWS_TO_SPLIT` windows
   (about 9 s of speech) the file is one speaker (too little to tell voices apart reliably:
   JFK's 11 s split into three "speakers" without this rule).
4. Every 10 ms frame of speech takes the speaker whose centroid is most similar to the mean
   embedding of the windows covering it; runs of frames become turns.

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

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hearkit.engine.pipeline.decode import SAMPLE_RATE
from hearkit.engine.pipeline.speaker_encoder import (
    FRAMES_PER_PARTIAL,
    HOP,
    default_encoder,
    mel_spectrogram,
    normalize_volume,
)

__all__ = [
    "EXPECTED_FLOOR",
    "MAX_SPEAKERS",
    "MIN_CLUSTER_SHARE",
    "MIN_SILHOUETTE",
    "MIN_WINDOWS_TO_SPLIT",
    "SAME_VOICE_SIMILARITY",
    "SMALL_CLUSTER_SHARE",
    "STRONG_MARGIN",
    "WINDOW_HOP_S",
    "Diarization",
    "SpeakerConstraints",
    "SpeakerCount",
    "Turn",
    "choose_count",
    "diarize",
    "diarize_regions",
    "speaker_at",
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
"""Lowest silhouette at which a split into ``speakers_expected`` clusters is still taken."""
_FRAME_S = HOP / SAMPLE_RATE
_WINDOW_FRAMES = FRAMES_PER_PARTIAL


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
    ``separation`` = silhouette of the chosen clustering (``None`` for one speaker).
    """

    turns: list[Turn]
    count: SpeakerCount
    separation: float | None
    embeddings: npt.NDArray[np.float32]
    window_times: list[tuple[float, float]]
    labels: npt.NDArray[np.int64]
    names: dict[int, str]


def _window_starts(regions: list[tuple[int, int]], n_frames: int) -> list[int]:
    """First mel frame of every window."""
    hop = max(1, round(WINDOW_HOP_S / _FRAME_S))
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


def _merge_small(embeddings: npt.NDArray[np.float32], labels: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Merge away small clusters: phantom speakers are small and sound like a real one.

    A cluster is merged into its most similar neighbour when it holds fewer than
    :data:`MIN_CLUSTER_SHARE` of the windows, or fewer than :data:`SMALL_CLUSTER_SHARE` while
    its centroid is within cosine similarity :data:`SAME_VOICE_SIMILARITY` of another one.
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
        mergeable |= (share < SMALL_CLUSTER_SHARE) & (nearest > SAME_VOICE_SIMILARITY)
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


def _candidates(embeddings: npt.NDArray[np.float32]) -> dict[int, tuple[npt.NDArray[np.int64], float]]:
    """Window labels and silhouette for every speaker count the clustering produces (≥ 2).

    Average-linkage (cosine) trees are cut into 2…:data:`MAX_SPEAKERS` clusters; tiny clusters
    are merged away and each window is moved to its nearest centroid (3 passes). A count reached
    by several cuts keeps its best-scoring clustering.
    """
    n = len(embeddings)
    if n < MIN_WINDOWS_TO_SPLIT:
        return {}
    from scipy.cluster.hierarchy import fcluster, linkage
    from sklearn.metrics import silhouette_score

    tree = linkage(embeddings.astype(np.float64), method="average", metric="cosine")
    out: dict[int, tuple[npt.NDArray[np.int64], float]] = {}
    seen: set[tuple[int, ...]] = set()
    for k in range(2, min(MAX_SPEAKERS, n - 1) + 1):
        labels = _merge_small(embeddings, fcluster(tree, t=k, criterion="maxclust").astype(np.int64) - 1)
        for _ in range(3):
            ids = np.unique(labels)
            if len(ids) < 2:
                break
            nearest = np.argmax(embeddings @ _centroids(embeddings, labels, ids).T, axis=1)
            labels = _merge_small(embeddings, nearest.astype(np.int64))
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
    """Speaker turns over the speech ``regions`` (sample spans) of a mono 16 kHz ``signal``."""
    found = diarize(signal, regions)
    return found.turns if found is not None else []


def diarize(
    signal: npt.NDArray[np.float32],
    regions: list[tuple[int, int]],
    constraints: SpeakerConstraints | None = None,
) -> Diarization | None:
    """Turns, count choice and window embeddings over the speech ``regions``; ``None`` if no speech."""
    if not regions:
        return None
    mel = mel_spectrogram(normalize_volume(signal))
    starts = _window_starts(regions, len(mel))
    if not starts:
        return None
    windows = np.zeros((len(starts), _WINDOW_FRAMES, mel.shape[1]), dtype=np.float32)
    for i, f in enumerate(starts):
        part = mel[f : f + _WINDOW_FRAMES]
        windows[i, : len(part)] = part
    embeddings = default_encoder().embed(windows)
    candidates = _candidates(embeddings)
    count = choose_count({k: v[1] for k, v in candidates.items()}, constraints)
    if count.chosen in candidates:
        labels, separation = candidates[count.chosen][0], candidates[count.chosen][1]
    else:
        labels, separation = np.zeros(len(embeddings), dtype=np.int64), None
    turns, names = _turns(regions, starts, embeddings, labels, len(mel))
    times = [(f * _FRAME_S, (f + _WINDOW_FRAMES) * _FRAME_S) for f in starts]
    return Diarization(turns, count, separation, embeddings, times, labels, names)


def _turns(
    regions: list[tuple[int, int]],
    starts: list[int],
    embeddings: npt.NDArray[np.float32],
    labels: npt.NDArray[np.int64],
    n_frames: int,
) -> tuple[list[Turn], dict[int, str]]:
    """Every speech frame to the speaker whose centroid best matches the windows covering it."""
    n_speakers = int(labels.max()) + 1
    centroids = np.stack([embeddings[labels == k].mean(axis=0) for k in range(n_speakers)])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    window_scores = embeddings @ centroids.T  # (windows, speakers)

    # Frame scores: mean score of the windows covering each frame.
    score_sum = np.zeros((n_frames + 1, n_speakers), dtype=np.float64)
    cover = np.zeros(n_frames + 1, dtype=np.float64)
    for f, scores in zip(starts, window_scores, strict=True):
        end = min(n_frames, f + _WINDOW_FRAMES)
        score_sum[f:end] += scores
        cover[f:end] += 1
    frame_speaker = np.argmax(score_sum, axis=1)

    turns: list[Turn] = []
    for start, end in regions:
        f0, f1 = start // HOP, min(n_frames, max(start // HOP + 1, end // HOP))
        labels_here = frame_speaker[f0:f1]
        uncovered = cover[f0:f1] == 0
        if uncovered.any():
            labels_here = labels_here.copy()
            labels_here[uncovered] = (
                np.bincount(labels_here[~uncovered]).argmax() if (~uncovered).any() else 0
            )
        change = np.flatnonzero(np.diff(labels_here)) + 1
        bounds = [0, *change.tolist(), len(labels_here)]
        for a, b in itertools.pairwise(bounds):
            turns.append(Turn((f0 + a) * _FRAME_S, (f0 + b) * _FRAME_S, str(int(labels_here[a]))))
    return _relabel(turns)


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
