"""The engine's durable state: one SQLite database in WAL mode.

Tables: ``meta`` (secrets of this data dir), ``keys`` (API keys, stored as SHA-256 hashes),
``jobs``, ``idempotency`` (24 h replay records), ``ledger`` (billed audio seconds per job),
``deliveries`` and ``delivery_attempts`` (webhook outbox and its log).

Every state change is one transaction, so a ``kill -9`` at any point leaves either the old or
the new state; :meth:`Store.recover` turns jobs that were ``running`` back into ``queued``.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from hearkit._sqlite import Database
from hearkit.engine.ids import hash_key, new_api_key, new_key_id, now_ms, random_base62

__all__ = ["DeliveryRow", "IdempotencyRow", "JobRow", "KeyRow", "Store"]

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_Row = TypeVar("_Row", bound="DataclassInstance")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
    key_id TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE, env TEXT NOT NULL, scopes TEXT NOT NULL,
    org_id TEXT NOT NULL, project_id TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER,
    status TEXT NOT NULL DEFAULT 'active', credit_seconds REAL, daily_cap_seconds REAL,
    rps REAL NOT NULL, burst INTEGER NOT NULL, label TEXT
);
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, key_id TEXT NOT NULL, status TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, params TEXT NOT NULL,
    audio_path TEXT, result TEXT, error TEXT, audio_seconds REAL, attempts INTEGER NOT NULL DEFAULT 0
);
-- every index ends with the rowid, so this one also orders jobs of the same ms by insertion
CREATE INDEX IF NOT EXISTS jobs_by_project_time ON jobs (project_id, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_status_time ON jobs (status, created_at);
CREATE TABLE IF NOT EXISTS idempotency (
    key_id TEXT NOT NULL, idem_key TEXT NOT NULL, body_hash TEXT NOT NULL, response TEXT NOT NULL,
    created_at INTEGER NOT NULL, PRIMARY KEY (key_id, idem_key)
);
CREATE TABLE IF NOT EXISTS ledger (
    job_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, audio_seconds REAL NOT NULL, billed_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_by_key ON ledger (key_id, billed_at);
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, url TEXT NOT NULL,
    event_type TEXT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
    created_at INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    last_status_code INTEGER, last_error TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS delivery_attempts (
    delivery_id INTEGER NOT NULL, attempt INTEGER NOT NULL, at INTEGER NOT NULL,
    status_code INTEGER, error TEXT, duration_ms INTEGER NOT NULL
);
"""

IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class KeyRow:
    key_id: str
    env: str
    scopes: tuple[str, ...]
    org_id: str
    project_id: str
    created_at: int
    expires_at: int | None
    status: str
    credit_seconds: float | None
    daily_cap_seconds: float | None
    rps: float
    burst: int
    label: str | None


@dataclass(frozen=True)
class JobRow:
    job_id: str
    project_id: str
    key_id: str
    status: str
    created_at: int
    updated_at: int
    params: dict[str, Any]
    audio_path: str | None
    result: str | None
    error: str | None
    audio_seconds: float | None
    attempts: int
    #: Insertion order (SQLite rowid): breaks ties between jobs created in the same millisecond.
    seq: int


@dataclass(frozen=True)
class IdempotencyRow:
    body_hash: str
    response: dict[str, Any]


@dataclass(frozen=True)
class DeliveryRow:
    delivery_id: int
    job_id: str
    url: str
    event_type: str
    payload: str
    status: str
    attempts: int
    created_at: int
    next_attempt_at: int
    last_status_code: int | None
    last_error: str | None


def _from_row(cls: type[_Row], row: sqlite3.Row, **decoded: Any) -> _Row:
    """``cls`` built from the row's columns of the same names; ``decoded`` gives the JSON columns decoded."""
    return cls(
        **{f.name: decoded[f.name] if f.name in decoded else row[f.name] for f in dataclasses.fields(cls)}
    )


def _key(row: sqlite3.Row) -> KeyRow:
    return _from_row(KeyRow, row, scopes=tuple(json.loads(row["scopes"])))


def _job(row: sqlite3.Row) -> JobRow:
    return _from_row(JobRow, row, params=json.loads(row["params"]))


def _delivery(row: sqlite3.Row) -> DeliveryRow:
    return _from_row(DeliveryRow, row)


