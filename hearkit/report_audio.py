"""Audio in the report, the notebook and the dashboard: hear the moment.

The report (``report.write_html(..., audio="moments"|"full"|"none")``) embeds:

* ``moments``: one Opus clip (:mod:`hearkit.clips`) per stretch of a call holding tracker hits,
  monologues or interruptions (:mod:`hearkit.moments`; overlapping moments share one clip);
* ``full``: each call's whole recording, once;
* ``none``: no audio.

Clips travel as ``data:audio/ogg;base64`` sources in one JSON block; :data:`PLAYER_JS`, a script
the report's Content-Security-Policy allows by hash (``media-src data:`` lets the audio element
play them; no other script can run), plays them in one player bar: a click on a tracker phrase
plays from the hit, a click on a transcript line plays from the turn's start (or from the first
clip within the turn, when the turn starts before any clip), and the line being heard is
highlighted. The top of the report says what audio it embeds (customer audio is sensitive). In a
notebook, :func:`play` gives an audio widget of a moment.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from hearkit import clips, moments

__all__ = ["PLAYER_JS", "AudioMode", "ReportAudio", "audio_size", "build", "play", "turn_attributes"]

AudioMode = Literal["moments", "full", "none"]
_MODES = ("moments", "full", "none")

PLAYER_JS = """
(function () {
  "use strict";
  var block = document.getElementById("hk-audio");
  var player = document.getElementById("hk-player");
  if (!block || !player) return;
  var data = JSON.parse(block.textContent);
  var status = document.getElementById("hk-player-status");
  var playing = null;
  function clipFor(call, t, e) {
    var list = data.clips[call] || [];
    for (var i = 0; i < list.length; i++) {
      if (t >= list[i].start - 0.05 && t < list[i].end) return list[i];
    }
    // a line: the first clip within it (its start may lie before any clip)
    for (var j = 0; e !== undefined && j < list.length; j++) {
      if (t < list[j].end && e > list[j].start) return list[j];
    }
    return null;
  }
  function play(call, t, label, e) {
    var clip = clipFor(call, t, e);
    if (!clip) { status.textContent = "No audio embedded for " + label + "."; return; }
    var from = Math.max(t, clip.start);
    var seek = function () {
      player.currentTime = Math.max(0, from - clip.start);
      var started = player.play();
      if (started && started.catch) started.catch(function (e) { status.textContent = e.message; });
    };
    status.textContent = label;
    if (player.getAttribute("data-clip") !== clip.id) {
      player.setAttribute("data-clip", clip.id);
      player.setAttribute("data-call", call);
      player.setAttribute("data-offset", String(clip.start));
      player.src = clip.src;
      player.addEventListener("loadedmetadata", seek, {once: true});
      player.load();
    } else {
      seek();
    }
  }
  document.addEventListener("click", function (event) {
    var line = event.target.closest("li[data-t]");
    if (!line) return;
    var call = line.getAttribute("data-call");
    var t = parseFloat(line.getAttribute("data-t"));
    var e = parseFloat(line.getAttribute("data-e"));
    var label = "turn at " + line.querySelector("i").textContent;
    var mark = event.target.closest("mark");
    if (mark) {
      var hits = (line.getAttribute("data-hits") || "").split(" ").filter(Boolean).map(parseFloat);
      var index = Array.prototype.indexOf.call(line.querySelectorAll("mark"), mark);
      if (index >= 0 && index < hits.length) { t = hits[index]; e = undefined; }
      label = "“" + mark.textContent + "” at " + line.querySelector("i").textContent;
    }
    play(call, t, label, e);
  });
  player.addEventListener("timeupdate", function () {
    var call = player.getAttribute("data-call");
    var now = parseFloat(player.getAttribute("data-offset") || "0") + player.currentTime;
    var found = null;
    document.querySelectorAll('li[data-call="' + call + '"]').forEach(function (line) {
      if (now >= parseFloat(line.getAttribute("data-t")) && now < parseFloat(line.getAttribute("data-e"))) {
        found = line;
      }
    });
    if (found !== playing) {
      if (playing) playing.classList.remove("playing");
      if (found) found.classList.add("playing");
      playing = found;
    }
  });
})();
"""


@dataclass
class ReportAudio:
    """What the report embeds: ``mode``, the clips per call (report call key → list of
    ``{id, start, end, src}``), the notice shown at the top, in words what is embedded
    (``what``: empty when nothing is), and sizes in bytes."""

    mode: AudioMode
    clips: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notice: str = "Audio: none embedded in this file."
    audio_bytes: int = 0
    n_calls: int = 0
    what: str = ""
    changed: dict[str, str] = field(default_factory=dict)
    """call_id → why no audio of it is embedded (its recording changed since it was transcribed)."""
    mismatched: dict[str, str] = field(default_factory=dict)
    """call_id → why no audio of it is embedded (its recording's length is not the call's:
    :func:`hearkit.clips.length_mismatch`)."""
    not_cut: str = ""
    """Why no clips were cut although the recordings are at hand (PyAV missing), for the CLI to say."""

    def payload(self) -> str:
        """The JSON of the clips for the page (``<`` cannot occur: base64, numbers, ids)."""
        text = json.dumps({"mode": self.mode, "clips": self.clips}, separators=(",", ":"))
        if "<" in text:
            raise RuntimeError("audio payload contains '<': refusing to embed it")
        return text


def audio_size(n_bytes: int) -> str:
    """``56 KB`` under 0.1 MB (a few short clips read "0.0 MB", as if none were embedded), else ``1.3 MB``."""
    return f"{n_bytes / 1e3:.0f} KB" if n_bytes < 100_000 else f"{n_bytes / 1e6:.1f} MB"


def build(
    calls: pd.DataFrame,
    turns: pd.DataFrame,
    hits: pd.DataFrame,
    *,
    mode: AudioMode | None,
    audio_files: Mapping[str, str | Path] | None = None,
    keys: Mapping[str, str] | None = None,
    max_moments_per_call: int | None = None,
) -> ReportAudio:
    """The report's audio for ``mode`` (``None``: ``moments`` when any recording is at hand,
    else ``none``). ``keys`` maps call_id to the report's key of the call (its anchor prefix).
    ``max_moments_per_call`` caps a call's moments (interruptions and monologues kept first)."""
    if mode is not None and mode not in _MODES:
        raise ValueError(f"audio must be one of {list(_MODES)}, not {mode!r}")
    files = clips.audio_files(calls, audio_files) if mode != "none" else {}
    changed = (
        {c: why for c, why in clips.changed_recordings(calls).items() if c not in files}
        if mode != "none"
        else {}
    )
    # The default embeds moments when recordings are at hand and PyAV can cut them (hearkit[local]);
    # an explicit mode without PyAV is a one-line MissingExtraError from hearkit.clips.
    chosen: AudioMode = mode if mode is not None else ("moments" if files and clips.available() else "none")
    if chosen == "none":
        audio = ReportAudio("none")
        if mode is None and files:  # recordings at hand, no PyAV: a core install (U8 note 7)
            audio.not_cut = (
                f"no audio clips: the recordings of {len(files)} call(s) are at hand, but cutting clips needs"
                " PyAV, hearkit's [local] extra (pip install 'hearkit[local]')"
            )
        return _with_changed(audio, changed)
    if not files and changed:
        return _with_changed(ReportAudio("none"), changed)
    if not files:
        raise FileNotFoundError(
            f"audio={chosen!r} needs the calls' recordings: pass audio_files={{call_id: path}} or an "
            "audio_path column in the calls frame (or use audio='none')"
        )
    keys = keys or {str(c): str(c) for c in calls["call_id"]}
    durations = _durations(calls)
    mismatched = _mismatched(calls, files)
    files = {c: p for c, p in files.items() if c not in mismatched}
    if chosen == "moments":
        table = moments.moments(turns, hits, durations=durations, max_per_call=max_moments_per_call)
        cut = moments.spans(table)
    else:
        cut = pd.DataFrame(
            {
                "call_id": list(files),
                "start": 0.0,
                "end": [float(durations.get(c, 1e9)) if pd.notna(durations.get(c)) else 1e9 for c in files],
                "clip": 0,
            }
        )
    out: dict[str, list[dict[str, Any]]] = {}
    total = 0
    for call_id, group in cut.groupby("call_id", sort=False):
        path = files.get(str(call_id))
        if path is None or str(call_id) not in keys:
            continue
        group = group[group["start"] < clips.seconds(path)]  # nothing of a moment past the file's end
        encoded = clips.encode_spans(path, list(zip(group["start"], group["end"], strict=True)))
        key = keys[str(call_id)]
        entries = []
        for (start, end, number), data in zip(
            group[["start", "end", "clip"]].itertuples(index=False), encoded, strict=True
        ):
            total += len(data)
            entries.append(
                {
                    "id": f"{key}-{number}",
                    "start": round(float(start), 3),
                    "end": round(float(end), 3),
                    "src": f"data:{clips.MIME};base64,{base64.b64encode(data).decode('ascii')}",
                }
            )
        if entries:
            out[key] = entries
    if not out:  # no moment to cut (calls without turns): said as such, not as "0 clips of 0 calls"
        return _with_mismatched(_with_changed(ReportAudio(chosen), changed), mismatched)
    n_clips = sum(len(v) for v in out.values())
    what = (
        f"{n_clips} short clips (tracker hits, monologues, interruptions) of {len(out)} calls"
        if chosen == "moments"
        else f"the whole recordings of {len(out)} calls"
    )
    notice = (
        f"Audio: this file embeds {what} ({audio_size(total)} of Opus audio). Anyone with the file "
        "can hear them. Click a highlighted phrase or a transcript line to listen."
    )
    return _with_mismatched(
        _with_changed(ReportAudio(chosen, out, notice, total, len(out), what), changed), mismatched
    )


