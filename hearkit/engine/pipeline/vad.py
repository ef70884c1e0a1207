"""Voice activity detection with the Silero VAD model that faster-whisper ships (ONNX, no torch).

Regions are sample spans ``(start, end)`` at 16 kHz. The default threshold is lower than
Silero's 0.5: on the 8 kHz contact-centre calls the default dropped real caller speech
(quiet, band-limited telephone audio scores low), and a lower threshold only costs a little
extra audio to decode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from faster_whisper.vad import VadOptions, get_speech_timestamps

from hearkit.engine.pipeline.decode import SAMPLE_RATE

__all__ = [
    "FLOOR_MARGIN_DB",
    "MIN_LEVEL_DB",
    "NOISY_VOICE_MARGIN_DB",
    "QUIET_DBFS",
    "QUIET_VOICE_DBFS",
    "RAISED_DBFS",
    "VOICE_RANGE_DB",
    "LegLevel",
    "VadSettings",
    "bridge_gaps",
    "energy_activity",
    "energy_regions",
    "frame_levels",
    "leg_activity",
    "leg_level",
    "mean_square",
    "rms_dbfs",
    "speech_regions",
    "total_speech",
    "trim_to_activity",
    "union",
    "voice_activity",
    "voice_peak_db",
    "voiced_frames",
]


QUIET_DBFS = -60.0
"""A signal whose RMS (over the whole signal) is under this is raised to :data:`RAISED_DBFS` before
Silero hears it: Silero stops hearing speech near -70 dBFS (development recordings 30 / 40 dB down:
AMI EN2002a at -72 / -82 dBFS 2 % / 0 % of its speech heard, dev01 at -71 / -81 47 % / 0 %; raised,
99-100 %). Louder signals are left as they are (every development file is; pyannote's call at -63
/ -73 dBFS still had 97 / 96 %), so the bar only rescues recordings Silero would not hear at all."""
RAISED_DBFS = -30.0
"""The RMS level a signal under :data:`QUIET_DBFS` is raised to for Silero (a copy; the samples decoded
are not changed)."""


@dataclass(frozen=True)
class VadSettings:
    """Silero VAD settings. ``threshold`` is the speech probability that opens a region."""

    threshold: float = 0.3
    min_speech_ms: int = 120
    min_silence_ms: int = 300
    speech_pad_ms: int = 200
    max_speech_s: float = 28.0


def speech_regions(
    samples: npt.NDArray[np.float32], settings: VadSettings | None = None
) -> list[tuple[int, int]]:
    """Sample spans ``(start, end)`` where Silero VAD hears speech, in time order."""
    settings = settings or VadSettings()
    if samples.size < 512 or not np.any(samples):
        return []
    options = VadOptions(
        threshold=settings.threshold,
        min_speech_duration_ms=settings.min_speech_ms,
        min_silence_duration_ms=settings.min_silence_ms,
        speech_pad_ms=settings.speech_pad_ms,
        max_speech_duration_s=settings.max_speech_s,
    )
    stamps = get_speech_timestamps(_audible(samples), options, sampling_rate=SAMPLE_RATE)
    return [(int(s["start"]), int(s["end"])) for s in stamps if s["end"] > s["start"]]


def _audible(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """``samples``, or a copy raised to :data:`RAISED_DBFS` RMS when they are under :data:`QUIET_DBFS`."""
    rms_db = rms_dbfs(samples)
    if rms_db is None or rms_db >= QUIET_DBFS:
        return samples
    return (samples * np.float32(10 ** ((RAISED_DBFS - rms_db) / 20))).astype(np.float32)


def mean_square(x: npt.NDArray[np.float32]) -> float:
    """The mean of ``x`` squared, summed in float64 without a float64 copy of ``x`` (a 3-hour channel
    is 0.7 GB of float32: ``np.square(x, dtype=np.float64)`` made 1.4 GB more at once); 0 when empty."""
    return float(np.einsum("i,i->", x, x, dtype=np.float64)) / x.size if x.size else 0.0


def rms_dbfs(samples: npt.NDArray[np.float32]) -> float | None:
    """The RMS level of ``samples`` over all of them, in dBFS; ``None`` when empty or digitally silent."""
    power = mean_square(samples)
    return 10 * float(np.log10(power)) if power > 0 else None


def total_speech(regions: list[tuple[int, int]]) -> float:
    """Seconds of speech covered by ``regions``."""
    return sum(end - start for start, end in regions) / SAMPLE_RATE


_FRAME = 320  # 20 ms at 16 kHz


def energy_regions(
    samples: npt.NDArray[np.float32],
    *,
    floor_margin_db: float = 15.0,
    min_level_db: float = -45.0,
    min_speech_ms: int = 100,
    min_silence_ms: int = 300,
    pad_ms: int = 200,
    active: npt.NDArray[np.bool_] | None = None,
) -> list[tuple[int, int]]:
    """Sample spans where the level is ``floor_margin_db`` above the channel's noise floor.

    A safety net for Silero, which on some band-limited telephone channels scores loud, clear
    speech near zero. The noise floor is the 10th percentile of 20 ms frame levels (dBFS); a
    frame is active when it is above both the floor plus the margin and ``min_level_db``.
    ``active``: the channel's :func:`energy_activity`, when the caller already has it.
    """
    if active is None:
        active = energy_activity(samples, floor_margin_db=floor_margin_db, min_level_db=min_level_db)
    if active.size == 0:
        return []
    return _runs_to_regions(active, min_speech_ms, min_silence_ms, pad_ms, len(samples))


FLOOR_MARGIN_DB = 15.0
"""How far over a signal's noise floor (the 10th percentile of its frame levels) a frame is voice."""
MIN_LEVEL_DB = -45.0
"""The level (dBFS) a voice frame must also reach (a quiet leg's own floor: :func:`leg_activity`)."""


