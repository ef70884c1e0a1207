"""Command-line options that several ``hearkit`` commands share, so they accept and say the same."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import typer

__all__ = [
    "SPEAKERS_HELP",
    "SPEAKERS_MAX",
    "SPEAKERS_MIN",
    "VOCABULARY_HELP",
    "speakers_line",
    "vocabulary_terms",
    "warnings_as_lines",
]

SPEAKERS_MIN = 0
"""``--speakers 0``: no ``speakers_expected`` is sent, the audio alone decides (meetings)."""
SPEAKERS_MAX = 6
"""``hearkit.schema.MAX_SPEAKER_OPTION``, written here so that ``hearkit --help`` does not import pydantic
and the wire models (0.25 CPU s); a test holds the two equal."""

SPEAKERS_HELP = (
    "Mono recordings: speakers to expect (sent as speakers_expected); another count only when the"
    " audio strongly says so. 0 lets the audio decide. Default: 2 (a two-party call)."
)
"""The help of ``--speakers`` in ``hearkit analyze`` and ``hearkit batch`` (batch adds how a resumed
batch keeps its own)."""


VOCABULARY_HELP = (
    "Terms the transcription should spell right (names, products), comma-separated; 'competitors' is the"
    " competitor tracker's names (Gong, Chorus, Salesloft, …). Sent as the job's vocabulary:"
    " it finds names the ASR mishears ('Gong' as 'long'). The local engine keeps the prompted"
    " transcript only in the 30 s windows where it heard a term (other words there may change) and"
    " takes about twice the recognition time (docs/analytics.md)."
)
"""The help of ``--vocabulary`` in ``hearkit analyze`` and ``hearkit batch``."""


MAX_VOCABULARY_TERMS = 50
"""Terms ``--vocabulary`` sends at most: faster-whisper keeps the last 223 tokens of its prompt, and a
term with its comma takes about 3-4 (the eight competitor names: 30 tokens); a new-user check sent 300
and got a multipart error naming no limit."""


def vocabulary_terms(given: str | None) -> list[str] | None:
    """The ``vocabulary`` to send for ``--vocabulary``: its comma-separated terms, each once, the word
    ``competitors`` standing for :func:`hearkit.trackers.vocabulary_of`'s names (U3 finding 12: the
    CLI had no way to send the names the competitor tracker looks for). ``None``: nothing given."""
    if given is None:
        return None
    from hearkit.trackers import vocabulary_of

    terms: dict[str, None] = {}
    for part in given.split(","):
        term = part.strip()
        if term.lower() == "competitors":
            terms.update(dict.fromkeys(vocabulary_of()))
        elif term:
            terms[term] = None
    if not terms:
        raise typer.BadParameter(
            "give terms separated by commas, e.g. --vocabulary 'Gong,Clari' (or 'competitors')",
            param_hint="--vocabulary",
        )
    if len(terms) > MAX_VOCABULARY_TERMS:
        raise typer.BadParameter(
            f"at most {MAX_VOCABULARY_TERMS} terms ({len(terms)} given): Whisper's prompt holds about 224"
            " tokens and a longer list loses its first terms; keep the names that matter most",
            param_hint="--vocabulary",
        )
    return list(terms)


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