def _with_changed(audio: ReportAudio, changed: Mapping[str, str]) -> ReportAudio:
    """The notice also names the calls whose recording changed since they were transcribed (no
    clip of them: their file now holds another recording's audio)."""
    if changed:
        audio.changed = dict(changed)
        names = ", ".join(sorted(changed))
        audio.notice += (
            f" No audio of {names}: the recording changed since the call was transcribed "
            "(the file under that name is another recording now)."
        )
    return audio


def _mismatched(calls: pd.DataFrame, files: Mapping[str, Path]) -> dict[str, str]:
    """call_id → why its recording at hand cannot be the call's (:func:`hearkit.clips.length_mismatch`)."""
    out: dict[str, str] = {}
    for _, row in calls.drop_duplicates("call_id").iterrows():
        call_id = str(row["call_id"])
        if call_id in files:
            why = clips.length_mismatch(
                files[call_id], call_id, row.get("audio_seconds"), row.get("duration_s")
            )
            if why is not None:
                out[call_id] = why
    return out


def _with_mismatched(audio: ReportAudio, mismatched: Mapping[str, str]) -> ReportAudio:
    """The notice also names the calls whose recording at hand is not as long as the call: their
    clips would be silence or another recording's audio."""
    if mismatched:
        audio.mismatched = dict(mismatched)
        audio.notice += "".join(f" {why}." for _, why in sorted(mismatched.items()))
    return audio


