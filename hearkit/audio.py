"""The one audio probe: opening a recording with PyAV (FFmpeg) to look at it.

Every place that inspects a local recording goes through here, so they accept and refuse the same
files with the same reasons: the engine's upload check (:mod:`hearkit.engine.probe`) and decoder
(:mod:`hearkit.engine.pipeline.decode`), the batch's discovery (:mod:`hearkit.batch.recordings`),
``hearkit analyze`` (:mod:`hearkit.cli.analysis`), two-file calls (:mod:`hearkit.legs`) and the
report's audio clips (:mod:`hearkit.clips`).

- :func:`open_audio`: the container and its first audio stream, or :class:`UnreadableAudioError`
  (not a media file FFmpeg can read) / :class:`NoAudioStreamError` (a file without audio, such as
  a document or a silent video);
- :func:`header`: what the stream's header states without decoding: channels, sample rate and
  :func:`stated_seconds`;
- :func:`probe_header`: both in one call.

Decoding stays with the callers: each needs different samples (statistics, 16 kHz float32, …).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hearkit._extras import require

require("local", "hearkit.audio (it reads audio files with PyAV)", "av")
import av  # noqa: E402  (after the check: a missing extra is named, not a bare ModuleNotFoundError)

__all__ = [
    "AudioProbeError",
    "NoAudioStreamError",
    "StreamHeader",
    "UnreadableAudioError",
    "header",
    "open_audio",
    "plain_error",
    "probe_header",
    "stated_seconds",
]


class AudioProbeError(ValueError):
    """A local file that cannot be used as a recording; the message says why."""


class UnreadableAudioError(AudioProbeError):
    """FFmpeg cannot open the file as media (not audio, corrupt header, unreadable)."""


class NoAudioStreamError(AudioProbeError):
    """The file opens as media but holds no audio stream."""


@dataclass(frozen=True)
class StreamHeader:
    """What the first audio stream's header states (nothing decoded).

    ``seconds`` is :func:`stated_seconds` (0 when no header states a duration); ``channels`` and
    ``sample_rate`` are 0 when the codec does not say; ``sample_format`` is FFmpeg's name (``s16``,
    ``fltp``, …) or ``None``.
    """

    channels: int
    sample_rate: int
    seconds: float
    sample_format: str | None


def plain_error(exc: BaseException) -> str:
    """The error in plain words: FFmpeg's and the OS's own text without ``[Errno N]`` and the path
    (FFmpeg's errno is a tag such as 1094995529, meaningless to a reader; the caller names the file)."""
    reason = getattr(exc, "strerror", None)
    text = (reason[:1].lower() + reason[1:]) if isinstance(reason, str) and reason else str(exc).strip()
    text = text or type(exc).__name__
    return text if len(text) < 160 else text[:157] + "..."


@contextmanager
def open_audio(path: Path | str, **options: Any) -> Iterator[tuple[Any, Any]]:
    """``(container, stream)``: ``path`` opened with PyAV and its first audio stream, closed on exit.

    ``options`` go to :func:`av.open` (``metadata_errors="ignore"``, …). Raises
    :class:`UnreadableAudioError` or :class:`NoAudioStreamError` (both ``ValueError``).
    """
    try:
        empty = Path(path).stat().st_size == 0
    except OSError:
        empty = False  # missing or unreadable: PyAV's error below says which
    if empty:
        raise UnreadableAudioError(
            "the audio file is empty (0 bytes): an upload or copy that did not finish?"
        )
    try:
        container = av.open(str(path), **options)
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise UnreadableAudioError(f"not a readable audio file ({plain_error(exc)})") from exc
    with container:
        if not container.streams.audio:
            raise NoAudioStreamError("no audio stream in the file")
        yield container, container.streams.audio[0]


def stated_seconds(container: Any, stream: Any) -> float:
    """The longest duration the container or the stream header states, in seconds (0 when none does).

    Exact for FLAC (STREAMINFO) and WAV (data size); an estimate for MP3 without a Xing header.
    """
    stated = [container.duration / av.time_base] if container.duration else []
    if stream.duration and stream.time_base:
        stated.append(float(stream.duration * stream.time_base))
    return max(stated, default=0.0)


def header(container: Any, stream: Any) -> StreamHeader:
    """The :class:`StreamHeader` of an opened stream."""
    codec = stream.codec_context
    sample_format = stream.format.name if stream.format is not None else None
    return StreamHeader(
        channels=int(codec.channels or 0),
        sample_rate=int(codec.sample_rate or 0),
        seconds=stated_seconds(container, stream),
        sample_format=sample_format,
    )


def probe_header(path: Path | str) -> StreamHeader:
    """Open ``path`` and read its first audio stream's header (see :func:`open_audio` for errors)."""
    with open_audio(path) as (container, stream):
        return header(container, stream)
