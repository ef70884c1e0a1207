"""SRT and WebVTT renderings of a :class:`~hearkit.schema.Result`.

One cue per segment, in segment order, timed by the segment's ``start``/``end`` (seconds). The cue
text is prefixed with the speaker label when the segment has one (``[speaker_1] hello``), else
with ``[channel_<n>]`` when it only has a channel. Line breaks inside a segment's text are
collapsed to spaces, so a cue is always one line; empty segments are skipped.
"""

from __future__ import annotations

from hearkit.schema import Result, Segment

__all__ = ["cue_text", "render_srt", "render_vtt"]


def cue_text(segment: Segment) -> str:
    """``[speaker] text`` (or ``[channel_<n>] text``, or just ``text``) on one line."""
    text = " ".join(segment.text.split())
    if segment.speaker is not None:
        return f"[{segment.speaker}] {text}"
    if segment.channel is not None:
        return f"[channel_{segment.channel}] {text}"
    return text


def _timestamp(seconds: float, separator: str) -> str:
    total_ms = max(0, round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def _cues(result: Result) -> list[tuple[float, float, str]]:
    cues = []
    for segment in result.segments:
        if not segment.text.strip():
            continue
        end = max(segment.end, segment.start + 0.001)
        cues.append((segment.start, end, cue_text(segment)))
    return cues


def render_srt(result: Result) -> str:
    """SubRip: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, a blank line between cues."""
    blocks = [
        f"{i}\n{_timestamp(start, ',')} --> {_timestamp(end, ',')}\n{text}\n"
        for i, (start, end, text) in enumerate(_cues(result), start=1)
    ]
    return "\n".join(blocks)


def render_vtt(result: Result) -> str:
    """WebVTT: ``WEBVTT`` header, ``HH:MM:SS.mmm`` times; ``&``, ``<``, ``>`` escaped as entities."""
    blocks = ["WEBVTT\n"]
    for start, end, text in _cues(result):
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        blocks.append(f"{_timestamp(start, '.')} --> {_timestamp(end, '.')}\n{escaped}\n")
    return "\n".join(blocks)
