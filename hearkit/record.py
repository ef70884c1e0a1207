"""Per-call records and sets of calls: the guide's ``analyzeCall``, for one call or thousands.

:func:`analyze_call` turns one job or result into a typed :class:`CallRecord` (job id, audio
seconds, speakers with talk ratio, every scorecard metric, tracker hits, top keywords, a
speaker-labelled transcript, formats, an optional summary and your metadata).
:func:`analyze_calls` does the same for many calls at once and returns a :class:`CallSet` of
DataFrames (``calls`` one row per call, ``turns``, ``words``, ``hits``, ``speakers``) plus
``summaries``; :meth:`CallSet.save` / :meth:`CallSet.load` write and read it as Parquet, losslessly.
"""

from __future__ import annotations

import itertools
import json
import numbers
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Unpack

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, Field, PrivateAttr

from hearkit import __version__
from hearkit.frames import CALL_ID
from hearkit.locate import AUDIO_EXTENSIONS, batch_output_of, callset_folder, reading_dataset
from hearkit.metrics import SCORECARD_COLUMNS, scorecards, speaker_stats
from hearkit.prompting import VOCABULARY_COLUMN, VocabularyGiven, terms_of, terms_of_field, vocabulary_cells
from hearkit.provenance import AnalysisChangedWarning, analysis_fingerprint
from hearkit.quality import (
    GUESSED_ROLE_SOURCES,
    QUALITY_COLUMNS,
    blank_unmeasured,
    quality_cells,
    quality_columns,
    quality_of,
    roles_set_by_user,
)
from hearkit.schema import Quality, Result
from hearkit.summarize import summarize_calls
from hearkit.summary import CallSummary
from hearkit.trackers import DEFAULT_TRACKERS, Tracker, find_hits, pricing_near_end
from hearkit.transcript import (
    RoleMap,
    Source,
    canonical_role,
    empty_turns,
    empty_words,
    normalize_many,
    resolve,
)

if TYPE_CHECKING:
    from hearkit.search import SearchOptions

__all__ = [
    "CALL_METADATA_COLUMNS",
    "STOP_WORDS",
    "CallRecord",
    "CallSet",
    "Keyword",
    "SpeakerTalk",
    "TrackerHit",
    "TurnRow",
    "analyze_call",
    "analyze_calls",
    "labelled_transcript",
    "sample_dir",
    "top_keywords",
]

CALL_METADATA_COLUMNS = ("title", "rep", "customer", "date", "kind", "team")
STEREO_ROLES: dict[str | int, str] = {0: "rep", 1: "customer"}

_STOP_TEXT = """
a about above after again against all also am an and any are aren't as at be because been before being
below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
during each few for from further get got had hadn't has hasn't have haven't having he he'd he'll he's her
here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its
itself just let's like me more most mustn't my myself no nor not now of off on once only or other ought our
ours ourselves out over own really right same shan't she she'd she'll she's should shouldn't so some such
sure than that that's the their theirs them themselves then there there's these they they'd they'll
they're they've this those through to too under until up very was wasn't we we'd we'll we're we've were
weren't what what's when when's where where's which while who who's whom why why's will with won't would
wouldn't yes yeah you you'd you'll you're you've your yours yourself yourselves okay ok um uh hmm mm oh
well thanks thank great one two going know think want need see look make much many lot thing things
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
_STOP_ARRAY = pa.array(sorted(STOP_WORDS), type=pa.large_string())
_KEYWORD_CHUNK_TURNS = 250_000
_EDGE_PUNCTUATION = "'\".,?!;:()[]{}<>«»“”‘’…*_#@&+=~`|"


class SpeakerTalk(BaseModel):
    """One speaker's talk: seconds (union of their turns), ``ratio`` of total talk time (0–1) and
    ``pct`` = round(100 × ratio) as the guide prints it."""

    speaker: str
    role: str
    talk_s: float
    ratio: float | None
    pct: int | None


class TrackerHit(BaseModel):
    """One tracker match (see :func:`hearkit.trackers.find_hits`)."""

    tracker: str
    phrase: str
    speaker: str
    role: str
    start: float
    end: float
    position: float | None
    snippet: str
    turn: int
    time_source: str


class Keyword(BaseModel):
    word: str
    count: int


class TurnRow(BaseModel):
    """One row of the turns frame (``turn`` is the id summaries cite)."""

    turn: int
    speaker: str
    channel: int | None
    role: str
    role_source: str
    start: float
    end: float
    text: str
    n_words: int


class CallRecord(BaseModel):
    """Everything known about one call. ``metrics`` is its :func:`hearkit.metrics.scorecards` row
    (definitions there); ``talk_ratio`` maps speaker label → share of total talk time (0–1);
    ``flags`` lists the data-quality flags of the metrics;
    ``quality`` is the transcriber's quality block (:mod:`hearkit.quality`; ``None``: not measured);
    ``vocabulary`` the terms the job was prompted with (:mod:`hearkit.prompting`; ``[]``: none sent, or
    not said): words, fillers, questions and action items of a prompted call may differ from a plain one.

    A record made by :func:`analyze_call` or :meth:`CallSet.record` also holds the call's words frame
    (:meth:`words_frame`: each word's own start and end) in memory, so :meth:`CallSet.from_records`
    keeps them; it is not part of the record's JSON (a long call's words would be most of it), so a
    record read back from JSON has none (see :meth:`CallSet.from_records` for what that changes)."""

    call_id: str
    job_id: str | None = None
    audio_seconds: float | None = None
    speakers: list[SpeakerTalk] = Field(default_factory=list)
    talk_ratio: dict[str, float | None] = Field(default_factory=dict)
    metrics: dict[str, bool | int | float | str | None] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)
    hits: list[TrackerHit] = Field(default_factory=list)
    keywords: list[Keyword] = Field(default_factory=list)
    transcript: str = ""
    turns: list[TurnRow] = Field(default_factory=list)
    formats: dict[str, str] | None = None
    summary: CallSummary | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    quality: Quality | None = None
    vocabulary: list[str] = Field(default_factory=list)
    _words: pd.DataFrame | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        """Equal when every field is (the words held in memory are not compared: a DataFrame has no
        single truth value, and a record read back from JSON is the same record without them)."""
        if not isinstance(other, CallRecord):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def words_frame(self) -> pd.DataFrame | None:
        """The call's words frame (``CallSet.words`` rows of this call), or ``None`` when the record
        does not hold it (read from JSON, or built by hand)."""
        return None if self._words is None else self._words.copy()

    def turns_frame(self) -> pd.DataFrame:
        """The record's turns as a turns frame (with ``call_id``)."""
        if not self.turns:
            return empty_turns()
        frame = pd.DataFrame([t.model_dump() for t in self.turns])
        frame.insert(0, CALL_ID, self.call_id)
        frame["duration_s"] = (frame["end"] - frame["start"]).clip(lower=0)
        return frame

    def play(
        self, t: float, *, audio: str | Path | None = None, before_s: float = 2.0, after_s: float = 8.0
    ) -> Any:
        """An audio player of this call from ``t − before_s`` to ``t + after_s`` seconds (a notebook
        widget, :func:`hearkit.report_audio.play`). ``audio``: the recording (default: the
        ``audio_path`` metadata, or the sample recording of a sample call)."""
        from hearkit import clips, report_audio
        from hearkit._extras import require

        # before the recording's length is read (PyAV, [local]): a player needs [notebook] first
        require("notebook", "play() (an audio player for a notebook)", "IPython")
        duration = self.audio_seconds if self.audio_seconds is not None else self.metrics.get("duration_s")
        _check_play_time(self.call_id, t, duration)
        frame = pd.DataFrame([{**self.metadata, CALL_ID: self.call_id}])
        found = clips.audio_files(frame, None)
        path = audio if audio is not None else found.get(self.call_id)
        changed = clips.changed_recordings(frame).get(self.call_id)
        if path is None and changed is not None:  # the file under its name is another recording now
            raise FileNotFoundError(f"{changed}; pass play(t, audio='path/to/the/original.wav')")
        if path is None:
            raise FileNotFoundError(
                f"no recording of {self.call_id!r} at hand: pass play(t, audio='path/to/call.wav')"
            )
        wrong = clips.length_mismatch(path, self.call_id, self.audio_seconds, self.metrics.get("duration_s"))
        if wrong is not None:
            raise ValueError(wrong)
        return report_audio.play(path, t, before_s=before_s, after_s=after_s)


