"""Re-diarize a stored result with a given speaker count, without running ASR again.

The local engine keeps the diarizer's window embeddings with a diarized mono result
(:class:`hearkit.schema.SpeakerEmbeddings`: one voice print per 1.6 s window, int8, 193-d for CAM++
(the default) and 256-d for Resemblyzer, a window about every 1.5 s kept: about 0.2-0.3 KB of base64
per second of speech).
:func:`rediarize` clusters them into exactly
``speakers_expected`` voices (average-linkage cosine tree cut at that count, then three passes
moving each window to its nearest centroid), gives each word the speaker whose centroid best
matches the windows covering the word's middle (the nearest window when none covers it), and
rebuilds the segments from the relabelled words (:func:`~hearkit.engine.pipeline.assemble.build_result`).
Labels are ``speaker_0``, ``speaker_1``, … in order of first appearance. Words keep their
text and times; only speakers change. Nothing here decodes audio or loads a model. The stored
windows are coarse (a 1.6 s window about every 1.5 s, overlapped speech included), so the quality block
says so with a ``warning`` and carries the speaker checks (a voice under 5 % of the talk, weak
separation of the voices).

When the recording is at hand, :func:`rediarize_audio` is the better way: it runs the engine's
own diarization again on the audio with the count fixed (segmentation, voice prints, overlap:
what a fresh transcription does, minus ASR) and gives the stored words to its speakers; the
quality block is the mono path's own, every check included. ``hearkit remap --speakers`` uses it
whenever the batch's recording is still there.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hearkit.engine.pipeline.assemble import LabeledWord, build_result
from hearkit.engine.pipeline.quality import separation_flags, share_flags, speaker_shares, trust_of
from hearkit.schema import Job, Quality, QualityFlag, Result, SpeakerEmbeddings

__all__ = ["decode_embeddings", "encode_embeddings", "rediarize", "rediarize_audio"]

_SCALE = 127.0
_REFINE_PASSES = 3
MIN_CLUSTER_SHARE = 0.05
"""A voice of a re-diarized call holds at least this share of the stored windows (5 %)."""


STORED_HOP_S = 1.5
"""The stored windows' hop when ``encode_embeddings`` picks the stride: the diarizer's 1.6 s windows
at a 0.75 s hop (Resemblyzer) keep every second one, at 1.5 s (CAM++) every one."""


def encode_embeddings(
    vectors: npt.NDArray[np.float32], window_times: list[tuple[float, float]], *, stride: int | None = None
) -> SpeakerEmbeddings:
    """The compact stored form of window embeddings: every ``stride``-th window (by default the
    stride that keeps a window about every :data:`STORED_HOP_S`, from the windows' most common hop:
    they overlap, so the kept ones still cover the speech), unit vectors as int8."""
    if len(vectors) != len(window_times):
        raise ValueError(f"{len(vectors)} embeddings for {len(window_times)} windows")
    if stride is None:
        steps = np.round(np.diff([a for a, _ in window_times]), 2)
        steps = steps[steps > 0]
        hop = float(np.bincount(np.round(steps * 100).astype(np.int64)).argmax()) / 100 if len(steps) else 0.0
        stride = max(1, round(STORED_HOP_S / hop)) if hop > 0 else 1
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
    _check_count(speakers_expected)
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
    separation = _separation(vectors, labels)
    rebuilt.quality = _quality_after(
        result.quality, rebuilt, speakers_expected, separation, result.speaker_embeddings.dim
    )
    return rebuilt


_ASR_FLAGS = frozenset({"low_asr_confidence", "speech_not_recognised", "cut_short", "quiet_recording"})
"""Flags about the recording and the words, not the speakers: a re-diarization keeps them."""


def _kept_flags(before: Quality | None) -> list[QualityFlag]:
    """The flags of the first result a re-diarization keeps (:data:`_ASR_FLAGS`)."""
    return [f for f in (before.flags if before else []) if f.code in _ASR_FLAGS]


def _set_by_user(speakers: int, how: str) -> QualityFlag:
    return QualityFlag(
        code="speakers_set_by_user",
        meaning=f"the speakers were found again {how} with exactly {speakers} asked for (a user's"
        " choice, hearkit remap --speakers)",
        severity="info",
        affects=["speaker_count"],
    )


_EMBEDDING_BY_DIM = {256: "resemblyzer", 193: "campplus", 449: "both"}
"""The voice embedding of stored windows by their width (CAM++ and ``both`` carry one calibration
component, ``diarize.CAMPPLUS_OFFSET``), for results stored before ``Quality.speaker_embedding``."""


def _quality_after(
    before: Quality | None, rebuilt: Result, speakers: int, separation: float | None, dim: int = 256
) -> Quality:
    """The quality block of a result re-diarized from stored voices: the transcript's measures and
    flags carry over (the words did not change); the first diarization's speaker checks are
    replaced by this clustering's own (a voice under 5 % of the talk, separation of the voices
    under :data:`~hearkit.engine.pipeline.quality.SEPARATION_MIN`), and a ``warning`` says the
    stored windows are coarser than the recording."""
    shares = speaker_shares([s for s in rebuilt.segments if s.speaker is not None])
    flags = _kept_flags(before)
    flags.append(_set_by_user(speakers, "from the stored voice prints"))
    flags.append(
        QualityFlag(
            code="coarse_rediarization",
            meaning="re-diarized from stored voice prints without the recording: coarser than"
            " diarizing the audio, so talk shares may be several points off (keep the recording"
            " beside the batch and run the remap again)",
            affects=["talk_ratio"],
        )
    )
    embedding = (before.speaker_embedding if before else None) or _EMBEDDING_BY_DIM.get(dim)
    flags += share_flags(shares, speakers) + separation_flags(separation, embedding)
    return Quality(
        trust=trust_of(flags),
        flags=flags,
        method="diarization",
        speakers_found=rebuilt.speakers,
        speaker_count_constrained_by="speakers_expected",
        speaker_embedding=embedding,
        cluster_separation=round(separation, 3) if separation is not None else None,
        speaker_shares=shares,
        word_confidence=before.word_confidence if before else None,
        low_confidence_words=before.low_confidence_words if before else None,
        repetition_redecoded=before.repetition_redecoded if before else None,
    )


def rediarize_audio(
    source: Result | Job | Mapping[str, Any], audio: str | Path, *, speakers_expected: int
) -> Result:
    """The result's words given to exactly ``speakers_expected`` speakers found again in the
    recording ``audio`` by the engine's diarization (see the module text); no ASR runs."""
    from hearkit.engine.pipeline.asr import RecognizedWord
    from hearkit.engine.pipeline.decode import decode_audio
    from hearkit.engine.pipeline.transcriber import WhisperTranscriber, _single_signal
    from hearkit.engine.pipeline.vad import speech_regions
    from hearkit.schema import JobCreateParams

    result = _result_of(source)
    _check_count(speakers_expected)
    if result.speaker_embeddings is None:
        raise ValueError(
            "this result was not diarized from one mixed signal (a stereo call's speakers are its"
            " channels): --speakers applies to mono calls; use --merge or --rep/--customer instead"
        )
    if not result.words:
        raise ValueError("this result has no words to give to speakers")
    decoded = decode_audio(Path(audio))
    signal = _single_signal(decoded)
    words = [
        RecognizedWord(w.word, w.start, w.end, 1.0 if w.confidence is None else w.confidence)
        for w in result.words
    ]
    options = JobCreateParams(
        diarize=True, speakers_expected=speakers_expected, min_speakers=speakers_expected,
        max_speakers=speakers_expected,
    )  # fmt: skip
    again = WhisperTranscriber().label_speakers(
        signal, speech_regions(signal), words, options, decoded.duration
    )
    if again.quality is not None:
        present = {f.code for f in again.quality.flags}
        again.quality.flags += [f for f in _kept_flags(result.quality) if f.code not in present]
        again.quality.flags.append(_set_by_user(speakers_expected, "from the recording"))
        # fewer voices than asked: flagged by the mono quality block (asked_count_flags)
        again.quality.trust = trust_of(again.quality.flags)
        if result.quality is not None:
            again.quality.repetition_redecoded = result.quality.repetition_redecoded
    return again


