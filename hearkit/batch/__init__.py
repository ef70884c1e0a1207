"""Archive processing: resumable, idempotent batch runs with a cost ledger, optionally on Dask.

>>> report = hearkit.batch.run("calls/", "out/", concurrency=16)   # or: await arun(...)
>>> CallSet.load("out/")   # the output folder as it is (or out/dataset)
>>> hearkit.batch.with_roles("out/", {"call_7": {"speaker_1": "rep"}})   # a fix every later run keeps

See :mod:`hearkit.batch.api` for the output folder, :mod:`hearkit.batch.runner` for how a
recording is never lost nor billed twice.
"""

from __future__ import annotations

from hearkit.batch.api import BatchReport, FailedRecording, arun, run
from hearkit.batch.console import print_report
from hearkit.batch.cost import BATCH_USD_PER_MIN, REALTIME_USD_PER_MIN, CostEstimate, estimate
from hearkit.batch.edits import merge_speakers, with_roles
from hearkit.batch.manifest import Manifest
from hearkit.batch.reconcile import Reconciliation, reconcile
from hearkit.batch.recordings import Recording, discover, inspect_audio

__all__ = [
    "BATCH_USD_PER_MIN",
    "REALTIME_USD_PER_MIN",
    "BatchReport",
    "CostEstimate",
    "FailedRecording",
    "Manifest",
    "Reconciliation",
    "Recording",
    "arun",
    "discover",
    "estimate",
    "inspect_audio",
    "merge_speakers",
    "print_report",
    "reconcile",
    "run",
    "with_roles",
]