def _mark_without_result(calls: pd.DataFrame, resolved: Sequence[Any]) -> None:
    """Rows of jobs without a result (failed, not finished, result offloaded): flag ``no_result``
    only, every scorecard number not measured (NaN / NA), and ``job_error`` saying why. They read
    as a 0-second call with "0 speaker switches" and ``no_talk`` ("nobody spoke") before."""
    missing = np.array([r.result is None for r in resolved], dtype=bool)
    if not missing.any():
        return
    reasons = []
    for r in resolved:
        if r.result is not None:
            reasons.append("")
        elif r.job is not None and r.job.error:
            reasons.append(f"{r.job.status}: {r.job.error}")
        elif r.job is not None and r.job.status in ("failed", "canceled", "cancelled"):
            reasons.append(str(r.job.status))
        elif r.job is not None and r.job.result_url:
            reasons.append(
                "the result is not inline (result_url): pass client.jobs.result(job) instead of the job"
            )
        else:
            reasons.append(f"no result yet (status {r.job.status if r.job is not None else 'unknown'})")
    calls["job_error"] = pd.array(reasons, dtype="str")
    rows = calls.index[missing]
    for column in SCORECARD_COLUMNS:
        if column in (CALL_ID, "flags") or column not in calls.columns:
            continue
        if pd.api.types.is_float_dtype(calls[column]):
            calls.loc[rows, column] = np.nan
        elif pd.api.types.is_numeric_dtype(calls[column]) and not pd.api.types.is_bool_dtype(calls[column]):
            if not isinstance(calls[column].dtype, pd.Int64Dtype):
                calls[column] = calls[column].astype("Int64")
            calls.loc[rows, column] = pd.NA
    calls.loc[rows, "flags"] = "no_result"


def _settles_roles(roles: RoleMap | None) -> bool:
    """Whether ``roles=`` is the caller's own decision on who is the rep: any map except the
    channel order the engine itself assumed and doubts (``{0: "rep", 1: "customer"}``, also what a
    two-file call's ``--rep/--customer`` give), whose ``roles_maybe_swapped`` stays: that is the
    warning that the files or channels may be the wrong way round."""
    if not isinstance(roles, Mapping):  # None, or bad input that normalize_many refuses in one line
        return False
    given = {str(k): canonical_role(str(v)) for k, v in roles.items()}
    return given != {"0": "rep", "1": "customer"}


def _check_not_among_recordings(path: Path) -> None:
    """Refuse to save calls into a folder of recordings (U4 finding 27: saved among a .wav and a
    user's file without a word), naming a sub-folder to use instead."""
    if not path.is_dir():
        return
    recordings = sorted(
        p.name for p in path.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS
    )
    if recordings:
        shown = ", ".join(recordings[:3]) + (f", … ({len(recordings)} files)" if len(recordings) > 3 else "")
        raise ValueError(
            f"{path} holds recordings ({shown}): saved calls among them would be listed as skipped files by"
            f" the next `hearkit batch {path}` and make the folder read as a saved set. Save them in a folder"
            f" of their own, e.g. .save({str(path / 'hearkit-calls')!r})"
        )


def _warn_if_computed_elsewhere(path: Path, meta: Mapping[str, Any]) -> None:
    """One warning when the saved calls were computed by another version of hearkit's analysis
    (:mod:`hearkit.provenance`), with the way to recompute them."""
    saved = meta.get("analysis")
    fingerprint = saved.get("fingerprint") if isinstance(saved, dict) else None
    if fingerprint == analysis_fingerprint():
        return
    batch = batch_output_of(path)
    again = (
        f"run `hearkit batch --out {batch}` to recompute them from the stored transcripts (no transcription)"
        if batch is not None
        else "analyse the calls again (analyze_calls of their jobs or results) to recompute them"
    )
    warnings.warn(
        f"{path}: the metrics, tracker hits and summaries were computed by "
        f"{'an older' if fingerprint is None else 'another'} version of hearkit's analysis than the one"
        f" installed, so they may lack its fixes: {again}",
        AnalysisChangedWarning,
        stacklevel=4,
    )


