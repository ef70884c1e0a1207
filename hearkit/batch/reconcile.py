"""Billed units against transcribed audio, per job and in total (``hearkit batch --reconcile DIR``).

The guide: "``result.audio_seconds`` is the exact billed quantity — reconcile against the
``x-pyai-units`` header on your own ledger". The batch runner records, per job, the units the
client's ledger saw on the job's responses (``billed_seconds``) beside the result's
``audio_seconds``. A job is a *mismatch* when either is missing or they differ by more than
``tolerance`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hearkit.batch.manifest import MANIFEST_NAME, Manifest

__all__ = ["JobUnits", "Reconciliation", "reconcile"]


@dataclass(frozen=True)
class JobUnits:
    """One completed job: billed seconds (``x-pyai-units``) and transcribed seconds (``result``)."""

    call_id: str
    job_id: str | None
    billed_seconds: float | None
    audio_seconds: float | None

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
    """Compare billed and transcribed seconds of each completed job in ``out_dir``."""
    path = Path(out_dir) / MANIFEST_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{out_dir} has no {MANIFEST_NAME}: give the --out folder of a batch")
    with Manifest(out_dir) as manifest:
        jobs = [
            JobUnits(row.call_id, row.job_id, row.billed_seconds, row.audio_seconds)
            for row in manifest.rows("completed")
        ]
    mismatches = [job for job in jobs if job.difference is None or abs(job.difference) > tolerance]
    return Reconciliation(
        jobs=jobs,
        mismatches=mismatches,
        billed_seconds=sum(job.billed_seconds or 0.0 for job in jobs),
        audio_seconds=sum(job.audio_seconds or 0.0 for job in jobs),
    )
