"""The real transcription pipeline of the local engine (faster-whisper, Silero VAD, diarization).

Public entry point: :class:`WhisperTranscriber`, the engine's default
:class:`~hearkit.engine.transcriber.Transcriber`.
"""

from __future__ import annotations

from hearkit.engine.pipeline.transcriber import WhisperTranscriber

__all__ = ["WhisperTranscriber"]