def _tracker_json(tracker: Tracker) -> dict[str, Any]:
    """A role-limited tracker as ``callset.json`` keeps it (what :func:`_tracker_of` reads back)."""
    return {
        "name": tracker.name,
        "phrases": list(tracker.phrases),
        "patterns": list(tracker.patterns),
        "role": tracker.role,
        "inflect": tracker.inflect,
    }


def _tracker_of(saved: Any) -> Tracker:
    if not isinstance(saved, dict):
        raise ValueError(f"role_trackers holds {type(saved).__name__}, not a tracker object")
    return Tracker(
        str(saved["name"]),
        tuple(str(p) for p in saved.get("phrases") or ()),
        tuple(str(p) for p in saved.get("patterns") or ()),
        role=saved.get("role"),
        inflect=bool(saved.get("inflect", True)),
    )


def _check_play_time(call_id: str, t: object, duration: object) -> None:
    """One-line errors for a time ``play`` cannot play: not a number, or past the call's end (an
    empty player said nothing; NaN gave "cannot convert float NaN to integer")."""
    from hearkit.timecode import clock

    if isinstance(t, bool) or not isinstance(t, numbers.Real) or not np.isfinite(float(t)):
        raise ValueError(f"t must be a number of seconds into the call, not {t!r}")
    if isinstance(duration, numbers.Real) and np.isfinite(float(duration)) and 0 < float(duration) < float(t):
        raise ValueError(
            f"t={float(t):g} s is past the end of {call_id} ({clock(float(duration))});"
            " t is seconds into the call (2:30 is t=150)"
        )


