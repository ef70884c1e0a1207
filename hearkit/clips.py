"""Short audio clips of calls as Opus (Ogg), cut and encoded with PyAV.

Speech at :data:`BITRATE` (12 kbit/s, mono, 16 kHz: wideband speech, about 1.5 KB a second) is
small enough to embed many moments in one HTML file. A call's recording is decoded once and every
clip of it cut from the samples. Only local files are read: audio stays where the user put it,
and nothing is fetched from a URL.

:func:`audio_files` finds each call's recording: an explicit mapping first, then an
``audio_path`` (or ``source``) column of the calls frame naming an existing local file, then the
committed sample recordings for the sample calls. A call whose frame carries ``audio_sha256`` (the
SHA-256 of the recording's bytes when it was transcribed; a batch records it) gets its file only
while the file still has that content: a recording replaced under the same name is another call's
audio, and its clips would play under this call's transcript. Such calls are left out and named
by :func:`changed_recordings`.

A recording is also checked against the call's length (:func:`length_mismatch`): a file whose
decoded length differs from the call's ``audio_seconds`` by more than :data:`LENGTH_TOLERANCE_S`
(or, without ``audio_seconds``, ends before the call's last turn) cannot be the call's recording,
and no clip is cut from it (a 20 s file given for a 60 s call embedded silent clips for every
moment past 0:20 under the same "embeds N short clips" banner).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from hearkit._extras import missing_modules, require

__all__ = [
    "BITRATE",
    "SAMPLE_RATE",
    "SHA_COLUMN",
    "audio_files",
    "available",
    "changed_recordings",
    "decode",
    "encode_ogg",
    "encode_spans",
    "file_sha256",
    "length_mismatch",
    "seconds",
]

BITRATE = 12_000
SAMPLE_RATE = 16_000
MIME = "audio/ogg"
SHA_COLUMN = "audio_sha256"
"""Calls-frame column: SHA-256 (hex) of the recording's bytes at transcription."""
LENGTH_TOLERANCE_S = 1.0
"""How far (seconds) a recording's decoded length may be from the call's ``audio_seconds``: decoders
differ by a few tens of milliseconds (MP3 padding, resampling), another recording by far more."""


def audio_files(calls: pd.DataFrame, explicit: Mapping[str, str | Path] | None = None) -> dict[str, Path]:
    """call_id → local recording, for the calls whose audio is at hand (see the module text).
    A recording whose content changed since the call was transcribed is left out (see
    :func:`changed_recordings` for which and why); an ``explicit`` path is the caller's choice."""
    found: dict[str, Path] = {}
    changed = changed_recordings(calls)
    ids = [str(c) for c in calls["call_id"]]
    for column in ("audio_path", "source"):
        if column in calls.columns:
            for call_id, value in zip(ids, calls[column], strict=True):
                path = _local(value)
                if path is not None and call_id not in changed:
                    found.setdefault(call_id, path)
    found.update(_sample_recordings(ids))
    for call_id, value in (explicit or {}).items():
        path = Path(value).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"no recording at {path} for call {call_id!r}")
        found[str(call_id)] = path
    return found


