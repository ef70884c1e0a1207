"""An ipywidgets dashboard to filter calls and look into one, for notebooks and Voilà.

``dashboard(calls)`` shows, for a :class:`hearkit.record.CallSet`:

- filters: rep, team (when the calls carry a ``team`` column), date range, tracker hits, rep
  talk-ratio range, duration range, and free-text search in the transcripts;
- the table of the calls that pass every filter;
- charts linked to the filters (talk ratio per call, a metric's distribution with the selected call
  highlighted);
- a call view: the timeline of the selected call and its transcript with tracker phrases highlighted,
  plus its summary when the set has one.

The filter path is plain Python, separate from the widgets, so it can be tested and timed without a
browser: :func:`build_index` precomputes one column per filter (and a lowercase transcript per call for
the search) once; :func:`apply_filters` then answers a :class:`FilterState` with a boolean mask in a few
vectorized numpy operations.

Metric used by the talk-ratio filter: **rep talk ratio** = the rep's talk time / the talk time of
everyone on the call (overlap counted for each speaker), from the call's scorecard (0–1).

Example::

    from hearkit.record import CallSet
    from hearkit.dashboard import dashboard

    dashboard(CallSet.load_sample())
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hearkit import dashboard_tabs, views
from hearkit.frames import (
    CALL_ID,
    END,
    ROLE,
    SPEAKER,
    START,
    TEXT,
    TRACKER,
    TURN,
    CallFrames,
    check,
    summaries_of,
)
from hearkit.quality import quality_html, quality_view
from hearkit.views import clock

__all__ = [
    "CallIndex",
    "CallSetLike",
    "Dashboard",
    "FilterState",
    "Selection",
    "apply_filters",
    "build_index",
    "calls_table_html",
    "dashboard",
    "highlight_transcript_html",
    "newest_first",
    "parse_search",
]

# Candidate names of the rep talk-ratio column of ``CallSet.calls`` (first present wins).
TALK_RATIO_COLUMNS = ("talk_ratio_rep", "rep_talk_ratio")
DURATION_COLUMNS = ("duration_s", "call_duration_s", "audio_seconds")
_TALK_COLUMN = "talk_ratio_rep"  # the metric whose greying the table shows (the report's rule)
TABLE_ROWS = 100
_TERM = re.compile(r'"([^"]+)"|(\S+)')


#: Deprecated alias of :class:`hearkit.frames.CallFrames` (the one call-set protocol); a call set's
#: ``summaries`` are read when it has them.
CallSetLike = CallFrames


@dataclass(frozen=True)
class FilterState:
    """What the user asked for. Empty or ``None`` fields do not filter.

    - ``reps``: keep calls whose rep is one of these.
    - ``teams``: keep calls whose team (the calls frame's ``team`` column) is one of these.
    - ``date_from``/``date_to``: inclusive calendar dates of the call.
    - ``trackers`` with ``tracker_mode``: keep calls with at least one hit of ``any`` / ``all`` of them.
    - ``talk_ratio``: inclusive (low, high) range of the rep talk ratio, 0–1.
    - ``duration_s``: inclusive (low, high) range of the call duration in seconds.
    - ``search``: every term must occur in the call's transcript (case-insensitive); ``"quoted words"``
      is one phrase.
    """

    reps: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    trackers: tuple[str, ...] = ()
    tracker_mode: Literal["any", "all"] = "any"
    talk_ratio: tuple[float, float] | None = None
    duration_s: tuple[float, float] | None = None
    search: str = ""
    teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class Selection:
    """The calls that pass a :class:`FilterState`: a boolean mask over the index's calls, in order."""

    mask: np.ndarray[Any, np.dtype[np.bool_]]
    call_ids: tuple[str, ...]
    unmeasured_talk: int = 0
    """Calls that pass every other filter but were left out by the talk-ratio filter because their
    rep talk ratio is not measured (NaN: no_role, no_talk, …): the count line says so."""
    doubted_talk: int = 0
    """Selected calls that passed the talk-ratio filter on a rep talk ratio the quality block greys
    (a warning or unreliable flag affects it, e.g. roles_guessed): the count line says so."""
    undated: int = 0
    """Calls that pass every other filter but were left out by the date filter because they have no
    readable date: the count line says so (U9 finding 6: they went without a word)."""

    def __len__(self) -> int:
        return len(self.call_ids)


@dataclass
class CallIndex:
    """Per-call columns precomputed once for fast filtering (one entry per row of ``calls``)."""

    calls: pd.DataFrame
    call_ids: np.ndarray[Any, np.dtype[np.object_]]
    rep_codes: np.ndarray[Any, np.dtype[np.int64]]
    reps: tuple[str, ...]
    dates: np.ndarray[Any, np.dtype[np.datetime64]]
    talk_ratio: np.ndarray[Any, np.dtype[np.float64]]
    duration_s: np.ndarray[Any, np.dtype[np.float64]]
    trackers: tuple[str, ...]
    tracker_counts: np.ndarray[Any, np.dtype[np.int64]]
    transcripts: list[str]
    vocabularies: list[str]
    titles: np.ndarray[Any, np.dtype[np.object_]]
    talk_ratio_column: str | None
    duration_column: str | None
    team_codes: np.ndarray[Any, np.dtype[np.int64]] = field(default_factory=lambda: np.zeros(0, np.int64))
    teams: tuple[str, ...] = ()
    _search_cache: dict[tuple[str, ...], np.ndarray[Any, np.dtype[np.bool_]]] = field(
        default_factory=dict, repr=False
    )
    talk_doubted: np.ndarray[Any, np.dtype[np.bool_]] = field(default_factory=lambda: np.zeros(0, np.bool_))
    """Calls whose rep talk ratio the report and the table grey (:func:`quality_view`)."""

    def __len__(self) -> int:
        return len(self.call_ids)

    def search_mask(self, terms: tuple[str, ...]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Calls whose lowercase transcript contains every term (cached: typing elsewhere is free)."""
        cached = self._search_cache.get(terms)
        if cached is not None:
            return cached
        candidates = np.arange(len(self.transcripts))
        # Narrow on each call's distinct words (a fraction of its transcript) for every word of every
        # term; a term with a space is then confirmed in the full transcripts of the calls left.
        for word in dict.fromkeys(w for term in terms for w in term.split(" ")):
            vocab = self.vocabularies
            candidates = candidates[[word in vocab[i] for i in candidates]]
        for term in (t for t in terms if " " in t):
            texts = self.transcripts
            candidates = candidates[[term in texts[i] for i in candidates]]
        mask = np.zeros(len(self.transcripts), dtype=np.bool_)
        mask[candidates] = True
        if len(self._search_cache) >= 32:
            self._search_cache.pop(next(iter(self._search_cache)))
        self._search_cache[terms] = mask
        return mask


def _first_column(frame: pd.DataFrame, candidates: Sequence[str]) -> str | None:
    return next((name for name in candidates if name in frame.columns), None)


def build_index(calls: CallFrames) -> CallIndex:
    """Precompute the filter columns of a call set. Linear in calls + turns + hits; done once.

    Raises ``ValueError`` naming the missing columns when a frame is not shaped like a ``CallSet``'s.
    """
    frame = check(calls.calls, "calls").reset_index(drop=True)
    check(calls.turns, "turns", [CALL_ID, TEXT])
    check(calls.hits, "hits", [CALL_ID, TRACKER])
    if frame[CALL_ID].duplicated().any():
        duplicated = frame.loc[frame[CALL_ID].duplicated(), CALL_ID].tolist()[:5]
        raise ValueError(f"call_id must be unique in the calls frame; repeated: {duplicated}")
    call_ids = frame[CALL_ID].astype(str).to_numpy(dtype=object)
    n = len(frame)

    # The rep and team filters list the groups cohorts compares: "Ana Lopez", "Ana Lopez " and "ana lopez"
    # are one rep (U4 finding 29), and a call without a rep is in no entry (U5 finding 6: a blank first
    # option, where the team filter had none).
    from hearkit.cohorts import group_labels

    none = pd.Series([None] * n, dtype=object)
    rep_codes, reps = _codes(group_labels(frame, "rep") if "rep" in frame else none)
    team_codes, teams = _codes(group_labels(frame, "team") if "team" in frame else none)

    if "date" in frame:
        # The call's own day, read as the report and cohorts read it: a UTC offset is not moved to
        # the UTC day, and one unreadable value does not unread the others (U3 32, U4 22).
        from hearkit.cohorts import call_dates

        day_values = call_dates(frame["date"].reset_index(drop=True)).to_numpy(dtype="datetime64[D]")
    else:
        day_values = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")

    talk_column = _first_column(frame, TALK_RATIO_COLUMNS)
    talk_ratio = (
        pd.to_numeric(frame[talk_column], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if talk_column
        else np.full(n, np.nan)
    )
    duration_column = _first_column(frame, DURATION_COLUMNS)
    if duration_column:
        duration = pd.to_numeric(frame[duration_column], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    else:
        ends = calls.turns.groupby(CALL_ID, sort=False)["end"].max() if "end" in calls.turns else None
        duration = (
            pd.Series(call_ids).map(ends).to_numpy(dtype=np.float64, na_value=np.nan)
            if ends is not None
            else np.full(n, np.nan)
        )

    position = pd.Series(np.arange(n), index=pd.Index(call_ids))
    hits = calls.hits
    trackers = tuple(sorted(str(t) for t in hits["tracker"].dropna().unique()))
    counts = np.zeros((n, len(trackers)), dtype=np.int64)
    if len(hits) and trackers:
        rows = position.reindex(hits[CALL_ID].astype(str)).to_numpy()
        cols = pd.Index(trackers).get_indexer(pd.Index(hits["tracker"].astype(str)))
        known = ~np.isnan(rows.astype(np.float64)) & (cols >= 0)
        np.add.at(counts, (rows[known].astype(np.int64), cols[known]), 1)

    transcripts, vocabularies = _transcripts(calls.turns, position)

    return CallIndex(
        calls=frame,
        call_ids=call_ids,
        rep_codes=rep_codes,
        reps=reps,
        dates=day_values,
        talk_ratio=talk_ratio,
        duration_s=duration,
        trackers=trackers,
        tracker_counts=counts,
        transcripts=transcripts,
        vocabularies=vocabularies,
        titles=(
            frame["title"].astype("string").fillna("").to_numpy(dtype=object)
            if "title" in frame
            else np.full(n, "", dtype=object)
        ),
        talk_ratio_column=talk_column,
        duration_column=duration_column,
        team_codes=team_codes,
        teams=teams,
        talk_doubted=np.array(
            [bool(quality_view(row, [_TALK_COLUMN]).greyed) for _, row in frame.iterrows()], dtype=np.bool_
        ).reshape(n),
    )


def _label_codes(labels: tuple[str, ...], wanted: Sequence[str]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Codes of the ``wanted`` labels, matched as the labels were grouped (case and spaces ignored)."""

    def key(text: str) -> str:
        return " ".join(str(text).split()).casefold()

    position = {key(label): code for code, label in enumerate(labels)}
    return np.asarray([position[key(w)] for w in wanted if key(w) in position], dtype=np.int64)


def _codes(values: pd.Series) -> tuple[np.ndarray[Any, np.dtype[np.int64]], tuple[str, ...]]:  # type: ignore[type-arg]
    """Integer codes of a text column and its sorted distinct values; a missing or blank value is -1."""
    text = values.astype("string").str.strip()
    categorical = pd.Categorical(text.where(text != ""))
    return np.asarray(categorical.codes, dtype=np.int64), tuple(str(v) for v in categorical.categories)


def _transcripts(turns: pd.DataFrame, position: pd.Series) -> tuple[list[str], list[str]]:
    """Per call (in ``position`` order): its transcript, and its vocabulary.

    Transcript: the turns' text normalized as trackers and ``CallSet.search`` see it (:func:`_normalized`),
    turns joined by a newline (so a phrase never spans two turns). Vocabulary: the call's distinct words,
    space-separated (a word-level search scans this, about a fifth of the transcript).

    Done in Arrow and numpy over all turns at once; a Python-level join per call is ~50× slower on
    two million turns.
    """
    rows = position.reindex(turns[CALL_ID].astype(str)).to_numpy(dtype=np.float64)
    known = np.flatnonzero(~np.isnan(rows))
    calls_of_turns = rows[known].astype(np.int64)
    by_call = np.argsort(calls_of_turns, kind="stable")
    call_sorted = calls_of_turns[by_call]
    text = pa.array(
        turns["text"].astype("str").to_numpy(dtype=object)[known[by_call]], type=pa.large_string()
    )
    text = _normalized(pc.fill_null(text, ""))
    n_calls = len(position)
    space = pa.scalar(" ", pa.large_string())

    def per_call(values: pa.Array, owner: np.ndarray[Any, np.dtype[np.int64]], sep: pa.Scalar) -> list[str]:
        offsets = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=n_calls))])
        lists = pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), values)
        return [str(t) for t in pc.binary_join(lists, sep).to_pylist()]

    transcripts = per_call(text, call_sorted, pa.scalar("\n", pa.large_string()))
    words = pc.utf8_split_whitespace(text)
    encoded = pc.list_flatten(words).dictionary_encode()
    owner = call_sorted[pc.list_parent_indices(words).to_numpy()]
    n_words = max(len(encoded.dictionary), 1)
    pairs = np.unique(owner * n_words + encoded.indices.to_numpy().astype(np.int64))
    vocab = encoded.dictionary.cast(pa.large_string()).take(pa.array(pairs % n_words))
    return transcripts, per_call(vocab, pairs // n_words, space)


def _normalized(text: pa.Array) -> pa.Array:
    """Each turn's text as tracker matching and ``CallSet.search`` see it
    (:func:`hearkit.trackers.normalize_text`: lower case, punctuation dropped, ’ as '), one space
    between words; each distinct word is normalized once. The raw characters hid a call whose ASR
    put a comma or full stop between the searched words (U4 finding 11)."""
    from hearkit.trackers import normalize_text

    words = pc.utf8_split_whitespace(text)
    encoded = pc.list_flatten(words).dictionary_encode()
    plain = pa.array(
        [normalize_text(str(w)) for w in encoded.dictionary.to_pylist()], type=pa.large_string()
    ).take(encoded.indices)
    offsets = pa.array(np.asarray(words.offsets), type=pa.int64())
    joined = pc.binary_join(pa.LargeListArray.from_arrays(offsets, plain), pa.scalar(" ", pa.large_string()))
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(joined, r" +", " "))


