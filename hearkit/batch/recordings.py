"""Find the recordings of a batch, hash them and inspect their audio.

A batch source is a folder (searched recursively), a glob pattern, or a CSV manifest with one
recording a row. Each recording gets a *content hash* (SHA-256 of the file bytes; of the URL
for remote audio), which is its identity in the batch manifest: renaming or moving a file
does not make it a new recording, and the same bytes twice are transcribed once.

Audio inspection uses PyAV. It reads the channel count and duration from the container and
decodes a little audio to prove the file is readable. For ``mode="auto"`` it decodes up to
:data:`AUTO_MAX_SECONDS` of a two-channel file and compares the channels: a file whose
channels are identical, or whose second channel is silent, is *not* true stereo and is
transcribed as mono with ``diarize``; a true stereo file (one party per channel) gets
``channel``.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import math
import os
import re
import shlex
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import numpy as np

from hearkit._extras import require
from hearkit.audio import UnreadableAudioError, header, open_audio, plain_error
from hearkit.locate import AUDIO_EXTENSIONS, BATCH_MANIFEST
from hearkit.metadata import SIDECAR_SUFFIX, MetadataError, is_sidecar, read_sidecar

require("local", "hearkit.batch (it reads audio files with PyAV)", "av")
import av  # noqa: E402  (after the check: a missing extra is named, not a bare ModuleNotFoundError)

__all__ = [
    "AUTO_MAX_SECONDS",
    "SAME_AUDIO_S",
    "AudioInfo",
    "Mode",
    "Recording",
    "audio_fingerprint",
    "choose_mode",
    "discover",
    "hash_file",
    "hash_url",
    "inspect_audio",
]

Mode = Literal["auto", "stereo", "mono"]
"""How a batch picks the diarization of each recording: ``stereo`` → ``channel: true``,
``mono`` → ``diarize: true``, ``auto`` → by inspecting each file."""

AUTO_MAX_SECONDS = 300.0
"""How much audio ``auto`` decodes to decide whether two channels are really two parties."""

SILENT_RMS = 1e-4
"""A channel whose RMS (full scale = 1.0) is below this is silent (about −80 dBFS)."""

RELATIVE_DB = 40.0
"""Channels within this many dB of identity (difference RMS / louder channel RMS) are the same
signal; a channel this many dB quieter than the other is silent."""

_CSV_PATH_COLUMNS = ("path", "file", "audio_path")
_CSV_URL_COLUMNS = ("audio_url", "url")
_CSV_REP_COLUMNS = ("rep_path", "agent_path")
_CSV_CUSTOMER_COLUMNS = ("customer_path", "caller_path")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class AudioInfo:
    """What the inspection found: ``channels``, ``duration_s`` and the ``layout``.

    ``layout`` is ``mono`` (one channel), ``stereo`` (two channels carrying different
    signals), ``dual_mono`` (identical channels), ``one_silent`` (one channel silent) or
    ``unknown`` (multi-channel, not decoded).
    """

    channels: int
    duration_s: float | None
    layout: str


@dataclass
class Recording:
    """One recording of a batch, before it is submitted.

    ``rec_id`` is the content hash; ``source`` the absolute path or the https URL;
    ``skip_reason`` is set when the recording cannot be sent (not audio, unreadable, http
    URL...), and says why.
    """

    rec_id: str
    call_id: str
    source: str
    kind: Literal["file", "url"]
    size_bytes: int | None = None
    info: AudioInfo | None = None
    mode: Literal["channel", "diarize"] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    skip_reason: str | None = None
    named: str = ""
    """The call id from its file name or CSV row, before a hash suffix made it unique (``call_id``
    differs from it when another recording of this batch has that name)."""

    @property
    def shown(self) -> str:
        """The recording as the user named it: its file or URL, or a two-file call's two legs (not
        the combined FLAC the batch made, a name the user never gave)."""
        rep, customer = self.metadata.get("rep_file"), self.metadata.get("customer_file")
        return f"{rep} + {customer}" if rep and customer else self.source


def hash_file(path: Path) -> str:
    """SHA-256 hex digest of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def hash_url(url: str) -> str:
    """SHA-256 hex digest of a remote recording's URL (its bytes are never fetched here)."""
    return hashlib.sha256(("url:" + url.strip()).encode()).hexdigest()


