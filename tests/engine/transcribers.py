"""Transcribers the engine loads by name in its worker processes (``module:Class``), for tests."""

from __future__ import annotations

import os
from pathlib import Path

from hearkit.engine.fake import FakeTranscriber
from hearkit.schema import JobCreateParams, Result


class ExitingTranscriber:
    """Kills its worker process (as a native crash would) when the job's ``call_id`` is ``crash``."""

    name = "exiting"

    def transcribe(self, audio_path: Path, options: JobCreateParams) -> Result:
        if options.call_id == "crash":
            os._exit(3)
        return FakeTranscriber().transcribe(audio_path, options)


class RaisingTranscriber:
    """Fails with a multi-line RuntimeError, as a bug deep in a transcriber would."""

    name = "raising"

    def transcribe(self, audio_path: Path, options: JobCreateParams) -> Result:
        raise RuntimeError("decoder state lost at frame 1234\nsecond line of detail")
