"""Checking that a file is usable audio before anyone transcribes it.

:func:`probe_audio` decodes the whole file with PyAV (FFmpeg) and returns its real duration,
channel count and sample rate, or raises :class:`~hearkit.engine.transcriber.AudioError` with a
message that says what is wrong and what to do (empty file, not audio, corrupt, no samples).

With ``max_seconds``, a file too long is refused before it costs a worker its decoding time:
first by the duration its container header states (FLAC's STREAMINFO, WAV's data size, …;
1% + 1 s of slack for estimated headers such as MP3's), then, for a header that states none or
understates it, as soon as the decoded samples pass ``max_seconds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

from hearkit.audio import NoAudioStreamError, UnreadableAudioError, open_audio, stated_seconds
from hearkit.engine.transcriber import AudioError

__all__ = ["AudioInfo", "probe_audio", "too_long"]

_FORMATS_HINT = "send a WAV, FLAC, MP3, M4A or OGG recording"


@dataclass(frozen=True)
class AudioInfo:
    """``duration_s`` = decoded samples / sample rate (seconds), over the first audio stream."""

    duration_s: float
    channels: int
    sample_rate: int


def too_long(seconds: float, max_seconds: float, *, at_least: bool = False) -> AudioError:
    """The error of audio longer than this server accepts."""
    length = f"at least {seconds:.0f} s" if at_least else f"{seconds:.0f} s"
    return AudioError(
        f"the audio is {length} long; this server accepts at most {max_seconds:.0f} s: split the recording"
    )


def probe_audio(path: Path, max_seconds: float | None = None) -> AudioInfo:
    """Decode ``path`` fully; raise :class:`AudioError` when it is not usable audio (or too long)."""
    size = path.stat().st_size if path.exists() else 0
    if size == 0:
        raise AudioError(f"the audio file is empty (0 bytes): {_FORMATS_HINT}")
    try:
        with open_audio(path) as (container, stream):
            if (
                max_seconds is not None
                and (stated := stated_seconds(container, stream)) > max_seconds * 1.01 + 1
            ):
                raise too_long(stated, max_seconds)
            samples = 0
            rate = 0
            channels = 0
            for frame in container.decode(stream):
                samples += frame.samples
                rate = frame.sample_rate or rate
                channels = len(frame.layout.channels) or channels
                if max_seconds is not None and rate and samples / rate > max_seconds:
                    raise too_long(samples / rate, max_seconds, at_least=True)
    except AudioError:
        raise
    except NoAudioStreamError:
        no_stream = "the file has no audio stream (is it a video or a document?)"
        raise AudioError(f"{no_stream}: {_FORMATS_HINT}") from None
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        # name FFmpeg's own error (InvalidDataError, …) rather than the probe's wrapper
        kind = type(exc.__cause__ if isinstance(exc, UnreadableAudioError) else exc).__name__
        raise AudioError(f"the file is not decodable audio ({kind}): {_FORMATS_HINT}") from None
    if samples == 0 or rate == 0:
        raise AudioError(f"the audio contains no samples (corrupt or truncated file): {_FORMATS_HINT}")
    return AudioInfo(duration_s=samples / rate, channels=channels, sample_rate=rate)
