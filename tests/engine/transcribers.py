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


POOL_LOG_ENV = "HEARKIT_TEST_POOL_LOG"
"""A file where :class:`PoolingTranscriber` appends the call ids of every run, one run a line."""

POOL_HOLD_ENV = "HEARKIT_TEST_POOL_HOLD"
"""A file: while it exists (at most 60 s), a :class:`PoolingTranscriber` run waits after logging
its calls and before reading their audio (a long transcription the test acts during)."""


class PoolingTranscriber:
    """Transcribes pools as the whisper transcriber's ``transcribe_pooled`` does (one outcome per
    call), with the fake transcriber's results. A pool holding a ``crash`` call kills its worker
    process; a ``raise`` call's outcome is an unexpected error. Each run is logged, then held while
    the ``HEARKIT_TEST_POOL_HOLD`` file exists."""

    name = "pooling"

    def transcribe_pooled(self, calls: list[tuple[Path, JobCreateParams]]) -> list[Result | Exception]:
        log = os.environ.get(POOL_LOG_ENV)
        if log:
            with open(log, "a") as out:
                out.write(" ".join(str(options.call_id) for _, options in calls) + "\n")
        hold = os.environ.get(POOL_HOLD_ENV)
        deadline = time.monotonic() + 60
        while hold and Path(hold).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        if any(options.call_id == "crash" for _, options in calls):
            os._exit(3)
        outcomes: list[Result | Exception] = []
        for path, options in calls:
            try:
                if options.call_id == "raise":
                    raise RuntimeError("decoder state lost\nsecond line")
                outcomes.append(FakeTranscriber().transcribe(path, options))
            except Exception as exc:  # this call's own, as WhisperTranscriber.transcribe_pooled does
                outcomes.append(exc)
        return outcomes

    def transcribe(self, audio_path: Path, options: JobCreateParams) -> Result:
        outcome = self.transcribe_pooled([(audio_path, options)])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