@dataclass
class CallSet:
    """Many analysed calls as DataFrames.

    ``calls``: one row per call: ``call_id``, ``job_id``, ``audio_seconds``, metadata columns
    (``title``, ``rep``, ``customer``, ``date``, ``kind``, and any other given), every scorecard
    column, ``hits_<tracker>`` counts, ``pricing_late`` and ``top_keywords``. ``turns``, ``words``,
    ``hits`` and ``speakers`` (:func:`hearkit.metrics.speaker_stats`) are the long frames;
    ``summaries`` maps call_id → :class:`~hearkit.summary.CallSummary`.
    """

    calls: pd.DataFrame
    turns: pd.DataFrame
    words: pd.DataFrame
    hits: pd.DataFrame
    speakers: pd.DataFrame
    summaries: dict[str, CallSummary] = field(default_factory=dict)
    formats: dict[str, dict[str, str]] = field(default_factory=dict)
    role_trackers: tuple[Tracker, ...] = ()
    """The trackers limited to one role that made ``hits``, so :meth:`with_roles` can match them
    again on the relabelled speech (saved in ``callset.json``; a set saved before they were has
    none, and its role-limited hits keep their old role after :meth:`with_roles`)."""

    _FRAMES = ("calls", "turns", "words", "hits", "speakers")

    def __len__(self) -> int:
        return len(self.calls)

    @property
    def call_ids(self) -> list[str]:
        return [str(c) for c in self.calls[CALL_ID]]

    def record(self, call_id: str) -> CallRecord:
        """The :class:`CallRecord` of one call of the set."""
        rows = self.calls[self.calls[CALL_ID] == call_id]
        if rows.empty:
            raise KeyError(f"no call {call_id!r} in this CallSet; known: {self.call_ids[:10]}")
        row = rows.iloc[0]
        turns = self.turns[self.turns[CALL_ID] == call_id]
        speakers = self.speakers[self.speakers[CALL_ID] == call_id]
        hits = self.hits[self.hits[CALL_ID] == call_id]
        metric_cols = [c for c in self.calls.columns if c not in _RECORD_FIELDS]
        metrics = {c: _plain(row[c]) for c in metric_cols if c not in self._metadata_columns()}
        flags = str(row.get("flags") or "")
        talk = []
        for s in speakers.sort_values("talk_s", ascending=False).to_dict("records"):
            ratio = _plain(s["talk_ratio"])
            talk.append(
                SpeakerTalk(
                    speaker=str(s["speaker"]),
                    role=str(s["role"]),
                    talk_s=float(s["talk_s"]),
                    ratio=ratio,
                    pct=None if ratio is None else round(100 * ratio),
                )
            )
        record = CallRecord(
            call_id=call_id,
            job_id=_plain(row.get("job_id")),
            audio_seconds=_plain(row.get("audio_seconds")),
            speakers=talk,
            talk_ratio={t.speaker: t.ratio for t in talk},
            metrics=metrics,
            flags=[f for f in flags.split(",") if f],
            hits=[TrackerHit(**_plain_dict(h)) for h in hits.to_dict("records")],
            keywords=top_keywords(turns, n=8).get(call_id, []),
            transcript=labelled_transcript(turns),
            turns=[TurnRow(**_plain_dict(t)) for t in turns[list(TurnRow.model_fields)].to_dict("records")],
            formats=self.formats.get(call_id),
            summary=self.summaries.get(call_id),
            metadata={c: _plain(row[c]) for c in self._metadata_columns() if c in row.index},
            quality=quality_of(row),
            vocabulary=terms_of(row.get(VOCABULARY_COLUMN)),
        )
        record._words = self.words[self.words[CALL_ID].astype(str) == call_id].reset_index(drop=True)
        return record

    def records(self) -> list[CallRecord]:
        return [self.record(c) for c in self.call_ids]

    def search(self, phrase: str, **options: Unpack[SearchOptions]) -> pd.DataFrame:
        """Every occurrence of ``phrase`` in the set's calls, with the words' timestamps
        (:func:`hearkit.search.search`, same options: ``role``, ``speaker``, ``context_words``,
        ``limit``; the index is built on first use and kept)."""
        from hearkit.search import search

        return search(self.search_index(), self.turns, phrase, **options)

    def moments(
        self, kinds: Sequence[str] = ("hit", "monologue", "interruption"), **options: Any
    ) -> pd.DataFrame:
        """Every moment worth hearing (tracker hits, monologues, interruptions) with the span to
        play (:func:`hearkit.moments.moments`; ``options`` go there)."""
        from hearkit.moments import moments

        return moments(self.turns, self.hits, kinds=kinds, **options)

    def play(self, call_id: str, t: float, *, audio: str | Path | None = None) -> Any:
        """A player of one call's audio around ``t`` seconds (:meth:`CallRecord.play`)."""
        from hearkit import clips, report_audio
        from hearkit._extras import require

        # before the recording's length is read (PyAV, [local]): a player needs [notebook] first
        require("notebook", "play() (an audio player for a notebook)", "IPython")
        row = self.calls[self.calls[CALL_ID].astype(str) == str(call_id)]
        if row.empty:
            known = self.calls[CALL_ID].astype(str).tolist()
            shown = ", ".join(known[:10]) + (f", … ({len(known)} calls)" if len(known) > 10 else "")
            raise ValueError(f"no call {call_id!r} in this set; calls: {shown or 'none'}")
        first = row.iloc[0]
        duration = first.get("audio_seconds")
        if duration is None or pd.isna(duration):
            duration = first.get("duration_s")
        _check_play_time(str(call_id), t, duration)
        found = clips.audio_files(row)
        path = audio if audio is not None else found.get(call_id)
        if path is None:
            raise FileNotFoundError(
                f"no recording of {call_id!r} at hand: pass play(call_id, t, audio='call.wav')"
            )
        wrong = clips.length_mismatch(path, str(call_id), first.get("audio_seconds"), first.get("duration_s"))
        if wrong is not None:
            raise ValueError(wrong)
        return report_audio.play(path, t)

    def search_index(self) -> Any:
        """The set's :class:`hearkit.search.PhraseIndex`, built once (again if the turns' times changed)."""
        from hearkit.search import build_index, fingerprint

        index = self.__dict__.get("_phrase_index")
        if index is None or index.fingerprint != fingerprint(self.turns):
            index = build_index(self.turns, self.words)
            self.__dict__["_phrase_index"] = index
        return index

    def with_roles(self, roles: Mapping[str, Mapping[str, str]]) -> CallSet:
        """A copy with the given speakers' roles (``{call_id: {speaker: role}}``); metrics, hits and
        speakers follow, ``role_source`` says ``user`` (:func:`hearkit.relabel.with_roles`)."""
        from hearkit.relabel import with_roles

        return with_roles(self, roles)

    def merge_speakers(self, call_id: str, speakers: Sequence[str], *, into: str | None = None) -> CallSet:
        """A copy where ``speakers`` of one call are one speaker (:func:`hearkit.relabel.merge_speakers`)."""
        from hearkit.relabel import merge_speakers

        return merge_speakers(self, call_id, speakers, into=into)

    def split_speaker(
        self, call_id: str, speaker: str, turns: Sequence[int], *, new_speaker: str, role: str | None = None
    ) -> CallSet:
        """A copy where some turns of a speaker go to a new one (:func:`hearkit.relabel.split_speaker`)."""
        from hearkit.relabel import split_speaker

        return split_speaker(self, call_id, speaker, turns, new_speaker=new_speaker, role=role)

    def _metadata_columns(self) -> list[str]:
        return [c for c in self.calls.attrs.get("metadata_columns", CALL_METADATA_COLUMNS) if c in self.calls]

    @classmethod
    def from_records(cls, records: Sequence[CallRecord]) -> CallSet:
        """A set made of records (their metrics, hits, turns, words and summaries).

        The words come from each record's :meth:`CallRecord.words_frame` (a record made by
        :func:`analyze_call` or :meth:`record` holds them). A record read back from JSON holds none:
        its call has no rows in ``words``, so :meth:`search` and the hits :meth:`with_roles` matches
        again time a phrase within its turn by its position in the text (``time_source``
        ``interpolated``: 0.03–0.2 s off the words' own times on sample call 03) instead of by the
        words' timestamps; the metrics, hits, turns and summaries are the record's own."""
        rows, turns, words, hits, speakers = [], [], [], [], []
        for rec in records:
            rows.append(
                {
                    CALL_ID: rec.call_id,
                    "job_id": rec.job_id,
                    "audio_seconds": rec.audio_seconds,
                    **rec.metadata,
                    **rec.metrics,
                    # the quality block, so a report or dashboard of records greys what it doubts
                    **quality_cells(rec.quality),
                    VOCABULARY_COLUMN: ", ".join(rec.vocabulary),
                }
            )
            turns.append(rec.turns_frame())
            held = rec.words_frame()
            if held is not None and len(held):
                words.append(held)
            for h in rec.hits:
                hits.append({CALL_ID: rec.call_id, **h.model_dump()})
            for s in rec.speakers:
                speakers.append(
                    {CALL_ID: rec.call_id, "speaker": s.speaker, "role": s.role, "talk_s": s.talk_s}
                )
        calls = pd.DataFrame(rows)
        calls.attrs["metadata_columns"] = sorted({k for r in records for k in r.metadata})
        return cls(
            calls=calls,
            turns=pd.concat(turns, ignore_index=True) if turns else empty_turns(),
            words=pd.concat(words, ignore_index=True) if words else empty_words(),
            hits=pd.DataFrame(hits) if hits else find_hits(None),
            speakers=pd.DataFrame(speakers),
            summaries={r.call_id: r.summary for r in records if r.summary is not None},
            formats={r.call_id: r.formats for r in records if r.formats},
        )

    def save(self, folder: str | Path, *, overwrite: bool = False) -> Path:
        """Write every frame as Parquet (``<name>.parquet``) plus ``callset.json`` into ``folder``.

        A folder that already holds a saved set with calls this set does not have is refused with a
        ValueError naming them (saving 2 calls over 4 left the 2 without a word); ``overwrite=True``
        replaces it. Saving a set over itself (the same calls, e.g. after ``with_roles``) is fine.

        A folder holding recordings (``.wav``, ``.mp3``, …) is refused too: the six files among them
        would be "skipped" files of the next ``hearkit batch`` of that folder, and the folder would read
        as a saved set. A ``hearkit batch --out`` folder, or its ``dataset/``, is refused with a
        ValueError that says what to do: the batch rebuilds its dataset/ from its per-call results at
        every run, so calls saved there would be overwritten, or (at the top of the folder) never be
        what the batch and ``CallSet.load`` read. Save in a folder of your own, or keep role fixes in
        the batch with :func:`hearkit.batch.with_roles` / ``hearkit remap``, which every later run
        replays.
        """
        path = Path(folder)
        batch = batch_output_of(path)
        if batch is not None:
            raise ValueError(batch_save_refusal(path, batch))
        _check_not_among_recordings(path)
        if not overwrite:
            self._check_not_replacing(path)
        path.mkdir(parents=True, exist_ok=True)
        for name in self._FRAMES:
            getattr(self, name).to_parquet(path / f"{name}.parquet", index=False)
        meta = {
            "summaries": {k: v.model_dump(mode="json") for k, v in self.summaries.items()},
            "formats": self.formats,
            "metadata_columns": self._metadata_columns(),
            "role_trackers": [_tracker_json(t) for t in self.role_trackers],
            "analysis": {"hearkit": __version__, "fingerprint": analysis_fingerprint()},
        }
        (path / "callset.json").write_text(json.dumps(meta, indent=1))
        return path

    @classmethod
    def load(cls, folder: str | Path) -> CallSet:
        """Read a set written by :meth:`save`, the output folder of ``hearkit batch --out`` or its
        ``dataset/`` (:func:`hearkit.locate.callset_folder`; anything else raises FileNotFoundError).
        A batch's dataset is read whole while no rebuild swaps it (:func:`hearkit.locate.reading_dataset`)."""
        with reading_dataset(folder):
            return cls._read(callset_folder(folder))  # called here: its warnings name the caller's line

    @classmethod
    def _read(cls, path: Path) -> CallSet:
        frames: dict[str, pd.DataFrame] = {}
        try:
            name = "callset.json"
            meta = json.loads((path / name).read_text(encoding="utf-8"))
            if not isinstance(meta, dict):
                raise ValueError(f"a JSON object was expected, not {type(meta).__name__}")
            summaries = {k: CallSummary.model_validate(v) for k, v in (meta.get("summaries") or {}).items()}
            role_trackers = tuple(_tracker_of(t) for t in meta.get("role_trackers") or [])
            for frame_name in cls._FRAMES:
                name = f"{frame_name}.parquet"
                frames[frame_name] = pd.read_parquet(path / name)
        except (ValueError, OSError, AttributeError, TypeError) as exc:  # JSON, Arrow, pydantic errors
            batch = batch_output_of(path)
            again = (
                f"run `hearkit batch --out {batch}` to rebuild it from the per-call results"
                if batch is not None
                else "save the calls again (CallSet.save)"
            )
            reason = " ".join(str(exc).split())[:200]
            raise ValueError(f"{path / name} is damaged ({reason}): {again}") from exc
        frames["calls"].attrs["metadata_columns"] = meta.get("metadata_columns", list(CALL_METADATA_COLUMNS))
        _warn_if_computed_elsewhere(path, meta)
        return cls(
            calls=frames["calls"],
            turns=frames["turns"],
            words=frames["words"],
            hits=frames["hits"],
            speakers=frames["speakers"],
            summaries=summaries,
            formats=meta.get("formats") or {},
            role_trackers=role_trackers,
        )

    def _check_not_replacing(self, path: Path) -> None:
        """A saved set in ``path`` whose calls are not all in this one would be lost: say which."""
        if not (path / "callset.json").is_file() or not (path / "calls.parquet").is_file():
            return
        try:
            saved = pd.read_parquet(path / "calls.parquet", columns=[CALL_ID])[CALL_ID].astype(str)
        except (OSError, ValueError, KeyError):
            return  # a damaged copy: CallSet.load says so; saving over it repairs it
        lost = sorted(set(saved) - set(self.calls[CALL_ID].astype(str)))
        if lost:
            shown = ", ".join(lost[:5]) + (f", … ({len(lost)} calls)" if len(lost) > 5 else "")
            raise ValueError(
                f"{path} already holds {len(saved)} saved calls, {len(lost)} of them not in this set"
                f" ({shown}): saving here would replace them. Save in another folder, add them first"
                " (CallSet.load(folder) and this set, then one save), or pass overwrite=True"
            )

    @classmethod
    def load_sample(
        cls, source: Literal["stereo", "mono", "truth"] = "stereo", folder: str | Path | None = None
    ) -> CallSet:
        """The committed sample calls, analysed from their stored engine results (no transcription).

        ``source="stereo"`` uses ``<call_id>.result.json`` (channel 0 = rep), ``"mono"`` the
        diarized ``<call_id>.mono.result.json`` (roles inferred), ``"truth"`` the scripted ground
        truth itself. Their summaries are the offline extractive ones: loading the samples never asks
        an LLM, even with ``HEARKIT_LLM_BASE_URL`` set (U8 note 6: 7 requests at every load).
        """
        if source not in ("stereo", "mono", "truth"):  # "stored" read as mono results with stereo roles
            raise ValueError(f"source must be 'stereo', 'mono' or 'truth', not {source!r}")
        base = Path(folder) if folder is not None else sample_dir()
        index_path = base / "index.json"
        if not index_path.is_file():
            raise FileNotFoundError(f"no sample calls at {base}: index.json is missing")
        entries = json.loads(index_path.read_text())["calls"]
        sources: dict[str, Any] = {}
        for entry in entries:
            if source == "truth":
                truth = json.loads((base / entry["truth"]).read_text())
                sources[entry["call_id"]] = truth_to_result(truth)
                continue
            path = base / entry["result" if source == "stereo" else "mono_result"]
            if not path.is_file():
                raise FileNotFoundError(
                    f"{path} is missing: run `uv run python scripts/transcribe_samples.py` to transcribe "
                    "the sample calls with the local engine"
                )
            sources[entry["call_id"]] = json.loads(path.read_text())
        metadata = {e["call_id"]: {k: e[k] for k in CALL_METADATA_COLUMNS if k in e} for e in entries}
        from hearkit.summarize import summarize_calls

        calls = analyze_calls(
            sources, roles=None if source == "mono" else STEREO_ROLES, metadata=metadata, summaries=False
        )
        calls.summaries = summarize_calls(calls.turns, method="extractive")
        return calls


