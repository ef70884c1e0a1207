"""What computed a saved set of calls: a fingerprint of hearkit's analysis code.

A saved :class:`~hearkit.record.CallSet` (``CallSet.save``, a batch's ``dataset/``) holds numbers the
analysis computed from the transcripts: metrics, tracker hits, summaries, roles. An upgrade that fixes
one of them changes nothing already saved, and the package version does not tell (it stays 0.1.0
between commits). :func:`analysis_fingerprint` is the SHA-256 of the source of the modules that
compute the saved frames (:data:`ANALYSIS_MODULES`, read when hearkit is imported); ``CallSet.save``
records it, and ``CallSet.load`` warns (:class:`AnalysisChangedWarning`) when the installed analysis
is another one, saying how to recompute (U5 finding 19: a batch folder kept "9 questions" and a false action
item after the fixes were installed, without a word).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from hearkit.locate import SavedCallsWarning

__all__ = ["ANALYSIS_MODULES", "AnalysisChangedWarning", "analysis_fingerprint"]

ANALYSIS_MODULES = (
    "hearkit.frames",
    "hearkit.transcript",
    "hearkit.role_cues",
    "hearkit.metrics",
    "hearkit.trackers",
    "hearkit.quality",
    "hearkit.prompting",
    "hearkit.record",
    "hearkit.relabel",
    "hearkit.summary",
    "hearkit.summarize",
    "hearkit._summarize.extractive",
    "hearkit._summarize.frame",
    "hearkit._summarize.llm",
    "hearkit._summarize.rules",
)
"""The modules whose code decides what a saved set's frames hold."""


class AnalysisChangedWarning(SavedCallsWarning):
    """The saved calls were computed by another version of hearkit's analysis than the installed one."""


def analysis_fingerprint() -> str:
    """SHA-256 (hex, first 16 characters) of the source of :data:`ANALYSIS_MODULES` as this process
    loaded it (read when hearkit's analysis was imported: files changed on disk since, by an upgrade
    without a restart, are not the code that runs)."""
    return _FINGERPRINT


def _fingerprint() -> str:
    root = Path(__file__).resolve().parent  # the hearkit package; no module is imported for this
    digest = hashlib.sha256()
    for name in ANALYSIS_MODULES:
        relative = Path(*name.split(".")[1:]).with_suffix(".py")
        digest.update(name.encode())
        source = root / relative
        if source.is_file():
            digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


_FINGERPRINT = _fingerprint()