def energy_activity(
    samples: npt.NDArray[np.float32],
    *,
    floor_margin_db: float = FLOOR_MARGIN_DB,
    min_level_db: float = MIN_LEVEL_DB,
) -> npt.NDArray[np.bool_]:
    """One flag per 20 ms frame: the level is ``floor_margin_db`` above the noise floor.

    The noise floor is the 10th percentile of the frame levels (dBFS); a frame must also be
    above ``min_level_db``. Unpadded, so it marks where voice actually is.
    """
    return _active(frame_levels(samples), floor_margin_db, min_level_db)


def _active(
    level: npt.NDArray[np.float64], floor_margin_db: float, min_level_db: float
) -> npt.NDArray[np.bool_]:
    """:func:`energy_activity` of frames of these levels (dBFS)."""
    if level.size == 0:
        return np.zeros(0, dtype=bool)
    floor = float(np.percentile(level, 10))
    active: npt.NDArray[np.bool_] = level > max(floor + floor_margin_db, min_level_db)
    return active


QUIET_VOICE_DBFS = -35.0
"""A channel whose voice peaks (:func:`voice_peak_db`) under this is a quiet leg: its energy activity
takes its floor from its own level (:func:`leg_activity`). Every channel of the sample calls and of
AWS calls 40 and 49 (WAV and MP3) peaks at -13 to -20 dBFS; AWS 40's caller leg 30 dB down at -45.5."""


NOISY_VOICE_MARGIN_DB = 6.0
"""How far over its noise floor a leg's voice frames are looked for when fewer than 2 s of frames are
:data:`FLOOR_MARGIN_DB` over it (:func:`voice_peak_db`): a voice under line noise, its loudest syllables
under 15 dB over the hiss. Stationary line noise alone puts no frame 3 dB over its 10th percentile (white
noise at -70/-60/-50 dBFS beside AWS calls 40 and 49: 0 of 12,269 frames); AWS call 49's caller leg 30 dB
down under noise at -52/-50/-48 dBFS puts 1,669/1,230/796 frames 6 dB over it, 18/0/0 frames 15 dB over."""