def inspect_audio(path: Path, *, analyze_stereo: bool = True) -> AudioInfo:
    """Read channel count and duration with PyAV; classify two-channel audio.

    Raises ``ValueError`` with a readable reason when the file is not decodable audio.
    ``analyze_stereo=False`` decodes only the first frames (enough to prove the file is audio).
    """
    with open_audio(path) as (container, stream):
        stated = header(container, stream)
        channels = stated.channels
        duration = stated.seconds or None
        decode_seconds = AUTO_MAX_SECONDS if analyze_stereo and channels >= 2 else 1.0
        try:
            stats, decoded_s, finished = _decode_stats(container, stream, channels, decode_seconds)
        except (av.error.FFmpegError, ValueError) as exc:
            raise ValueError(f"audio could not be decoded ({plain_error(exc)})") from exc
        if decoded_s == 0.0:
            raise ValueError("the audio stream contains no samples")
        if finished and (duration is None or abs(duration - decoded_s) > 0.5):
            duration = decoded_s
        if duration is None:
            duration = _decode_stats(container, stream, channels, math.inf)[1] + decoded_s
    layout = "mono" if channels <= 1 else _classify(stats) if analyze_stereo else "unknown"
    return AudioInfo(channels=max(channels, 1), duration_s=duration, layout=layout)


def choose_mode(info: AudioInfo, mode: Mode) -> Literal["channel", "diarize"]:
    """``channel`` for two channels that are not one signal twice (``stereo``, and ``one_silent``: a
    party per channel, one of them silent or very quiet), ``diarize`` otherwise (``stereo``/``mono``
    force it).

    ``one_silent`` goes as ``hearkit analyze`` sends a two-channel file: the engine tells a silent
    party (``one_party_silent``, the live voice is its channel's party) from a quiet one (the leg is
    heard at its own level). Sent as ``diarize`` with ``speakers_expected: 2`` it split the one live
    voice in two (a new user's check: rep 0.95, a "customer" saying the rep's last words)."""
    if mode == "stereo":
        return "channel"
    if mode == "mono":
        return "diarize"
    return "channel" if info.layout in ("stereo", "one_silent") else "diarize"