def parse_search(text: str) -> tuple[str, ...]:
    """Split a search box into terms normalized as transcripts are (:func:`_normalized`: lower case,
    punctuation dropped); ``"quoted words"`` stay one phrase. Empty → ``()``."""
    from hearkit.trackers import normalize_text

    terms = []
    for quoted, bare in _TERM.findall(text):
        term = normalize_text(quoted or bare)
        if term:
            terms.append(term)
    return tuple(dict.fromkeys(terms))


def _in_range(
    values: np.ndarray[Any, np.dtype[np.float64]], bounds: tuple[float, float]
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    low, high = bounds
    if low > high:
        raise ValueError(f"a range must go from low to high, got ({low}, {high})")
    with np.errstate(invalid="ignore"):
        return (values >= low) & (values <= high)


def apply_filters(index: CallIndex, state: FilterState) -> Selection:
    """The calls of ``index`` that pass every filter of ``state``, in the order of ``index.calls``.

    A call with a missing value (no date, no team, no talk ratio) fails a filter on that value and
    passes when that filter is off. Unknown reps, teams or trackers match no call.
    """
    mask = np.ones(len(index), dtype=np.bool_)
    if state.reps:
        mask &= np.isin(index.rep_codes, _label_codes(index.reps, state.reps))
    if state.teams:
        mask &= np.isin(index.team_codes, _label_codes(index.teams, state.teams))
    dated = np.ones(len(index), dtype=np.bool_)
    if state.date_from is not None:
        dated &= index.dates >= np.datetime64(state.date_from, "D")
    if state.date_to is not None:
        dated &= index.dates <= np.datetime64(state.date_to, "D")
    if state.trackers:
        columns = [index.trackers.index(t) for t in state.trackers if t in index.trackers]
        if state.tracker_mode == "all" and len(columns) < len(state.trackers):
            mask[:] = False
        elif columns:
            present = index.tracker_counts[:, columns] > 0
            mask &= present.all(axis=1) if state.tracker_mode == "all" else present.any(axis=1)
        else:
            mask[:] = False
    if state.duration_s is not None:
        mask &= _in_range(index.duration_s, state.duration_s)
    terms = parse_search(state.search)
    if terms:
        mask &= index.search_mask(terms)
    unmeasured = doubted = undated = 0
    talk = np.ones(len(index), dtype=np.bool_)
    if state.talk_ratio is not None:
        unmeasured = int((mask & dated & np.isnan(index.talk_ratio)).sum())
        talk = _in_range(index.talk_ratio, state.talk_ratio)
    if state.date_from is not None or state.date_to is not None:
        undated = int((mask & talk & np.isnat(index.dates)).sum())
    mask &= dated & talk
    if state.talk_ratio is not None and len(index.talk_doubted) == len(mask):
        doubted = int((mask & index.talk_doubted).sum())
    return Selection(
        mask=mask,
        call_ids=tuple(index.call_ids[mask]),
        unmeasured_talk=unmeasured,
        doubted_talk=doubted,
        undated=undated,
    )


def _fmt_ratio(value: float) -> str:
    return "–" if np.isnan(value) else f"{value:.0%}"


def newest_first(
    index: CallIndex, selection: Selection, limit: int | None = None
) -> np.ndarray[Any, np.dtype[np.intp]]:
    """Positions of the selected calls, newest date first (undated last), at most ``limit``."""
    positions = np.flatnonzero(selection.mask)
    days = index.dates[positions]
    undated = np.isnat(days)
    # Negating the NaT sentinel (int64 min) overflowed back to the smallest value and put the
    # undated calls first (U3 finding 18): sort on (undated, newest) instead.
    newest = np.where(undated, 0, -days.astype("int64"))
    return positions[np.lexsort((newest, undated))][:limit]


def calls_table_html(index: CallIndex, selection: Selection, *, limit: int = TABLE_ROWS) -> str:
    """The calls table as escaped HTML: newest first, at most ``limit`` rows, with a count line."""
    positions = np.flatnonzero(selection.mask)
    shown = newest_first(index, selection, limit)
    hits_per_call = index.tracker_counts[shown].sum(axis=1)
    rows = []
    for pos, n_hits in zip(shown, hits_per_call, strict=True):
        date = index.dates[pos]
        cells = [
            str(index.call_ids[pos]),
            str(index.titles[pos]),
            index.reps[index.rep_codes[pos]] if index.rep_codes[pos] >= 0 else "",
            "" if np.isnat(date) else str(date),
            clock(float(index.duration_s[pos])),
            _fmt_ratio(float(index.talk_ratio[pos])),
            "",
            str(int(n_hits)),
        ]
        # issue 20: the report's rule (hearkit.quality.quality_view): the call's trust, and a rep talk
        # ratio a warning or unreliable flag affects greyed with that flag's reason in its title.
        quality = quality_view(index.calls.iloc[pos], [_TALK_COLUMN])
        cells[6] = quality.trust
        tds = [f"<td>{html.escape(c)}</td>" for c in cells]
        reason = quality.greyed.get(_TALK_COLUMN)
        if reason:
            title = html.escape(f"unreliable: {reason}")
            tds[5] = f'<td style="opacity:.45" title="{title}">{html.escape(cells[5])}</td>'
        rows.append(f'<tr data-call-id="{html.escape(cells[0])}">' + "".join(tds) + "</tr>")
    header = "".join(
        f"<th>{h}</th>"
        for h in ("call", "title", "rep", "date", "duration", "rep talk", "trust", "tracker hits")
    )
    more = f" (showing the newest {len(shown)})" if len(positions) > len(shown) else ""
    if selection.unmeasured_talk:
        n = selection.unmeasured_talk
        more += (
            f"; {n} call{'' if n == 1 else 's'} without a measured rep talk ratio left out by the talk-ratio"
            " filter (widen it to 0–100% to see them)"
        )
    if selection.undated:
        n = selection.undated
        more += (
            f"; {n} call{'' if n == 1 else 's'} without a date left out by the date filter (clear From and To"
            " to see them)"
        )
    if selection.doubted_talk:
        n = selection.doubted_talk
        more += (
            f"; {n} of them pass{'es' if n == 1 else ''} the talk-ratio filter on a greyed rep talk ratio"
            " (unreliable: see the trust column)"
        )
    return (
        f'<div class="hearkit-calls"><p class="hearkit-count">{len(positions)} of {len(index)} calls'
        f"{more}</p><table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def highlight_transcript_html(
    turns: pd.DataFrame, hits: pd.DataFrame, calls: pd.DataFrame | None = None
) -> str:
    """One call's transcript as escaped HTML, tracker phrases wrapped in ``<mark>`` (title = tracker).

    The lines and marks are :func:`hearkit.views.turn_views`' (the report's too): a hit's phrase is
    marked in its own turn. ``calls`` (optional) gives the rep's and customer's names.
    """
    call_id = str(turns[CALL_ID].iloc[0]) if CALL_ID in turns and len(turns) else ""
    row = None
    if calls is not None and CALL_ID in calls:
        rows = calls[calls[CALL_ID].astype(str) == call_id]
        row = rows.iloc[0] if len(rows) else None
    return views.transcript_html(views.call_view(call_id, row, turns, hits).turns)


def _figure_output(figure: Any) -> dict[str, Any]:
    """A display_data output of a plotly figure, rendered by the plotly mime renderer (Lab, Voilà)."""
    return {
        "output_type": "display_data",
        "data": {
            "application/vnd.plotly.v1+json": json.loads(figure.to_json()),
            "text/plain": f"<plotly figure: {figure.layout.title.text or 'chart'}>",
        },
        "metadata": {},
    }


class Dashboard:
    """The widgets of :func:`dashboard` and the glue between them. Display it, or use ``.widget``.

    ``state`` / ``set_state()`` read and drive the filters from code (the same path a click takes);
    ``selection`` is the current :class:`Selection`, ``selected_call`` the call shown in the call view.
    """

    def __init__(self, calls: CallFrames, *, figures: FigureFactory | None = None) -> None:
        import ipywidgets as w

        self.callset = calls
        self.index = build_index(calls)
        self._turn_rows: dict[str, np.ndarray[Any, np.dtype[np.intp]]] | None = None
        self._figures = figures or FigureFactory()
        index = self.index
        durations = index.duration_s[~np.isnan(index.duration_s)]
        max_minutes = float(np.ceil(durations.max() / 60.0)) if len(durations) else 60.0
        valid_dates = index.dates[~np.isnat(index.dates)]
        layout = w.Layout(width="auto")

        self.rep = w.SelectMultiple(options=index.reps, description="Rep", rows=min(6, len(index.reps) or 1))
        # shown only when the calls carry teams (a team filter with no teams would filter nothing)
        self.team = w.SelectMultiple(
            options=index.teams,
            description="Team",
            rows=min(6, len(index.teams) or 1),
            layout=w.Layout(display=None if index.teams else "none"),
        )
        self.date_from = w.DatePicker(description="From")
        self.date_to = w.DatePicker(description="To")
        if len(valid_dates):
            self.date_from.value = valid_dates.min().astype(dt.date)
            self.date_to.value = valid_dates.max().astype(dt.date)
        self._date_bounds = (self.date_from.value, self.date_to.value)
        self.trackers = w.SelectMultiple(
            options=index.trackers, description="Trackers", rows=min(6, len(index.trackers) or 1)
        )
        self.tracker_mode = w.ToggleButtons(options=["any", "all"], value="any", description="Match")
        self.talk_ratio = w.FloatRangeSlider(
            value=(0.0, 100.0), min=0.0, max=100.0, step=1.0, description="Rep talk %"
        )
        self.duration = w.FloatRangeSlider(
            value=(0.0, max_minutes), min=0.0, max=max_minutes, step=0.5, description="Minutes"
        )
        self.search = w.Text(description="Search", placeholder='words or "a phrase"', continuous_update=False)
        self.reset = w.Button(description="Reset filters")
        self.table = w.HTML()
        self.call_picker = w.Dropdown(description="Call", layout=layout)
        self.charts = w.Output()
        self.call_chart = w.Output()
        self.transcript = w.HTML()
        self.summary = w.HTML()

        filters = w.VBox(
            [
                w.HBox([self.rep, self.team, self.trackers, self.tracker_mode]),
                w.HBox([self.date_from, self.date_to]),
                w.HBox([self.talk_ratio, self.duration]),
                w.HBox([self.search, self.reset]),
            ]
        )
        # issue 18 (engineer H): hear the call's moments; compare groups in a second tab
        self.moments = dashboard_tabs.MomentsBox(calls.calls)
        self.compare = dashboard_tabs.CompareTab(calls.calls)
        call_view = w.VBox(
            [self.call_picker, self.call_chart, self.summary, self.moments.widget, self.transcript]
        )
        tabs = w.Tab(children=[w.VBox([filters, self.table, self.charts, call_view]), self.compare.widget])
        tabs.set_title(0, "Calls")
        tabs.set_title(1, "Compare")
        self.widget = w.VBox([tabs], layout=w.Layout(width="100%"))
        self.widget.add_class("hearkit-dashboard")

        self._updating = False
        for control in (
            self.rep,
            self.team,
            self.date_from,
            self.date_to,
            self.trackers,
            self.tracker_mode,
            self.talk_ratio,
            self.duration,
            self.search,
        ):
            control.observe(self._on_filter_change, names="value")
        self.reset.on_click(lambda _button: self.set_state(FilterState()))
        self.call_picker.observe(self._on_call_change, names="value")
        self.selection = apply_filters(index, self.state)
        self._render()

    # -- state <-> widgets -------------------------------------------------------------------------
    @property
    def state(self) -> FilterState:
        """The :class:`FilterState` the widgets show now (full ranges read as "no filter")."""
        low, high = self.talk_ratio.value
        talk = None if (low, high) == (0.0, 100.0) else (low / 100.0, high / 100.0)
        dlow, dhigh = self.duration.value
        duration = (
            None if (dlow, dhigh) == (self.duration.min, self.duration.max) else (dlow * 60, dhigh * 60)
        )
        date_from = self.date_from.value if self.date_from.value != self._date_bounds[0] else None
        date_to = self.date_to.value if self.date_to.value != self._date_bounds[1] else None
        return FilterState(
            reps=tuple(self.rep.value),
            date_from=date_from,
            date_to=date_to,
            trackers=tuple(self.trackers.value),
            tracker_mode=self.tracker_mode.value,
            talk_ratio=talk,
            duration_s=duration,
            search=str(self.search.value),
            teams=tuple(self.team.value),
        )

    def set_state(self, state: FilterState) -> None:
        """Set every filter widget from ``state`` and update the dashboard once.

        Raises :class:`ValueError` for a rep, team or tracker the calls do not have (a widget cannot
        hold it, and dropping it would silently turn that filter off) and for a talk-ratio range
        outside 0–1 (a fraction, not a percent)."""
        for label, wanted, known in (
            ("rep", state.reps, self.index.reps),
            ("team", state.teams, self.index.teams),
            ("tracker", state.trackers, self.index.trackers),
        ):
            unknown = [v for v in wanted if v not in known]
            if unknown:
                raise ValueError(
                    f"no call has {label} {', '.join(map(repr, unknown))}; the {label}s of these calls are:"
                    f" {', '.join(map(repr, known)) or 'none'}"
                )
        if state.talk_ratio is not None and not all(0.0 <= v <= 1.0 for v in state.talk_ratio):
            raise ValueError(
                "talk_ratio is a range of fractions between 0 and 1, such as (0.5, 0.7),"
                f" not {state.talk_ratio!r}"
            )
        self._updating = True
        try:
            self.rep.value = tuple(state.reps)
            self.team.value = tuple(state.teams)
            self.date_from.value = state.date_from or self._date_bounds[0]
            self.date_to.value = state.date_to or self._date_bounds[1]
            self.trackers.value = tuple(state.trackers)
            self.tracker_mode.value = state.tracker_mode
            low, high = state.talk_ratio or (0.0, 1.0)
            self.talk_ratio.value = (low * 100.0, high * 100.0)
            dlow, dhigh = state.duration_s or (self.duration.min * 60, self.duration.max * 60)
            self.duration.value = (dlow / 60.0, dhigh / 60.0)
            self.search.value = state.search
        finally:
            self._updating = False
        self._on_filter_change(None)

    # -- updates -----------------------------------------------------------------------------------
    def _on_filter_change(self, _change: object) -> None:
        if self._updating:
            return
        self.selection = apply_filters(self.index, self.state)
        self._render()

    def _render(self) -> None:
        index, selection = self.index, self.selection
        self.table.value = calls_table_html(index, selection)
        options = [str(index.call_ids[p]) for p in newest_first(index, selection, TABLE_ROWS)]
        previous = self.call_picker.value
        self._updating = True
        try:
            self.call_picker.options = options
            self.call_picker.value = previous if previous in options else (options[0] if options else None)
        finally:
            self._updating = False
        self._set_figures(self.charts, self._figures.overview(self, selection))
        self._render_call()

    def _on_call_change(self, _change: object) -> None:
        if not self._updating:
            self._render_call()
            self._set_figures(self.charts, self._figures.overview(self, self.selection))

    def turns_of(self, call_ids: Sequence[str] | pd.Series) -> pd.DataFrame:
        """The turns of these calls (rows found through an index built on first use)."""
        if self._turn_rows is None:
            groups = self.callset.turns.groupby(self.callset.turns[CALL_ID].astype(str), sort=False)
            self._turn_rows = {str(k): np.asarray(v) for k, v in groups.indices.items()}
        turn_rows = self._turn_rows
        rows = [turn_rows[c] for c in map(str, call_ids) if c in turn_rows]
        positions = np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)
        return self.callset.turns.iloc[np.sort(positions)]

    def hits_of(self, call_id: str) -> pd.DataFrame:
        """The tracker hits of one call."""
        hits = self.callset.hits
        return hits[hits[CALL_ID].astype(str) == call_id]

    @property
    def selected_call(self) -> str | None:
        """The call id shown in the call view (``None`` when no call passes the filters)."""
        value = self.call_picker.value
        return None if value is None else str(value)

    def _render_call(self) -> None:
        call_id = self.selected_call
        if call_id is None:
            self._set_figures(self.call_chart, [])
            self.transcript.value = "<p>No call matches the filters.</p>"
            self.summary.value = ""
            return
        call_turns = self.turns_of([call_id])
        call_hits = self.hits_of(call_id)
        self.moments.show(call_id, call_turns, call_hits)
        self._set_figures(self.call_chart, self._figures.call(self, call_id, call_turns, call_hits))
        view = views.call_view(
            call_id, self._call_row(call_id), call_turns, call_hits, summaries_of(self.callset).get(call_id)
        )
        self.transcript.value = views.transcript_html(view.turns)
        # The call's title and metadata (id · rep · customer · team · date), then its summary.
        heading = f"<b>{html.escape(view.heading)}</b> {html.escape(view.subheading)}"
        quality = quality_html(view.quality) if view.quality is not None else ""  # issue 20: trust and flags
        notes = "".join(f'<p class="hearkit-muted">{html.escape(note)}.</p>' for note in view.notes)
        self.summary.value = (
            f'<p class="hearkit-call-meta">{heading}</p>' + quality + notes + views.summary_html(view.summary)
        )

    def _call_row(self, call_id: str) -> pd.Series | None:
        positions = np.flatnonzero(self.index.call_ids == call_id)
        return self.index.calls.iloc[int(positions[0])] if len(positions) else None

    @staticmethod
    def _set_figures(output: Any, figures: Sequence[Any]) -> None:
        # Output.outputs is set directly: `with output:` only captures inside a running kernel.
        output.outputs = tuple(_figure_output(f) for f in figures)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


