"""Channel analysis for ``channel: true``: really-mono detection, chunk planning, bleed removal.

Definitions (all on the 16 kHz decoded signal):

* **Really mono**: a stereo file whose channels carry the same signal (correlation ≥ 0.98
  over the whole file) or where one channel is silent (its RMS is below 1 % of the other's,
  or below -60 dBFS). Such a file is transcribed once, as one speaker.
* **Bleed**: a speech region of channel *c* whose energy is far below the other channel's
  over the same span (ratio < :data:`BLEED_RATIO`) while the other channel is speaking
  there: the far party leaking into this party's microphone. It is not decoded.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from hearkit.engine.pipeline.asr import PIECE_GAP_S, Chunk
from hearkit.engine.pipeline.decode import SAMPLE_RATE
from hearkit.engine.pipeline.vad import energy_activity, mean_square

__all__ = [
    "BLEED_RATIO",
    "BRIDGE_GAP_S",
    "MARGIN_KEEP_S",
    "MARGIN_TRIM_S",
    "MIN_FILL_S",
    "ONE_SIGNAL_MIN",
    "OVER_FLOOR_BOUND",
    "SAME_LEVEL_DB",
    "SAME_SIGNAL_MIN",
    "TIGHTER_CUTS",
    "WIDE_CUT",
    "channel_correlation",
    "channel_levels",
    "drop_bleed",
    "is_really_mono",
    "lagged_similarity",
    "one_signal",
    "plan_chunks",
    "plan_full_windows",
    "plan_windows",
    "pool_windows",
    "silent_beside_voice",
    "silent_by_level",
    "split_long",
    "trim_margins",
    "window_floor",
]

BLEED_RATIO = 0.05
"""Energy ratio (this channel / other channel) below which a region counts as bleed."""

MAX_CHUNK_S = 29.5
"""Most speech packed into one Whisper window (seconds)."""

BRIDGE_GAP_S = 0.6
"""Pauses between speech regions shorter than this are decoded as they are, not cut out.

