"""Audio decoding: any container PyAV (FFmpeg) reads, to float32 channels at 16 kHz.

Whisper and the Silero VAD both want 16 kHz mono float samples in [-1, 1]. Channels are kept
apart (up to two) so that ``channel: true`` can transcribe each party of a stereo call on its
own; files with more than two channels are down-mixed to stereo by FFmpeg's resampler.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from hearkit.audio import NoAudioStreamError, header, open_audio
from hearkit.engine.transcriber import AudioError

__all__ = ["SAMPLE_RATE", "DecodedAudio", "decode_audio"]

SAMPLE_RATE = 16_000
"""The rate every decoded signal is resampled to (Hz)."""

_SUPPORTED = "wav, mp3, m4a, flac or ogg/opus"

MIN_PARTIAL_SECONDS = 1.0
"""A file whose data turns unreadable after at least this much audio is transcribed up to there
(and flagged ``cut_short``); before it, the file is refused as not decodable."""


@dataclass(frozen=True)
class DecodedAudio:
    """Decoded samples: ``samples`` has shape ``(channels, n)``, float32 at :data:`SAMPLE_RATE`."""

    samples: npt.NDArray[np.float32]
    source_rate: int
    source_channels: int
    stated_seconds: float = 0.0
    """The duration the file's header states (0 when none does): a file cut short (an upload or a
    copy that stopped) decodes to less than it says, see :attr:`cut_short`."""
    damaged: bool = False
    """Decoding stopped at a packet FFmpeg could not read, after at least
    :data:`MIN_PARTIAL_SECONDS` of audio: the samples are the part before it."""

    @property
    def cut_short(self) -> bool:
        """Decoding stopped at damaged data, or the header states at least 1 s and 5 % more than
        could be decoded."""
        missing = self.stated_seconds - self.duration
        return self.damaged or (missing >= 1.0 and missing >= 0.05 * self.stated_seconds)

    @property
    def channels(self) -> int:
        """Number of channels kept (1 or 2)."""
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        """Duration in seconds."""
        return float(self.samples.shape[1]) / SAMPLE_RATE

    def mono(self) -> npt.NDArray[np.float32]:
        """The average of the channels, shape ``(n,)``."""
        if self.channels == 1:
            only: npt.NDArray[np.float32] = self.samples[0]
            return only
        mixed: npt.NDArray[np.float32] = self.samples.mean(axis=0, dtype=np.float32)
        return mixed


def decode_audio(path: Path | str) -> DecodedAudio:
    """Decode the first audio stream of ``path`` to 16 kHz float32, keeping up to two channels.

    Raises :class:`AudioError` with an actionable message when the file is missing, is not
    audio, is corrupt, or holds no samples.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"audio file not found: {path.name}")
    try:
        with open_audio(path, metadata_errors="ignore") as (container, stream):
            stated = header(container, stream)
            source_rate, source_channels = stated.sample_rate, stated.channels
            layout = "mono" if source_channels <= 1 else "stereo"
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
            chunks = _Samples(1 if source_channels <= 1 else 2, float(stated.seconds or 0.0))
            damaged = False
            try:
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        chunks.append(out.to_ndarray())
            except av.error.FFmpegError:
                # A truncated FLAC or Opus file ends in a partial packet: keep what came before it.
                if chunks.length < MIN_PARTIAL_SECONDS * SAMPLE_RATE:
                    raise
                damaged = True
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
    except AudioError:
        raise
    except NoAudioStreamError:
        raise AudioError(f"no audio stream found in the upload; send a {_SUPPORTED} recording") from None
    except (av.error.FFmpegError, ValueError, UnicodeDecodeError) as exc:
        raise AudioError(
            f"the upload could not be decoded as audio ({type(exc).__name__}: {exc}); "
            f"send a valid {_SUPPORTED} recording"
        ) from exc
    samples = chunks.samples()
    if samples.shape[1] == 0:
        raise AudioError(f"the upload contains no audio samples; send a {_SUPPORTED} recording")
    np.clip(samples, -1.0, 1.0, out=samples)
    return DecodedAudio(
        samples=samples,
        source_rate=source_rate,
        source_channels=source_channels,
        stated_seconds=max(float(stated.seconds or 0.0), _riff_seconds(path)),
        damaged=damaged or _ogg_unfinished(path),
    )


class _Samples:
    """Decoded 16 kHz samples gathered in one buffer sized from the header's duration (grown by
    half when the header said less), so a long call's peak memory is about its samples once, not
    a list of chunks plus their concatenation (twice)."""

    def __init__(self, channels: int, stated_seconds: float) -> None:
        self._buffer = np.empty((channels, int((stated_seconds + 1.0) * SAMPLE_RATE)), dtype=np.float32)
        self.length = 0

    def append(self, chunk: npt.NDArray[Any]) -> None:
        n = chunk.shape[1]
        if self.length + n > self._buffer.shape[1]:
            grown = np.empty(
                (self._buffer.shape[0], max(self.length + n, self._buffer.shape[1] * 3 // 2)), np.float32
            )
            grown[:, : self.length] = self._buffer[:, : self.length]
            self._buffer = grown
        self._buffer[:, self.length : self.length + n] = chunk
        self.length += n

    def samples(self) -> npt.NDArray[np.float32]:
        """The samples, C-contiguous, shape ``(channels, n)``: in the buffer itself when it is nearly
        full (a second channel moved up behind the first), else a copy of the right size."""
        channels, capacity = self._buffer.shape
        n = self.length
        if n < 0.9 * capacity:
            return self._buffer[:, :n].copy()
        if channels == 2 and n < capacity:
            flat = self._buffer.reshape(-1)
            flat[n : 2 * n] = flat[capacity : capacity + n]
        return self._buffer.reshape(-1)[: channels * n].reshape(channels, n)


def _riff_seconds(path: Path) -> float:
    """The duration a PCM WAV's own header declares (0 when it is not one, or declares nothing).

    FFmpeg caps a WAV's duration at what the file holds, so a file cut short would look whole;
    the ``data`` chunk's size still says how long the recording was. Streaming writers leave the
    size at 0 or 0xFFFFFFFF (unknown): those declare nothing."""
    try:
        with wave.open(str(path), "rb") as riff:
            frames, rate = riff.getnframes(), riff.getframerate()
            size = frames * riff.getnchannels() * riff.getsampwidth()
    except (wave.Error, EOFError, OSError, ValueError):
        return 0.0
    if rate <= 0 or frames <= 0 or size >= 0xFFFFFFF0:
        return 0.0
    return frames / rate


_OGG_TAIL = 1 << 16
"""Bytes read from the end of an Ogg file to find its last page (a page holds at most 65,307)."""


def _ogg_unfinished(path: Path) -> bool:
    """An Ogg file (Opus, Vorbis, FLAC in Ogg) whose last page is cut off or is not the stream's end.

    The Ogg demuxer takes the duration from the last page that arrived, so a copy that stopped looks
    whole; a finished stream ends in a complete page with the end-of-stream flag (RFC 3533 §6)."""
    with path.open("rb") as file:
        if file.read(4) != b"OggS":
            return False
        size = file.seek(0, 2)
        file.seek(max(0, size - _OGG_TAIL))
        tail = file.read()
    last = tail.rfind(b"OggS")
    if last < 0 or last + 27 > len(tail):
        return True
    segments = tail[last + 26]
    table = tail[last + 27 : last + 27 + segments]
    end_of_stream = bool(tail[last + 5] & 0x04)
    complete = len(table) == segments and last + 27 + segments + sum(table) <= len(tail)
    return not (end_of_stream and complete)
