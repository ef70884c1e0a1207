"""The speaker count a batch sends with its diarized (mono) recordings, and how a resumed batch keeps it.

A folder of calls is a folder of two-party conversations: each recording transcribed with
``diarize`` is sent with ``speakers_expected`` (:data:`DEFAULT_SPEAKERS` = 2 unless the batch
says otherwise, as ``hearkit analyze --mono`` does), so the engine picks two voices unless the
audio strongly says otherwise. Stereo recordings (``channel``) never carry it: one party a channel.

Job keys: the option is part of a recording's request, hence of its ``Idempotency-Key``, **only
when it is sent** (:func:`request_options`). A batch that sends none (``0``), and every stereo
recording, keeps exactly the key it had before the option existed.

Resuming (:func:`resolve_speakers`):

* the batch's stored setting applies when the command gives none;
* a manifest written before the setting existed holds none: it is read as ``0`` (what that
  batch sent), so a resumed old batch sends its remaining recordings the way it sent the first
  ones, and says so (migration);
* a changed value is honoured for every recording not sent yet; recordings already completed
  are not transcribed again (that would be billed again): :func:`speaker_notes` counts them and
  names ``hearkit remap --speakers N``, which re-diarizes one from its stored voices without ASR.
  A recording already sent keeps its stored request (a retry must be the same request).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hearkit.batch.manifest import Manifest
from hearkit.batch.recordings import Mode, Recording

__all__ = [
    "DEFAULT_SPEAKERS",
    "BatchSettings",
    "request_options",
    "resolve_speakers",
    "speaker_notes",
]

DEFAULT_SPEAKERS = 2
"""Speakers expected on a diarized recording of a new batch: a two-party call."""


@dataclass
class BatchSettings:
    """What a batch sends: its ``mode``, job ``options`` and ``speakers`` (0 = none sent).

    ``speakers`` is ``None`` only in what a command asks for (keep the batch's own). ``migrated``:
    the manifest predates the setting and was read as sending none. ``notes``: lines for the reader.
    """

    mode: Mode
    options: dict[str, Any]
    speakers: int | None
    migrated: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def sent_speakers(self) -> int | None:
        """The ``speakers_expected`` value a diarized recording carries, ``None`` when none is sent."""
        return self.speakers or None


def request_options(options: Mapping[str, Any], mode: str | None, speakers: int | None) -> dict[str, Any]:
    """The transcription options of one recording: the batch's, its diarization, and the speaker count.

    ``speakers_expected`` is added only to a diarized recording and only when set, so a request
    (and the ``Idempotency-Key`` over it) without it is the one hearkit always sent.
    """
    request = dict(options)
    if mode == "channel":
        request["channel"] = True
    else:
        request["diarize"] = True
        if speakers:
            request["speakers_expected"] = speakers
    return request


def resolve_speakers(stored: Mapping[str, Any], asked: int | None) -> tuple[int, bool]:
    """The speaker setting of a resumed batch, and whether its manifest had none (migrated as 0)."""
    migrated = "speakers" not in stored
    own = 0 if migrated else int(stored["speakers"])
    return (own if asked is None else asked), migrated


def speaker_notes(manifest: Manifest, found: Sequence[Recording], batch: BatchSettings) -> list[str]:
    """What a reader of the run should know about the speaker count (empty when nothing is diarized)."""
    rows = manifest.rows()
    diarized = any(row.mode == "diarize" for row in rows) or any(
        rec.mode == "diarize" and rec.skip_reason is None for rec in found
    )
    if not diarized:
        return []
    sent = batch.sent_speakers
    notes = []
    if sent is None:
        notes.append(
            "mono recordings: no speaker count sent (the audio alone decides);"
            " --speakers 2 for two-party calls"
        )
    else:
        notes.append(
            f"mono recordings: {'two-party calls, ' if sent == 2 else ''}{sent} speaker(s) expected unless"
            " the audio strongly says otherwise (sent as speakers_expected; --speakers N to change,"
            " 0 to let the audio decide)"
        )
    if batch.migrated:
        notes.append(
            "this batch was started before hearkit sent a speaker count with mono recordings: the rest"
            " are sent the same way (none); --speakers 2 sends it with those not sent yet"
        )
    other = [
        row.call_id
        for row in manifest.rows("completed")
        if row.mode == "diarize" and (row.request or {}).get("speakers_expected") != sent
    ]
    if other:
        listed = ", ".join(other[:3]) + (f" and {len(other) - 3} more" if len(other) > 3 else "")
        notes.append(
            f"{len(other)} mono call(s) completed earlier with another speaker count ({listed}) were not"
            f" transcribed again; hearkit remap {manifest.out_dir} --call ID --speakers N re-diarizes one"
            " from its stored voices without transcribing"
        )
    return notes
