"""A user's fixes of a batch's calls, kept in the batch: roles and merged speakers that every run replays.

A batch's ``DIR/dataset/`` is rebuilt from its per-call results (``DIR/calls/<call_id>.json``) at the
end of every run, so a fix written only into the dataset would be undone by the next run, and one
saved with ``CallSet.save()`` beside it would never be read (``save()`` refuses both). Here a fix is
stored in the call's JSON (its ``hearkit.relabel`` list, :data:`hearkit.batch.results.RELABEL_KEY`),
which every rebuild replays, and the dataset is rewritten at once with it:

>>> hearkit.batch.with_roles("runs/nov", {"call49": {"speaker_0": "customer", "speaker_1": "rep"}})
>>> hearkit.batch.merge_speakers("runs/nov", "call12", ["speaker_1", "speaker_2"])

``hearkit remap DIR --call ID ...`` does the same from the command line.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hearkit.batch.results import RELABEL_KEY, dataset_lock, swap_in_dataset
from hearkit.locate import BATCH_DATASET, batch_output_of

if TYPE_CHECKING:
    from hearkit.record import CallSet

__all__ = ["edit_batch", "keep_changes", "merge_speakers", "stored_call", "with_roles"]


def with_roles(out: str | Path, roles: Mapping[str, Mapping[str, str]]) -> CallSet:
    """Set speakers' roles (``{call_id: {speaker: role}}``) of calls of the batch in ``out`` (its output
    folder or its dataset/) and keep them for every later run; returns the updated CallSet.

    Nothing is written when a call or speaker is unknown (``KeyError``/``ValueError`` naming it).
    """
    if not roles:
        raise ValueError(
            "no roles given: pass {call_id: {speaker: role}}, e.g. {'call_1': {'speaker_1': 'rep'}}"
        )
    changes = {
        str(call): [{"roles": {str(k): str(v) for k, v in mapping.items()}}]
        for call, mapping in roles.items()
    }
    return _apply(out, changes)


def merge_speakers(out: str | Path, call_id: str, speakers: Sequence[str]) -> CallSet:
    """Make ``speakers`` of one call of the batch in ``out`` one speaker (the first named) and keep
    it for every later run; returns the updated CallSet."""
    if isinstance(speakers, str):
        raise TypeError(
            f"speakers is a list of speaker labels, e.g. ['speaker_1', 'speaker_2'], not {speakers!r}"
        )
    return _apply(out, {str(call_id): [{"merge": [str(s) for s in speakers]}]})


def _apply(out: str | Path, changes: dict[str, list[dict[str, Any]]]) -> CallSet:
    """Check every change against the dataset, then store them and rewrite the dataset."""
    from hearkit.relabel import apply_changes

    batch = batch_output_of(out)
    if batch is None:
        raise ValueError(
            f"{out} is not a `hearkit batch --out` folder (no manifest.sqlite): for calls saved with "
            "CallSet.save(), load them, change them (calls.with_roles(...)) and save them again"
        )

    def change(calls: CallSet) -> tuple[CallSet, dict[str, list[dict[str, Any]]]]:
        for call_id, steps in changes.items():
            if call_id not in calls.call_ids or stored_call(batch, call_id) is None:
                raise KeyError(f"no call {call_id!r} in the batch {batch}; known: {calls.call_ids[:10]}")
            calls = apply_changes(calls, call_id, steps)
        return calls, changes

    return edit_batch(batch, change)


def edit_batch(
    batch: Path,
    change: Callable[[CallSet], tuple[CallSet, Mapping[str, Sequence[Mapping[str, Any]]]]],
    *,
    restart: Collection[str] = (),
) -> CallSet:
    """Load the batch's dataset, ``change`` it (it returns the new set and the steps to keep per
    call), keep the steps in the calls' JSON and swap the new dataset in, all under the dataset's
    lock: a rebuild by a running batch happens wholly before or after, so neither loses the other's
    work. ``restart``: calls re-diarized, whose earlier re-labels are dropped. Nothing is written
    when ``change`` raises."""
    from hearkit.record import CallSet

    with dataset_lock(batch):
        calls, steps = change(CallSet.load(batch / BATCH_DATASET))
        for call_id in dict.fromkeys([*steps, *restart]):
            keep_changes(batch, call_id, steps.get(call_id, ()), restart=call_id in restart)
        swap_in_dataset(batch, calls)
    return calls


def keep_changes(
    batch: Path, call_id: str, steps: Sequence[Mapping[str, Any]], *, restart: bool = False
) -> bool:
    """Add ``steps`` to the re-labels kept in the call's JSON, which every ``hearkit batch`` rebuild
    replays. ``restart``: the call was re-diarized, so earlier re-labels (of the old speakers) are
    dropped. Returns whether the batch holds the call (a call without its JSON keeps nothing)."""
    stored = stored_call(batch, call_id)
    if stored is None:
        return False
    if not (steps or restart):
        return True
    document = json.loads(stored.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or "result" not in document:
        return False
    block = document.setdefault("hearkit", {})
    block[RELABEL_KEY] = ([] if restart else list(block.get(RELABEL_KEY) or [])) + [dict(s) for s in steps]
    _write_atomically(stored, json.dumps(document))
    return True


def stored_call(folder: Path, call_id: str) -> Path | None:
    """The per-call JSON of ``call_id`` in the batch ``folder`` (or the batch whose dataset/ it is)."""
    for base in (folder, folder.parent):
        path = base / "calls" / f"{call_id}.json"
        if path.is_file():
            return path
    return None


def _write_atomically(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