Cutting out every short pause split phrases into pieces the decoder then garbled at the
junctions; on the contact-centre calls bridging pauses under 0.6 s (with 0.2 s of silence
between the pieces that remain) halved the words lost against the naive path.
"""

_SILENT_RMS = 1e-3  # -60 dBFS
_MAX_CHUNK = int(29.5 * SAMPLE_RATE)


def _rms(x: npt.NDArray[np.float32]) -> float:
    return math.sqrt(mean_square(x))


_BLOCK = 1 << 20
"""Samples a whole-call statistic takes at a time in float64 (8 MB): its memory does not grow with a call."""


def channel_correlation(samples: npt.NDArray[np.float32]) -> float | None:
    """Pearson correlation of the two channels of a ``(2, n)`` signal, on every 4th sample
    (4 kHz is plenty to tell one signal twice from two; the full signal cost ~10x more);
    ``None`` when either channel is constant or there is no second channel. Summed in float64
    blocks of :data:`_BLOCK` samples (``np.corrcoef`` of float64 copies held 1.2 GB more for a
    1-hour call)."""
    if samples.shape[0] < 2:
        return None
    left, right = samples[0, ::4], samples[1, ::4]
    if not left.size:
        return None
    mean_l, mean_r = float(left.mean(dtype=np.float64)), float(right.mean(dtype=np.float64))
    sxx = syy = sxy = 0.0
    for start in range(0, left.size, _BLOCK):
        a = left[start : start + _BLOCK].astype(np.float64) - mean_l
        b = right[start : start + _BLOCK].astype(np.float64) - mean_r
        sxx += float(a @ a)
        syy += float(b @ b)
        sxy += float(a @ b)
    if sxx <= 0.0 or syy <= 0.0:
        return None
    return sxy / math.sqrt(sxx * syy)


SAME_SIGNAL_MIN = 0.9
"""Lagged similarity (:func:`lagged_similarity`) from which two channels at about the same level
(within :data:`SAME_LEVEL_DB`) are one signal. Measured: real two-party stereo calls 0.000-0.055
(the 7 sample calls, the AWS contact-centre legs, SpokenWOZ, faster-whisper's 5 s stereo file);
the rep's echo added to the customer channel at -20/-10/-6 dB 0.13/0.38/0.57 (AWS calls 40 and
49); the same call written on both channels with a 1-sample or 0.8 ms offset, inverted or halved
0.9999-1.0 (the zero-lag correlation of the last three: -0.36, -1.0 and 1.0, so the zero-lag test
caught only the halved one); the same call with one channel through MP3 at 8/16/24 kbit/s
0.906/0.962/0.980, through Opus 0.924/0.981/0.989."""
ONE_SIGNAL_MIN = 0.97
"""Lagged similarity from which two channels are one signal whatever their levels. Below it, a
channel more than :data:`SAME_LEVEL_DB` quieter is the other party's echo over a party who barely
speaks: sample call 07 (the customer 1.8 % of the talk) with the rep's echo at -10/-8/-6 dB on
the customer channel reads 0.902/0.941/0.961, and diarizing the rep's channel alone split the rep
in two (rep share 0.855 against 0.982, where the stereo path gives 0.989 and ``strong_bleed``)."""
SAME_LEVEL_DB = 3.0
"""Two channels whose levels (RMS over the call) differ by less than this are at the same level."""
_MAX_LAG = SAMPLE_RATE // 100  # 10 ms
_EXCERPTS = 12
_EXCERPT = 4 * SAMPLE_RATE


def lagged_similarity(samples: npt.NDArray[np.float32]) -> float | None:
    """How far the two channels of a ``(2, n)`` signal are one signal: the largest absolute
    normalised cross-correlation at lags within ±10 ms, over the whole call (summed over up to
    :data:`_EXCERPTS` excerpts of 4 s spread evenly across it, at the full 16 kHz, so a one-sample
    offset counts). 1.0: the same signal (also inverted, delayed or scaled); 0: unrelated.
    ``None`` when a channel is silent or there is no second channel."""
    if samples.shape[0] < 2 or samples.shape[1] < 2 * _MAX_LAG:
        return None
    n = samples.shape[1]
    size = min(_EXCERPT, n)
    starts = np.linspace(0, n - size, num=min(_EXCERPTS, max(1, n // size)), dtype=np.int64)
    fft_size = 1 << int(np.ceil(np.log2(size + _MAX_LAG)))
    cross = np.zeros(2 * _MAX_LAG + 1)
    energy_l = energy_r = 0.0
    for start in starts:
        left = samples[0, start : start + size].astype(np.float64)
        right = samples[1, start : start + size].astype(np.float64)
        left -= left.mean()
        right -= right.mean()
        spectrum = np.fft.rfft(left, fft_size) * np.conj(np.fft.rfft(right, fft_size))
        full = np.fft.irfft(spectrum, fft_size)
        cross += np.concatenate([full[-_MAX_LAG:], full[: _MAX_LAG + 1]])  # lags -L..L
        energy_l += float(left @ left)
        energy_r += float(right @ right)
    if energy_l <= 0.0 or energy_r <= 0.0:
        return None
    return float(np.abs(cross).max() / np.sqrt(energy_l * energy_r))


def is_really_mono(samples: npt.NDArray[np.float32], correlation: float | None = None) -> bool:
    """True when a ``(2, n)`` signal is one voice twice or one voice and silence: a channel
    silent or under 1 % of the other's level, or the two one signal (:func:`one_signal`, which also
    catches a copy that is inverted or a few samples late).

    ``correlation``: the signal's zero-lag :func:`channel_correlation` when the caller has it
    (≥ 0.98 decides without the lag search).
    """
    if samples.shape[0] < 2:
        return True
    if silent_by_level(samples) is not None:
        return True
    if correlation is not None and abs(correlation) >= 0.98:
        return True
    return one_signal(samples)


def channel_levels(samples: npt.NDArray[np.float32]) -> list[float]:
    """The RMS level of each channel of a ``(channels, n)`` signal (linear, full scale 1)."""
    return [_rms(channel) for channel in samples]


def silent_by_level(samples: npt.NDArray[np.float32], *, absolute: bool = True) -> int | None:
    """The channel of a ``(2, n)`` signal that counts as silent by its level (under -60 dBFS RMS, or
    under 1 % of the other channel's), the quieter one; ``None`` when neither does.

    ``absolute=False``: by the second rule alone (a channel at -62 dBFS beside one at -30 is not
    silent then): what the mono path asks when it picks the signal to diarize, where two quiet
    channels may be two parties recorded low."""
    rms = channel_levels(samples[:2])
    quiet = int(np.argmin(rms))
    if absolute and rms[quiet] < _SILENT_RMS:
        return quiet
    return quiet if rms[quiet] < 0.01 * max(rms[1 - quiet], 1e-6) else None


def silent_beside_voice(samples: npt.NDArray[np.float32]) -> int | None:
    """The channel of a ``(2, n)`` signal that is silent beside a channel at a usable level: silent by
    :func:`silent_by_level`, by its relative half, or by its absolute half (under -60 dBFS) when the other
    channel is not under -60 dBFS itself; ``None`` otherwise (two channels recorded low may be two parties,
    or one signal twice).

    What the mono path asks when one voice was found on a call sent with a channel per party: that voice
    is the louder channel's party and the other ``one_party_silent``. By the relative half alone, a leg of
    line noise at -62 dBFS beside the agent at -24 (38 dB down: silent by level, so the call came to the
    mono path) was neither, and the call read ``stereo_really_mono`` (X8's rule gap)."""
    quiet = silent_by_level(samples)
    if quiet is None:
        return None
    rms = channel_levels(samples[:2])
    loud = rms[1 - quiet]
    return quiet if loud >= _SILENT_RMS or rms[quiet] < 0.01 * max(loud, 1e-6) else None


def one_signal(samples: npt.NDArray[np.float32]) -> bool:
    """True when the two channels of a ``(2, n)`` signal carry one signal: their
    :func:`lagged_similarity` is at least :data:`ONE_SIGNAL_MIN`, or at least
    :data:`SAME_SIGNAL_MIN` with the two at the same level (:data:`SAME_LEVEL_DB`)."""
    similarity = lagged_similarity(samples)
    if similarity is None or similarity < SAME_SIGNAL_MIN:
        return False
    if similarity >= ONE_SIGNAL_MIN:
        return True
    rms_l, rms_r = _rms(samples[0]), _rms(samples[1])
    return abs(20 * math.log10(max(rms_l, 1e-12) / max(rms_r, 1e-12))) < SAME_LEVEL_DB


def drop_bleed(
    regions: list[tuple[int, int]],
    own: npt.NDArray[np.float32],
    other: npt.NDArray[np.float32],
    other_regions: list[tuple[int, int]],
) -> list[tuple[int, int]]:
    """``regions`` without those that are the other party's voice leaking into this channel."""
    other_mask = np.zeros(len(other), dtype=bool)
    for start, end in other_regions:
        other_mask[start:end] = True
    kept = []
    for start, end in regions:
        if other_mask[start:end].mean() < 0.5:
            kept.append((start, end))
            continue
        own_energy = float(np.mean(np.square(own[start:end], dtype=np.float64)))
        other_energy = float(np.mean(np.square(other[start:end], dtype=np.float64)))
        if other_energy == 0.0 or own_energy / other_energy >= BLEED_RATIO:
            kept.append((start, end))
    return kept


def split_long(
    regions: list[tuple[int, int]], samples: npt.NDArray[np.float32], max_len: int = _MAX_CHUNK
) -> list[tuple[int, int]]:
    """Regions longer than ``max_len`` cut at their quietest 20 ms in the last quarter of a window."""
    out: list[tuple[int, int]] = []
    frame = SAMPLE_RATE // 50
    for start, end in regions:
        while end - start > max_len:
            lo, hi = start + (3 * max_len) // 4, start + max_len - frame
            frames = samples[lo:hi][: ((hi - lo) // frame) * frame].reshape(-1, frame)
            cut = lo + int(np.argmin(np.square(frames, dtype=np.float64).sum(axis=1))) * frame + frame // 2
            out.append((start, cut))
            start = cut
        out.append((start, end))
    return out


MIN_FILL_S = 2.0
"""A piece that does not fit is cut to fill the window when at least this much room is left (s)."""

_CUT_SEARCH_S = 3.0  # the cut is the quietest 100 ms in the last 3 s before the room runs out
_CUT_SPAN = 5  # 20 ms frames: a cut goes in the middle of the quietest 100 ms, a pause between words
_MIN_PART_S = 1.0  # neither part of a cut piece is shorter than this


def _quietest_cut(samples: npt.NDArray[np.float32], lo: int, hi: int) -> int:
    """The middle of the quietest 100 ms (five 20 ms frames) in ``samples[lo:hi]``.

    A single quiet 20 ms frame is often a stop consonant's closure inside a word; 100 ms of
    quiet is a pause between words, where a cut loses none.
    """
    frame = SAMPLE_RATE // 50
    count = (hi - lo) // frame
    if count < _CUT_SPAN:
        return hi
    energy = np.square(samples[lo : lo + count * frame].reshape(count, frame), dtype=np.float64).sum(axis=1)
    spans = np.convolve(energy, np.ones(_CUT_SPAN), mode="valid")
    return lo + (int(np.argmin(spans)) * frame) + (_CUT_SPAN * frame) // 2


def plan_windows(
    pieces: list[list[tuple[int, int]]],
    signals: list[npt.NDArray[np.float32]],
    max_s: float = MAX_CHUNK_S,
    *,
    cut_search_s: float = _CUT_SEARCH_S,
    min_fill_s: float = MIN_FILL_S,
) -> list[Chunk]:
    """Pack every channel's speech pieces (each ≤ ``max_s``) into as few Whisper windows as fit.

    Channel 0's pieces in time order, then channel 1's, fill windows of at most ``max_s``
    seconds with :data:`~hearkit.engine.pipeline.asr.PIECE_GAP_S` of silence laid between
    pieces (counted in the limit); so the last window of one channel continues with the next
    channel's speech instead of running mostly empty. A piece that does not fit is cut at the
    quietest 100 ms of the last ``cut_search_s`` (default :data:`_CUT_SEARCH_S`) before the room
    runs out, when at least ``min_fill_s`` (default :data:`MIN_FILL_S`) of room is left, and its
    rest opens the next window. The number of windows then approaches the floor
    ``ceil(packed seconds / 30)`` (:func:`window_floor`); :func:`plan_full_windows` reaches it on
    more files.
    """
    max_len = int(max_s * SAMPLE_RATE)
    gap = int(PIECE_GAP_S * SAMPLE_RATE)
    min_fill = int(min_fill_s * SAMPLE_RATE)
    min_part = int(_MIN_PART_S * SAMPLE_RATE)
    chunks: list[Chunk] = []
    current: list[tuple[int, int]] = []
    owners: list[int] = []
    length = 0

    def close() -> None:
        nonlocal current, owners, length
        if current:
            chunks.append(Chunk(tuple(current), owners[0], tuple(owners)))
        current, owners, length = [], [], 0

    for channel, channel_pieces in enumerate(pieces):
        for start, end in channel_pieces:
            end = min(end, start + max_len)
            while True:
                lead = gap if current else 0
                if length + lead + (end - start) <= max_len:
                    current.append((start, end))
                    owners.append(channel)
                    length += lead + end - start
                    break
                room = max_len - length - lead
                if room >= min_fill and end - start - room >= min_part:
                    lo = start + max(min_part, room - int(cut_search_s * SAMPLE_RATE))
                    cut = _quietest_cut(signals[channel], lo, start + room)
                    current.append((start, cut))
                    owners.append(channel)
                    length += lead + cut - start
                    start = cut
                close()
    close()
    return chunks


def window_floor(chunks: list[Chunk]) -> int:
    """The fewest 30 s Whisper windows the packed audio of ``chunks`` could fill:
    ``ceil(packed seconds / 30)``, packed seconds = the pieces plus the silence laid between them."""
    packed_s = sum(chunk.samples for chunk in chunks) / SAMPLE_RATE
    return math.ceil(packed_s / 30.0 - 1e-9) if chunks else 0


TIGHTER_CUTS: tuple[tuple[float, float], ...] = ((2.0, 2.0), (1.5, 2.0))
"""``(cut_search_s, min_fill_s)`` tried in turn by :func:`plan_full_windows` when the default
packing ends above the floor: the cut is searched nearer the end of the room, so less of each
window is left empty. Only a file over its floor is packed this way; cutting every file at the
latest quiet spot raised WER on the tuning calls (9.24 → 10.64 %). A search of 1 s (and 1 s of
room enough to cut) also brought aws_lca_40 and SpokenWOZ to their floor, but aws_lca_40 then
lost 5 more of the naive path's words (the benchmark's words lost rose 1.87 → 2.03 %)."""


WIDE_CUT: tuple[float, float] = (1.0, 1.0)
"""``(cut_search_s, min_fill_s)`` of the last packing :func:`plan_full_windows` tries, only on a file
still more than :data:`OVER_FLOOR_BOUND` over its floor after :data:`TIGHTER_CUTS`: the cut searched
in the last second before the room runs out, a window cut into with 1 s of room left. Measured on
aws_lca_40 (9 windows for a floor of 8, +12 %), it lost 5 more of the naive path's words, so a
file within the bound keeps its packing."""

OVER_FLOOR_BOUND = 1.15
"""Windows used / :func:`window_floor` above which :data:`WIDE_CUT` is tried (issue 17's bound)."""


MARGIN_TRIM_S = 0.1
"""What :func:`trim_margins` takes off each end of a piece at most (seconds)."""
MARGIN_KEEP_S = 0.1
"""Silence :func:`trim_margins` leaves before a piece's first and after its last voiced frame (seconds)."""


def trim_margins(
    pieces: list[list[tuple[int, int]]], signals: list[npt.NDArray[np.float32]]
) -> list[list[tuple[int, int]]]:
    """``pieces`` with up to :data:`MARGIN_TRIM_S` taken off each end where there is no voice.

    A piece's ends carry the speech detectors' 0.2 s margins; the trimmed piece still starts at
    least :data:`MARGIN_KEEP_S` before its first voiced 20 ms frame and ends as long after its last
    (:func:`~hearkit.engine.pipeline.vad.energy_activity`, unpadded). A piece without a voiced frame
    is kept as it is.
    """
    frame = SAMPLE_RATE // 50
    trim, keep = int(MARGIN_TRIM_S * SAMPLE_RATE), int(MARGIN_KEEP_S * SAMPLE_RATE)
    out: list[list[tuple[int, int]]] = []
    for spans, signal in zip(pieces, signals, strict=True):
        active = energy_activity(signal)
        trimmed = []
        for start, end in spans:
            voiced = np.flatnonzero(active[start // frame : -(-end // frame)])
            if not voiced.size:
                trimmed.append((start, end))
                continue
            first = (start // frame + int(voiced[0])) * frame
            last = (start // frame + int(voiced[-1]) + 1) * frame
            new_start = max(start, min(start + trim, first - keep))
            new_end = min(end, max(end - trim, last + keep))
            trimmed.append((new_start, new_end) if new_end > new_start else (start, end))
        out.append(trimmed)
    return out


def _cut_ladder(
    pieces: list[list[tuple[int, int]]], signals: list[npt.NDArray[np.float32]], wide_cut: bool
) -> list[Chunk]:
    """The default packing, then the :data:`TIGHTER_CUTS` while over the floor, then :data:`WIDE_CUT`
    while over :data:`OVER_FLOOR_BOUND`; each kept only when it saves a window."""
    best = plan_windows(pieces, signals)
    for cut_search_s, min_fill_s in TIGHTER_CUTS:
        if len(best) <= window_floor(best):
            break
        tighter = plan_windows(pieces, signals, cut_search_s=cut_search_s, min_fill_s=min_fill_s)
        if len(tighter) < len(best):
            best = tighter
    if wide_cut and len(best) > OVER_FLOOR_BOUND * window_floor(best):
        cut_search_s, min_fill_s = WIDE_CUT
        wider = plan_windows(pieces, signals, cut_search_s=cut_search_s, min_fill_s=min_fill_s)
        if len(wider) < len(best):
            best = wider
    return best


def plan_full_windows(
    pieces: list[list[tuple[int, int]]],
    signals: list[npt.NDArray[np.float32]],
    *,
    wide_cut: bool = True,
    trim: bool = True,
) -> list[Chunk]:
    """:func:`plan_windows`, packed again with :data:`TIGHTER_CUTS` in turn while it uses more
    windows than :func:`window_floor`; a tighter packing replaces the one kept only when it
    uses fewer windows (so a file at its floor keeps the default packing). A file still more than
    :data:`OVER_FLOOR_BOUND` over its floor is then packed with :data:`WIDE_CUT` (when
    ``wide_cut``), kept likewise only if it saves a window; and if it is still over that bound, the
    same packings are tried on its pieces with their silent margins trimmed (:func:`trim_margins`,
    when ``trim``), kept only if they save a window.

    The encoder costs the same for every 30 s window however full (about half of the stereo
    path's CPU), so a window saved is about 1/n of a file's recognition time.
    """
    best = _cut_ladder(pieces, signals, wide_cut)
    if trim and len(best) > OVER_FLOOR_BOUND * window_floor(best):
        trimmed = _cut_ladder(trim_margins(pieces, signals), signals, wide_cut)
        if len(trimmed) < len(best):
            best = trimmed
    return best


def plan_chunks(regions: list[tuple[int, int]], channel: int = 0) -> list[Chunk]:
    """Pack consecutive speech regions (each ≤ 29.5 s) into chunks of at most 29.5 s of audio.

    The silence between regions is left out and :data:`~hearkit.engine.pipeline.asr.PIECE_GAP_S`
    of silence is laid between pieces instead (counted in the 29.5 s), so the encoder runs on
    speech, not on long pauses.
    """
    max_len = int(MAX_CHUNK_S * SAMPLE_RATE)
    gap = int(PIECE_GAP_S * SAMPLE_RATE)
    chunks: list[Chunk] = []
    pieces: list[tuple[int, int]] = []
    length = 0
    for start, end in regions:
        end = min(end, start + _MAX_CHUNK)
        if pieces and length + gap + (end - start) > max_len:
            chunks.append(Chunk(tuple(pieces), channel))
            pieces, length = [], 0
        length += (gap if pieces else 0) + end - start
        pieces.append((start, end))
    if pieces:
        chunks.append(Chunk(tuple(pieces), channel))
    return chunks


def pool_windows(calls: list[list[Chunk]], max_s: float = MAX_CHUNK_S) -> list[Chunk]:
    """The windows of several calls, each planned alone, with windows that fit together merged whole.

    First fit decreasing: windows are taken longest first, each goes after the pieces of the first
    merged window with room for it (its pieces and :data:`~hearkit.engine.pipeline.asr.PIECE_GAP_S`
    of silence before them within ``max_s``), or opens one. No piece is cut: a call's own layout of
    pieces is kept, its part-empty last window shares the encoder pass with another call's.
    """
    max_len = int(max_s * SAMPLE_RATE)
    gap = int(PIECE_GAP_S * SAMPLE_RATE)
    windows = sorted((chunk for chunks in calls for chunk in chunks), key=lambda c: -c.samples)
    merged: list[Chunk] = []
    for chunk in windows:
        channels = tuple(chunk.channel_of(i) for i in range(len(chunk.pieces)))
        for index, bin_ in enumerate(merged):
            if bin_.samples + gap + chunk.samples <= max_len:
                merged[index] = Chunk(bin_.pieces + chunk.pieces, bin_.channel, bin_.channels + channels)
                break
        else:
            merged.append(Chunk(chunk.pieces, channels[0], channels))
    return merged