def batch_save_refusal(path: Path, batch: Path) -> str:
    """What :meth:`CallSet.save` says when ``path`` is the batch output folder ``batch`` or its dataset/."""
    where = (
        "the dataset/ of a `hearkit batch` output folder"
        if path.resolve() != batch.resolve()
        else ("a `hearkit batch` output folder")
    )
    mine = batch.with_name(batch.name + "-edited")
    return (
        f"{path} is {where}: every `hearkit batch --out {batch}` run rebuilds dataset/ from the batch's "
        f"per-call results, so calls saved here would be overwritten or never read in its place. Save them "
        f"in a folder of your own: .save({str(mine)!r}). To keep a role fix in the batch itself (every later "
        f"run replays it): hearkit.batch.with_roles({str(batch)!r}, {{call_id: {{speaker: role}}}}), "
        f"hearkit.batch.merge_speakers(...), or `hearkit remap {batch} --call ID --rep SPEAKER`"
    )


_RECORD_FIELDS = frozenset({"call_id", "job_id", "audio_seconds", VOCABULARY_COLUMN, *QUALITY_COLUMNS})


def sample_dir() -> Path:
    """The sample calls' folder: ``HEARKIT_SAMPLE_DIR``, else the installed package's or the checkout's
    ``sample_data/`` (:func:`hearkit.resources.sample_dir`)."""
    from hearkit.resources import sample_dir as resolve

    return resolve()


