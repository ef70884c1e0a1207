"""Re-diarize a stored result with a given speaker count, without running ASR again.

The local engine keeps the diarizer's window embeddings with a diarized mono result
(:class:`hearkit.schema.SpeakerEmbeddings`: one 256-d voice print per 1.6 s window, int8,
every second window kept: about 0.3 KB of base64 per second of speech).
:func:`rediarize` clusters them into exactly
``speakers_expected`` voices (average-linkage cosine tree cut at that count, then three passes
moving each window to its nearest centroid), gives each word the speaker whose centroid best
matches the windows covering the word's middle (the nearest window when none covers it), and
rebuilds the segments from the relabelled words (:func:`~hearkit.engine.pipeline.assemble.build_result`).
Labels are ``speaker_0``, ``speaker_1``, … in order of first appearance. Words keep their
text and times; only speakers change. Nothing here decodes audio or loads a model.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from hearkit.engine.pipeline.assemble import LabeledWord, build_result
from hearkit.engine.pipeline.quality import speaker_shares, trust_of
from hearkit.schema import Job, Quality, QualityFlag, Result, SpeakerEmbeddings

__all__ = ["decode_embeddings", "encode_embeddings", "rediarize"]

_SCALE = 127.0
_REFINE_PASSES = 3


def encode_embeddings(
    vectors: npt.NDArray[np.float32], window_times: list[tuple[float, float]], *, stride: int = 2
) -> SpeakerEmbeddings:
    """The compact stored form of window embeddings: every ``stride``-th window (the diarizer's
    1.6 s windows overlap at a 0.75 s hop, so every second one still covers the speech), unit
    vectors as int8."""
    if len(vectors) != len(window_times):
        raise ValueError(f"{len(vectors)} embeddings for {len(window_times)} windows")
    if stride < 1:
        raise ValueError(f"stride must be ≥ 1, not {stride}")
    vectors, window_times = np.asarray(vectors)[::stride], list(window_times)[::stride]
    quantized = np.clip(np.rint(np.asarray(vectors, dtype=np.float32) * _SCALE), -127, 127).astype(np.int8)
    window = float(window_times[0][1] - window_times[0][0]) if window_times else 1.6
    return SpeakerEmbeddings(
        window_s=round(window, 4),
        dim=int(vectors.shape[1]) if vectors.ndim == 2 else 0,
        starts=[round(float(a), 3) for a, _ in window_times],
        data=base64.b64encode(quantized.tobytes()).decode("ascii"),
    )


def decode_embeddings(stored: SpeakerEmbeddings) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]:
    """``(starts, unit vectors)`` of stored embeddings."""
    raw = np.frombuffer(base64.b64decode(stored.data), dtype=np.int8)
    n = len(stored.starts)
    if stored.dim <= 0 or raw.size != n * stored.dim:
        raise ValueError(
            f"stored speaker embeddings are damaged: {raw.size} values for {n} windows of {stored.dim}"
        )
    vectors = raw.reshape(n, stored.dim).astype(np.float32) / _SCALE
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    return np.asarray(stored.starts, dtype=np.float64), vectors


def rediarize(source: Result | Job | Mapping[str, Any], *, speakers_expected: int) -> Result:
    """The result with its words given to exactly ``speakers_expected`` speakers (see module)."""
    result = _result_of(source)
    if not isinstance(speakers_expected, int) or isinstance(speakers_expected, bool) or speakers_expected < 1:
        raise ValueError(f"speakers_expected must be a whole number ≥ 1, not {speakers_expected!r}")
    if result.speaker_embeddings is None:
        raise ValueError(
            "this result has no stored speaker embeddings: only diarized mono results of the local "
            "engine keep them; transcribe it again with diarize=true (or set roles/merge speakers with "
            "CallSet.with_roles / merge_speakers, which need no embeddings)"
        )
    if not result.words:
        raise ValueError("this result has no words to give to speakers")
    starts, vectors = decode_embeddings(result.speaker_embeddings)
    if len(vectors) < speakers_expected:
        raise ValueError(
            f"only {len(vectors)} voice windows stored: too few for {speakers_expected} speakers"
        )
    labels = _cluster(vectors, speakers_expected)
    centroids = _centroids(vectors, labels, speakers_expected)
    scores = vectors @ centroids.T
    word_start = np.array([w.start for w in result.words], dtype=np.float64)
    word_end = np.array([w.end for w in result.words], dtype=np.float64)
    speaker = _word_speakers(starts, result.speaker_embeddings.window_s, scores, (word_start + word_end) / 2)
    names: dict[int, str] = {}
    words = []
    for w, k in zip(result.words, speaker.tolist(), strict=True):
        name = names.setdefault(int(k), f"speaker_{len(names)}")
        words.append(LabeledWord(w.word, w.start, w.end, name, None, w.confidence))
    rebuilt = build_result(
        words, audio_seconds=float(result.audio_seconds or word_end.max()), numerals=False, labelled=True
    )
    rebuilt.speaker_embeddings = result.speaker_embeddings
    rebuilt.quality = _quality_after(result.quality, rebuilt, speakers_expected)
    return rebuilt


_ASR_FLAGS = frozenset({"low_asr_confidence"})


def _quality_after(before: Quality | None, rebuilt: Result, speakers: int) -> Quality:
    """The quality block of a re-diarized result: the transcript's measures and flags carry over
    (the words did not change); the speaker checks of the first diarization no longer apply and
    are dropped, and an ``info`` flag says the count was the user's."""
    kept = [f for f in (before.flags if before else []) if f.code in _ASR_FLAGS]
    told = QualityFlag(
        code="speakers_set_by_user",
        meaning=f"the speakers were found again as exactly {speakers} from the stored voices (a user's"
        " choice, hearkit remap --speakers): the first diarization's speaker checks no longer apply",
        severity="info",
        affects=["speaker_count"],
    )
    flags = [*kept, told]
    return Quality(
        trust=trust_of(flags),
        flags=flags,
        method="diarization",
        speakers_found=rebuilt.speakers,
        speaker_count_constrained_by="speakers_expected",
        speaker_shares=speaker_shares([s for s in rebuilt.segments if s.speaker is not None]),
        word_confidence=before.word_confidence if before else None,
        low_confidence_words=before.low_confidence_words if before else None,
        repetition_redecoded=before.repetition_redecoded if before else None,
    )


