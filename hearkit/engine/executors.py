"""Where transcriptions run: a pool of worker processes, or threads when this program cannot spawn them.

Worker processes are started with ``spawn`` (a fork of a process that runs the engine's threads
is unsafe). A spawned process imports the program's ``__main__`` again before it does anything,
which is harmless for ``hearkit`` commands, notebooks (Jupyter, Voilà) and scripts whose code
sits under ``if __name__ == "__main__":``, and fatal for two common forms of user code:

* a plain script without that guard: the worker process would run the whole script again
  (start another engine, send the jobs again), or die at Python's bootstrapping check;
* a program read from standard input (``python - < tour.py``): there is no file to import.

:func:`process_pool_problem` recognises both before any process is started. The engine then runs
transcriptions on threads of its own process (same results; the speech model releases the GIL
while it decodes) and says so once, as a :class:`RuntimeWarning` and in the engine log. If a pool
still cannot start a process (a case the check does not foresee), the worker falls back to
threads the same way, and the job runs there instead of failing.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import signal
import sys
import threading
import warnings
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

__all__ = ["process_pool", "process_pool_problem", "thread_pool", "warn_thread_fallback"]

log = logging.getLogger("hearkit.engine")

_GUARD = re.compile(r"""__name__\s*==\s*["']__main__["']|["']__main__["']\s*==\s*__name__""")
_warned = threading.Event()


def process_pool_problem() -> str | None:
    """Why a spawned worker process could not start from this program (one sentence), or ``None``."""
    main = sys.modules.get("__main__")
    if main is None:
        return None
    spec = getattr(main, "__spec__", None)
    path = getattr(spec, "origin", None) if spec is not None else getattr(main, "__file__", None)
    if not path:
        return None  # interactive Python, `python -c`, Jupyter and Voilà kernels: nothing is re-imported
    if not os.path.isfile(path):
        return f"the program was read from {path} (e.g. `python -`), which a worker process cannot import"
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            source = handle.read()
    except OSError:
        return None
    if _GUARD.search(source):
        return None
    return (
        f'{path} has no `if __name__ == "__main__":` guard, so a worker process would run the whole'
        " script again"
    )


def _worker_init(asr_threads: int = 0) -> None:
    # The worker processes share the cores: each one's model gets cores / workers threads unless
    # HEARKIT_ASR_THREADS says otherwise (benchmarks/bench_archive.py: two 1-thread processes
    # beat one 2-thread process on 2 cores, the single-threaded VAD and feature work overlapping).
    if asr_threads:
        os.environ.setdefault("HEARKIT_ASR_THREADS", str(asr_threads))
    # Ctrl-C reaches the whole process group; the parent decides what stops (and prints one line).
    # The process started with SIGINT blocked (:class:`_WorkerPool`): a Ctrl-C held since then is
    # dropped here, once it is ignored.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _thread_lock_for_tqdm()
    # If the engine's process is killed (SIGKILL), its transcription would run on for nothing while
    # another process takes the job over: on Linux, ask the kernel to end this worker with it.
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def _thread_lock_for_tqdm() -> None:
    """Give tqdm a thread lock in this worker process instead of its default multiprocessing one.

    faster-whisper builds a ``tqdm`` bar on every transcription, even with progress off, and tqdm's
    first bar makes a multiprocessing ``RLock``: a named POSIX semaphore registered with the resource
    tracker the worker shares with its parent. A worker ended by ``terminate()`` (Ctrl-C while it is
    busy) or killed with its parent cannot unlink it, and the tracker printed ``UserWarning:
    resource_tracker: There appear to be N leaked semaphore objects`` when the command exited. No
    bar is ever shown from a worker, so a thread lock is all it needs.
    """
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - faster-whisper depends on tqdm
        return
    tqdm.set_lock(threading.RLock())


class _WorkerPool(ProcessPoolExecutor):
    """A process pool whose workers start with SIGINT blocked until :func:`_worker_init` ignores it.

    A spawned worker imports the program again before its initializer runs (a second or more under
    load), and a Ctrl-C in that time (it reaches the whole process group) printed a
    ``KeyboardInterrupt`` traceback from the worker's imports under the command's own one-line
    message (a new user's check, U7 finding 10). Workers are spawned by ``submit``, so the calling
    thread blocks SIGINT around it; a block is inherited by the new process and survives its exec.
    A Ctrl-C meanwhile reaches the caller as soon as ``submit`` returns.
    """

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        if not hasattr(signal, "pthread_sigmask"):
            return super().submit(fn, *args, **kwargs)
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return super().submit(fn, *args, **kwargs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


def process_pool(workers: int, share_of: int | None = None) -> Executor:
    """``workers`` spawned processes that ignore Ctrl-C (their parent stops them) and die with it.

    Each process's model gets cores / ``share_of`` threads (default: cores / ``workers``): the
    engine runs ``share_of`` one-process pools side by side, one per transcription slot.
    """
    return _WorkerPool(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init,
        initargs=(max(1, (os.cpu_count() or 1) // max(1, share_of or workers)),),
    )


def thread_pool(workers: int) -> Executor:
    return ThreadPoolExecutor(workers, thread_name_prefix="hearkit-transcribe")


def warn_thread_fallback(reason: str) -> None:
    """Say once per process that transcriptions run on threads, and why."""
    if _warned.is_set():
        return
    _warned.set()
    message = (
        f"hearkit engine: transcribing on threads of this process instead of worker processes: {reason}."
        ' Results are the same; put your code under `if __name__ == "__main__":` to use worker processes.'
    )
    log.warning(message)
    warnings.warn(message, RuntimeWarning, stacklevel=2)
