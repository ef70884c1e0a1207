"""Checking that a file is usable audio before anyone transcribes it.

:func:`probe_audio` decodes the whole file with PyAV (FFmpeg) and returns its real duration,
channel count and sample rate, or raises :class:`~hearkit.engine.transcriber.AudioError` with a
message that says what is wrong and what to do (empty file, not audio, corrupt, no samples).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

from hearkit.engine.transcriber import AudioError

__all__ = ["AudioInfo", "probe_audio"]

_FORMATS_HINT = "send a WAV, FLAC, MP3, M4A or OGG recording"


@dataclass(frozen=True)
class AudioInfo:
    """``duration_s`` = decoded samples / sample rate (seconds), over the first audio stream."""

    duration_s: float
    channels: int
    sample_rate: int


def probe_audio(path: Path) -> AudioInfo:
    """Decode ``path`` fully; raise :class:`AudioError` when it is not usable audio."""
    size = path.stat().st_size if path.exists() else 0
    if size == 0:
        raise AudioError(f"the audio file is empty (0 bytes): {_FORMATS_HINT}")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioError(
                    f"the file has no audio stream (is it a video or a document?): {_FORMATS_HINT}"
                )
            stream = container.streams.audio[0]
            samples = 0
            rate = 0
            channels = 0
            for frame in container.decode(stream):
                samples += frame.samples
                rate = frame.sample_rate or rate
                channels = len(frame.layout.channels) or channels
    except AudioError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioError(f"the file is not decodable audio ({type(exc).__name__}): {_FORMATS_HINT}") from None
    if samples == 0 or rate == 0:
        raise AudioError(f"the audio contains no samples (corrupt or truncated file): {_FORMATS_HINT}")
    return AudioInfo(duration_s=samples / rate, channels=channels, sample_rate=rate)
