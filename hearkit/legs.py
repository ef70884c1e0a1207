"""Two-file calls: the rep's leg and the customer's leg combined into one stereo recording.

Many contact-centre systems store a call as two mono files, one per party (``*_agent.wav`` and
``*_caller.wav``). hearkit transcribes a stereo file with ``channel: true`` (an exact split by
channel), so :func:`combine_legs` makes one from the two legs:

* **channel 0 is the rep**, channel 1 the customer (hearkit's stereo convention);
* each leg is decoded with PyAV; a leg with several channels is downmixed to one;
* legs of different sample rates are both brought to the *higher* rate (the lower one is
  resampled up with libswresample; nothing of either leg is lost); legs at the same rate are
  not resampled at all;
* the shorter leg is padded with silence at its end (both legs start at the call's start);
* the result is written as FLAC (lossless): for 16-bit PCM legs the samples in the stereo file
  are exactly the legs' samples; legs of more than 16 bits (24/32-bit or float) are written as
  24-bit FLAC.

Needs PyAV (the ``[local]`` extra).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hearkit._extras import require

__all__ = ["LEG_SUFFIXES", "Legs", "combine_legs", "legs_id", "pair_legs"]

#: File-name endings that mark a leg in a folder: ``X_agent.wav`` + ``X_caller.wav`` is one call ``X``
#: (also ``X_rep``/``X_customer``; ``-``, ``.`` or a space instead of ``_``; any audio extension; any case).
LEG_SUFFIXES: dict[str, tuple[str, ...]] = {"rep": ("agent", "rep"), "customer": ("caller", "customer")}
_LEG = re.compile(r"^(?P<call>.+?)[\s_.-]+(?P<leg>agent|rep|caller|customer)\s*$", re.I)
"""A leg's file name (without extension): the call, a separator (``_ - .`` or a space: "Call 1234
Agent.wav", as many exports name them, was two one-party recordings), the role word."""
_WIDE_FORMATS = {"s32", "s32p", "flt", "fltp", "dbl", "dblp", "s64", "s64p"}
_BLOCK = 4096


@dataclass(frozen=True)
class Legs:
    """What :func:`combine_legs` wrote: the stereo file, its rate and length, and each leg's own."""

    path: Path
    sample_rate: int
    duration_s: float
    rep_duration_s: float
    customer_duration_s: float
    rep_rate: int
    customer_rate: int


def legs_id(rep_hash: str, customer_hash: str) -> str:
    """The identity of a two-file call: a hash of both legs' content hashes, in role order."""
    return hashlib.sha256(f"legs|rep={rep_hash}|customer={customer_hash}".encode()).hexdigest()


def pair_legs(files: list[Path]) -> tuple[list[tuple[str, Path, Path]], list[Path]]:
    """Split ``files`` into two-file calls ``(call, rep, customer)`` and the other files.

    A leg whose partner is missing stays among the other files (it is then a one-party recording).
    """
    legs: dict[tuple[Path, str], dict[str, Path]] = {}
    for path in files:
        match = _LEG.match(path.name.rsplit(".", 1)[0])
        if match is None:
            continue
        role = "rep" if match["leg"].lower() in LEG_SUFFIXES["rep"] else "customer"
        legs.setdefault((path.parent, match["call"]), {})[role] = path
    pairs: list[tuple[str, Path, Path]] = []
    paired: set[Path] = set()
    for (_parent, call), found in legs.items():
        if "rep" in found and "customer" in found:
            pairs.append((call, found["rep"], found["customer"]))
            paired.update(found.values())
    others = [p for p in files if p not in paired]
    return sorted(pairs, key=lambda item: str(item[1])), others


def _decode(path: Path) -> tuple[np.ndarray, int, bool]:
    """(mono float64 samples in -1..1, sample rate, wider than 16 bits) of one leg."""
    import av

    from hearkit.audio import AudioProbeError, open_audio

    try:
        with open_audio(path) as (container, stream):
            wide = stream.format.name in _WIDE_FORMATS if stream.format is not None else False
            rate = int(stream.rate or 0)
            resampler = av.AudioResampler(format="dbl", layout="mono", rate=rate or None)
            chunks: list[np.ndarray] = []
            try:
                for frame in container.decode(stream):
                    rate = rate or int(frame.sample_rate)
                    for out in resampler.resample(frame):
                        chunks.append(out.to_ndarray().reshape(-1))
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray().reshape(-1))
            except (av.error.FFmpegError, ValueError) as exc:
                raise ValueError(f"{path.name}: the audio could not be decoded ({exc})") from None
    except AudioProbeError as exc:
        raise ValueError(f"{path.name}: {exc}") from None
    if not chunks or rate == 0 or not sum(len(c) for c in chunks):
        raise ValueError(f"{path.name}: the audio contains no samples")
    return np.concatenate(chunks), rate, wide


