"""Echo of the other party on a stereo channel: found from the signal, subtracted and cut out before decoding.

A phone recording often carries the rep's voice on the customer's channel too (hybrid echo on the
line, a speakerphone's loudspeaker heard by its microphone, crosstalk in the recorder), 10-20 dB
below the rep's own channel. Whisper transcribes that echo as the customer saying the rep's words
at the rep's times: the customer's talk time doubles, overtalk and interruptions are invented.
:func:`~hearkit.engine.pipeline.channels.drop_bleed` drops only whole speech regions that are far
quieter than the other channel, and an echo region is nearly always joined to the customer's own
speech, so it drops none of it.

Definitions (20 ms frames, the frames of :func:`~hearkit.engine.pipeline.vad.energy_activity`):

* **Echo path**: how the other channel's signal reaches this one, estimated from the call (first
  on the frames where both channels speak; when that finds echo, again on every frame where the
  other channel speaks; in both, only frames where this channel is at least :data:`ECHO_LEVEL_DB`
  dB quieter than the other's voice the path reads: with crosstalk both ways, fitting on every
  frame mixed the two directions, 0.47 for a true 0.25, and explained almost no frame) by least
  squares in the short-time Fourier domain (both channels
  resampled to 8 kHz, so the bins up to 4 kHz: telephone speech; 64 ms Hann windows every
  20 ms): per frequency bin, this channel's spectrum ≈ Σₖ Hₖ · the other channel's spectrum k frames earlier,
  k = d…d + :data:`ECHO_TAPS` − 1 (a gain, a colouring, and a delay and tail of up to 60 ms
  beyond the whole-frame delay d found first: :data:`MAX_DELAY_FRAMES`). Where
  the two parties' voices are unrelated (no echo) the estimate is near zero, so no frame is
  explained by it.
* **Explained share** of a frame: 1 − (energy left after subtracting the echo predicted from the
  other channel) / (the frame's energy on this channel).
* **Echo frame**: this channel is voice-active (energy detector, or inside its speech regions: under
  line noise an echo is often too quiet for the energy detector) while the other's voice is heard
  (the other channel voice-active in a frame the echo path reads), the loudest of those frames of
  the other channel is at least :data:`ECHO_LEVEL_DB` dB louder, and at least
  :data:`ECHO_EXPLAINED` of the frame's energy is explained by the other channel. A frame where
  this party really speaks over the other (a "yes" said over the rep) is not explained by the other
  channel's voice, so it is not echo.
* **Echo run**: consecutive echo frames (pauses of this channel in between included), at least
  :data:`MIN_ECHO_RUN_S` long. Echo runs are cut out of the channel's speech regions (a margin of
  :data:`ECHO_MARGIN_S` is left next to this party's own voice), and what is left of a region is
  kept only when it still holds :data:`MIN_OWN_VOICE_S` of voice frames that are not echo.
* **Cancellation**: a channel whose echo frames last at least :data:`CANCEL_MIN_S` and are at least
  :data:`CANCEL_MIN_SHARE` of its voice frames gets the echo predicted from the other channel
  subtracted from its samples, **in place** (weighted overlap-add of the predicted spectra, back at
  16 kHz), so the decoder hears this party without the other (a quiet "that makes sense" under the
  echo is then recognised). On AWS call 49 what is left of the echo lies near -49 dBFS
  whatever its level: 20 dB under an echo at -10 dB, 10 dB under one at -20 dB (the analysis's
  upper band edge, near 4 kHz, is not modelled). A call with no echo keeps its exact samples.
* **Echo word** (after recognition, :func:`drop_echo_words`): a word that repeats the other
  channel's word at the same time from a signal :data:`WORD_ECHO_DB` dB quieter.

The regions lost this way count in ``Quality.bleed_share`` (seconds of a channel's speech regions
dropped as the other party's voice / seconds of its speech regions), so the ``strong_bleed`` flag
says when a meaningful share of a channel was the other party.
"""