def changed_recordings(calls: pd.DataFrame) -> dict[str, str]:
    """call_id → a one-line reason, for the calls whose local recording (``audio_path`` or
    ``source``) no longer has the content it had when the call was transcribed (the
    ``audio_sha256`` column): no clip may be cut from it."""
    if SHA_COLUMN not in calls.columns:
        return {}
    out: dict[str, str] = {}
    for column in ("audio_path", "source"):
        if column not in calls.columns:
            continue
        for call_id, value, expected in zip(calls["call_id"], calls[column], calls[SHA_COLUMN], strict=True):
            path = _local(value)
            if path is None or not isinstance(expected, str) or not expected or str(call_id) in out:
                continue
            if file_sha256(path) != expected:
                out[str(call_id)] = (
                    f"the recording at {path} changed since call {str(call_id)!r} was transcribed "
                    "(its content is another one now): no audio of it is cut from that file"
                )
    return out


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of the file's bytes; kept per (path, size, modification time)."""
    stat = Path(path).stat()
    return _sha256_cached(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    del size, mtime_ns  # part of the cache key only
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def available() -> bool:
    """Whether clips can be made here: PyAV comes with ``hearkit[local]``, not with the core install."""
    return not missing_modules("local", ("av",))


def decode(path: str | Path) -> npt.NDArray[np.float32]:
    """The recording as mono float32 samples at :data:`SAMPLE_RATE` (channels mixed). The last
    few recordings decoded are kept (by path, size and modification time), so a report cutting
    many clips of one call decodes it once."""
    stat = Path(path).stat()
    return _decode_cached(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _decode_cached(path: str, size: int, mtime_ns: int) -> npt.NDArray[np.float32]:
    del size, mtime_ns  # part of the cache key only
    require("local", "audio clips in the report (PyAV)", "av")
    import av

    from hearkit.audio import AudioProbeError, open_audio

    try:
        with open_audio(path) as (container, stream):
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            chunks = []
            for frame in container.decode(stream):
                if not isinstance(frame, av.AudioFrame):
                    continue
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except (AudioProbeError, av.error.FFmpegError) as exc:
        raise ValueError(f"cannot read audio from {path}: {exc}") from exc
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


def seconds(path: str | Path) -> float:
    """The recording's decoded length in seconds (:func:`decode`, so it is decoded once for clips too)."""
    return len(decode(path)) / SAMPLE_RATE


def length_mismatch(
    path: str | Path, call_id: str, audio_seconds: object, duration_s: object = None
) -> str | None:
    """Why the recording at ``path`` cannot be call ``call_id``'s, in one line, or ``None``.

    ``audio_seconds`` is the call's recording length as the engine measured it; the recording at
    ``path`` differs from it by more than :data:`LENGTH_TOLERANCE_S` → not this call's recording.
    Without ``audio_seconds``, ``duration_s`` (the call's length, possibly its last turn's end) is a
    lower bound: a recording ending more than :data:`LENGTH_TOLERANCE_S` before it is not the call's.
    """
    held = seconds(path)
    expected = _finite(audio_seconds)
    if expected is not None and expected > 0 and abs(held - expected) > LENGTH_TOLERANCE_S:
        return (
            f"{Path(path).name} holds {held:.1f} s of audio but call {call_id!r} is {expected:.1f} s long: "
            "not this call's recording? no audio of the call is cut from it"
        )
    least = _finite(duration_s)
    if expected is None and least is not None and held < least - LENGTH_TOLERANCE_S:
        return (
            f"{Path(path).name} holds {held:.1f} s of audio but call {call_id!r} runs to {least:.1f} s: "
            "not this call's recording? no audio of the call is cut from it"
        )
    return None


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def encode_ogg(samples: npt.NDArray[np.float32], *, bitrate: int = BITRATE) -> bytes:
    """Mono :data:`SAMPLE_RATE` samples as an Ogg Opus file."""
    require("local", "audio clips in the report (PyAV)", "av")
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=SAMPLE_RATE, layout="mono")
        stream.bit_rate = bitrate
        frame = av.AudioFrame.from_ndarray(
            np.asarray(samples, dtype=np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = SAMPLE_RATE
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def encode_spans(
    path: str | Path, spans: Sequence[tuple[float, float]], *, bitrate: int = BITRATE
) -> list[bytes]:
    """One Ogg Opus clip per ``(start, end)`` span (seconds) of the recording at ``path``."""
    samples = decode(path)
    out = []
    for start, end in spans:
        a = max(0, round(start * SAMPLE_RATE))
        b = min(len(samples), round(end * SAMPLE_RATE))
        out.append(
            encode_ogg(samples[a:b] if b > a else np.zeros(SAMPLE_RATE // 10, np.float32), bitrate=bitrate)
        )
    return out


def _local(value: object) -> Path | None:
    if not isinstance(value, (str, Path)) or not str(value) or "://" in str(value):
        return None
    path = Path(value).expanduser()
    return path if path.is_file() else None


def _sample_recordings(ids: list[str]) -> dict[str, Path]:
    from hearkit.record import sample_dir

    index = Path(sample_dir()) / "index.json"
    if not index.is_file():
        return {}
    entries = {e["call_id"]: e for e in json.loads(index.read_text()).get("calls", [])}
    out = {}
    for call_id in ids:
        entry = entries.get(call_id)
        if entry and entry.get("stereo") and (index.parent / entry["stereo"]).is_file():
            out[call_id] = index.parent / entry["stereo"]
    return out