class FigureFactory:
    """Which charts the dashboard draws (from :mod:`hearkit.charts`). Subclass to show others."""

    #: Talk-ratio bars are drawn for at most this many of the filtered calls (the newest ones).
    max_bars = 25

    def overview(self, board: Dashboard, selection: Selection) -> list[Any]:
        """Charts of the filtered calls: talk ratio per call, metric distributions (selected call marked)."""
        from hearkit import charts

        if not len(selection):
            return []
        index = board.index
        calls = index.calls.loc[selection.mask]
        shown = index.calls.iloc[newest_first(index, selection, self.max_bars)]
        figures = [charts.talk_ratio(board.turns_of(shown[CALL_ID]), shown)]
        selected = board.selected_call
        # A call set without numeric metric columns has nothing to distribute.
        with contextlib.suppress(ValueError):
            figures.append(charts.metric_distributions(calls, selected=selected))
        return figures

    def call(self, board: Dashboard, call_id: str, turns: pd.DataFrame, hits: pd.DataFrame) -> list[Any]:
        """Charts of one call: its timeline with tracker hits, as long as the call (the report's: a
        hold or a silent tail after the last turn is drawn, U4 finding 10)."""
        from hearkit import charts

        if not len(turns):
            return []
        row = board._call_row(call_id)
        duration = views.duration_of(row) if row is not None else None
        return [charts.call_timeline(turns, call_id, hits=hits, duration_s=duration)]


def dashboard(calls: CallFrames, *, figures: FigureFactory | None = None) -> Dashboard:
    """Build the dashboard for a call set; the notebook displays the returned object.

    Example::

        board = dashboard(CallSet.load_sample())
        board                                   # shows the widgets
        board.set_state(FilterState(search="pricing"))

    The turns frame needs what the call view shows (as :func:`hearkit.report.write_report`):
    ``call_id, turn, speaker, role, start, end, text``; a frame without them is a ValueError naming
    the missing columns (it was a bare ``KeyError: 'turn'`` from deep in the moments list).
    """
    if not all(hasattr(calls, name) for name in ("calls", "turns", "hits")):
        raise TypeError(
            f"dashboard takes a CallSet (CallSet.load(folder), analyze_calls(...)) or anything with calls,"
            f" turns and hits frames, not {type(calls).__name__}"
        )
    check(calls.turns, "turns", [CALL_ID, TURN, SPEAKER, ROLE, START, END, TEXT])
    return Dashboard(calls, figures=figures)
