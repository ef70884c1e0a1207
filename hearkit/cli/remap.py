"""`hearkit remap`: change roles or merge speakers of saved calls, without transcribing again.
See :mod:`hearkit.relabel`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hearkit.frames import CALL_ID


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
) -> None:
    """Re-label one saved call: roles (--rep/--customer/--role) and merged speakers (--merge).

    The saved calls are rewritten in place; metrics, hits and speakers follow, and the turns'
    role_source / speaker_source say `user`. With --rep alone on a two-speaker call, the other
    speaker becomes the customer.
    """
    from hearkit.locate import callset_folder
    from hearkit.record import CallSet

    try:
        folder = callset_folder(source)
        calls = CallSet.load(folder)
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
    if not roles and not merge:
        typer.echo(
            "error: nothing to change: give --rep, --customer, --role SPEAKER=ROLE or --merge", err=True
        )
        raise typer.Exit(code=2)
    before = _talk(calls, call)
    try:
        if merge:
            calls = calls.merge_speakers(call, [s.strip() for s in merge.split(",") if s.strip()])
        if roles:
            speakers = set(calls.turns.loc[calls.turns[CALL_ID] == call, "speaker"].astype(str))
            if rep and not customer and len(speakers) == 2 and rep in speakers:
                other = (speakers - {rep}).pop()
                roles.setdefault(other, "customer")
            calls = calls.with_roles({call: roles})
    except (KeyError, ValueError) as exc:
        typer.echo(f"error: {str(exc).strip(chr(34) + chr(39))}", err=True)
        raise typer.Exit(code=2) from exc
    calls.save(folder)
    typer.echo(f"{call}: {before} -> {_talk(calls, call)}; saved in {folder}")


def _talk(calls: object, call: str) -> str:
    frame = calls.calls  # type: ignore[attr-defined]
    row = frame[frame[CALL_ID] == call]
    if row.empty:
        return "no such call"
    r = row.iloc[0]
    return f"rep talk {_pct(r.get('talk_ratio_rep'))}, customer {_pct(r.get('talk_ratio_customer'))}"


def _pct(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if number != number else f"{100 * number:.0f}%"
