"""The units ledger: what the API billed, per job, next to what the transcripts say.

Billed responses carry ``x-pyai-units`` (the engine sends ``audio_seconds=<decimal seconds>``;
the hosted format is undocumented, so a bare number is read too). The client records every
such header it sees with the job it belongs to, and every ``result.audio_seconds`` it sees.
:meth:`Ledger.reconcile` lists the jobs where the two disagree.

A ledger is a read-only mapping ``job_id -> billed seconds`` (the latest value recorded for
the job: re-reading a completed job reports its units again, it is not billed again).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from hearkit.schema import Job, Result

__all__ = ["UNITS_HEADER", "Ledger", "Mismatch", "UnitsRecord", "parse_units"]

UNITS_HEADER = "x-pyai-units"

_AUDIO_SECONDS = re.compile(r"(?:^|[\s,;])audio_seconds\s*=\s*([^\s,;]+)")

MismatchKind = Literal["differs", "units_without_result", "result_without_units", "unreadable_units"]


def parse_units(value: str | None) -> float | None:
    """Billed seconds in an ``x-pyai-units`` value (``audio_seconds=21.174`` or ``21.174``), else None."""
    if value is None:
        return None
    match = _AUDIO_SECONDS.search(value)
    text = match.group(1) if match else value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


@dataclass(frozen=True)
class UnitsRecord:
    """One ``x-pyai-units`` header seen on a response about ``job_id``."""

    job_id: str
    raw: str
    audio_seconds: float | None
    url: str
    recorded_at: float


@dataclass(frozen=True)
class Mismatch:
    """A job whose billed seconds and transcript seconds disagree (or where one is missing).

    ``difference`` is ``billed_seconds - audio_seconds`` when both are known.
    """

    job_id: str
    kind: MismatchKind
    billed_seconds: float | None
    audio_seconds: float | None

    @property
    def difference(self) -> float | None:
        if self.billed_seconds is None or self.audio_seconds is None:
            return None
        return self.billed_seconds - self.audio_seconds


class Ledger(Mapping[str, float]):
    """Units billed per job, as recorded from ``x-pyai-units`` headers. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[UnitsRecord] = []
        self._billed: dict[str, float] = {}
        self._unreadable: set[str] = set()
        self._audio: dict[str, float] = {}

    def record(self, job_id: str, header_value: str, *, url: str = "") -> UnitsRecord:
        """Record one ``x-pyai-units`` header value seen for ``job_id``."""
        seconds = parse_units(header_value)
        entry = UnitsRecord(job_id, header_value, seconds, url, time.time())
        with self._lock:
            self._records.append(entry)
            if seconds is None:
                self._unreadable.add(job_id)
            else:
                self._billed[job_id] = seconds
                self._unreadable.discard(job_id)
        return entry

    def note_result(self, job_id: str, result: Result) -> None:
        """Remember ``result.audio_seconds`` of ``job_id`` for :meth:`reconcile`."""
        if result.audio_seconds is not None:
            with self._lock:
                self._audio[job_id] = float(result.audio_seconds)

    @property
    def records(self) -> list[UnitsRecord]:
        """Every header recorded, oldest first."""
        with self._lock:
            return list(self._records)

    @property
    def total_seconds(self) -> float:
        """Billed seconds summed over jobs (each job counted once)."""
        with self._lock:
            return math.fsum(self._billed.values())

    def reconcile(
        self, results: Mapping[str, Result] | Iterable[Job] | None = None, *, tolerance: float = 0.001
    ) -> list[Mismatch]:
        """Jobs whose billed seconds differ from ``result.audio_seconds`` by more than ``tolerance``.

        ``results`` adds transcripts to compare with (a mapping ``job_id -> Result``, or
        completed jobs with inline results); the ones the client fetched are always included.
        Jobs billed with no transcript seen, transcripts with no units seen, and unreadable
        headers are listed too (``kind`` says which), sorted by job id.
        """
        with self._lock:
            billed = dict(self._billed)
            unreadable = set(self._unreadable)
            audio = dict(self._audio)
        for job_id, result in _results(results):
            if result.audio_seconds is not None:
                audio[job_id] = float(result.audio_seconds)
        mismatches: list[Mismatch] = []
        for job_id in sorted(set(billed) | set(audio) | unreadable):
            units, seconds = billed.get(job_id), audio.get(job_id)
            if job_id in unreadable and units is None:
                mismatches.append(Mismatch(job_id, "unreadable_units", None, seconds))
            elif units is None:
                mismatches.append(Mismatch(job_id, "result_without_units", None, seconds))
            elif seconds is None:
                mismatches.append(Mismatch(job_id, "units_without_result", units, None))
            elif abs(units - seconds) > tolerance:
                mismatches.append(Mismatch(job_id, "differs", units, seconds))
        return mismatches

    def __getitem__(self, job_id: str) -> float:
        with self._lock:
            return self._billed[job_id]

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._billed))

    def __len__(self) -> int:
        with self._lock:
            return len(self._billed)

    def __repr__(self) -> str:
        return f"Ledger({len(self)} jobs, {self.total_seconds:.3f} s billed)"


def _results(results: Mapping[str, Result] | Iterable[Job] | None) -> Iterator[tuple[str, Result]]:
    if results is None:
        return
    if isinstance(results, Mapping):
        yield from results.items()
        return
    for job in results:
        if job.result is not None:
            yield job.job_id, job.result
