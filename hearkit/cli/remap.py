"""`hearkit remap`: change roles or merge speakers of saved calls, without transcribing again.
See :mod:`hearkit.relabel`."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from hearkit.cli.options import SPEAKERS_MAX


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``hearkit`` app."""
    app.command("remap")(remap)


def remap(
    source: Annotated[
        Path,
        typer.Argument(
            help="The folder of `hearkit batch --out`, its dataset/, or a folder written by CallSet.save().",
            show_default=False,
        ),
    ],
    call: Annotated[str, typer.Option("--call", help="The call_id to change.", show_default=False)],
    rep: Annotated[
        str | None, typer.Option("--rep", help="The speaker who is the rep, e.g. speaker_1.")
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="The speaker who is the customer.")
    ] = None,
    role: Annotated[
        list[str] | None, typer.Option("--role", help="SPEAKER=ROLE, for any role; repeatable.")
    ] = None,
    merge: Annotated[
        str | None,
        typer.Option("--merge", help="Speakers to make one, comma-separated: speaker_1,speaker_2."),
    ] = None,
    speakers: Annotated[
        int | None,
        typer.Option(
            "--speakers",
            min=1,
            max=SPEAKERS_MAX,
            help="Re-diarize into exactly this many speakers (a `hearkit batch` folder of diarized mono "
            "calls; no transcription): from the recording when it is still where the batch read it, "
            "else from the stored voice prints (coarser, flagged).",
        ),
    ] = None,
) -> None:
    """Re-label one saved call: roles (--rep/--customer/--role), merged speakers (--merge), or a new
    speaker count (--speakers N, re-diarized without ASR; run first, roles then apply).

    The saved calls are rewritten in place; metrics, hits and speakers follow, and the turns'
    role_source / speaker_source say `user`. With --rep alone on a two-speaker call, the other
    speaker becomes the customer.
    """
    from hearkit.cli.options import warnings_as_lines
    from hearkit.locate import SavedCallsWarning, batch_output_of, callset_folder

    try:
        with warnings_as_lines():
            folder = callset_folder(source)
    except (FileNotFoundError, ValueError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    roles: dict[str, str] = {}
    for item in role or []:
        speaker, sep, name = item.partition("=")
        if not sep or not speaker.strip() or not name.strip():
            typer.echo(f"error: --role takes SPEAKER=ROLE (e.g. speaker_2=manager), not {item!r}", err=True)
            raise typer.Exit(code=2)
        roles[speaker.strip()] = name.strip()
    if rep:
        roles[rep] = "rep"
    if customer:
        roles[customer] = "customer"
    if not roles and not merge and speakers is None:
        typer.echo(
            "error: nothing to change: give --rep, --customer, --role SPEAKER=ROLE, --merge or --speakers",
            err=True,
        )
        raise typer.Exit(code=2)
    talk_before: list[str] = []
    hints: list[str] = []

    def change(calls: Any) -> tuple[Any, dict[str, list[dict[str, Any]]]]:
        talk_before.append(_talk(calls, call))
        steps: list[dict[str, Any]] = []
        if speakers is not None:
            before = _call_turns(calls, call)
            calls = _rediarize(Path(source), calls, call, speakers)
            if not roles:
                hints[:] = _role_hints(
                    before, _call_turns(calls, call), f"hearkit remap {source} --call {call}"
                )
        if merge:
            merged = [s.strip() for s in merge.split(",") if s.strip()]
            calls = calls.merge_speakers(call, merged)
            steps.append({"merge": merged})
        if roles:
            from hearkit.frames import CALL_ID

            voices = set(calls.turns.loc[calls.turns[CALL_ID] == call, "speaker"].astype(str))
            # one role named on a two-voice call: the other voice takes the other role
            if rep and not customer and len(voices) == 2 and rep in voices:
                roles.setdefault((voices - {rep}).pop(), "customer")
            if customer and not rep and len(voices) == 2 and customer in voices:
                roles.setdefault((voices - {customer}).pop(), "rep")
            calls = calls.with_roles({call: roles})
            steps.append({"roles": roles})
        return calls, {call: steps}

    batch = batch_output_of(folder)
    try:
        with warnings.catch_warnings():  # what reading the folder warns about was said above, once
            warnings.simplefilter("ignore", SavedCallsWarning)
            calls = _edit(folder, batch, change, restart=[call] if speakers is not None else [])
    except (KeyError, ValueError) as exc:
        typer.echo(f"error: {str(exc).strip(chr(34) + chr(39))}", err=True)
        raise typer.Exit(code=2) from exc
    except OSError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    before = talk_before[0]
    typer.echo(f"{call}: {before} -> {_talk(calls, call)}; saved in {folder}")
    for hint in hints:
        typer.echo(hint)
    typer.echo(f"{call}: trust {_trust(calls, call)}")


def _edit(folder: Path, batch: Path | None, change: Any, *, restart: list[str]) -> Any:
    """Apply ``change`` to the saved calls of ``folder``: in a batch, under its dataset lock, kept
    in the call's JSON (which every later run replays) and in dataset/ at once; else saved back."""
    from hearkit.batch.edits import edit_batch
    from hearkit.record import CallSet

    if batch is not None:
        return edit_batch(batch, change, restart=restart)
    calls, _ = change(CallSet.load(folder))
    calls.save(folder)
    return calls


def _rediarize(source: Path, calls: Any, call: str, speakers: int) -> Any:
    """The set with ``call`` analysed again from its stored result re-diarized into ``speakers``
    voices; the batch's per-call JSON (its source of truth) is rewritten too, so a later dataset
    rebuild keeps it (the first original is kept beside it as ``<call>.json.orig``)."""
    import numpy as np
    import pandas as pd

    from hearkit.engine.pipeline.rediarize import rediarize, rediarize_audio
    from hearkit.frames import CALL_ID
    from hearkit.record import analyze_calls

    stored = _stored_call(source, call)
    if stored is None:
        raise ValueError(
            f"no stored result of {call!r}: --speakers needs the output folder of `hearkit batch` "
            f"(it keeps calls/{call}.json)"
        )
    document = json.loads(stored.read_text(encoding="utf-8"))
    result = document.get("result") if "result" in document else document
    recording = _recording_of(document)
    if recording is not None:  # the engine's diarization on the audio; stored voice prints are coarser
        again = rediarize_audio(result, recording, speakers_expected=speakers).to_api()
    else:
        again = rediarize(result, speakers_expected=speakers).to_api()
    backup = stored.with_name(stored.name + ".orig")
    if not backup.exists():
        backup.write_text(stored.read_text(encoding="utf-8"), encoding="utf-8")
    if "result" in document:
        document["result"] = again
    else:
        document = again
    stored.write_text(json.dumps(document), encoding="utf-8")
    row = calls.calls[calls.calls[CALL_ID] == call]
    if row.empty:
        raise KeyError(f"no call {call!r} in the saved calls")
    columns = calls._metadata_columns()
    metadata = {c: row.iloc[0][c] for c in columns if c in row.columns and row.iloc[0][c] is not None}
    fresh = analyze_calls({call: again}, metadata={call: metadata})
    for name in ("turns", "words", "hits", "speakers"):
        old = getattr(calls, name)
        new = getattr(fresh, name)
        kept = old[old[CALL_ID] != call] if len(old) else old
        setattr(calls, name, pd.concat([kept, new], ignore_index=True) if len(new) else kept)
    position = int(np.flatnonzero(calls.calls[CALL_ID].to_numpy() == call)[0])
    replaced = fresh.calls.reindex(columns=calls.calls.columns)
    frame = pd.concat(
        [calls.calls.iloc[:position], replaced, calls.calls.iloc[position + 1 :]], ignore_index=True
    )
    frame.attrs = calls.calls.attrs
    calls.calls = frame
    calls.summaries.update(fresh.summaries)
    return calls


def _call_turns(calls: Any, call: str) -> Any:
    """The turns of ``call`` in the set ``calls``: speaker, role, start and end."""
    from hearkit.frames import CALL_ID

    turns = calls.turns
    return turns.loc[turns[CALL_ID] == call, ["speaker", "role", "start", "end"]]


def _role_hints(before: Any, after: Any, command: str) -> list[str]:
    """A line for each speaker the re-diarization left without a role, naming the role whose talk it
    mostly holds (before: the call's turns with their roles) and the remap that gives it that role.

    A new user's check (U7 finding 9): ``--speakers 1`` on a call whose rep held 95 % of the talk
    read "rep talk 95% -> n/a", role ``unknown``, with nothing saying how to get the rep back."""
    import numpy as np

    lines = []
    known = before[before["role"].isin(["rep", "customer"])]
    for speaker, own in after[after["role"] == "unknown"].groupby("speaker"):
        talk = float((own["end"] - own["start"]).sum())
        held: dict[str, float] = {}
        for role, theirs in known.groupby("role"):
            overlap = np.minimum.outer(own["end"].to_numpy(), theirs["end"].to_numpy()) - np.maximum.outer(
                own["start"].to_numpy(), theirs["start"].to_numpy()
            )
            held[str(role)] = float(np.clip(overlap, 0.0, None).sum())
        if talk <= 0 or not held:
            continue
        role = max(held, key=lambda r: held[r])
        if held[role] > 0.5 * talk:
            lines.append(
                f"{speaker} has no role; {held[role] / talk:.0%} of its talk is where the {role} spoke"
                f" before: `{command} --{role} {speaker}` gives it that role"
            )
    return lines


def _recording_of(document: Any) -> Path | None:
    """The recording a batch transcribed for this call (its per-call JSON's ``hearkit.source``),
    when it is still there."""
    block = document.get("hearkit") if isinstance(document, dict) else None
    source = block.get("source") if isinstance(block, dict) else None
    if isinstance(source, str) and Path(source).is_file():
        return Path(source)
    return None


def _stored_call(source: Path, call: str) -> Path | None:
    from hearkit.batch.edits import stored_call

    return stored_call(source, call)


def _talk(calls: object, call: str) -> str:
    from hearkit.frames import CALL_ID

    frame = calls.calls  # type: ignore[attr-defined]
    row = frame[frame[CALL_ID] == call]
    if row.empty:
        return "no such call"
    r = row.iloc[0]
    return f"rep talk {_pct(r.get('talk_ratio_rep'))}, customer {_pct(r.get('talk_ratio_customer'))}"


def _trust(calls: object, call: str) -> str:
    """The call's trust and flags in words after the change (a remap can lower it: say so here)."""
    from hearkit.frames import CALL_ID
    from hearkit.quality import trust_words

    frame = calls.calls  # type: ignore[attr-defined]
    row = frame[frame[CALL_ID] == call]
    if row.empty:
        return "not measured"
    return trust_words(row.iloc[0].get("trust"), row.iloc[0].get("quality_flags"))


def _pct(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if number != number else f"{100 * number:.0f}%"