def _result_of(source: Result | Job | Mapping[str, Any]) -> Result:
    if isinstance(source, Result):
        return source
    if isinstance(source, Job):
        if source.result is None:
            raise ValueError(
                f"job {source.job_id} has no inline result; fetch it with client.jobs.result(job)"
            )
        return source.result
    if isinstance(source, Mapping):
        if "status" in source or "job_id" in source:
            return _result_of(Job.model_validate(dict(source)))
        return Result.model_validate(dict(source))
    raise TypeError(f"rediarize takes a Result, a Job or their JSON dict, not {type(source).__name__}")


def _cluster(vectors: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.int64]:
    if k == 1:
        return np.zeros(len(vectors), dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(vectors.astype(np.float64), method="average", metric="cosine")
    labels = fcluster(tree, t=k, criterion="maxclust").astype(np.int64) - 1
    for _ in range(_REFINE_PASSES):
        present = np.unique(labels)
        if len(present) < 2:
            break
        nearest = np.argmax(vectors @ _centroids(vectors, labels, k).T, axis=1).astype(np.int64)
        if np.array_equal(nearest, labels):
            break
        labels = nearest
    return np.asarray(labels, dtype=np.int64)


def _centroids(
    vectors: npt.NDArray[np.float32], labels: npt.NDArray[np.int64], k: int
) -> npt.NDArray[np.float32]:
    sums = np.zeros((k, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, vectors)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return np.asarray(sums / np.maximum(norms, 1e-9), dtype=np.float32)


def _word_speakers(
    starts: npt.NDArray[np.float64],
    window_s: float,
    scores: npt.NDArray[np.float32],
    middle: npt.NDArray[np.float64],
) -> npt.NDArray[np.int64]:
    """Each word's speaker: best summed score over the windows covering its middle."""
    order = np.argsort(starts, kind="stable")
    starts, scores = starts[order], scores[order].astype(np.float64)
    cumulative = np.vstack([np.zeros((1, scores.shape[1])), np.cumsum(scores, axis=0)])
    first = np.searchsorted(starts, middle - window_s, side="right")
    last = np.searchsorted(starts, middle, side="right")
    covered = last > first
    summed = cumulative[last] - cumulative[first]
    nearest = np.clip(np.searchsorted(starts + window_s / 2, middle), 0, len(starts) - 1)
    before = np.clip(nearest - 1, 0, len(starts) - 1)
    closer = np.abs(starts[before] + window_s / 2 - middle) < np.abs(starts[nearest] + window_s / 2 - middle)
    nearest = np.where(closer, before, nearest)
    summed = np.where(covered[:, None], summed, scores[nearest])
    return np.asarray(np.argmax(summed, axis=1), dtype=np.int64)