def discover(
    source: str | Path,
    *,
    mode: Mode = "auto",
    exclude: Path | None = None,
    known: frozenset[str] | set[str] = frozenset(),
    hasher: Callable[[Path], str] = hash_file,
    legs_dir: Path | None = None,
) -> list[Recording]:
    """All recordings of ``source`` (folder, glob or CSV), hashed and inspected, in a stable order.

    Files that are not audio stay in the list with ``skip_reason`` set, so the batch can say
    what it skipped and why. Two files with the same bytes are one recording; the second is
    skipped as a duplicate. ``exclude`` is a folder to leave out (the batch's output folder);
    recordings whose hash is in ``known`` (already in the manifest) are hashed, not inspected.
    ``hasher`` computes a file's content hash (the batch passes one with a cache).

    Two-file calls (``X_agent.wav`` + ``X_caller.wav`` in a folder or glob, or a CSV row with
    ``rep_path`` and ``customer_path``) become one stereo recording, written to ``legs_dir``
    (default: a ``legs`` folder in ``exclude``, else beside the rep's file): see
    :mod:`hearkit.batch.twofile`.
    """
    rows = list(_rows(source, exclude))
    recordings: list[Recording] = []
    seen: dict[str, Recording] = {}
    skipped_seen: dict[str, Recording] = {}
    used_ids: set[str] = set()
    given_ids: dict[str, tuple[str, str]] = {}
    broken: list[str] = []
    for row in rows:
        try:
            if "legs" in row:
                from hearkit.batch.twofile import legs_recording

                rec = legs_recording(row, known, hasher, legs_dir or _legs_dir(exclude, row["legs"][0]))
            else:
                rec = _recording(row, mode, known, hasher)
        except MetadataError as exc:  # every broken sidecar is said at once, not one per run (U8 note 15)
            broken.append(str(exc))
            continue
        first = seen.get(rec.rec_id)
        if first is not None and rec.skip_reason is None:
            if _has_sidecar(rec) and not _has_sidecar(first) and rec.rec_id not in known:
                # The copy with the sidecar is the call: its title, rep and team were lost when the
                # alphabetically first copy was kept (U3 finding 1).
                first.skip_reason = f"duplicate of {rec.shown} (same content; that one has the sidecar)"
                seen[rec.rec_id] = rec
                _check_given_id(source, row, rec, given_ids)
                # Before the copy it replaces: the manifest keeps the first row of a content hash.
                recordings.insert(next(i for i, r in enumerate(recordings) if r is first), rec)
                continue
            rec.skip_reason = f"duplicate of {first.shown} (same content)"
        if rec.skip_reason is None:
            seen[rec.rec_id] = rec
            _check_given_id(source, row, rec, given_ids)
        elif not rec.skip_reason.startswith("duplicate of"):
            # The manifest keeps one row per content: a second copy of a file skipped for what it
            # is (not audio, unreadable) was listed nowhere (U7 finding 2); it is a duplicate of it.
            twin = skipped_seen.setdefault(rec.rec_id, rec)
            if twin is not rec:
                rec.skip_reason = f"duplicate of {twin.shown} (same content, skipped too: {twin.skip_reason})"
        recordings.append(rec)
    if broken:
        shown = "\n  ".join(broken[:20]) + (f"\n  … and {len(broken) - 20} more" if len(broken) > 20 else "")
        raise MetadataError(
            f"{len(broken)} sidecar(s) cannot be used; fix or remove them, then run again (nothing was sent):"
            f"\n  {shown}"
        )
    _skip_same_audio(recordings)
    # Ids: the recordings sent first, then the skipped files, so a skipped globex.json never takes
    # the name of globex.wav (U5 finding 15: the recording became globex-<hash>).
    for rec in [*(r for r in recordings if r.skip_reason is None), *(r for r in recordings if r.skip_reason)]:
        rec.named, rec.call_id = rec.call_id, _unique_call_id(rec.call_id, rec.rec_id, used_ids)
    return recordings


SAME_AUDIO_S = 0.05
"""Two recordings whose durations (as inspected) differ by less than this, with as many channels, are
compared by their decoded audio (:func:`audio_fingerprint`); any other pair is not decoded again."""


def audio_fingerprint(path: Path) -> str | None:
    """SHA-256 (hex) of a recording's audio decoded to 16 kHz 16-bit PCM, its channels kept (up to two):
    the same audio in another container or lossless codec (a WAV re-exported as FLAC, or with other
    header chunks) hashes alike, where its bytes do not; a lossy re-encode (MP3) does not. ``None`` when
    it cannot be decoded."""
    digest = hashlib.sha256()
    try:
        with open_audio(path) as (container, stream):
            layout = "stereo" if header(container, stream).channels >= 2 else "mono"
            resampler = av.AudioResampler(format="s16", layout=layout, rate=16_000)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    digest.update(out.to_ndarray().tobytes())
            for out in resampler.resample(None):
                digest.update(out.to_ndarray().tobytes())
    except (ValueError, OSError, av.error.FFmpegError):
        return None
    return digest.hexdigest()


def _skip_same_audio(recordings: list[Recording]) -> None:
    """A recording whose decoded audio is an earlier one's (:func:`audio_fingerprint`: the same recording
    re-exported, other bytes) is skipped as its duplicate, named (U7 finding 16: a call and its re-export
    were both transcribed and billed). Only recordings of the same length and channels are decoded."""
    kept: list[Recording] = []
    prints: dict[str, str | None] = {}

    def fingerprint(rec: Recording) -> str | None:
        if rec.rec_id not in prints:
            prints[rec.rec_id] = audio_fingerprint(Path(rec.source))
        return prints[rec.rec_id]

    for rec in recordings:
        seconds = rec.info.duration_s if rec.info is not None else None
        if rec.skip_reason is not None or rec.info is None or seconds is None or rec.kind != "file":
            continue
        if rec.metadata.get("rep_file"):  # a two-file call: its legs are what the user gave
            continue
        channels = rec.info.channels
        twins = [
            k
            for k in kept
            if k.info is not None
            and k.info.channels == channels
            and k.info.duration_s is not None
            and abs(k.info.duration_s - seconds) < SAME_AUDIO_S
        ]
        own = fingerprint(rec) if twins else None
        first = next((k for k in twins if own is not None and fingerprint(k) == own), None)
        if first is None:
            kept.append(rec)
        else:
            rec.skip_reason = f"duplicate of {first.shown} (the same audio in another file: a re-export)"