def turn_attributes(
    key: str, turn_numbers: Sequence[int], turns: pd.DataFrame, hits: pd.DataFrame
) -> list[dict[str, str]]:
    """Per transcript line (in the view's order): ``data-*`` values for the player: the call key,
    the turn's start and end, and the start of each hit in it (time order)."""
    by_turn = turns.set_index(turns["turn"].astype(int))
    hit_times: dict[int, list[float]] = {}
    if len(hits) and "turn" in hits.columns:
        for turn, start in sorted(zip(hits["turn"].astype(int), hits["start"].astype(float), strict=True)):
            hit_times.setdefault(int(turn), []).append(start)
    out = []
    for number in turn_numbers:
        row = by_turn.loc[number]
        row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
        out.append(
            {
                "call": key,
                "t": f"{float(row['start']):.2f}",
                "e": f"{float(row['end']):.2f}",
                "hits": " ".join(f"{t:.2f}" for t in hit_times.get(int(number), [])),
            }
        )
    return out


def play(path: str | Path, t: float, *, before_s: float = 2.0, after_s: float = 8.0) -> Any:
    """An audio player (``ipywidgets.Audio``, else an HTML ``<audio>``) of the recording at
    ``path`` from ``t − before_s`` to ``t + after_s`` seconds: one moment, for a notebook."""
    from hearkit._extras import require

    require("notebook", "play() (an audio player for a notebook)", "IPython")
    held = clips.seconds(path)
    if float(t) >= held:  # an empty player said nothing
        raise ValueError(f"t={float(t):g} s is past the end of {Path(path).name} ({held:.1f} s of audio)")
    start = max(0.0, float(t) - before_s)
    data = clips.encode_spans(path, [(start, float(t) + after_s)])[0]
    try:
        import ipywidgets

        return ipywidgets.Audio(value=data, format="ogg", autoplay=False, loop=False)
    except ImportError:
        from IPython.display import HTML

        src = base64.b64encode(data).decode("ascii")
        return HTML(f'<audio controls src="data:{clips.MIME};base64,{html.escape(src)}"></audio>')  # type: ignore[no-untyped-call]


def _durations(calls: pd.DataFrame) -> pd.Series:  # type: ignore[type-arg]
    ids = calls["call_id"].astype(str)
    for column in ("audio_seconds", "duration_s"):
        if column in calls.columns:
            values = pd.to_numeric(calls[column], errors="coerce").astype(float)
            return pd.Series(values.to_numpy(), index=ids.to_numpy())
    return pd.Series(dtype=float)