def _exact_int16(path: Path) -> tuple[np.ndarray, int] | None:
    """The leg's samples as int16 without any conversion, when it is mono 16-bit PCM; else ``None``."""
    from hearkit.audio import AudioProbeError, open_audio

    try:
        with open_audio(path) as (container, stream):
            if stream.format is None or stream.format.name not in {"s16", "s16p"} or stream.channels != 1:
                return None
            chunks = [frame.to_ndarray().reshape(-1) for frame in container.decode(stream)]
            if not chunks or not sum(len(c) for c in chunks):
                return None  # _decode says "contains no samples" (an empty leg made a silent party)
            return np.concatenate(chunks).astype(np.int16), int(stream.rate)
    except AudioProbeError:
        return None  # not usable as exact PCM: _decode reads it, or says why it cannot, with the file's name


def _resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """``samples`` (mono float64) from ``rate`` to ``target`` Hz with libswresample."""
    import av

    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1).astype(np.float64), format="dbl", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="dbl", layout="mono", rate=target)
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(out) if out else np.zeros(0)


def combine_legs(rep: str | Path, customer: str | Path, out: str | Path) -> Legs:
    """Write the stereo FLAC ``out`` from the two legs (rep on channel 0); see the module docstring.

    Raises ``ValueError`` (with the file's name and the reason) when a leg is not usable audio.
    """
    require("local", "combining two-file calls (it decodes audio with PyAV)", "av")
    rep_path, customer_path, out_path = Path(rep), Path(customer), Path(out)
    exact = [_exact_int16(rep_path) if rep_path.is_file() else None]
    exact.append(_exact_int16(customer_path) if customer_path.is_file() else None)
    legs: list[tuple[np.ndarray, int]] = []  # int16 samples (exact) or float64 in -1..1 (decoded)
    wide = False
    for path, pcm in zip((rep_path, customer_path), exact, strict=True):
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
        if pcm is not None:
            legs.append(pcm)
        else:
            samples, rate, is_wide = _decode(path)
            wide = wide or is_wide
            legs.append((samples, rate))
    rates = [rate for _, rate in legs]
    target = max(rates)
    durations = [len(samples) / rate for samples, rate in legs]
    full_scale = 2**23 if wide else 2**15
    channels: list[np.ndarray] = []
    for samples, rate in legs:
        if samples.dtype == np.int16 and rate == target:
            channels.append(samples.astype(np.int32) * (full_scale // 2**15))  # exact
            continue
        floats = samples / 32768.0 if samples.dtype == np.int16 else samples
        if rate != target:
            floats = _resample(floats, rate, target)
        scaled = np.round(floats * full_scale)
        channels.append(np.clip(scaled, -full_scale, full_scale - 1).astype(np.int32))
    length = max(len(c) for c in channels)
    stereo = np.zeros((length, 2), dtype=np.int32)
    for index, channel in enumerate(channels):
        stereo[: len(channel), index] = channel
    _write_flac(out_path, stereo, target, wide)
    return Legs(
        path=out_path,
        sample_rate=target,
        duration_s=length / target,
        rep_duration_s=durations[0],
        customer_duration_s=durations[1],
        rep_rate=rates[0],
        customer_rate=rates[1],
    )


def _write_flac(path: Path, stereo: np.ndarray, rate: int, wide: bool) -> None:
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    fmt = "s32" if wide else "s16"
    dtype: Any = np.int32 if wide else np.int16
    with av.open(str(tmp), "w", format="flac") as container:
        stream = container.add_stream("flac", rate=rate, layout="stereo")
        stream.format = fmt
        if wide:
            stereo = stereo << 8
        for start in range(0, len(stereo), _BLOCK):
            block = np.ascontiguousarray(stereo[start : start + _BLOCK].astype(dtype)).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(block, format=fmt, layout="stereo")
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    tmp.replace(path)
