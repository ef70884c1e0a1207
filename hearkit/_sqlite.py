"""The one way hearkit opens a SQLite database: WAL, a busy timeout, explicit transactions, owner-only files.

Used by the engine store (``engine.sqlite3``), the batch manifest (``manifest.sqlite``) and the
webhook receiver's store (``webhooks.sqlite``). Each holds secrets or customer data (signing
secrets, request bodies with URLs, job ids), so:

* the database file is created mode ``0600`` before SQLite opens it, and SQLite gives its
  ``-wal`` and ``-shm`` files the database file's mode; files left ``0644`` by an older version
  are narrowed to ``0600`` on open;
* :func:`private_dir` creates a directory ``0700`` (and narrows an existing one), for data dirs
  that hold nothing but the service's own state.

Connections are in autocommit mode (``isolation_level=None``); :meth:`Database.transaction` is
``BEGIN IMMEDIATE … COMMIT`` (``ROLLBACK`` on any exception), holding the object's lock, so one
state change is one transaction and a ``kill -9`` leaves the old or the new state.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

__all__ = ["Database", "private_dir", "private_file"]

FILE_MODE = 0o600
DIR_MODE = 0o700
_SIDECARS = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) and make ``path`` itself ``0700``; returns it."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if path.stat().st_mode & 0o777 != DIR_MODE:
        path.chmod(DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing, in either case mode ``0600``; returns it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        if os.fstat(fd).st_mode & 0o777 != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


class Database:
    """One SQLite connection shared by threads under a lock, configured as described above.

    ``synchronous``: ``NORMAL`` (durable at checkpoints, the WAL default) or ``FULL`` (every
    commit fsynced: the webhook store acknowledges an event only once it is on disk).
    ``busy_timeout``: seconds a writer waits for another process's lock before ``database is
    locked``.
    """

    def __init__(
        self,
        path: Path,
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        busy_timeout: float = 10.0,
        row_factory: bool = True,
    ) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        private_file(path)
        for suffix in _SIDECARS:
            sidecar = path.with_name(path.name + suffix)
            if sidecar.exists():
                sidecar.chmod(FILE_MODE)
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout)
        if row_factory:
            self.conn.row_factory = sqlite3.Row
        self.conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(f"PRAGMA synchronous={synchronous}")

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error), holding the lock."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        """Run one autocommitted statement under the lock; returns its ``rowcount``."""
        with self.lock:
            return self.conn.execute(sql, args).rowcount

    def one(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        """The first row of a query (``None`` when empty), under the lock."""
        with self.lock:
            return self.conn.execute(sql, args).fetchone()

    def all(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        """Every row of a query, under the lock."""
        with self.lock:
            return self.conn.execute(sql, args).fetchall()
