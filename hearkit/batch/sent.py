"""The jobs this machine's batches created, by Idempotency-Key: how a re-run into another folder finds them.

A batch's Idempotency-Key is the recording's content hash + its transcription options + a generation
(:func:`hearkit.batch.runner.idempotency_key`); delivery (``webhook_url``) is left out so that a
re-run with another delivery bills nothing twice. The server, though, compares the whole request
body, so the same key with another ``webhook_url`` (the same folder again into a new ``--out``, with
another receiver or none) is a 409 ``idempotency_conflict``, and the server does not say which job
the key made. This index says it: every job a batch creates is recorded here with its key, and a 409
looks the key up, checks the job on the server (``GET``: another account's or server's job is a 404)
and reuses it, transcribed and billed once.

Where: ``$HEARKIT_CACHE_DIR/sent-jobs.sqlite``, else ``$XDG_CACHE_HOME/hearkit/…``, else
``~/.cache/hearkit/…`` (mode 0600; job ids and key hashes only, no audio, no API key). Rows older
than the servers' 24 h replay window are dropped on every open. The index is a help, never a
requirement: a file that cannot be opened or written is skipped with a debug log line, and a key it
does not know (another machine's batch, a batch of before this index) ends as a failed recording
whose error says how to send it as a new job.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

__all__ = ["REPLAY_WINDOW_S", "SentJobs", "default_path"]

REPLAY_WINDOW_S = 24 * 3600.0
"""How long a server replays a key (the local engine's and the hosted API's assumed 24 h)."""

_log = logging.getLogger("hearkit.batch")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sent (
    idempotency_key TEXT NOT NULL,
    job_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (idempotency_key, job_id)
)
"""


def default_path() -> Path:
    """``$HEARKIT_CACHE_DIR``, ``$XDG_CACHE_HOME/hearkit`` or ``~/.cache/hearkit``, + ``sent-jobs.sqlite``."""
    own = os.environ.get("HEARKIT_CACHE_DIR")
    if own:
        return Path(own) / "sent-jobs.sqlite"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "hearkit" / "sent-jobs.sqlite"


class SentJobs:
    """``idempotency key → job ids`` of the jobs created within the replay window."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_path()

    def remember(self, idempotency_key: str, job_id: str) -> None:
        """Record that ``idempotency_key`` created (or replayed) ``job_id``."""
        self._run(
            "INSERT OR REPLACE INTO sent (idempotency_key, job_id, created_at) VALUES (?, ?, ?)",
            (idempotency_key, job_id, time.time()),
        )

    def jobs_of(self, idempotency_key: str) -> list[str]:
        """The job ids recorded for ``idempotency_key``, newest first (several when one key went
        to several servers or accounts)."""
        rows = self._run(
            "SELECT job_id FROM sent WHERE idempotency_key = ? ORDER BY created_at DESC", (idempotency_key,)
        )
        return [str(job_id) for (job_id,) in rows]

    def _run(self, sql: str, values: tuple[object, ...]) -> list[tuple[object, ...]]:
        """One statement in its own transaction, after the schema and the pruning; ``[]`` and a
        debug line when the file cannot be used."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fresh = not self.path.exists()
            db = sqlite3.connect(self.path, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            _log.debug("the index of sent jobs %s cannot be opened (%s); going without it", self.path, exc)
            return []
        try:
            if fresh:
                os.chmod(self.path, 0o600)
            with db:
                db.execute(_SCHEMA)
                db.execute("DELETE FROM sent WHERE created_at < ?", (time.time() - REPLAY_WINDOW_S,))
                return list(db.execute(sql, values).fetchall())
        except (OSError, sqlite3.Error) as exc:
            _log.debug("the index of sent jobs %s failed (%s); going without it", self.path, exc)
            return []
        finally:
            db.close()
