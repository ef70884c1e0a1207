"""The interface between the local engine's HTTP side and whatever turns audio into a transcript.

The server (:mod:`hearkit.engine.app`) never knows how transcription happens: it hands a
:class:`Transcriber` a path to the audio and the job's options and gets a
:class:`hearkit.schema.Result` back. The default is the faster-whisper pipeline
(:mod:`hearkit.engine.pipeline`); tests use a fast deterministic one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from hearkit.schema import JobCreateParams, Result

__all__ = ["AudioError", "Transcriber"]


class AudioError(Exception):
    """The audio cannot be transcribed (not audio, corrupt, empty, too long).

    Its message is shown to the user as the failed job's ``error``, so it must say what is
    wrong and what to do.
    """


@runtime_checkable
class Transcriber(Protocol):
    """Turns one recording into a :class:`Result` (segments, words, speakers, audio_seconds).

    Implementations must honour ``options.channel``, ``options.diarize``, ``options.numerals``
    and ``options.vocabulary``; ``output_formats`` is rendered by the engine from the result.
    They raise :class:`AudioError` for audio they cannot use. They may be called from a worker
    thread or a worker process, so they must be picklable or build their state lazily.
    """

    name: str

    def transcribe(self, audio_path: Path, options: JobCreateParams) -> Result: ...