def voice_peak_db(samples: npt.NDArray[np.float32]) -> float | None:
    """The 90th percentile level (dBFS) of the 20 ms frames 15 dB over the noise floor (the 10th
    percentile), or, when under 100 frames (2 s) are, of the frames :data:`NOISY_VOICE_MARGIN_DB` over it
    (a voice under line noise); ``None`` with under 100 of those either (a silent channel, or line noise
    alone). A quiet leg under noise is still a quiet leg: with the 15 dB margin alone, AWS call 49's caller
    leg 30 dB down (voice peaking near -42 dBFS) read ``None`` under noise at -52 dBFS, so it lost its
    ``quiet_leg`` flag and was not raised for recognition (U7 finding 15)."""
    return _leg_peak(frame_levels(samples))


def _voice_peak(level: npt.NDArray[np.float64], margin_db: float = FLOOR_MARGIN_DB) -> float | None:
    """The 90th percentile of the frame levels (dBFS) ``margin_db`` over their 10th percentile; ``None``
    with under 100 such frames. The mono path's own-level floor (:func:`voice_activity`) takes it with
    the 15 dB margin alone."""
    if level.size == 0:
        return None
    voice = level[level > np.percentile(level, 10) + margin_db]
    return float(np.percentile(voice, 90)) if voice.size >= 100 else None


def _leg_peak(level: npt.NDArray[np.float64]) -> float | None:
    """:func:`voice_peak_db` of frames of these levels (dBFS)."""
    peak = _voice_peak(level)
    return peak if peak is not None else _voice_peak(level, NOISY_VOICE_MARGIN_DB)


VOICE_RANGE_DB = 30.0
"""How far under a signal's voice peak (:func:`voice_peak_db`) its own-level floor lies (:func:`leg_activity`,
:func:`voice_activity`)."""


def _own_floor(peak: float | None) -> float:
    """The absolute floor (dBFS) of a signal whose voice peaks at ``peak``: -45 dBFS, or lower on a quiet
    signal (its voice peak - :data:`VOICE_RANGE_DB`)."""
    return MIN_LEVEL_DB if peak is None else min(MIN_LEVEL_DB, peak - VOICE_RANGE_DB)


@dataclass(frozen=True)
class LegLevel:
    """One party's channel measured once: its 20 ms frame levels (dBFS, :func:`frame_levels`) and its
    voice peak (:func:`voice_peak_db`), for its activity, its ``quiet_leg`` flag and whether it is
    raised for recognition (:func:`leg_level`)."""

    frames: npt.NDArray[np.float64]
    peak: float | None
    under_noise: bool = False
    """The voice peak was found only :data:`NOISY_VOICE_MARGIN_DB` over the noise floor, not
    :data:`FLOOR_MARGIN_DB`: a voice under line noise, whose talk the 15 dB activity times short."""


def leg_level(samples: npt.NDArray[np.float32]) -> LegLevel:
    """:class:`LegLevel` of ``samples``."""
    frames = frame_levels(samples)
    clear = _voice_peak(frames)
    if clear is not None:
        return LegLevel(frames, clear)
    noisy = _voice_peak(frames, NOISY_VOICE_MARGIN_DB)
    return LegLevel(frames, noisy, under_noise=noisy is not None)


def leg_activity(samples: npt.NDArray[np.float32], level: LegLevel | None = None) -> npt.NDArray[np.bool_]:
    """:func:`energy_activity` of one party's channel; on a quiet leg (voice peaking under
    :data:`QUIET_VOICE_DBFS`) the absolute floor is its voice peak - 30 dB instead of -45 dBFS, so its
    talk is timed at its own level (a new-user check: AWS 40's caller leg 30 dB down read 80.6 s of talk
    for 101.3 s; 102.7 s with this). ``level``: the channel's :func:`leg_level`, when the caller has it."""
    if level is None:
        level = leg_level(samples)
    peak = level.peak
    floor_db = MIN_LEVEL_DB if peak is None or peak >= QUIET_VOICE_DBFS else _own_floor(peak)
    return _active(level.frames, FLOOR_MARGIN_DB, floor_db)