from __future__ import annotations

import bisect
import math

import numpy as np
import numpy.typing as npt
from scipy.signal import resample_poly

from hearkit.engine.pipeline.asr import RecognizedWord
from hearkit.engine.pipeline.channels import drop_bleed
from hearkit.engine.pipeline.decode import SAMPLE_RATE

__all__ = [
    "CANCEL_MIN_S",
    "CANCEL_MIN_SHARE",
    "ECHO_EXPLAINED",
    "ECHO_LEVEL_DB",
    "ECHO_TAPS",
    "MAX_DELAY_FRAMES",
    "MIN_ECHO_RUN_S",
    "MIN_OWN_VOICE_S",
    "WORD_ECHO_DB",
    "WORD_ECHO_SLACK_S",
    "drop_echo_words",
    "drop_other_party",
    "echo_frames",
    "explained_share",
    "fit_echo_paths",
    "predicted_echo",
]

ECHO_TAPS = 3
"""Frames (20 ms apart) of the other channel the echo path spans from its whole-frame delay: the
echo may be smeared over ~60 ms (a line's hybrid echo, a room's short reverberation)."""
MAX_DELAY_FRAMES = 15
"""A longer echo delay is first found as a whole number of 20 ms frames, up to this many (300 ms: a
line's echo through a VoIP or mobile leg arrives 100-300 ms late), from the onsets of the two
channels' levels; the taps then span one frame either side of it."""
ECHO_EXPLAINED = 0.7
"""Share of a frame's energy the other channel's voice must explain for the frame to be echo."""
ECHO_LEVEL_DB = 3.0
"""The other channel must be at least this much louder in an echo frame (echo is the quieter copy)."""
MIN_ECHO_RUN_S = 0.3
"""Echo runs shorter than this are left in the regions (the decoder bridges pauses under 0.6 s anyway)."""
ECHO_MARGIN_S = 0.04
"""Kept on each side of an echo run that touches this party's own voice (the 64 ms windows smear)."""
MIN_OWN_VOICE_S = 0.15
"""What is left of a region after the cut is decoded only with at least this much non-echo voice."""

WORD_ECHO_SLACK_S = 0.3
"""A word repeats the other channel's word when their spans, widened by this, overlap."""
WORD_ECHO_DB = 6.0
"""A repeated word is echo when its channel is at least this much quieter over the word's span."""

CANCEL_MIN_S = 1.0
CANCEL_MIN_SHARE = 0.05
"""A channel's predicted echo is subtracted from it only when its echo frames last at least
:data:`CANCEL_MIN_S` and are at least this share of its voice-active frames: a call without echo
is decoded from exactly the samples it had."""

_FRAME = 320  # 20 ms at 16 kHz, the energy detector's frame
_RATE = 8000  # the analysis runs at 8 kHz: only the bins up to 4 kHz are used
_HOP = _FRAME * _RATE // SAMPLE_RATE  # the same 20 ms frames at 8 kHz
_WINDOW = 512  # 64 ms analysis window centred on each frame
_CHUNK_FRAMES = 3000  # frames transformed at once (60 s): memory stays flat on long calls
_RIDGE = 1e-3  # regularisation of the per-bin least squares, relative to the bin's mean power


_BINS = _WINDOW // 2 + 1
"""Bins up to 4 kHz: telephone audio has nothing above, and wideband speech little energy there."""