def _check_count(speakers_expected: object) -> None:
    if not isinstance(speakers_expected, int) or isinstance(speakers_expected, bool) or speakers_expected < 1:
        raise ValueError(f"speakers_expected must be a whole number ≥ 1, not {speakers_expected!r}")


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
    """Window labels for exactly ``k`` voices: the ``k`` largest clusters of the first cut of the
    average-linkage (cosine) tree that has ``k`` clusters holding at least :data:`MIN_CLUSTER_SHARE`
    of the windows each, every window then moved to its nearest centroid (up to 3 passes).

    Cutting the tree straight into ``k`` clusters makes a stray window or two (overlapped speech,
    a cough) a "speaker" of its own and puts every real voice into one cluster: 3 % / 97 % talk
    shares on a call whose two people speak 51 / 49.
    """
    if k == 1:
        return np.zeros(len(vectors), dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(vectors.astype(np.float64), method="average", metric="cosine")
    least = max(2, int(np.ceil(MIN_CLUSTER_SHARE * len(vectors))))
    # Too few windows for k clusters of that size: the straight cut at k.
    labels = fcluster(tree, t=k, criterion="maxclust").astype(np.int64) - 1
    for cut in range(k, len(vectors) + 1):
        cut_labels = fcluster(tree, t=cut, criterion="maxclust").astype(np.int64) - 1
        ids, counts = np.unique(cut_labels, return_counts=True)
        if (counts >= least).sum() >= k:
            seeds = np.sort(ids[np.argsort(-counts, kind="stable")[:k]])
            big = np.isin(cut_labels, seeds)
            centroids = _centroids(vectors[big], np.searchsorted(seeds, cut_labels[big]).astype(np.int64), k)
            labels = np.argmax(vectors @ centroids.T, axis=1).astype(np.int64)
            break
    for _ in range(_REFINE_PASSES):
        present = np.unique(labels)
        if len(present) < 2:
            break
        nearest = np.argmax(vectors @ _centroids(vectors, labels, k).T, axis=1).astype(np.int64)
        if np.array_equal(nearest, labels):
            break
        labels = nearest
    return np.asarray(labels, dtype=np.int64)


def _separation(vectors: npt.NDArray[np.float32], labels: npt.NDArray[np.int64]) -> float | None:
    """Silhouette (cosine) of the windows' voices; ``None`` with one voice."""
    if len(np.unique(labels)) < 2 or len(labels) < 3:
        return None
    from sklearn.metrics import silhouette_score

    return round(float(silhouette_score(vectors, labels, metric="cosine")), 3)


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