def truth_to_result(truth: Mapping[str, Any]) -> dict[str, Any]:
    """A sample call's ground truth as a PyAI-shaped stereo result (for analysis without ASR)."""
    label = {0: "speaker_0", 1: "speaker_1"}
    return {
        "text": " ".join(t["text"] for t in truth["turns"]),
        "speakers": len({t["channel"] for t in truth["turns"]}),
        "audio_seconds": truth["duration_s"],
        "segments": [
            {
                "id": i,
                "start": t["start"],
                "end": t["end"],
                "text": t["text"],
                "speaker": label[t["channel"]],
                "channel": t["channel"],
            }
            for i, t in enumerate(truth["turns"])
        ],
        "words": [
            {
                "word": w["word"],
                "start": w["start"],
                "end": w["end"],
                "speaker": label[w["channel"]],
                "channel": w["channel"],
            }
            for w in sorted(truth.get("words", []), key=lambda w: (w["start"], w["channel"]))
        ],
    }


def analyze_calls(
    sources: Iterable[Source] | Mapping[str, Source],
    *,
    call_ids: Sequence[str] | None = None,
    roles: RoleMap | None = None,
    trackers: Sequence[Tracker] | None = None,
    metadata: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]] | pd.DataFrame | None = None,
    merge_gap: float | None = 0.5,
    summaries: bool = True,
    vocabulary: VocabularyGiven = None,
) -> CallSet:
    """Analyse many calls at once (one normalization, one vectorized metrics pass, one tracker pass).

    ``sources``: jobs/results (or their dicts), or a mapping ``call_id → source``. ``call_ids``
    names them (default: the mapping keys, else the job ids). ``metadata``: per call (a list in
    the same order, a mapping by call_id, or a DataFrame with a ``call_id`` column) of fields
    such as ``title``, ``rep``, ``customer``,
    ``date``, ``kind``, ``team``; they become columns of ``calls``. ``summaries`` (on by default)
    fills ``CallSet.summaries`` with :func:`hearkit.summarize.summarize_calls`: the offline
    extractive summary and action items (about 20 ms of CPU a call), or an LLM's when
    ``HEARKIT_LLM_BASE_URL`` names one; ``summaries=False`` skips them. ``vocabulary``: the terms the
    jobs were prompted with (one list for every call, or ``{call_id: terms}``; a job does not say it
    itself), kept in the ``vocabulary`` column so the report and dashboard say the call was prompted
    (:mod:`hearkit.prompting`).
    """
    if isinstance(sources, Mapping):
        ids = [str(k) for k in sources]
        items = list(sources.values())
    else:
        items = list(sources)
        ids = list(call_ids) if call_ids is not None else []
    if call_ids is not None:
        if len(call_ids) != len(items):
            raise ValueError(f"call_ids has {len(call_ids)} entries for {len(items)} sources")
        ids = [str(c) for c in call_ids]
    # a job without an inline result (failed, pending) still gets its row, with no turns
    resolved = [resolve(s) for s in items]
    if not ids:
        ids = [r.job_id or f"call_{i}" for i, r in enumerate(resolved)]
    if len(set(ids)) != len(ids):
        raise ValueError("call ids must be unique; pass call_ids=[...] to name the calls")
    results = [r.result if r.result is not None else Result() for r in resolved]
    if _settles_roles(roles):  # roles the caller states settle the engine's role doubts, as with_roles does
        results = [
            r.model_copy(update={"quality": roles_set_by_user(r.quality)}) if r.quality is not None else r
            for r in results
        ]
    turns, words = normalize_many(results, call_ids=ids, roles=roles, merge_gap=merge_gap)
    audio = {cid: r.audio_seconds for cid, r in zip(ids, results, strict=True)}
    durations = {cid: float(a) for cid, a in audio.items() if a is not None}
    wrong = {cid: d for cid, d in durations.items() if not np.isfinite(d) or d < 0}
    if wrong:  # said as the result's field, not as the metrics' durations the user never gave
        cid, value = next(iter(wrong.items()))
        raise ValueError(
            f"the result of {cid!r} says audio_seconds={value!r}: a recording's length is a finite number of"
            f" seconds ≥ 0 ({len(wrong)} such call(s)); fix or leave out that result"
        )
    # Calls without audio_seconds still get a row (no_talk when they have no turns either).
    known = pd.Series(durations, dtype=np.float64).reindex(ids).dropna()
    cards = scorecards(turns, words, durations=known, calls=known.index)
    missing = [c for c in ids if c not in set(cards[CALL_ID])]
    if missing:
        extra = scorecards(empty_turns(), durations=dict.fromkeys(missing, 0.0), calls=missing)
        cards = pd.concat([cards, extra], ignore_index=True)
    tracker_list = list(trackers) if trackers is not None else list(DEFAULT_TRACKERS)
    spoken = set(turns[CALL_ID].astype("str"))  # a call without turns has no hits to place
    hits = find_hits(
        words, tracker_list, turns=turns, durations={c: d for c, d in durations.items() if c in spoken}
    )
    speakers = speaker_stats(turns, words, durations=known, calls=known.index)

    meta_rows = _metadata_rows(metadata, ids)
    if vocabulary is None and any(VOCABULARY_COLUMN in row for row in meta_rows):  # a metadata field
        vocabulary = {
            c: terms_of_field(row.get(VOCABULARY_COLUMN)) for c, row in zip(ids, meta_rows, strict=True)
        }
    vocabulary_column = vocabulary_cells(vocabulary, ids)
    calls = pd.DataFrame(
        {
            CALL_ID: pd.array(ids, dtype="str"),
            "job_id": pd.array([r.job_id for r in resolved], dtype="str"),
            "audio_seconds": pd.array([audio[c] for c in ids], dtype="Float64"),
            VOCABULARY_COLUMN: pd.array(vocabulary_column, dtype="str"),
        }
    )
    meta = pd.DataFrame(meta_rows, index=range(len(ids))).drop(columns=[VOCABULARY_COLUMN], errors="ignore")
    for col in CALL_METADATA_COLUMNS:
        if col not in meta:
            meta[col] = None
    meta_cols = list(dict.fromkeys([*CALL_METADATA_COLUMNS, *meta.columns]))
    meta = meta[meta_cols]
    for col in meta.columns:
        if meta[col].map(lambda v: v is None or isinstance(v, str)).all():
            meta[col] = meta[col].astype("str")
    calls = pd.concat([calls, meta.reset_index(drop=True)], axis=1)
    calls = calls.merge(cards, on=CALL_ID, how="left")
    counts = hits.groupby([CALL_ID, "tracker"]).size().unstack(fill_value=0)
    for tracker in tracker_list:
        per_call = counts[tracker.name] if tracker.name in counts.columns else pd.Series(dtype=np.int64)
        calls[f"hits_{tracker.name}"] = calls[CALL_ID].map(per_call).fillna(0).astype(np.int64)
    late = pricing_near_end(hits, call_ids=ids).set_index(CALL_ID)["pricing_late"]
    calls["pricing_late"] = calls[CALL_ID].map(late).fillna(False).astype(bool)
    keywords = top_keywords(turns, n=8)
    calls["top_keywords"] = pd.array(
        [", ".join(f"{k.word} ({k.count})" for k in keywords.get(c, [])) for c in ids], dtype="str"
    )
    guessed = turns.loc[turns["role_source"].astype(str).isin(GUESSED_ROLE_SOURCES)] if len(turns) else turns
    guess_of = dict(zip(guessed[CALL_ID].astype(str), guessed["role_source"].astype(str), strict=True))
    roles_guessed = [guess_of.get(str(c)) for c in ids]
    for name, values in quality_columns(results, roles_guessed).items():  # issue 20: the quality block
        calls[name] = pd.array(values, dtype="str")
    # "not measured" is NaN, never the 0 / 1 the arithmetic of one voice gives
    blank_unmeasured(calls, {label: r.quality for label, r in zip(calls.index, results, strict=True)})
    _mark_without_result(calls, resolved)
    calls.attrs["metadata_columns"] = meta_cols
    formats = {cid: r.formats for cid, r in zip(ids, resolved, strict=True) if r.formats}
    # summaries=True: hearkit.summarize per call (offline extractive unless HEARKIT_LLM_BASE_URL is set).
    summary_map = summarize_calls(turns) if summaries and len(turns) else {}
    return CallSet(
        calls=calls,
        turns=turns,
        words=words,
        hits=hits,
        speakers=speakers,
        summaries=summary_map,
        formats=formats,
        role_trackers=tuple(t for t in tracker_list if t.role is not None),
    )


