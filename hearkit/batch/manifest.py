"""The batch manifest: one SQLite file in the output folder that holds the state of every recording.

States of a recording (``status``):

* ``pending``: known, not sent yet;
* ``submitted``: the create request was *sent*. ``job_id`` is null until the 202 came back, so
  a row that is ``submitted`` without a ``job_id`` after a crash is re-sent with the *same*
  ``Idempotency-Key`` and the *same* request, and the server answers with the job it already
  created;
* ``completed``: the job completed and the per-call JSON is written (it is written first);
* ``failed``: the job failed on the server, or sending gave up after ``attempts`` tries;
  ``last_error`` says why;
* ``skipped``: never sent (not audio, unreadable, duplicate content, http URL); ``last_error``
  is the reason.

Every transition is one committed transaction (WAL journal), so ``kill -9`` at any instant
leaves a state from which the same command resumes without losing or duplicating a job.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hearkit._sqlite import Database
from hearkit.batch.recordings import Recording, hash_file

__all__ = ["MANIFEST_NAME", "STATUSES", "Manifest", "ManifestRow"]

MANIFEST_NAME = "manifest.sqlite"
STATUSES = ("pending", "submitted", "completed", "failed", "skipped")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS recordings (
    rec_id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    size_bytes INTEGER,
    duration_s REAL,
    channels INTEGER,
    layout TEXT,
    mode TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0,
    idempotency_key TEXT,
    request TEXT,
    job_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    audio_seconds REAL,
    billed_seconds REAL,
    result_path TEXT,
    seq INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS recordings_status ON recordings(status);
CREATE INDEX IF NOT EXISTS recordings_job ON recordings(job_id);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS file_hashes (
    path TEXT PRIMARY KEY,
    size_bytes INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class ManifestRow:
    """One recording as the manifest holds it."""

    rec_id: str
    call_id: str
    source: str
    kind: str
    size_bytes: int | None
    duration_s: float | None
    channels: int | None
    layout: str | None
    mode: str | None
    metadata: dict[str, Any]
    status: str
    generation: int
    idempotency_key: str | None
    request: dict[str, Any] | None
    job_id: str | None
    attempts: int
    last_error: str | None
    audio_seconds: float | None
    billed_seconds: float | None
    result_path: str | None

    @classmethod
    def from_sql(cls, row: sqlite3.Row) -> ManifestRow:
        data = dict(row)
        data["metadata"] = json.loads(data["metadata"] or "{}")
        data["request"] = json.loads(data["request"]) if data["request"] else None
        data.pop("seq", None)
        data.pop("updated_at", None)
        return cls(**data)


class Manifest:
    """The SQLite manifest of one batch output folder (``DIR/manifest.sqlite``)."""

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.out_dir / MANIFEST_NAME
        self._database = Database(self.path, synchronous="NORMAL", busy_timeout=30.0)
        self._db = self._database.conn
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._database.close()

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._database.transaction() as db:
            yield db

    # settings --------------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """The batch settings stored when the folder was first used (options, source)."""
        rows = self._db.execute("SELECT key, value FROM settings").fetchall()
        return {row["key"]: json.loads(row["value"]) for row in rows}

    def save_settings(self, values: Mapping[str, Any]) -> None:
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)",
                [(k, json.dumps(v, sort_keys=True)) for k, v in values.items()],
            )

    # content hashes of files, so a resume does not read every byte again ----------------------

    def cached_hasher(self) -> tuple[Callable[[Path], str], Callable[[], None]]:
        """A content hasher that trusts a stored hash while a file's size and mtime are unchanged.

        Returns ``(hasher, save)``; ``save()`` stores the hashes computed meanwhile.
        """
        cache: dict[str, tuple[int, int, str]] = {
            str(row["path"]): (int(row["size_bytes"]), int(row["mtime_ns"]), str(row["sha256"]))
            for row in self._db.execute("SELECT path, size_bytes, mtime_ns, sha256 FROM file_hashes")
        }
        fresh: dict[str, tuple[int, int, str]] = {}

        def hasher(path: Path) -> str:
            stat = path.stat()
            known = cache.get(str(path))
            if known is not None and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
                return known[2]
            digest = hash_file(path)
            fresh[str(path)] = (stat.st_size, stat.st_mtime_ns, digest)
            return digest

        def save() -> None:
            with self._tx() as db:
                db.executemany(
                    "INSERT OR REPLACE INTO file_hashes(path, size_bytes, mtime_ns, sha256) VALUES (?,?,?,?)",
                    [(path, *entry) for path, entry in fresh.items()],
                )

        return hasher, save

    # recordings ------------------------------------------------------------------------------

    def add(self, recordings: list[Recording]) -> int:
        """Insert recordings not in the manifest yet (by content hash); returns how many were new.

        A known recording keeps its state. A skipped one is retried when its file became readable
        (the content hash is then a different one anyway).
        """
        now = time.time()
        with self._tx() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM recordings").fetchone()[0]
            known = {r[0] for r in db.execute("SELECT rec_id FROM recordings")}
            taken = {r[0] for r in db.execute("SELECT call_id FROM recordings")}
            added = 0
            for rec in recordings:
                if rec.rec_id in known:
                    continue
                known.add(rec.rec_id)
                seq += 1
                call_id = rec.call_id if rec.call_id not in taken else f"{rec.call_id}-{rec.rec_id[:8]}"
                taken.add(call_id)
                info = rec.info
                db.execute(
                    "INSERT INTO recordings(rec_id, call_id, source, kind, size_bytes, duration_s, channels,"
                    " layout, mode, metadata, status, last_error, seq, updated_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        rec.rec_id,
                        call_id,
                        rec.source,
                        rec.kind,
                        rec.size_bytes,
                        info.duration_s if info else None,
                        info.channels if info else None,
                        info.layout if info else None,
                        rec.mode,
                        json.dumps(rec.metadata, sort_keys=True, default=str),
                        "skipped" if rec.skip_reason else "pending",
                        rec.skip_reason,
                        seq,
                        now,
                    ),
                )
                added += 1
        return added

    def get(self, rec_id: str) -> ManifestRow:
        row = self._db.execute("SELECT * FROM recordings WHERE rec_id = ?", (rec_id,)).fetchone()
        if row is None:
            raise KeyError(rec_id)
        return ManifestRow.from_sql(row)

    def rows(self, *statuses: str) -> list[ManifestRow]:
        """Rows in manifest order, optionally only those in ``statuses``."""
        if statuses:
            marks = ",".join("?" * len(statuses))
            sql = f"SELECT * FROM recordings WHERE status IN ({marks}) ORDER BY seq"
            found = self._db.execute(sql, statuses).fetchall()
        else:
            found = self._db.execute("SELECT * FROM recordings ORDER BY seq").fetchall()
        return [ManifestRow.from_sql(r) for r in found]

    def counts(self) -> dict[str, int]:
        """Number of recordings per status (every status present, zero included)."""
        counts = dict.fromkeys(STATUSES, 0)
        for row in self._db.execute("SELECT status, COUNT(*) AS n FROM recordings GROUP BY status"):
            counts[row["status"]] = row["n"]
        return counts

    def totals(self) -> dict[str, float]:
        """Sums over completed recordings: ``audio_seconds`` and ``billed_seconds``."""
        row = self._db.execute(
            "SELECT COALESCE(SUM(audio_seconds), 0) AS a, COALESCE(SUM(billed_seconds), 0) AS b"
            " FROM recordings WHERE status = 'completed'"
        ).fetchone()
        return {"audio_seconds": float(row["a"]), "billed_seconds": float(row["b"])}

    def prepare_submit(self, rec_id: str, idempotency_key: str, request: dict[str, Any]) -> ManifestRow:
        """Record the first send of this generation: key and request are fixed from now on.

        Later sends of the same generation reuse what is stored here (even when the command line
        changed), so every retry of a recording is byte-for-byte the same request.
        """
        with self._tx() as db:
            db.execute(
                "UPDATE recordings SET idempotency_key = COALESCE(idempotency_key, ?),"
                " request = COALESCE(request, ?), updated_at = ? WHERE rec_id = ?",
                (idempotency_key, json.dumps(request, sort_keys=True), time.time(), rec_id),
            )
        return self.get(rec_id)

    def mark_sending(self, rec_id: str) -> None:
        """Just before a create request leaves: ``submitted``, one more attempt."""
        self._update(rec_id, "status = 'submitted', attempts = attempts + 1")

    def mark_created(self, rec_id: str, job_id: str) -> None:
        self._update(rec_id, "status = 'submitted', job_id = ?, last_error = NULL", job_id)

    def note_error(self, rec_id: str, error: str) -> None:
        """A transient error: keep the state, remember the message."""
        self._update(rec_id, "last_error = ?", error)

    def mark_completed(
        self, rec_id: str, *, result_path: str, audio_seconds: float | None, billed_seconds: float | None
    ) -> None:
        self._update(
            rec_id,
            "status = 'completed', result_path = ?, audio_seconds = ?, billed_seconds = ?, last_error = NULL",
            result_path,
            audio_seconds,
            billed_seconds,
        )

    def set_billed(self, rec_id: str, billed_seconds: float) -> None:
        self._update(rec_id, "billed_seconds = ?", billed_seconds)

    def mark_failed(self, rec_id: str, error: str, *, refused: bool = False) -> None:
        """``failed`` with ``error``. ``refused``: the server answered the create request with an
        error (a 400: no job exists), so its key and request are let go and ``--retry-failed``
        sends the request the current options make, not the refused one again."""
        if refused:
            self._update(
                rec_id, "status = 'failed', last_error = ?, idempotency_key = NULL, request = NULL", error
            )
        else:
            self._update(rec_id, "status = 'failed', last_error = ?", error)

    def mark_conflict(self, rec_id: str, error: str) -> None:
        """``failed`` after a 409 ``idempotency_conflict`` whose job is not known: its key was used by
        another request (another delivery) within the server's replay window, so the next send
        (``--retry-failed``) takes a new generation, hence a new key: a new job, billed again."""
        self._update(
            rec_id,
            "status = 'failed', last_error = ?, generation = generation + 1, idempotency_key = NULL,"
            " request = NULL, job_id = NULL",
            error,
        )

    def forget_unfinished(self) -> int:
        """Drop every recording of a batch none of whose recordings completed or is in flight (all
        failed, skipped or pending): nothing of it is in a dataset or on the server's way, so it
        may start over with other options. Returns how many were dropped."""
        with self._tx() as db:
            busy = db.execute(
                "SELECT COUNT(*) FROM recordings WHERE status IN ('completed', 'submitted')"
            ).fetchone()[0]
            if busy:
                return 0
            return db.execute("DELETE FROM recordings").rowcount

    def mark_pending(self, rec_id: str) -> None:
        """Back to ``pending`` when nothing was sent for it (a 402 stopped the run first).

        Its key and request are let go too: the server created no job, so nothing ties the next
        send to them, and a resume with changed options sends the request those options make.
        """
        self._update(rec_id, "status = 'pending', idempotency_key = NULL, request = NULL")

    def requeue_failed(self) -> int:
        """Make failed recordings pending again (``--retry-failed``); returns how many.

        A recording whose *job* failed on the server gets a new generation, hence a new
        Idempotency-Key: re-sending the old key would only replay the failed job. One that
        never got a job keeps its key (a lost response may still have created one).
        """
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE recordings SET status = 'pending', attempts = 0,"
                " generation = generation + (job_id IS NOT NULL),"
                " idempotency_key = CASE WHEN job_id IS NULL THEN idempotency_key END,"
                " request = CASE WHEN job_id IS NULL THEN request END,"
                " job_id = NULL, updated_at = ? WHERE status = 'failed'",
                (time.time(),),
            )
            return cursor.rowcount

    def resend(self, rec_id: str, note: str) -> ManifestRow:
        """Send one recording again as a new job (new generation, hence a new Idempotency-Key).

        For a job that failed because its upload did not reach the server intact: re-sending the
        old key would only replay that job. ``note`` is kept as ``last_error`` until it completes.
        """
        self._update(
            rec_id,
            "status = 'pending', generation = generation + 1, idempotency_key = NULL, request = NULL,"
            " job_id = NULL, attempts = 0, last_error = ?",
            note,
        )
        return self.get(rec_id)

    def _update(self, rec_id: str, assignments: str, *values: Any) -> None:
        with self._tx() as db:
            db.execute(
                f"UPDATE recordings SET {assignments}, updated_at = ? WHERE rec_id = ?",
                (*values, time.time(), rec_id),
            )
