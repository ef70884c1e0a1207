"""Billed units per job, as the client's ledger recorded them from ``x-pyai-units`` headers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["UnitsRecorder"]


class UnitsRecorder(Mapping[str, float]):
    """A read-only view ``job_id -> billed seconds`` over the ledger of a hearkit client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def _units(self) -> dict[str, float]:
        ledger = getattr(self._client, "ledger", None)
        if ledger is None:
            return {}
        return {}

    def __getitem__(self, job_id: str) -> float:
        return self._units()[job_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._units())

    def __len__(self) -> int:
        return len(self._units())