def analyze_call(
    job_or_result: Source,
    *,
    call_id: str | None = None,
    roles: RoleMap | None = None,
    trackers: Sequence[Tracker] | None = None,
    metadata: Mapping[str, Any] | None = None,
    summary: bool = True,
    vocabulary: Sequence[str] | None = None,
) -> CallRecord:
    """The :class:`CallRecord` of one call (the guide's ``analyzeCall``); ``summary`` fills
    ``CallRecord.summary`` with :func:`hearkit.summarize.summarize` (offline extractive unless an
    LLM endpoint is configured in ``HEARKIT_LLM_BASE_URL``); ``vocabulary``: the terms the job was
    prompted with (:attr:`CallRecord.vocabulary`).

    A job without its result (queued, running, failed, or offloaded to ``result_url``) is a
    :class:`~hearkit.errors.ResultUnavailableError` saying what to do, and a dict that is no job
    or result (``{}``) a ``ValueError``: both made an empty record before. (:func:`analyze_calls`
    keeps a row for such a job among others.)"""
    resolve(job_or_result).require_result()
    callset = analyze_calls(
        [job_or_result],
        call_ids=None if call_id is None else [call_id],
        roles=roles,
        trackers=trackers,
        metadata=None if metadata is None else [metadata],
        summaries=summary,
        vocabulary=vocabulary,
    )
    return callset.record(callset.call_ids[0])


def _metadata_rows(
    metadata: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]] | pd.DataFrame | None,
    ids: list[str],
) -> list[dict[str, Any]]:
    if metadata is None:
        return [{} for _ in ids]
    if isinstance(metadata, pd.DataFrame):  # one row per call, keyed by its call_id column
        if CALL_ID not in metadata.columns:
            raise ValueError(
                f"a metadata DataFrame needs a {CALL_ID!r} column to say which call each row is"
                f" (it has {', '.join(map(str, metadata.columns)) or 'no columns'}); or pass"
                " {call_id: {'title': ...}}"
            )
        last = metadata.drop_duplicates(CALL_ID, keep="last")
        rows_by_id = {
            str(row[CALL_ID]): {str(c): v for c, v in row.items() if c != CALL_ID}
            for _, row in last.iterrows()
        }
        _check_metadata_keys(list(rows_by_id), ids)
        return [dict(rows_by_id.get(c, {})) for c in ids]
    if isinstance(metadata, Mapping):
        _check_metadata_keys([str(k) for k in metadata], ids)
        return [dict(metadata.get(c, {})) for c in ids]
    rows = [dict(m) for m in metadata]
    if len(rows) != len(ids):
        raise ValueError(f"metadata has {len(rows)} entries for {len(ids)} calls")
    return rows


