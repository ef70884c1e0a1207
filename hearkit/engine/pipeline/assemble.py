"""Turning recognised words into the API's :class:`~hearkit.schema.Result`.

Segments are built per speaker from consecutive words: a new segment starts when the speaker
changes, after a pause longer than :data:`SEGMENT_GAP_S`, or after a sentence end once the
segment is longer than :data:`SENTENCE_SPLIT_S`. Segment times are word-bounded (first
word's start to last word's end), so talk time computed from segments counts speech, not the
silence around it. Segments of different speakers are merged in time order.

With diarization, the recogniser's word times are not the only evidence of speech: Whisper
often gives the first or last word of a phrase little or no duration, or none to a short
greeting. A segment is therefore widened to the edges of the diarizer's speech turn (same
speaker; consecutive turns of one speaker less than :data:`SEGMENT_GAP_S` apart count as one)
that holds its first and last words, unless that would run into the speaker's previous or next
segment. Word times are left as the recogniser gave them.

Speech the recogniser gave no word at all (a backchannel, a short answer, a voice talking over
another) is still speech: every part of a diarizer turn that no segment of its speaker covers and
that lasts at least :data:`MIN_WORDLESS_S` becomes a segment with empty ``text``, so talk time,
the speaker count and DER count it. The transcript ``text`` leaves those segments out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hearkit.engine.pipeline.diarize import Turn
from hearkit.engine.pipeline.numerals import numeral_spans
from hearkit.engine.pipeline.quality import segment_confidence
from hearkit.schema import Result, Segment, Word

__all__ = ["MIN_WORDLESS_S", "SEGMENT_GAP_S", "SENTENCE_SPLIT_S", "LabeledWord", "build_result"]

SEGMENT_GAP_S = 1.0
MIN_WORDLESS_S = 0.2
"""Shortest stretch of a speaker's turn without any word that is kept as a (text-less) segment."""
SENTENCE_SPLIT_S = 8.0
_SENTENCE_END = (".", "?", "!")


@dataclass(frozen=True)
class LabeledWord:
    """A recognised word with its speaker label (``None`` when not diarized) and channel."""

    text: str
    start: float
    end: float
    speaker: str | None = None
    channel: int | None = None
    confidence: float | None = None


def _chain(turns: Sequence[Turn]) -> list[Turn]:
    """Consecutive turns of one speaker less than :data:`SEGMENT_GAP_S` apart, joined.

    A short turn the recogniser heard no word in (a greeting it timed late, a backchannel)
    then still counts as its speaker's speech, as a pause inside a segment does.
    """
    chained: list[Turn] = []
    for turn in sorted(turns, key=lambda t: t.start):
        last = chained[-1] if chained else None
        if last is not None and last.speaker == turn.speaker and turn.start - last.end < SEGMENT_GAP_S:
            chained[-1] = Turn(last.start, max(last.end, turn.end), turn.speaker)
        else:
            chained.append(turn)
    return chained


def _turn_holding(turns: Sequence[Turn], word: LabeledWord) -> Turn | None:
    middle = (word.start + word.end) / 2
    for turn in turns:
        if turn.speaker == word.speaker and turn.start <= middle <= turn.end:
            return turn
    return None


def _segment_spans(groups: list[list[LabeledWord]], turns: Sequence[Turn]) -> list[tuple[float, float]]:
    """``(start, end)`` of every group: its words' span, widened to its speech turns' edges."""
    spans = [(g[0].start, max(w.end for w in g)) for g in groups]
    if not turns:
        return spans
    turns = _chain(turns)
    by_speaker: dict[str | None, list[int]] = {}
    for index, group in enumerate(groups):
        by_speaker.setdefault(group[0].speaker, []).append(index)
    out = list(spans)
    for indices in by_speaker.values():
        for position, index in enumerate(indices):
            start, end = spans[index]
            first_turn = _turn_holding(turns, groups[index][0])
            last_turn = _turn_holding(turns, groups[index][-1])
            previous_end = spans[indices[position - 1]][1] if position else float("-inf")
            next_start = spans[indices[position + 1]][0] if position + 1 < len(indices) else float("inf")
            if first_turn is not None and first_turn.start >= previous_end:
                start = min(start, first_turn.start)
            if last_turn is not None and last_turn.end <= next_start:
                end = max(end, last_turn.end)
            out[index] = (round(start, 3), round(end, 3))
    return out


def _wordless(
    spans: list[tuple[float, float, str | None]], turns: Sequence[Turn]
) -> list[tuple[float, float, str]]:
    """Parts of ``turns`` no span of the same speaker covers, at least :data:`MIN_WORDLESS_S` long."""
    covered: dict[str | None, list[tuple[float, float]]] = {}
    for start, end, speaker in spans:
        covered.setdefault(speaker, []).append((start, end))
    out: list[tuple[float, float, str]] = []
    for turn in sorted(turns, key=lambda t: t.start):
        pieces = [(turn.start, turn.end)]
        for start, end in sorted(covered.get(turn.speaker, [])):
            pieces = [
                part
                for a, b in pieces
                for part in ((a, min(b, start)), (max(a, end), b))
                if part[1] - part[0] > 1e-6
            ]
        out.extend((a, b, turn.speaker) for a, b in pieces if b - a >= MIN_WORDLESS_S)
    return out


