"""Billed units against transcribed audio, per job and in total (``hearkit batch --reconcile DIR``).

The guide: "``result.audio_seconds`` is the exact billed quantity — reconcile against the
``x-pyai-units`` header on your own ledger". The batch runner records, per job, the units the
client's ledger saw on the job's responses (``billed_seconds``) beside the result's
``audio_seconds``. A job is a *mismatch* when either is missing or they differ by more than
``tolerance`` seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from hearkit.batch.manifest import MANIFEST_NAME, Manifest
from hearkit.ledger import Ledger
from hearkit.schema import Result

__all__ = ["JobUnits", "Reconciliation", "reconcile"]


@dataclass(frozen=True)
class JobUnits:
    """One completed job: billed seconds (``x-pyai-units``) and transcribed seconds (``result``).

    ``kind`` is the ledger's verdict for a mismatch (``differs``, ``result_without_units``,
    ``units_without_result``) and None for a job that reconciles.
    """

    call_id: str
    job_id: str | None
    billed_seconds: float | None
    audio_seconds: float | None
    kind: str | None = None

    @property
    def difference(self) -> float | None:
        """Billed minus transcribed seconds (None when either is missing)."""
        if self.billed_seconds is None or self.audio_seconds is None:
            return None
        return self.billed_seconds - self.audio_seconds


@dataclass(frozen=True)
class Reconciliation:
    """Every completed job of a batch folder, the totals, and the mismatches."""

    jobs: list[JobUnits]
    mismatches: list[JobUnits]
    billed_seconds: float
    audio_seconds: float


def reconcile(out_dir: str | Path, *, tolerance: float = 0.001) -> Reconciliation:
    """Compare billed and transcribed seconds of each completed job in ``out_dir``.

    The comparison is the client's :meth:`hearkit.ledger.Ledger.reconcile`, fed with what the
    batch recorded: the units the client's ledger saw per job, and each result's seconds.
    """
    path = Path(out_dir) / MANIFEST_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{out_dir} has no {MANIFEST_NAME}: give the --out folder of a batch")
    with Manifest(out_dir) as manifest:
        # Jobs run on a Dask cluster (`local_…`) were never billed: nothing to reconcile.
        rows = [r for r in manifest.rows("completed") if r.job_id and not r.job_id.startswith("local_")]
    ledger = Ledger()
    for row in rows:
        assert row.job_id is not None
        if row.billed_seconds is not None:
            ledger.record(row.job_id, f"audio_seconds={row.billed_seconds!r}", url="manifest")
        if row.audio_seconds is not None:
            ledger.note_result(row.job_id, Result(audio_seconds=row.audio_seconds))
    verdicts = {m.job_id: m.kind for m in ledger.reconcile(tolerance=tolerance)}
    jobs = [
        JobUnits(
            row.call_id, row.job_id, row.billed_seconds, row.audio_seconds, verdicts.get(row.job_id or "")
        )
        for row in rows
    ]
    return Reconciliation(
        jobs=jobs,
        mismatches=[job for job in jobs if job.kind is not None],
        billed_seconds=math.fsum(job.billed_seconds or 0.0 for job in jobs),
        audio_seconds=math.fsum(job.audio_seconds or 0.0 for job in jobs),
    )