def _narrow(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The ``(2, n)`` call at 8 kHz (the analysis rate)."""
    # A channel at a time into the float32 result: resample_poly answers in float64, which for both
    # channels at once was twice the call's float32 samples more (0.9 GB for a 1-hour call).
    narrow: npt.NDArray[np.float32] | None = None
    for index, channel in enumerate(samples):
        resampled = resample_poly(channel, 1, SAMPLE_RATE // _RATE)
        if narrow is None:
            narrow = np.empty((len(samples), len(resampled)), dtype=np.float32)
        narrow[index] = resampled
        del resampled  # before the next channel's
    assert narrow is not None  # a call has channels
    return narrow


def _spectra(x: npt.NDArray[np.float32], first: int, count: int) -> npt.NDArray[np.complex64]:
    """Short-time spectra of ``x`` (8 kHz) for frames ``first … first + count − 1`` (Hann, 64 ms,
    centred on each 20 ms frame; zeros outside the signal)."""
    pad = (_WINDOW - _HOP) // 2
    lo = first * _HOP - pad
    hi = (first + count - 1) * _HOP - pad + _WINDOW
    segment = np.zeros(hi - lo, dtype=np.float32)
    a, b = max(lo, 0), min(hi, len(x))
    if b > a:
        segment[a - lo : b - lo] = x[a:b]
    frames = np.lib.stride_tricks.sliding_window_view(segment, _WINDOW)[::_HOP][:count]
    spectra = np.fft.rfft(frames * np.hanning(_WINDOW).astype(np.float32), axis=1)
    return spectra.astype(np.complex64)


def _lagged(x: npt.NDArray[np.float32], first: int, count: int) -> npt.NDArray[np.complex64]:
    """Frames × bins × taps for frames ``first …``: tap k holds the spectrum k frames earlier."""
    joined = _spectra(x, first - ECHO_TAPS + 1, count + ECHO_TAPS - 1)
    return np.stack([joined[ECHO_TAPS - 1 - k : ECHO_TAPS - 1 - k + count] for k in range(ECHO_TAPS)], axis=2)


def _chunks(n_frames: int) -> list[tuple[int, int]]:
    return [(a, min(a + _CHUNK_FRAMES, n_frames)) for a in range(0, n_frames, _CHUNK_FRAMES)]


def _echo_path(
    gram: npt.NDArray[np.complex128], cross: npt.NDArray[np.complex128]
) -> npt.NDArray[np.complex64]:
    """The per-bin least-squares taps (ridge-regularised) from the normal equations."""
    scale = np.maximum(np.real(np.trace(gram, axis1=1, axis2=2)) / ECHO_TAPS, 1e-12)
    ridge = _RIDGE * scale[:, None, None] * np.eye(ECHO_TAPS)
    path: npt.NDArray[np.complex64] = np.linalg.solve(gram + ridge, cross[:, :, None])[:, :, 0].astype(
        np.complex64
    )
    return path


_LEAD = (_WINDOW - _HOP) // 2 + (ECHO_TAPS + MAX_DELAY_FRAMES) * _HOP  # zeros before a padded signal


def _pad(channel: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """An 8 kHz channel with room for every analysis window (see :func:`_lagged_at`)."""
    return np.pad(channel, (_LEAD, _WINDOW))


def _taps(frames: npt.NDArray[np.intp], delay: int) -> npt.NDArray[np.intp]:
    """Frames × taps: the frames whose spectra predict each of ``frames`` (``delay`` + k earlier)."""
    taps: npt.NDArray[np.intp] = frames[:, None] - delay - np.arange(ECHO_TAPS)[None, :]
    return taps


class _Spectra:
    """Short-time spectra of a padded 8 kHz channel at a set of frames (Hann, 64 ms, centred on
    each 20 ms frame), each computed once however many uses it has."""

    def __init__(self, padded: npt.NDArray[np.float32], frames: npt.NDArray[np.intp]) -> None:
        self.frames = np.unique(frames)
        starts = self.frames * _HOP - (_WINDOW - _HOP) // 2 + _LEAD
        windows = np.lib.stride_tricks.sliding_window_view(padded, _WINDOW)[starts]
        self.spectra = np.fft.rfft(windows * np.hanning(_WINDOW).astype(np.float32), axis=1).astype(
            np.complex64
        )

    def at(self, frames: npt.NDArray[np.intp]) -> npt.NDArray[np.complex64]:
        """The spectra of ``frames`` (any shape; bins become the last axis)."""
        found: npt.NDArray[np.complex64] = self.spectra[np.searchsorted(self.frames, frames)]
        return found


def _block_spectra(
    padded: list[npt.NDArray[np.float32]], block: npt.NDArray[np.intp], delays: list[int]
) -> tuple[list[npt.NDArray[np.complex64]], list[npt.NDArray[np.complex64]]]:
    """For each channel c at the frames ``block``: its own spectra (frames × bins), and the other
    channel's spectra that predict its echo (frames × bins × taps, ``delays[c]`` frames late)."""
    tables = [
        _Spectra(padded[c], np.concatenate([block, _taps(block, delays[1 - c]).ravel()])) for c in (0, 1)
    ]
    own = [tables[c].at(block) for c in (0, 1)]
    other = [tables[1 - c].at(_taps(block, delays[c])).transpose(0, 2, 1) for c in (0, 1)]
    return own, other


def _blocks(frames: npt.NDArray[np.intp]) -> list[npt.NDArray[np.intp]]:
    return [frames[a : a + _CHUNK_FRAMES] for a in range(0, len(frames), _CHUNK_FRAMES)]


def _heard(activity: list[npt.NDArray[np.bool_]], delays: list[int]) -> list[npt.NDArray[np.bool_]]:
    """For each channel c, per frame: the other channel was voice-active in one of the frames whose
    voice the echo path brings to this one (``delays[c]`` … ``delays[c]`` + taps − 1 earlier)."""
    n = min(len(a) for a in activity)
    heard = []
    for own in (0, 1):
        other = activity[1 - own][:n]
        mask = np.zeros(n, dtype=bool)
        for k in range(ECHO_TAPS):
            shift = delays[own] + k
            if shift < n:
                mask[shift:] |= other[: n - shift]
        heard.append(mask)
    return heard


def _candidates(activity: list[npt.NDArray[np.bool_]], delays: list[int]) -> list[npt.NDArray[np.bool_]]:
    """For each channel, the frames that can be echo: voice-active while the other's voice is heard."""
    n = min(len(a) for a in activity)
    return [activity[c][:n] & heard for c, heard in enumerate(_heard(activity, delays))]


def fit_echo_paths(
    narrow: npt.NDArray[np.float32],
    activity: list[npt.NDArray[np.bool_]],
    delays: list[int],
    *,
    everywhere: bool = True,
) -> list[npt.NDArray[np.complex64]]:
    """For each channel c of the ``(2, m)`` call at 8 kHz, the echo path from the other channel
    (bins × taps, ``delays[c]`` frames late), fitted on the frames where the other's voice is heard
    (``everywhere``), or only on those where this channel is voice-active too (an echo frame is one of
    them, and on a call without echo they are few, overtalk, so that look costs little)."""
    padded = [_pad(narrow[c]) for c in (0, 1)]
    grams = [np.zeros((_BINS, ECHO_TAPS, ECHO_TAPS), dtype=np.complex128) for _ in (0, 1)]
    crosses = [np.zeros((_BINS, ECHO_TAPS), dtype=np.complex128) for _ in (0, 1)]
    use = _heard(activity, delays) if everywhere else _candidates(activity, delays)
    for block in _blocks(np.flatnonzero(use[0] | use[1])):
        spectra, predictors = _block_spectra(padded, block, delays)
        for own in (0, 1):
            rows = use[own][block] & (_levels(_energy(spectra[own]), predictors[own]) <= -ECHO_LEVEL_DB)
            x, y = predictors[own][rows], spectra[own][rows]
            grams[own] += np.einsum("tfk,tfl->fkl", x.conj(), x)
            crosses[own] += np.einsum("tfk,tf->fk", x.conj(), y)
    return [_echo_path(g, c) for g, c in zip(grams, crosses, strict=True)]


def _energy(spectra: npt.NDArray[np.complex64]) -> npt.NDArray[np.float64]:
    """Per frame: the energy of ``spectra`` (frames × bins)."""
    energy: npt.NDArray[np.float64] = np.sum(np.abs(spectra) ** 2, axis=1, dtype=np.float64)
    return energy


def _levels(energy: npt.NDArray[np.float64], other: npt.NDArray[np.complex64]) -> npt.NDArray[np.float64]:
    """Per frame: ``energy`` (a channel's, :func:`_energy`) less that of the loudest of the other
    channel's frames the path reads (``other``: frames × bins × taps), in dB."""
    source = np.max(np.sum(np.abs(other) ** 2, axis=1, dtype=np.float64), axis=1)
    levels: npt.NDArray[np.float64] = 10 * np.log10((energy + 1e-12) / (source + 1e-12))
    return levels


def explained_share(
    narrow: npt.NDArray[np.float32],
    activity: list[npt.NDArray[np.bool_]],
    paths: list[npt.NDArray[np.complex64]],
    delays: list[int],
) -> list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    """For each channel c of the ``(2, m)`` call at 8 kHz, per 20 ms frame that can be echo (voice-active
    while the other's voice is heard): the share of its energy the echo path from the other channel
    explains, and its energy less the loudest of the other's frames the path reads, in dB; 0 on the
    other frames.

    ``paths``, ``delays``: :func:`fit_echo_paths` and the delays it was fitted with.
    """
    n_frames = min(len(a) for a in activity)
    padded = [_pad(narrow[c]) for c in (0, 1)]
    shares = [np.zeros(n_frames) for _ in (0, 1)]
    levels = [np.zeros(n_frames) for _ in (0, 1)]
    for block in _blocks(np.flatnonzero(np.logical_or(*_candidates(activity, delays)))):
        spectra, predictors = _block_spectra(padded, block, delays)
        for own in (0, 1):
            energy = _energy(spectra[own])
            levels[own][block] = _levels(energy, predictors[own])
            predicted = np.einsum("tfk,fk->tf", predictors[own], paths[own])
            residual = np.sum(np.abs(spectra[own] - predicted) ** 2, axis=1, dtype=np.float64)
            shares[own][block] = 1.0 - residual / np.maximum(energy, 1e-20)
    return [(shares[0], levels[0]), (shares[1], levels[1])]


def _overlap_add(frames: npt.NDArray[np.float32], first: int, out: npt.NDArray[np.float32]) -> None:
    """Add 64 ms ``frames`` (frame ``first`` onwards, placed as :func:`_spectra` cut them) into ``out``."""
    start = first * _HOP - (_WINDOW - _HOP) // 2
    stride = _HOP * 4  # every 4th frame starts after the previous one's window ends
    for j in range(4):
        group = frames[j::4]
        if not len(group):
            continue
        padded = np.zeros((len(group), stride), dtype=np.float32)
        padded[:, :_WINDOW] = group
        flat = padded.ravel()
        s0 = start + j * _HOP
        lo, hi = max(0, s0), min(len(out), s0 + len(flat))
        if hi > lo:
            out[lo:hi] += flat[lo - s0 : hi - s0]


def predicted_echo(
    own: npt.NDArray[np.float32],
    other: npt.NDArray[np.float32],
    path: npt.NDArray[np.complex64],
    n_frames: int,
    delay: int,
) -> npt.NDArray[np.float32]:
    """The echo of ``other`` on ``own`` (both 8 kHz) as an 8 kHz signal: the ``path``'s prediction,
    resynthesised by weighted overlap-add of the 64 ms frames."""
    window = np.hanning(_WINDOW).astype(np.float32)
    echo = np.zeros(len(own), dtype=np.float32)
    weight = np.zeros(len(own), dtype=np.float32)
    for a, b in _chunks(n_frames):
        spectra = np.einsum("tfk,fk->tf", _lagged(other, a - delay, b - a), path)
        _overlap_add(np.fft.irfft(spectra, n=_WINDOW, axis=1).astype(np.float32) * window, a, echo)
        _overlap_add(np.broadcast_to(window**2, (b - a, _WINDOW)), a, weight)
    echo[weight > 1e-3] /= weight[weight > 1e-3]
    echo[weight <= 1e-3] = 0.0
    return echo


def _masks(
    narrow: npt.NDArray[np.float32],
    activity: list[npt.NDArray[np.bool_]],
    paths: list[npt.NDArray[np.complex64]],
    delays: list[int],
) -> list[npt.NDArray[np.bool_]]:
    n = min(len(a) for a in activity)
    candidates = _candidates(activity, delays)
    masks = [np.zeros(len(a), dtype=bool) for a in activity]
    for channel, (share, level) in enumerate(explained_share(narrow, activity, paths, delays)):
        masks[channel][:n] = candidates[channel] & (level <= -ECHO_LEVEL_DB) & (share >= ECHO_EXPLAINED)
    return masks


def _analyse(
    samples: npt.NDArray[np.float32], activity: list[npt.NDArray[np.bool_]]
) -> tuple[npt.NDArray[np.float32], list[npt.NDArray[np.complex64]], list[int], list[npt.NDArray[np.bool_]]]:
    """The call at 8 kHz, its echo paths, the delays they start at, and each channel's echo frames.

    A first look fits the paths on the frames that can be echo only (this channel voice-active
    while the other's voice is heard: few on a call without echo, so it costs ~1 % of the
    transcription there); when it finds :data:`CANCEL_MIN_S` of echo, the paths are fitted again on
    every frame where the other's voice is heard (a weak echo, -20 dB, is often too quiet to make
    its frames voice-active, and the first fit, from the double talk, misses some of it: AWS call 49
    at -20 dB, rep share 0.50 against 0.55)."""
    n = min(len(a) for a in activity)
    delays = _bulk_delays(samples, n)
    if not np.logical_or(*_candidates(activity, delays)).any():
        return samples, [], delays, [np.zeros(len(a), dtype=bool) for a in activity]
    narrow = _narrow(samples)
    paths = fit_echo_paths(narrow, activity, delays, everywhere=False)
    masks = _masks(narrow, activity, paths, delays)
    if max(int(m.sum()) for m in masks) * _FRAME >= CANCEL_MIN_S * SAMPLE_RATE:
        paths = fit_echo_paths(narrow, activity, delays)
        masks = _masks(narrow, activity, paths, delays)
    return narrow, paths, delays, masks


def _bulk_delays(samples: npt.NDArray[np.float32], n: int) -> list[int]:
    """For each channel, the whole frames by which the other channel's voice would reach it as an
    echo: the lag (0 … :data:`MAX_DELAY_FRAMES`) at which the onsets of the other channel's level
    (frame-to-frame rises in dB) best match this channel's, less one (the taps span it ± 1)."""
    # a view: the float64 copy it was and its square were 4 times the call's samples (1.8 GB an hour)
    frames = samples[:, : n * _FRAME].reshape(2, n, _FRAME)
    power = np.einsum("cft,cft->cf", frames, frames, dtype=np.float64) / _FRAME
    onsets = np.diff(10 * np.log10(power + 1e-10), axis=1)
    delays = []
    for own in (0, 1):
        a, b = onsets[own], onsets[1 - own]
        scores = [
            float(np.dot(a[lag:], b[: len(b) - lag])) / max(len(a) - lag, 1)
            for lag in range(min(MAX_DELAY_FRAMES, len(a) - 1) + 1)
        ]
        delays.append(max(0, int(np.argmax(scores)) - 1) if scores else 0)
    return delays


def echo_frames(
    samples: npt.NDArray[np.float32], activity: list[npt.NDArray[np.bool_]]
) -> list[npt.NDArray[np.bool_]]:
    """Each channel's 20 ms frames that are the other party's voice (module text: echo frame).

    ``samples``: the ``(2, n)`` call at 16 kHz; ``activity``: each channel's
    :func:`~hearkit.engine.pipeline.vad.energy_activity`."""
    return _analyse(samples, activity)[3]


def _echo_runs(echo: npt.NDArray[np.bool_], voice: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Frame spans to cut: runs of echo frames with this channel's pauses between them (no own
    voice), at least :data:`MIN_ECHO_RUN_S` long, shrunk by :data:`ECHO_MARGIN_S` where they
    touch the party's own voice."""
    own_voice = voice & ~echo
    min_run = round(MIN_ECHO_RUN_S * SAMPLE_RATE / _FRAME)
    margin = round(ECHO_MARGIN_S * SAMPLE_RATE / _FRAME)
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for index in range(len(echo) + 1):
        if index < len(echo) and not own_voice[index]:
            if start is None:
                start = index
            continue
        if start is not None:
            hits = np.flatnonzero(echo[start:index])
            if hits.size:
                a, b = start + int(hits[0]), start + int(hits[-1]) + 1
                if b - a >= min_run:
                    a += margin if a > 0 and own_voice[a - 1] else 0
                    b -= margin if b < len(echo) and own_voice[b] else 0
                    runs.append((a, b))
            start = None
    return runs


def _cut(
    regions: list[tuple[int, int]],
    runs: list[tuple[int, int]],
    echo: npt.NDArray[np.bool_],
    own_voice: npt.NDArray[np.bool_],
) -> list[tuple[int, int]]:
    """``regions`` (samples) without the frame spans ``runs``, each piece's echo edges trimmed to
    its own voice (± :data:`ECHO_MARGIN_S`); pieces with too little own voice go."""
    kept: list[tuple[int, int]] = []
    min_voice = round(MIN_OWN_VOICE_S * SAMPLE_RATE / _FRAME)
    margin = round(ECHO_MARGIN_S * SAMPLE_RATE / _FRAME) * _FRAME
    for start, end in regions:
        pieces = [(start, end)]
        for a, b in runs:
            cut_a, cut_b = a * _FRAME, b * _FRAME
            if cut_b <= start or cut_a >= end:
                continue
            pieces = [
                part
                for s, e in pieces
                for part in ((s, min(e, cut_a)), (max(s, cut_b), e))
                if part[1] > part[0]
            ]
        for s, e in pieces:
            first, last = s // _FRAME, -(-e // _FRAME)
            voiced = np.flatnonzero(own_voice[first:last])
            if voiced.size < min_voice:
                continue
            head, tail = first + int(voiced[0]), first + int(voiced[-1]) + 1
            if echo[first:head].any():
                s = max(s, head * _FRAME - margin)
            if echo[tail:last].any():
                e = min(e, tail * _FRAME + margin)
            kept.append((s, e))
    return kept


def drop_other_party(
    samples: npt.NDArray[np.float32],
    regions: list[list[tuple[int, int]]],
    activity: list[npt.NDArray[np.bool_]],
) -> list[list[tuple[int, int]]]:
    """Each channel's speech ``regions`` without the other party's voice: first the runs of its echo
    are cut out, then what is left of a region goes when it is still the other party's leak
    (:func:`~hearkit.engine.pipeline.channels.drop_bleed`: far quieter than the other channel
    while it speaks). In that order, a region joining the customer's words to the rep's echo is
    judged on the customer's words alone: judged whole, its energy is the echo's and the
    customer's words went with it (AWS call 40 at -20 dB: rep share 0.80 against 0.61).

    ``samples``: the ``(2, n)`` call; ``activity``: each channel's
    :func:`~hearkit.engine.pipeline.vad.energy_activity`. What the two steps drop together is the
    call's ``bleed_share`` (seconds of a channel's regions dropped / seconds of its regions).
    """
    # Frames the analysis may call echo: voice by level, or inside the channel's speech regions. Under
    # line noise an echo 20 dB down is no louder than the noise's own margin, so the energy detector
    # does not hear it while the speech detector does, and the decoder wrote it as this party's words
    # (U7 finding 7: echo -20 dB with noise near -44 dBFS, the customer's talk 33.0 s for 25.2 s).
    speaking = [a | _frames_in(r, len(a)) for a, r in zip(activity, regions, strict=True)]
    narrow, paths, delays, masks = _analyse(samples, speaking)
    cut, cancel = [], []
    for channel, echo in enumerate(masks):
        voice = activity[channel]
        runs = _echo_runs(echo, voice)
        cut.append(_cut(regions[channel], runs, echo, voice & ~echo) if echo.any() else regions[channel])
        if samples.flags.writeable and (
            echo.sum() * _FRAME >= CANCEL_MIN_S * SAMPLE_RATE and echo.sum() >= CANCEL_MIN_SHARE * voice.sum()
        ):
            n_frames = min(len(a) for a in activity)
            echo_8k = predicted_echo(
                narrow[channel], narrow[1 - channel], paths[channel], n_frames, delays[channel]
            )
            wide = resample_poly(echo_8k, SAMPLE_RATE // _RATE, 1)[: samples.shape[1]]
            cancel.append((channel, np.pad(wide, (0, samples.shape[1] - len(wide))).astype(np.float32)))
    for channel, echo_signal in cancel:  # after both estimates: each is made from the other's original
        samples[channel] -= echo_signal
    left, right = samples[0], samples[1]
    return [drop_bleed(cut[0], left, right, regions[1]), drop_bleed(cut[1], right, left, regions[0])]


def _frames_in(regions: list[tuple[int, int]], n_frames: int) -> npt.NDArray[np.bool_]:
    """The 20 ms frames (of ``n_frames``) that ``regions`` (samples) touch."""
    inside = np.zeros(n_frames, dtype=bool)
    for start, end in regions:
        inside[start // _FRAME : -(-end // _FRAME)] = True
    return inside


def _normal(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch == "'")


def _level_db(x: npt.NDArray[np.float32], start: float, end: float) -> float:
    span = x[int(start * SAMPLE_RATE) : max(int(end * SAMPLE_RATE), int(start * SAMPLE_RATE) + 1)]
    return 10 * float(np.log10(np.mean(np.square(span, dtype=np.float64)) + 1e-12)) if span.size else -120.0


def drop_echo_words(words: list[RecognizedWord], samples: npt.NDArray[np.float32]) -> list[RecognizedWord]:
    """``words`` (channels 0 and 1) without those that repeat the other channel's word at the same
    time from a far quieter signal: a word is echo when the other channel has a word of the same
    text (lower case, letters and digits) whose span, widened by :data:`WORD_ECHO_SLACK_S` each
    side, overlaps it, and its own channel is at least :data:`WORD_ECHO_DB` dB quieter than the
    other over the word's span. What the signal-level cut (:func:`drop_other_party`) left of an
    echo (a piece's edge, a short run the decoder bridged) is caught here; a "yes" said over
    the rep's "yes" is louder on its own channel and stays."""
    spans: dict[tuple[int, str], list[tuple[float, float]]] = {}
    for o in words:
        spans.setdefault((o.channel, _normal(o.text)), []).append((o.start, o.end))
    for found in spans.values():
        found.sort()
    kept = []
    for w in words:
        text = _normal(w.text)
        if not text or w.channel not in (0, 1) or samples.shape[0] < 2:
            kept.append(w)
            continue
        other = 1 - w.channel
        same = spans.get((other, text), [])
        # same-text words of the other channel starting before this one ends (widened): the last
        # few of them are the candidates (words last seconds, not minutes)
        upto = bisect.bisect_left(same, (w.end + WORD_ECHO_SLACK_S, math.inf))
        repeats = any(o_end + WORD_ECHO_SLACK_S > w.start for _, o_end in same[max(0, upto - 8) : upto])
        if repeats and _level_db(samples[w.channel], w.start, w.end) <= (
            _level_db(samples[other], w.start, w.end) - WORD_ECHO_DB
        ):
            continue
        kept.append(w)
    return kept
