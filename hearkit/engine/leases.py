"""Which process runs which job, when many hearkit processes share one data dir.

Every CLI run, notebook and script without ``PYAI_API_KEY`` starts an embedded engine on the
same data dir (``~/.cache/hearkit/engine``), and ``hearkit serve`` may run beside them. They share
one SQLite store, so a job must have exactly one runner at a time:

* **origin**: a job created through a process's engine (its HTTP server) records that process as
  its ``origin`` (a per-connection ``TEMP`` trigger on ``jobs``, so no insert elsewhere changes).
  Each live engine keeps a row in ``engines`` alive (``alive_until``), so a short ``hearkit analyze``
  runs its own job at once instead of waiting behind (or running) a batch's queue in another
  process, and nobody runs a job its creator is about to run.
* **claim**: a worker moves the oldest claimable job to ``running`` and writes its ``owner`` (this
  engine: ``host:boot:pid:token``; two engines in one process are two owners) and ``lease_until``
  (now + ``lease_seconds``) in the same transaction, its own jobs first. Claimable: ``queued`` jobs
  of this engine, of no engine (handed back) or of an engine that is gone; ``running`` jobs with an
  expired lease, or whose owner ran on this machine and no longer exists (killed with SIGKILL: taken
  over at once, without waiting for the lease to run out). An engine is gone when its ``engines``
  row expired or was removed when it stopped, or, on this machine, when its pid no longer exists.
* **renew**: the owner extends the leases of its running jobs, and its ``engines`` row, every
  ``lease_seconds / 3``.
* **finish**: a result is stored only while the job is still ``running`` for this owner; a job
  taken over meanwhile keeps the other process's outcome (a job completes exactly once).
* **hand back**: a process that stops (``LocalEngine.stop``, interpreter exit, ``hearkit serve``
  stopped) puts its running jobs back to ``queued`` (the interrupted attempt is not counted) and
  removes its ``engines`` row, so another process, or the next start, runs them and the jobs it
  created but had not started. It never fails them.

``attempts`` counts claims that were not handed back, so a job whose runner keeps dying (a native
crash on that audio) fails after ``max_attempts`` instead of killing every engine in turn.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from pathlib import Path

from hearkit.engine.ids import now_ms
from hearkit.engine.store import JobRow, Store, _job

__all__ = ["Leases", "ensure_lease_columns", "housekeeping", "new_owner"]

log = logging.getLogger("hearkit.engine")

#: Files in ``audio/`` and ``tmp/`` younger than this are never removed as orphans: another process
#: may be writing an upload whose job row it has not stored yet.
ORPHAN_MIN_AGE_S = 3600.0

#: Claimable jobs :meth:`Leases.claim_next` looks through for one its ``accept`` takes.
_ACCEPT_SCAN = 64


@functools.cache
def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        return "-"


def new_owner() -> str:
    """A fresh owner id of this process: ``host:boot:pid:token``. The token tells apart two engines
    of one process on one data dir (each hands back only its own jobs) and a reused pid."""
    return f"{socket.gethostname()}:{_boot_id()}:{os.getpid()}:{secrets.token_hex(4)}"


def _dead_here(owner: str) -> bool:
    """True when ``owner`` ran on this machine (same host and boot) and its process is gone."""
    host, boot, pid, _token = [*owner.split(":"), "", "", ""][:4]
    if host != socket.gethostname() or boot != _boot_id() or boot == "-" or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def ensure_lease_columns(store: Store) -> None:
    """Add ``owner``, ``lease_until`` and ``origin`` to ``jobs``, and the ``engines`` table (data dirs
    made before leases lack them)."""
    with store.transaction() as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
        for name, sql_type in (("owner", "TEXT"), ("lease_until", "INTEGER"), ("origin", "TEXT")):
            if name not in columns:
                db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {sql_type}")
        db.execute(
            "CREATE TABLE IF NOT EXISTS engines (owner TEXT PRIMARY KEY, alive_until INTEGER NOT NULL)"
        )


class Leases:
    """The job leases of one process on one store."""

    def __init__(self, store: Store, lease_seconds: float, owner: str | None = None) -> None:
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be > 0, not {lease_seconds!r}")
        self.store = store
        self.lease_ms = int(lease_seconds * 1000)
        self.owner = owner or new_owner()
        ensure_lease_columns(store)
        quoted = self.owner.replace("'", "''")
        with store.transaction() as db:
            # Jobs this connection (this process's engine) inserts are this process's to run first.
            db.execute(
                "CREATE TEMP TRIGGER IF NOT EXISTS hearkit_job_origin AFTER INSERT ON main.jobs"
                f" BEGIN UPDATE jobs SET origin = '{quoted}' WHERE rowid = NEW.rowid; END"
            )
            db.execute(
                "INSERT OR REPLACE INTO engines (owner, alive_until) VALUES (?, ?)",
                (self.owner, now_ms() + self.lease_ms),
            )
            db.execute("DELETE FROM engines WHERE alive_until < ?", (now_ms() - 86_400_000,))

    @property
    def renew_interval(self) -> float:
        """Seconds between renewals: a third of the lease, so two renewals may be late."""
        return self.lease_ms / 3000

    def claim_next(self, accept: Callable[[JobRow], bool] | None = None) -> JobRow | None:
        """Claim the oldest claimable job for this process (counting the attempt), or ``None``.

        ``accept``: only a job it accepts (as it is before the claim) is claimed, the oldest such
        among the first :data:`_ACCEPT_SCAN` claimable ones (the worker uses it to add jobs to a pool).
        """
        now = now_ms()
        with self.store.transaction() as db:
            dead = [
                row["owner"]
                for row in db.execute(
                    "SELECT DISTINCT owner FROM jobs WHERE status = 'running' AND owner IS NOT NULL"
                    " AND owner != ? AND lease_until >= ?",
                    (self.owner, now),
                )
                if _dead_here(row["owner"])
            ]
            others = [
                row["owner"]
                for row in db.execute(
                    "SELECT owner FROM engines WHERE alive_until >= ? AND owner != ?", (now, self.owner)
                )
                if not _dead_here(row["owner"])
            ]
            dead_clause = f" OR (status = 'running' AND owner IN ({_marks(dead)}))" if dead else ""
            # Queued jobs of live processes other than this one are theirs to run.
            free_clause = f" OR origin NOT IN ({_marks(others)})" if others else " OR 1"
            rows = db.execute(
                "SELECT rowid AS seq, * FROM jobs"
                f" WHERE (status = 'queued' AND (origin IS NULL OR origin = ?{free_clause}))"
                " OR (status = 'running' AND (lease_until IS NULL OR lease_until < ?))"
                f"{dead_clause} ORDER BY origin IS ? DESC, created_at, rowid LIMIT ?",
                (self.owner, *others, now, *dead, self.owner, 1 if accept is None else _ACCEPT_SCAN),
            ).fetchall()
            row = next((r for r in rows if accept is None or accept(_job(r))), None)
            if row is None:
                return None
            if row["status"] == "running":
                log.warning(
                    "job %s: taking it over from %s (its lease expired or its process is gone)",
                    row["job_id"],
                    row["owner"] or "an engine without leases",
                )
            claimed = db.execute(
                "UPDATE jobs SET status = 'running', owner = ?, lease_until = ?, updated_at = ?,"
                " attempts = attempts + 1 WHERE job_id = ? RETURNING rowid AS seq, *",
                (self.owner, now + self.lease_ms, now, row["job_id"]),
            ).fetchone()
            return _job(claimed)

    def renew(self) -> int:
        """Extend the leases of this process's running jobs and its ``engines`` row; returns how many
        jobs it holds."""
        until = now_ms() + self.lease_ms
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO engines (owner, alive_until) VALUES (?, ?)", (self.owner, until)
            )
            cursor = db.execute(
                "UPDATE jobs SET lease_until = ? WHERE owner = ? AND status = 'running'", (until, self.owner)
            )
            return cursor.rowcount

    def leave(self) -> list[str]:
        """This process stops running jobs: hand back its running ones; the jobs it created and had not
        started become anybody's (its ``engines`` row goes). Returns the ids handed back."""
        ids = self.hand_back()
        with self.store.transaction() as db:
            db.execute("DELETE FROM engines WHERE owner = ?", (self.owner,))
        return ids

    def holds(self, job_id: str) -> bool:
        row = self.store._one("SELECT owner, status FROM jobs WHERE job_id = ?", (job_id,))
        return row is not None and row["status"] == "running" and row["owner"] == self.owner

    def hand_back(self, job_id: str | None = None) -> list[str]:
        """Put this process's running jobs (or one of them) back to ``queued``; returns their ids.

        The interrupted attempt is not counted: stopping a process is not the job's fault.
        """
        clause, args = ("", ()) if job_id is None else (" AND job_id = ?", (job_id,))
        with self.store.transaction() as db:
            rows = db.execute(
                "UPDATE jobs SET status = 'queued', owner = NULL, lease_until = NULL, updated_at = ?,"
                " attempts = MAX(attempts - 1, 0) WHERE owner = ? AND status = 'running'"
                f"{clause} RETURNING job_id",
                (now_ms(), self.owner, *args),
            ).fetchall()
        ids = [str(r["job_id"]) for r in rows]
        if ids:
            log.info("handed %d job(s) back to the queue: %s", len(ids), ", ".join(ids))
        return ids

    def finish(
        self,
        job: JobRow,
        *,
        result_json: str | None,
        audio_seconds: float | None,
        error: str | None,
        webhook_event: tuple[str, str, str] | None,
    ) -> bool:
        """Complete or fail ``job`` if this process still holds it; ``False`` (nothing stored) if not."""
        now = now_ms()
        status = "completed" if error is None else "failed"
        with self.store.transaction() as db:
            cursor = db.execute(
                "UPDATE jobs SET status = ?, updated_at = ?, result = ?, error = ?, audio_seconds = ?,"
                " audio_path = NULL, owner = NULL, lease_until = NULL"
                " WHERE job_id = ? AND owner = ? AND status = 'running'",
                (status, max(now, job.created_at), result_json, error, audio_seconds, job.job_id, self.owner),
            )
            if cursor.rowcount == 0:
                log.warning(
                    "job %s: no longer running for this process (cancelled, or taken over by another"
                    " process): this result is dropped",
                    job.job_id,
                )
                return False
            if status == "completed" and audio_seconds is not None:
                db.execute(
                    "INSERT OR REPLACE INTO ledger (job_id, key_id, audio_seconds, billed_at)"
                    " VALUES (?, ?, ?, ?)",
                    (job.job_id, job.key_id, audio_seconds, now),
                )
            if webhook_event is not None:
                Store._enqueue_delivery(db, job.job_id, *webhook_event)
        return True