def orphan_sidecars(
    source: str | Path, recordings: list[Recording], exclude: Path | None = None
) -> list[Path]:
    """The ``*.meta.json`` files of a folder source that belong to no recording found in it (their
    fields go nowhere: U5 finding 15, said nowhere). A recording ``D/X.wav`` owns ``D/X.meta.json``
    and ``D/X.wav.meta.json``; a two-file call ``X`` owns ``X.meta.json`` beside its legs."""
    from hearkit.legs import pair_legs
    from hearkit.metadata import sidecar_candidates

    folder = Path(str(source)).expanduser()
    if not folder.is_dir():
        return []
    owned: set[Path] = set()
    for rec in recordings:
        if rec.kind != "file":
            continue
        legs = [Path(str(rec.metadata[k])) for k in ("rep_file", "customer_file") if rec.metadata.get(k)]
        if len(legs) == 2:
            for call, rep, _customer in pair_legs(legs)[0]:
                owned.update(_absolute(c) for c in sidecar_candidates(rep.with_name(f"{call}.wav")))
        for part in rec.source.split(" + "):
            owned.update(_absolute(c) for c in sidecar_candidates(part))
    outputs = _OutputFolders(_absolute(folder))
    found = (
        _absolute(p)
        for p in folder.rglob(f"*{SIDECAR_SUFFIX}")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    return sorted(p for p in found if p not in owned and not _excluded(p, exclude) and not outputs.holds(p))


def _rows(source: str | Path, exclude: Path | None) -> Iterator[dict[str, Any]]:
    text = str(source)
    path = Path(text).expanduser()
    if path.is_dir():
        yield from _with_legs(_audio_files(path, exclude))
    elif path.is_file() and path.suffix.lower() == ".csv":
        yield from _csv_rows(path)
    elif path.is_file():
        yield {"path": _absolute(path)}
    elif any(ch in text for ch in "*?["):
        matches = sorted(_absolute(Path(p)) for p in glob.glob(str(path), recursive=True))
        outputs = _OutputFolders(_glob_root(path))
        files = [
            p
            for p in matches
            if p.is_file() and not is_sidecar(p) and not _excluded(p, exclude) and not outputs.holds(p)
        ]
        if not files:
            raise FileNotFoundError(f"the pattern {text!r} matches no files")
        yield from _with_legs(files)
    else:
        raise FileNotFoundError(
            f"{text!r} is not a folder, a file, a CSV manifest or a glob pattern that matches files"
        )


def _walk(folder: Path, exclude: Path | None) -> Iterable[Path]:
    outputs = _OutputFolders(_absolute(folder))
    files = (
        _absolute(p)
        for p in folder.rglob("*")
        if p.is_file()
        and not is_sidecar(p)
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    return sorted(p for p in files if not _excluded(p, exclude) and not outputs.holds(p))


class _OutputFolders:
    """Whether a file lies in a folder hearkit wrote: another batch's output (``manifest.sqlite``:
    its ``legs/*.flac`` is a call already in that batch, taken again it was transcribed and billed
    twice) or a saved CallSet (``callset.json``). Only the folders below ``root`` (the folder the
    user named) count: an output folder above it is the user's choice. One check per folder."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._known: dict[Path, bool] = {}

    def holds(self, path: Path) -> bool:
        return any(
            self._is_output(parent)
            for parent in path.parents
            if parent != self._root and parent.is_relative_to(self._root)
        )

    def _is_output(self, folder: Path) -> bool:
        if folder not in self._known:
            self._known[folder] = (folder / BATCH_MANIFEST).is_file() or (folder / "callset.json").is_file()
        return self._known[folder]


def _audio_files(folder: Path, exclude: Path | None) -> list[Path]:
    """The files of ``folder`` (recursive); ``FileNotFoundError`` when none looks like audio."""
    files = list(_walk(folder, exclude))
    if not any(p.suffix.lower() in AUDIO_EXTENSIONS for p in files):
        others = f"; it holds {len(files)} other file(s)" if files else ""
        raise FileNotFoundError(
            f"no audio files found in {folder} (looked for {_looked_for()}, in subfolders too{others})"
        )
    return files


def _looked_for() -> str:
    return ", ".join(f"*{ext}" for ext in AUDIO_EXTENSIONS)


def _not_audio(path: Path) -> str:
    """Why a file that is not audio by its name, and that FFmpeg cannot read, is skipped."""
    reason = f"not an audio file (hearkit looks for {_looked_for()})"
    if path.suffix.lower() == ".csv":
        command = f"hearkit batch {shlex.quote(str(path))} --out DIR"
        reason += f"; to use this CSV as the batch's list of recordings: {command}"
    return reason


def _with_legs(files: list[Path]) -> Iterator[dict[str, Any]]:
    """One row per file, except that the two legs of a two-file call (``X_agent`` + ``X_caller``) are one."""
    from hearkit.legs import pair_legs

    pairs, others = pair_legs(files)
    yield from ({"legs": (rep, customer), "name": name} for name, rep, customer in pairs)
    yield from ({"path": p} for p in others)


def _has_sidecar(rec: Recording) -> bool:
    """Whether a one-file recording has its ``<name>.meta.json`` beside it."""
    from hearkit.metadata import sidecar_path

    return rec.kind == "file" and "://" not in rec.source and sidecar_path(rec.source).is_file()


def _glob_root(pattern: Path) -> Path:
    """The folder a glob pattern starts from: its parts before the first wildcard."""
    parts = []
    for part in _absolute(pattern).parts:
        if any(ch in part for ch in "*?["):
            break
        parts.append(part)
    return Path(*parts)


def _legs_dir(exclude: Path | None, rep: Path) -> Path:
    return (exclude / "legs") if exclude is not None else rep.parent


def _excluded(path: Path, exclude: Path | None) -> bool:
    return exclude is not None and path.resolve().is_relative_to(exclude.resolve())


def _absolute(path: Path) -> Path:
    """``path`` made absolute without following symlinks: a link's own name (and the sidecar
    beside it) names the call, not the file it points to."""
    return Path(os.path.abspath(path))


def _csv_rows(path: Path) -> Iterator[dict[str, Any]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:  # "'utf-8' codec can't decode byte 0xe9 ..." said not what to do
        line = data[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"{path}: not UTF-8 text (byte {data[exc.start]:#04x} on line {line}, e.g. an accented letter"
            " saved as Latin-1 / Windows-1252): save it as UTF-8 (Excel: 'CSV UTF-8')"
        ) from None
    delimiter = _delimiter(text)
    with io.StringIO(text, newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        columns = {c.strip().lower() for c in reader.fieldnames or []}
        legs = _csv_legs_columns(columns)
        if not columns & {*_CSV_PATH_COLUMNS, *_CSV_URL_COLUMNS} and legs is None:
            raise ValueError(
                f"{path}: the CSV needs a column 'path' (local file), 'audio_url' (https URL), or both"
                f" 'rep_path' and 'customer_path' (a two-file call); it has {sorted(columns)}"
            )
        for line_no, raw in enumerate(reader, start=2):
            _check_field_count(path, raw, len(reader.fieldnames or []), reader.line_num, delimiter)
            row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
            local = next((row[c] for c in _CSV_PATH_COLUMNS if row.get(c)), "")
            url = next((row[c] for c in _CSV_URL_COLUMNS if row.get(c)), "")
            meta = {k: v for k, v in row.items() if v and k not in {*_CSV_PATH_COLUMNS, *_CSV_URL_COLUMNS}}
            if legs is not None and (row.get(legs[0]) or row.get(legs[1])):
                yield _csv_legs_row(path, row, legs, meta, line_no)
            elif local:
                file = Path(local).expanduser()
                yield {"path": _absolute(file if file.is_absolute() else path.parent / file), "meta": meta}
            elif url:
                yield {"url": url, "meta": meta}
            else:
                yield {"missing": f"{path.name} line {line_no}", "meta": meta}


def _check_field_count(
    path: Path, raw: dict[str | None, Any], columns: int, line: int, delimiter: str
) -> None:
    """A row with more values than the header has columns shifts every value after the extra one
    into the next column (U5 finding 1: ``Acme, Inc renewal`` unquoted made the rep " Inc renewal",
    the date "Ana Lopez", and dropped the team): refused before anything is sent. Empty extra values
    (a trailing separator) lose nothing and are let through."""
    extra = [v for v in raw.get(None) or [] if str(v).strip()]
    if not extra:
        return
    shown = {"\t": "a tab", ",": "a comma", ";": "a ';'"}.get(delimiter, repr(delimiter))
    raise ValueError(
        f"{path} line {line}: {columns + len(raw.get(None) or [])} values where the header has {columns} "
        f"columns, so every value after the extra one would land in the wrong column: a value holding "
        f'{shown} needs double quotes around it, e.g. "Acme{delimiter} Inc"'
    )


def _delimiter(text: str) -> str:
    """The CSV's separator: ``,`` unless its header line is split by ``;`` or a tab instead (Excel
    writes ``;`` where the comma is the decimal mark; the header read as one column 'path;rep')."""
    header = text.split("\n", 1)[0]
    if "," in header:
        return ","
    return max((";", "\t"), key=header.count) if (";" in header or "\t" in header) else ","


def _csv_legs_columns(columns: set[str]) -> tuple[str, str] | None:
    rep = next((c for c in _CSV_REP_COLUMNS if c in columns), None)
    customer = next((c for c in _CSV_CUSTOMER_COLUMNS if c in columns), None)
    return (rep, customer) if rep is not None and customer is not None else None


def _csv_legs_row(
    csv_path: Path, row: dict[str, str], legs: tuple[str, str], meta: dict[str, Any], line_no: int
) -> dict[str, Any]:
    for column in legs:
        meta.pop(column, None)
    if not (row.get(legs[0]) and row.get(legs[1])):
        return {
            "missing": f"{csv_path.name} line {line_no} (a two-file call needs both {legs[0]} and {legs[1]})"
        }
    files = []
    for column in legs:
        file = Path(row[column]).expanduser()
        files.append(_absolute(file if file.is_absolute() else csv_path.parent / file))
    return {"legs": (files[0], files[1]), "name": files[0].stem, "meta": meta}


def _recording(
    row: dict[str, Any], mode: Mode, known: frozenset[str] | set[str], hasher: Callable[[Path], str]
) -> Recording:
    meta: dict[str, Any] = dict(row.get("meta", {}))
    call_id = _clean_id(str(meta.pop("call_id", "")))
    if "missing" in row:
        where = row["missing"]
        return Recording(
            rec_id=hashlib.sha256(where.encode()).hexdigest(),
            call_id=call_id or "row",
            source=where,
            kind="file",
            metadata=meta,
            skip_reason="the row has neither a path nor an audio_url",
        )
    if "url" in row:
        return _url_recording(row["url"], call_id, meta, mode)
    path: Path = row["path"]
    call_id = call_id or _clean_id(path.name.split(".")[0]) or "call"
    if not path.is_file():
        return Recording(
            rec_id=hashlib.sha256(str(path).encode()).hexdigest(),
            call_id=call_id,
            source=str(path),
            kind="file",
            metadata=meta,
            skip_reason="file not found",
        )
    read_sidecar(path)  # a broken call.meta.json stops the batch before anything is sent
    rec = Recording(
        rec_id=hasher(path),
        call_id=call_id,
        source=str(path),
        kind="file",
        size_bytes=path.stat().st_size,
        metadata=meta,
    )
    if rec.rec_id in known:
        return rec
    try:
        rec.info = inspect_audio(path, analyze_stereo=mode == "auto")
    except UnreadableAudioError as exc:
        # A file of another kind (notes, a CSV) in the folder: said as such, not as broken audio.
        rec.skip_reason = str(exc) if path.suffix.lower() in AUDIO_EXTENSIONS else _not_audio(path)
        return rec
    except ValueError as exc:
        rec.skip_reason = str(exc)
        return rec
    rec.mode = choose_mode(rec.info, mode)
    return rec


def _url_recording(url: str, call_id: str, meta: dict[str, Any], mode: Mode) -> Recording:
    parsed = urlparse(url)
    rec = Recording(
        rec_id=hash_url(url),
        call_id=call_id or _clean_id(Path(parsed.path).name.split(".")[0]) or "call",
        source=url,
        kind="url",
        metadata=meta,
    )
    if parsed.scheme != "https" or not parsed.netloc:
        rec.skip_reason = "remote audio must be an https:// URL"
        return rec
    duration = _float_or_none(meta.pop("duration_s", None))
    channels = _float_or_none(meta.pop("channels", None))
    layout = "stereo" if channels == 2 else "mono" if channels == 1 else "unknown"
    rec.info = AudioInfo(channels=int(channels or 0), duration_s=duration, layout=layout)
    # Remote audio is never downloaded here: without a `channels` column, `auto` assumes mono.
    rec.mode = choose_mode(rec.info, mode)
    return rec


def _decode_stats(
    container: Any, stream: Any, channels: int, max_seconds: float
) -> tuple[np.ndarray, float, bool]:
    """Sums over the decoded audio: [energy ch0, energy ch1, energy of ch0-ch1, samples]."""
    resampler = av.AudioResampler(format="fltp", layout="stereo" if channels >= 2 else "mono", rate=8000)
    sums = np.zeros(4)
    seconds = 0.0
    for frame in container.decode(stream):
        for out in resampler.resample(frame):
            samples = out.to_ndarray().astype(np.float64)
            first = samples[0]
            second = samples[1] if samples.shape[0] > 1 else first
            sums += (
                float(np.dot(first, first)),
                float(np.dot(second, second)),
                float(np.sum((first - second) ** 2)),
                first.size,
            )
            seconds += first.size / 8000
        if seconds >= max_seconds:
            return sums, seconds, False
    for out in resampler.resample(None):
        seconds += out.samples / 8000
    return sums, seconds, True


def _classify(stats: np.ndarray) -> str:
    n = max(stats[3], 1.0)
    rms0, rms1, rms_diff = (math.sqrt(stats[i] / n) for i in range(3))
    louder = max(rms0, rms1)
    ratio = 10 ** (-RELATIVE_DB / 20)
    if louder < SILENT_RMS:
        return "one_silent"
    if rms_diff < louder * ratio:
        return "dual_mono"
    if min(rms0, rms1) < max(SILENT_RMS, louder * ratio):
        return "one_silent"
    return "stereo"


def _unique_call_id(call_id: str, rec_id: str, used: set[str]) -> str:
    candidate = call_id
    if candidate in used:
        candidate = f"{call_id}-{rec_id[:8]}"
    suffix = 2
    while candidate in used:
        candidate = f"{call_id}-{rec_id[:8]}-{suffix}"
        suffix += 1
    used.add(candidate)
    return candidate


def _check_given_id(
    source: str | Path, row: dict[str, Any], rec: Recording, given: dict[str, tuple[str, str]]
) -> None:
    """A CSV's ``call_id`` on two different recordings is an error before anything is sent: the
    second was silently renamed ``<id>-<hash>``, so its metadata no longer joined to the user's key."""
    call_id = str((row.get("meta") or {}).get("call_id") or "").strip()
    if not call_id:
        return
    first = given.setdefault(call_id, (rec.rec_id, rec.source))
    if first[0] != rec.rec_id:
        raise ValueError(
            f"{source}: call_id {call_id!r} is given to two different recordings ({first[1]} and "
            f"{rec.source}); give each recording its own call_id"
        )


def _clean_id(text: str) -> str:
    """A call id safe as a file name: letters (any script) and digits, ``_ . -``; runs of anything
    else become ``_`` ("Ünïcödé 通话 #1" → "Ünïcödé_通话_1"; it was "n_c_d_1")."""
    return re.sub(r"[^\w.-]+", "_", unicodedata.normalize("NFC", text)).strip("._")[:120]


def _float_or_none(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
