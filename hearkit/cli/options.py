"""Command-line options that several ``hearkit`` commands share, so they accept and say the same."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from hearkit.schema import MAX_SPEAKER_OPTION

__all__ = ["SPEAKERS_HELP", "SPEAKERS_MAX", "SPEAKERS_MIN", "speakers_line", "warnings_as_lines"]

SPEAKERS_MIN = 0
"""``--speakers 0``: no ``speakers_expected`` is sent, the audio alone decides (meetings)."""
SPEAKERS_MAX = MAX_SPEAKER_OPTION

SPEAKERS_HELP = (
    "Mono recordings: speakers to expect (sent as speakers_expected); another count only when the"
    " audio strongly says so. 0 lets the audio decide. Default: 2 (a two-party call)."
)
"""The help of ``--speakers`` in ``hearkit analyze`` and ``hearkit batch`` (batch adds how a resumed
batch keeps its own)."""


def speakers_line(sent: int | None) -> str:
    """The line a command prints about the speaker count of its mono recordings (``None``/0: none sent)."""
    if not sent:
        return "no speaker count sent: the audio alone decides (--speakers 2 for a two-party call)"
    return (
        f"{'two-party call: ' if sent == 2 else ''}{sent} speaker(s) expected unless the audio strongly"
        " says otherwise (--speakers N to change, 0 to let the audio decide)"
    )


@contextmanager
def warnings_as_lines() -> Iterator[None]:
    """Print what reading saved calls warns about (:class:`hearkit.locate.SavedCallsWarning`: which of
    two sets of calls was read, a dataset behind its batch) as ``warning: ...`` lines on stderr, each
    once, instead of Python's ``file:line: Category: ...`` form."""
    from hearkit.locate import SavedCallsWarning

    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SavedCallsWarning)
            yield
    finally:
        seen: set[str] = set()
        for item in caught:
            text = str(item.message)
            if not issubclass(item.category, SavedCallsWarning):
                warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
            elif text not in seen:
                seen.add(text)
                typer.echo(f"warning: {text}", err=True)