def voice_activity(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
    """:func:`energy_activity` of a mono recording at its own level: the absolute floor is the lower of
    -45 dBFS and its voice peak - :data:`VOICE_RANGE_DB`, so the same recording 20 or 30 dB quieter has
    the same voice frames (every recording whose voice peaks under -15 dBFS; louder ones keep -45).

    The mono path trims the diarizer's turns to it. With -45 dBFS for every recording, the AMI headset
    mixes (voice peaking at -24 to -35 dBFS) lost the quiet starts and ends of turns (dev00: 2 s at -51
    dBFS; 39 % of its frames voiced, 65 % with this), and nine development files 20 dB down scored 20.4 %
    DER against 17.0 % at their own level (17.9 % with this; issue 20, D7)."""
    level = frame_levels(samples)
    return _active(level, FLOOR_MARGIN_DB, _own_floor(_voice_peak(level)))


def frame_levels(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """The level (dBFS) of each whole 20 ms frame of ``samples``."""
    n_frames = len(samples) // _FRAME
    frames = samples[: n_frames * _FRAME].reshape(n_frames, _FRAME)  # a view: no copy of a long call
    level: npt.NDArray[np.float64] = 10 * np.log10(
        np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / _FRAME + 1e-12
    )
    return level


def voiced_frames(start: float, end: float, active: npt.NDArray[np.bool_]) -> int:
    """How many of the 20 ms frames of ``active`` (:func:`energy_activity`) inside ``[start, end]``
    (seconds) are voice-active."""
    frame_s = _FRAME / SAMPLE_RATE
    first, last = max(0, int(start / frame_s)), max(0, int(np.ceil(end / frame_s)))
    return int(np.count_nonzero(active[first:last]))


def trim_to_activity(start: float, end: float, active: npt.NDArray[np.bool_]) -> tuple[float, float]:
    """``[start, end]`` (seconds) shrunk to its first and last active 20 ms frame.

    Unchanged when no frame inside is active (a quiet word is still a word).
    """
    frame_s = _FRAME / SAMPLE_RATE
    first, last = int(start / frame_s), min(len(active), int(np.ceil(end / frame_s)))
    inside = np.flatnonzero(active[first:last])
    if inside.size == 0:
        return start, end
    return max(start, (first + inside[0]) * frame_s), min(end, (first + inside[-1] + 1) * frame_s)


def _runs_to_regions(
    active: npt.NDArray[np.bool_], min_speech_ms: int, min_silence_ms: int, pad_ms: int, n_samples: int
) -> list[tuple[int, int]]:
    frame_ms = _FRAME * 1000 // SAMPLE_RATE
    edges = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(np.int8), [0]])))
    runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and (a - merged[-1][1]) * frame_ms < min_silence_ms:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    pad = pad_ms * SAMPLE_RATE // 1000
    return [
        (max(0, a * _FRAME - pad), min(n_samples, b * _FRAME + pad))
        for a, b in merged
        if (b - a) * frame_ms >= min_speech_ms
    ]


def union(*region_lists: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of several region lists, as sorted non-overlapping spans."""
    spans = sorted(span for regions in region_lists for span in regions)
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def bridge_gaps(regions: list[tuple[int, int]], max_gap_s: float) -> list[tuple[int, int]]:
    """``regions`` with every pause shorter than ``max_gap_s`` filled in (sorted input)."""
    max_gap = int(max_gap_s * SAMPLE_RATE)
    out: list[tuple[int, int]] = []
    for start, end in regions:
        if out and start - out[-1][1] < max_gap:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
