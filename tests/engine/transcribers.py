"""Transcribers the engine loads by name in its worker processes (``module:Class``), for tests."""

from __future__ import annotations

import os
import time
from pathlib import Path

from hearkit.engine.fake import FakeTranscriber
from hearkit.schema import JobCreateParams, Result

CRASH_MARK_ENV = "HEARKIT_TEST_CRASH_MARK"
"""A file the ``crash`` job creates just before it dies, which a ``wait-for-crash`` job waits for."""


class ExitingTranscriber:
    """Kills its worker process (as a native crash would) when the job's ``call_id`` is ``crash``.

    A ``wait-for-crash`` job is still running when that happens: it waits for the crash's mark
    file (``HEARKIT_TEST_CRASH_MARK``) before it finishes.
    """

    name = "exiting"

    def transcribe(self, audio_path: Path, options: JobCreateParams) -> Result:
        mark = os.environ.get(CRASH_MARK_ENV)
        if options.call_id == "crash":
            if mark:
                Path(mark).touch()
            os._exit(3)
        if options.call_id == "wait-for-crash" and mark:
            deadline = time.monotonic() + 120
            while not Path(mark).exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # the engine has seen its other slot's process die by now
        return FakeTranscriber().transcribe(audio_path, options)


class RaisingTranscriber:
    """Fails with a multi-line RuntimeError, as a bug deep in a transcriber would."""

    name = "raising"

    def transcribe(self, audio_path: Path, options: JobCreateParams) -> Result:
        raise RuntimeError("decoder state lost at frame 1234\nsecond line of detail")