def _check_metadata_keys(keys: list[str], ids: list[str]) -> None:
    """Metadata for other calls too is fine (a CRM export of every call); metadata that names none of
    the calls is a mistake (file names for call ids, say) that left every title and rep empty."""
    if keys and ids and not set(keys) & set(ids):
        raise ValueError(
            f"metadata names none of these calls (its keys: {keys[:3]}; the call ids: {ids[:3]}): key it"
            " by call_id"
        )


def top_keywords(turns: pd.DataFrame, *, n: int = 8) -> dict[str, list[Keyword]]:
    """The ``n`` most frequent words of each call, stop words and words under 3 letters left out
    (the guide's ``keywords``). Tokens: whitespace-separated, hyphens and slashes split, edge
    punctuation trimmed, lower-cased; only alphabetic tokens (apostrophes allowed) count, so
    numbers are left out. Ties go alphabetically. Arrow tokenization and group-by counts, in
    chunks of whole calls (bounded memory)."""
    if len(turns) == 0:
        return {}
    call_codes, call_names = pd.factorize(turns[CALL_ID].astype("str"))
    order = np.argsort(call_codes, kind="stable")
    codes_sorted = call_codes[order]
    text_all = pa.array(turns["text"].astype("str").fillna(""), type=pa.large_string()).take(pa.array(order))
    # Chunks of whole calls bound the memory of the token arrays (~11 tokens a turn).
    bounds = [0]
    while bounds[-1] < len(order):
        cut = min(bounds[-1] + _KEYWORD_CHUNK_TURNS, len(order))
        if cut < len(order):
            cut = int(np.searchsorted(codes_sorted, codes_sorted[cut], side="right"))
        bounds.append(cut)
    parts = [
        _keyword_counts(text_all.slice(a, b - a), codes_sorted[a:b], n) for a, b in itertools.pairwise(bounds)
    ]
    frame = pd.concat(parts, ignore_index=True)
    names = [str(c) for c in call_names]
    out: dict[str, list[Keyword]] = {}
    for call, word, count in zip(
        frame["call"].tolist(), frame["word"].tolist(), frame["word_count"].tolist(), strict=True
    ):
        out.setdefault(names[call], []).append(Keyword(word=word, count=count))
    return out


def _keyword_counts(text: pa.Array, calls: npt.NDArray[np.int64], n: int) -> pd.DataFrame:
    """Top ``n`` (word, count) rows per call code of one chunk: columns call, word, word_count.

    Tokens are split once and dictionary-encoded; lower-casing, trimming and the stop-word and
    alphabetic tests then run on the (small) dictionary, not on every token."""
    tokens = pc.utf8_split_whitespace(pc.replace_substring(pc.replace_substring(text, "-", " "), "/", " "))
    parent = np.asarray(pc.list_parent_indices(tokens))
    encoded = pc.dictionary_encode(pc.list_flatten(tokens))
    vocab = pc.utf8_trim(pc.utf8_lower(encoded.dictionary), characters=_EDGE_PUNCTUATION)
    usable = pc.and_(
        pc.and_(
            pc.greater_equal(pc.utf8_length(vocab), 3),
            pc.utf8_is_alpha(pc.replace_substring(vocab, "'", "")),
        ),
        pc.invert(pc.is_in(vocab, value_set=_STOP_ARRAY)),
    )
    words = np.asarray(vocab.to_pylist(), dtype=object)
    keep_vocab = np.asarray(usable, dtype=bool)
    # One code per distinct normalized word, in alphabetical order (ties sort by word).
    names, word_code = np.unique(words[keep_vocab].astype(str), return_inverse=True)
    code_of_entry = np.full(len(words), -1, dtype=np.int64)
    code_of_entry[np.flatnonzero(keep_vocab)] = word_code
    token_code = code_of_entry[np.asarray(encoded.indices)]
    kept = token_code >= 0
    key = calls[parent[kept]] * max(len(names), 1) + token_code[kept]
    pairs, counts = np.unique(key, return_counts=True)
    call_of = pairs // max(len(names), 1)
    word_of = pairs % max(len(names), 1)
    order = np.lexsort((word_of, -counts, call_of))
    call_of, word_of, counts = call_of[order], word_of[order], counts[order]
    first = np.r_[True, call_of[1:] != call_of[:-1]] if len(call_of) else np.zeros(0, dtype=bool)
    start_of_run = np.maximum.accumulate(np.where(first, np.arange(len(call_of)), 0))
    top = (np.arange(len(call_of)) - start_of_run) < n
    return pd.DataFrame(
        {"call": call_of[top], "word": names[word_of[top]], "word_count": counts[top].astype(np.int64)}
    )


def labelled_transcript(turns: pd.DataFrame) -> str:
    """``[mm:ss] speaker (role): text`` lines (``[h:mm:ss]`` from one hour on, as
    :func:`hearkit.timecode.clock` writes it: ``[61:40]`` read as no clock), in time order (the
    text an LLM or a human reads)."""
    if len(turns) == 0:
        return ""
    ordered = turns.sort_values(["start", "turn"], kind="stable")
    lines = []
    for start, speaker, role, text in ordered[["start", "speaker", "role", "text"]].itertuples(index=False):
        hours, rest = divmod(int(max(start, 0.0)), 3600)
        minutes, seconds = divmod(rest, 60)
        at = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"
        who = f"{speaker} ({role})" if role and role not in ("unknown", speaker) else str(speaker)
        lines.append(f"[{at}] {who}: {text}")
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    """A numpy/pandas scalar as a plain Python value (NA → None)."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    if isinstance(value, np.generic):
        return value.item()
    return value


def _plain_dict(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(k): _plain(v) for k, v in row.items()}