class Store:
    """Thread-safe access to the engine database at ``<data_dir>/engine.sqlite3``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._database = Database(path, synchronous="NORMAL", busy_timeout=10.0)
        self._lock = self._database.lock
        self._db = self._database.conn
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._database.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error), holding the store lock."""
        with self._database.transaction() as db:
            yield db

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._database.one(sql, args)
        return row

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self._database.all(sql, args)

    # -- meta -------------------------------------------------------------------------------
    def secret(self, name: str, prefix: str = "") -> str:
        """A random secret of this data dir, created on first use and kept forever."""
        with self.transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
            if row is not None:
                return str(row["value"])
            value = prefix + random_base62(40)
            db.execute("INSERT INTO meta (name, value) VALUES (?, ?)", (name, value))
            return value

    # -- keys -------------------------------------------------------------------------------
    def create_key(
        self,
        *,
        env: str,
        scopes: list[str],
        rps: float,
        burst: int,
        org_id: str = "org_local",
        project_id: str = "proj_local",
        credit_seconds: float | None = None,
        daily_cap_seconds: float | None = None,
        expires_at: int | None = None,
        label: str | None = None,
    ) -> tuple[str, KeyRow]:
        """Mint a key; returns the plaintext (shown once, never stored) and its record."""
        if env not in {"test", "live"}:
            raise ValueError(f"env must be 'test' or 'live', not {env!r}")
        api_key = new_api_key(env)
        key_id = new_key_id()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO keys (key_id, key_hash, env, scopes, org_id, project_id, created_at, expires_at,"
                " credit_seconds, daily_cap_seconds, rps, burst, label)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key_id,
                    hash_key(api_key),
                    env,
                    json.dumps(scopes),
                    org_id,
                    project_id,
                    now_ms(),
                    expires_at,
                    credit_seconds,
                    daily_cap_seconds,
                    rps,
                    burst,
                    label,
                ),
            )
        key = self.key_by_id(key_id)
        assert key is not None
        return api_key, key

    def key_by_id(self, key_id: str) -> KeyRow | None:
        row = self._one("SELECT * FROM keys WHERE key_id = ?", (key_id,))
        return _key(row) if row else None

    def key_by_secret(self, api_key: str) -> KeyRow | None:
        row = self._one("SELECT * FROM keys WHERE key_hash = ?", (hash_key(api_key),))
        return _key(row) if row else None

    def revoke_key(self, key_id: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE keys SET status = 'revoked' WHERE key_id = ?", (key_id,))

    def count_keys(self) -> int:
        row = self._one("SELECT COUNT(*) AS n FROM keys")
        return int(row["n"]) if row else 0

    # -- usage --------------------------------------------------------------------------------
    def billed_seconds(self, key_id: str, since_ms: int = 0) -> float:
        """Audio seconds billed to ``key_id`` since ``since_ms`` (from the ledger)."""
        row = self._one(
            "SELECT COALESCE(SUM(audio_seconds), 0) AS s FROM ledger WHERE key_id = ? AND billed_at >= ?",
            (key_id, since_ms),
        )
        return float(row["s"]) if row else 0.0

    # -- idempotency --------------------------------------------------------------------------
    def find_idempotency(self, key_id: str, idem_key: str) -> IdempotencyRow | None:
        """The live record of (key, Idempotency-Key), if any (records older than 24 h are ignored)."""
        row = self._one(
            "SELECT body_hash, response FROM idempotency"
            " WHERE key_id = ? AND idem_key = ? AND created_at >= ?",
            (key_id, idem_key, now_ms() - IDEMPOTENCY_TTL_MS),
        )
        return (
            IdempotencyRow(body_hash=row["body_hash"], response=json.loads(row["response"])) if row else None
        )

    # -- jobs -----------------------------------------------------------------------------------
    def insert_job(
        self,
        *,
        job_id: str,
        key: KeyRow,
        created_at: int,
        params: dict[str, Any],
        audio_path: str | None,
        status: str = "queued",
        error: str | None = None,
        webhook_event: tuple[str, str, str] | None = None,
        idempotency: tuple[str, str, dict[str, Any]] | None = None,
    ) -> IdempotencyRow | None:
        """Store a new job; with ``idempotency`` = (Idempotency-Key, body hash, 202 body), its replay
        record too, in the same transaction (a crash stores both or neither).

        Returns the live record instead of storing anything when the key was claimed first (by a
        concurrent identical request, or one with another body: the caller compares the hashes).
        """
        now = now_ms()
        with self.transaction() as db:
            if idempotency is not None:
                idem_key, body_hash, response = idempotency
                db.execute("DELETE FROM idempotency WHERE created_at < ?", (now - IDEMPOTENCY_TTL_MS,))
                row = db.execute(
                    "SELECT body_hash, response FROM idempotency WHERE key_id = ? AND idem_key = ?",
                    (key.key_id, idem_key),
                ).fetchone()
                if row is not None:
                    return IdempotencyRow(body_hash=row["body_hash"], response=json.loads(row["response"]))
                db.execute(
                    "INSERT INTO idempotency (key_id, idem_key, body_hash, response, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (key.key_id, idem_key, body_hash, json.dumps(response), now),
                )
            db.execute(
                "INSERT INTO jobs (job_id, project_id, key_id, status, created_at, updated_at, params,"
                " audio_path, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    key.project_id,
                    key.key_id,
                    status,
                    created_at,
                    created_at,
                    json.dumps(params),
                    audio_path,
                    error,
                ),
            )
            if webhook_event is not None:
                self._enqueue_delivery(db, job_id, *webhook_event)
        return None

    def get_job(self, job_id: str, project_id: str | None = None) -> JobRow | None:
        if project_id is None:
            row = self._one("SELECT rowid AS seq, * FROM jobs WHERE job_id = ?", (job_id,))
        else:
            row = self._one(
                "SELECT rowid AS seq, * FROM jobs WHERE job_id = ? AND project_id = ?", (job_id, project_id)
            )
        return _job(row) if row else None

    def list_jobs(self, project_id: str, limit: int, before: tuple[int, int] | None) -> list[JobRow]:
        """Newest first by (created_at, seq); ``before`` is the position of the last job seen."""
        if before is None:
            rows = self._all(
                "SELECT rowid AS seq, * FROM jobs WHERE project_id = ?"
                " ORDER BY created_at DESC, rowid DESC LIMIT ?",
                (project_id, limit),
            )
        else:
            rows = self._all(
                "SELECT rowid AS seq, * FROM jobs WHERE project_id = ? AND (created_at, rowid) < (?, ?)"
                " ORDER BY created_at DESC, rowid DESC LIMIT ?",
                (project_id, before[0], before[1], limit),
            )
        return [_job(r) for r in rows]

    def referenced_audio(self) -> set[str]:
        """Audio paths still needed by unfinished jobs."""
        rows = self._all("SELECT audio_path FROM jobs WHERE audio_path IS NOT NULL")
        return {r["audio_path"] for r in rows}

    def count_jobs(self, status: str | None = None) -> int:
        if status is None:
            row = self._one("SELECT COUNT(*) AS n FROM jobs")
        else:
            row = self._one("SELECT COUNT(*) AS n FROM jobs WHERE status = ?", (status,))
        return int(row["n"]) if row else 0

    # -- webhook deliveries ---------------------------------------------------------------------
    @staticmethod
    def _enqueue_delivery(
        db: sqlite3.Connection, job_id: str, url: str, event_type: str, payload: str
    ) -> None:
        now = now_ms()
        db.execute(
            "INSERT INTO deliveries (job_id, url, event_type, payload, status, attempts, created_at,"
            " next_attempt_at, updated_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
            (job_id, url, event_type, payload, now, now, now),
        )

    def due_deliveries(self, now: int, limit: int = 32, hold_ms: int = 120_000) -> list[DeliveryRow]:
        """Claim the deliveries due at ``now``: they are not due again for ``hold_ms``, so another
        process sharing this data dir does not send them too (the attempt's outcome, recorded by
        :meth:`record_attempt`, sets the real next time; a process that dies mid-send leaves them due
        again after ``hold_ms``)."""
        with self.transaction() as db:
            rows = db.execute(
                "SELECT * FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at LIMIT ?",
                (now, limit),
            ).fetchall()
            if rows:
                ids = [r["delivery_id"] for r in rows]
                marks = ",".join("?" * len(ids))
                db.execute(
                    f"UPDATE deliveries SET next_attempt_at = ? WHERE delivery_id IN ({marks})",
                    (now + hold_ms, *ids),
                )
        return [_delivery(r) for r in rows]

    def next_delivery_time(self) -> int | None:
        row = self._one("SELECT MIN(next_attempt_at) AS t FROM deliveries WHERE status = 'pending'")
        return int(row["t"]) if row and row["t"] is not None else None

    def record_attempt(
        self,
        delivery: DeliveryRow,
        *,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
        new_status: str,
        next_attempt_at: int,
        at: int,
    ) -> None:
        """Log one delivery attempt (finished at ``at``, Unix ms) and move the delivery to ``new_status``."""
        now = at
        attempt = delivery.attempts + 1
        with self.transaction() as db:
            db.execute(
                "INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, error, duration_ms)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (delivery.delivery_id, attempt, now, status_code, error, duration_ms),
            )
            db.execute(
                "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, updated_at = ?,"
                " last_status_code = ?, last_error = ? WHERE delivery_id = ?",
                (new_status, attempt, next_attempt_at, now, status_code, error, delivery.delivery_id),
            )

    def deliveries(self, job_id: str | None = None) -> list[DeliveryRow]:
        """The delivery log (all deliveries, or those of one job), oldest first."""
        if job_id is None:
            rows = self._all("SELECT * FROM deliveries ORDER BY delivery_id")
        else:
            rows = self._all("SELECT * FROM deliveries WHERE job_id = ? ORDER BY delivery_id", (job_id,))
        return [_delivery(r) for r in rows]

    def delivery_attempts(self, delivery_id: int) -> list[dict[str, Any]]:
        rows = self._all(
            "SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt", (delivery_id,)
        )
        return [dict(r) for r in rows]