def cancel_job(store: Store, job_id: str, reason: str) -> str | None:
    """End a queued or running job as ``cancelled`` with ``reason`` as its error, whoever holds it.

    Returns the path of its stored audio (for the caller to delete), ``""`` when it had none, or
    ``None`` when the job was already over (or unknown). A process still transcribing it finds the
    job gone at :meth:`Leases.finish` and drops its result.
    """
    with store.transaction() as db:
        row = db.execute(
            "SELECT audio_path FROM jobs WHERE job_id = ? AND status IN ('queued', 'running')", (job_id,)
        ).fetchone()
        if row is None:
            return None
        db.execute(
            "UPDATE jobs SET status = 'cancelled', error = ?, updated_at = ?, audio_path = NULL,"
            " owner = NULL, lease_until = NULL WHERE job_id = ?",
            (reason, now_ms(), job_id),
        )
    return str(row["audio_path"] or "")


def _marks(values: list[str]) -> str:
    return ",".join("?" * len(values))


def housekeeping(store: Store, audio_dir: Path, tmp_dir: Path) -> None:
    """At start: remove uploads and fetched audio nobody needs, without touching other processes' files.

    Jobs are not requeued here: a job ``running`` for a live process stays its own; dead owners'
    jobs are taken over by :meth:`Leases.claim_next`. A file is removed only when no unfinished
    job names it *and* it is older than :data:`ORPHAN_MIN_AGE_S` (a younger one may be an upload
    another process is storing right now).
    """
    ensure_lease_columns(store)
    needed = store.referenced_audio()
    running = {str(r["job_id"]) for r in store._all("SELECT job_id FROM jobs WHERE status = 'running'")}
    cutoff = time.time() - ORPHAN_MIN_AGE_S
    for folder in (audio_dir, tmp_dir):
        for entry in folder.iterdir() if folder.is_dir() else ():
            try:
                if str(entry) in needed or entry.name in running or not entry.is_file():
                    continue
                if entry.stat().st_mtime < cutoff:
                    entry.unlink(missing_ok=True)
            except OSError:
                continue
