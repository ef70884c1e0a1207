"""Call metadata from a sidecar JSON file beside each recording.

A recording ``calls/acme-2026-03-02.wav`` may have ``calls/acme-2026-03-02.meta.json`` beside it
(the audio file's extension replaced by ``.meta.json``; ``acme-2026-03-02.wav.meta.json``, the whole
name + ``.meta.json``, is read too) holding one JSON object::

    {"title": "Acme renewal", "rep": "Ana Lopez", "customer": "Acme Corp", "date": "2026-03-02",
     "team": "Enterprise"}

Its fields become the call's metadata columns (``CallSet.calls``), its record's ``metadata``, the
report's and the dashboard's labels and filters. :data:`KNOWN_FIELDS` are the ones hearkit shows;
any other field is kept as a column too. Values are strings, numbers or booleans (kept as text);
``null`` leaves a field out. The batch reads sidecars when it builds its dataset, so editing one
and running ``hearkit batch --out OUT`` again updates the dataset without transcribing again; a
column of a CSV manifest wins over the sidecar's field of the same name.

A sidecar that is not a JSON object of such values raises :class:`MetadataError` naming the file
and what to fix (``hearkit batch`` checks every sidecar before sending anything).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = [
    "KNOWN_FIELDS",
    "SIDECAR_SUFFIX",
    "MetadataError",
    "is_sidecar",
    "read_sidecar",
    "sidecar_candidates",
    "sidecar_path",
]

SIDECAR_SUFFIX = ".meta.json"
KNOWN_FIELDS = ("title", "rep", "customer", "date", "team", "kind")
"""The metadata fields the report and the dashboard show (``kind``: the call type, e.g. discovery)."""

_MAX_BYTES = 1 << 20
_RESERVED = frozenset({"call_id", "path", "audio_url", "source", "diarization"})


class MetadataError(ValueError):
    """A sidecar metadata file that cannot be used; the message names the file and the fix."""


def sidecar_path(audio: str | Path) -> Path:
    """The sidecar of a recording: its extension replaced by ``.meta.json`` (``call.wav`` →
    ``call.meta.json``), or, when only that one exists, its whole name + ``.meta.json``
    (``call.wav.meta.json``, as many exports name it: it was silently ignored)."""
    candidates = sidecar_candidates(audio)
    return next((c for c in candidates if c.is_file()), candidates[0])


def sidecar_candidates(audio: str | Path) -> list[Path]:
    """The names a recording's sidecar may have, the preferred first (``call.meta.json``,
    ``call.wav.meta.json``)."""
    path = Path(audio)
    if not path.suffix:
        return [path.with_name(path.name + SIDECAR_SUFFIX)]
    return [path.with_suffix(SIDECAR_SUFFIX), path.with_name(path.name + SIDECAR_SUFFIX)]


def is_sidecar(path: str | Path) -> bool:
    """Whether ``path`` is named like a sidecar metadata file (``*.meta.json``)."""
    return Path(path).name.lower().endswith(SIDECAR_SUFFIX)


def read_sidecar(audio: str | Path) -> dict[str, str]:
    """The metadata of the sidecar beside ``audio`` (``{}`` when there is none), values as text."""
    present = [c for c in sidecar_candidates(audio) if c.is_file()]
    if len(present) > 1:
        raise MetadataError(
            f"{present[0]} and {present[1].name} are both sidecars of {Path(audio).name}: keep one"
        )
    if not present:
        return {}
    path = present[0]
    fix = "fix it or remove it"
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise MetadataError(f"{path}: larger than 1 MB, not a metadata file; {fix}")
        data: Any = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise MetadataError(f"{path}: not UTF-8 text ({exc.reason}); {fix}") from exc
    except json.JSONDecodeError as exc:
        raise MetadataError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); {fix}"
        ) from exc
    except OSError as exc:
        raise MetadataError(f"{path}: cannot be read ({exc.strerror or exc}); {fix}") from exc
    if not isinstance(data, dict):
        raise MetadataError(
            f'{path}: expected one JSON object such as {{"title": "…", "rep": "…"}}, '
            f"got a {type(data).__name__}; {fix}"
        )
    metadata: dict[str, str] = {}
    for key, value in data.items():
        name = str(key).strip().lower()
        if name in _RESERVED:
            raise MetadataError(
                f"{path}: {key!r} cannot be set in a sidecar (the batch sets it); remove that field"
            )
        if value is None:
            continue
        if isinstance(value, bool):
            metadata[name] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            metadata[name] = str(value).strip()
        else:
            raise MetadataError(
                f"{path}: {key!r} must be a string, a number or a boolean, "
                f"not a {type(value).__name__}; {fix}"
            )
    metadata = {k: v for k, v in metadata.items() if v}
    if "date" in metadata:
        import pandas as pd

        from hearkit.cohorts import call_dates

        if pd.isna(call_dates(pd.Series([metadata["date"]])).iloc[0]):
            raise MetadataError(
                f"{path}: 'date' {metadata['date']!r} is not a date hearkit can read (write it as"
                f" 2026-03-14, or 2026-03-14 09:30); {fix}"
            )
    return metadata
