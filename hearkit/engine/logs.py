"""The engine's own log file: ``<data_dir>/engine.log``, with tracebacks, shared by every process.

Every hearkit process that runs an engine on a data dir (``hearkit serve``, a CLI, a notebook's
embedded engine) appends to the same file; each line names its process id, so the lines of two
processes at once can be told apart. A failed job's ``error`` is one line for the user; the
traceback behind it is here. The file is created owner-only (0600): it may name files and jobs.
It is rotated once (``engine.log.1``) when a process starts and finds it above
:data:`MAX_BYTES`.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

__all__ = ["LOG_NAME", "MAX_BYTES", "configure_engine_log"]

LOG_NAME = "engine.log"
#: Above this size the log is moved to ``engine.log.1`` (replacing it) when a process starts.
MAX_BYTES = 10 * 1024 * 1024
_FORMAT = "%(asctime)s pid=%(process)d %(threadName)s %(levelname)s %(name)s: %(message)s"

_lock = threading.Lock()
_handlers: dict[Path, logging.Handler] = {}


def configure_engine_log(data_dir: Path) -> Path:
    """Send the ``hearkit.engine`` logger (INFO and above) to ``<data_dir>/engine.log``; returns its path.

    Idempotent per data dir within a process. The logger's level is lowered to INFO if it was
    unset, so job hand-overs and takeovers are recorded; nothing is printed to the console by it.
    """
    path = (Path(data_dir) / LOG_NAME).resolve()
    with _lock:
        if path in _handlers:
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        _rotate(path)
        # Create it 0600 before logging opens it (append mode keeps other processes' lines).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
        handler = logging.FileHandler(path, mode="a", encoding="utf-8", delay=False)
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.setLevel(logging.INFO)
        logger = logging.getLogger("hearkit.engine")
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        _handlers[path] = handler
    return path


def _rotate(path: Path) -> None:
    try:
        if path.stat().st_size > MAX_BYTES:
            os.replace(path, path.with_name(LOG_NAME + ".1"))
    except FileNotFoundError:
        pass