_Entry = tuple[float, float, list[LabeledWord], str | None]


def _with_wordless(entries: list[_Entry], turns: Sequence[Turn]) -> list[_Entry]:
    """``entries`` plus the word-less speech of ``turns``, in time order.

    A word-less piece that touches a segment of its speaker (it is the rest of the same turn)
    extends that segment instead of standing alone.
    """
    out = list(entries)
    for start, end, speaker in _wordless([(a, b, speaker) for a, b, _, speaker in entries], turns):
        for index, (a, b, group, who) in enumerate(out):
            if who == speaker and abs(b - start) < 0.05:
                out[index] = (a, round(end, 3), group, who)
                break
            if who == speaker and abs(a - end) < 0.05:
                out[index] = (round(start, 3), b, group, who)
                break
        else:
            out.append((round(start, 3), round(end, 3), [], speaker))
    out.sort(key=lambda e: (e[0], e[1]))
    return out


def _apply_numerals(words: list[LabeledWord]) -> list[LabeledWord]:
    out: list[LabeledWord] = []
    for token, first, last in numeral_spans([w.text for w in words]):
        group = words[first:last]
        if not group:
            continue
        confidences = [w.confidence for w in group if w.confidence is not None]
        out.append(
            LabeledWord(
                text=token,
                start=group[0].start,
                end=group[-1].end,
                speaker=group[0].speaker,
                channel=group[0].channel,
                confidence=min(confidences) if confidences else None,
            )
        )
    return out


def _group(words: Sequence[LabeledWord]) -> list[list[LabeledWord]]:
    groups: list[list[LabeledWord]] = []
    for word in words:
        if groups:
            current = groups[-1]
            last = current[-1]
            same_speaker = (last.speaker, last.channel) == (word.speaker, word.channel)
            long_pause = word.start - last.end > SEGMENT_GAP_S
            sentence_done = (
                last.text.endswith(_SENTENCE_END) and last.end - current[0].start > SENTENCE_SPLIT_S
            )
            if same_speaker and not long_pause and not sentence_done:
                current.append(word)
                continue
        groups.append([word])
    return groups


def build_result(
    words: Sequence[LabeledWord],
    *,
    audio_seconds: float,
    numerals: bool,
    labelled: bool,
    turns: Sequence[Turn] = (),
) -> Result:
    """Assemble the result. ``labelled``: speaker labels are meaningful (channel or diarize).

    ``turns``: the diarizer's speech turns, which widen the segments (see the module's text).

    ``text`` is the plain transcript, or, when labelled, one ``[speaker] text`` line per segment
    (the hosted API's shape). ``speakers`` is the number of distinct speakers that said at
    least one word or a wordless speech turn (1 for an unlabelled transcript with words, 0 for silence).
    """
    by_speaker: dict[tuple[str | None, int | None], list[LabeledWord]] = {}
    for word in sorted(words, key=lambda w: (w.start, w.end)):
        by_speaker.setdefault((word.speaker, word.channel), []).append(word)
    groups: list[list[LabeledWord]] = []
    for speaker_words in by_speaker.values():
        for group in _group(speaker_words):
            groups.append(_apply_numerals(group) if numerals else group)
    groups = [g for g in groups if g]
    groups.sort(key=lambda g: (g[0].start, g[-1].end))

    spans = _segment_spans(groups, turns)
    entries = _with_wordless(
        [(a, b, g, g[0].speaker) for g, (a, b) in zip(groups, spans, strict=True)], turns
    )
    segments: list[Segment] = []
    out_words: list[Word] = []
    for index, (start, end, group, speaker) in enumerate(entries):
        fields: dict[str, object] = {}
        if speaker is not None:
            fields["speaker"] = speaker
        if group and group[0].channel is not None:
            fields["channel"] = group[0].channel
        confidence = segment_confidence([w.confidence for w in group if w.confidence is not None])
        # model_validate keeps absent labels unset, so to_api() omits them instead of sending null.
        segments.append(
            Segment.model_validate(
                {
                    "id": index,
                    "start": start,
                    "end": end,
                    "text": " ".join(w.text for w in group),
                    **fields,
                    **({} if confidence is None else {"confidence": confidence}),
                }
            )
        )
        for word in group:
            word_fields = {"word": word.text, "start": word.start, "end": word.end, **fields}
            if word.confidence is not None:
                word_fields["confidence"] = round(word.confidence, 3)
            out_words.append(Word.model_validate(word_fields))
    out_words.sort(key=lambda w: (w.start, w.end))

    spoken = [s for s in segments if s.text]
    if labelled:
        text = "\n".join(f"[{s.speaker}] {s.text}" for s in spoken)
    else:
        text = " ".join(s.text for s in spoken)
    speaker_keys = {(s.speaker, s.channel) for s in segments}
    return Result(
        text=text,
        speakers=len(speaker_keys),
        audio_seconds=round(audio_seconds, 3),
        segments=segments,
        words=out_words,
    )
