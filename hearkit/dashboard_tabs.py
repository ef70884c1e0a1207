"""The dashboard's "Compare" tab and its moments player (ipywidgets).

* :class:`CompareTab`: pick a metric and a grouping (``rep``, ``kind``, ``team``, ``week``,
  ``month``, any text column); shows each group's mean with its 95 % bootstrap interval and the
  plain-words readings of :func:`hearkit.cohorts.compare` (seeded: the same view every time).
* :class:`MomentsBox`: the selected call's moments (tracker hits, monologues, interruptions,
  :mod:`hearkit.moments`); choosing one plays it (an ``ipywidgets.Audio`` clip cut from the call's
  recording by :mod:`hearkit.clips`) when the recording is at hand, and says so when it is not.
"""

from __future__ import annotations

import html
import json
from typing import Any

import pandas as pd

from hearkit import clips, cohort_charts, cohorts, moments
from hearkit.timecode import clock

__all__ = ["CompareTab", "MomentsBox"]


class CompareTab:
    """The Compare tab: ``widget`` to display; :meth:`show` draws a metric by a grouping."""

    def __init__(self, calls: pd.DataFrame) -> None:
        import ipywidgets as w

        self.calls = calls
        metrics = cohorts.numeric_metrics(calls)
        groupings = [
            c
            for c in calls.columns
            if c in ("rep", "team", "kind", "customer", "outcome") or str(c).startswith("team")
        ]
        if "date" in calls.columns:
            groupings += ["week", "month"]
        default_metric = (
            "talk_ratio_rep" if "talk_ratio_rep" in metrics else (metrics[0] if metrics else None)
        )
        self.metric = w.Dropdown(options=metrics, value=default_metric, description="Metric")
        self.by = w.Dropdown(options=groupings, value=groupings[0] if groupings else None, description="By")
        self.readings = w.HTML()
        self.chart = w.Output()
        self.widget = w.VBox([w.HBox([self.metric, self.by]), self.readings, self.chart])
        self.metric.observe(lambda _c: self.show(), names="value")
        self.by.observe(lambda _c: self.show(), names="value")
        self.show()

    def show(self) -> None:
        """Redraw for the chosen metric and grouping."""
        metric, by = self.metric.value, self.by.value
        self.chart.outputs = ()
        if metric is None or by is None:
            self.readings.value = "<p>No metric or grouping column to compare.</p>"
            return
        try:
            result = cohorts.compare(self.calls, metric, by=by)
        except (KeyError, ValueError, TypeError) as exc:
            self.readings.value = f"<p>{html.escape(str(exc))}</p>"
            return
        items = "".join(f"<li>{html.escape(r)}</li>" for r in result.readings()[:12])
        self.readings.value = f"<ul>{items}</ul>"
        figure = cohort_charts.group_intervals(result, metric)
        # set as a plotly mime output (as the dashboard's charts): `with output:` needs a running kernel
        self.chart.outputs = (
            {
                "output_type": "display_data",
                "data": {
                    "application/vnd.plotly.v1+json": json.loads(figure.to_json()),
                    "text/plain": f"<plotly figure: {metric} by {by}>",
                },
                "metadata": {},
            },
        )


class MomentsBox:
    """The moments of one call with a player: ``widget``; :meth:`show` for a call."""

    def __init__(self, calls: pd.DataFrame) -> None:
        import ipywidgets as w

        self.files = clips.audio_files(calls)
        self._lengths = {
            str(row["call_id"]): (row.get("audio_seconds"), row.get("duration_s"))
            for _, row in calls.iterrows()
        }
        self.picker = w.Dropdown(description="Hear", options=[], layout=w.Layout(width="auto"))
        self.player = w.Box()
        self.note = w.HTML()
        self.widget = w.VBox([w.HBox([self.picker, self.note]), self.player])
        self._moments = pd.DataFrame(columns=list(moments.MOMENT_COLUMNS))
        self._call: str | None = None
        self.picker.observe(lambda _c: self.play(), names="value")

    def show(self, call_id: str, turns: pd.DataFrame, hits: pd.DataFrame) -> None:
        """List ``call_id``'s moments (the first one is ready to play)."""
        self._call = call_id
        self._moments = moments.moments(turns, hits)
        times = self._moments["at"].astype(float).tolist()
        labels = self._moments["label"].astype(str).tolist()
        options = [(f"{clock(t)} {label}", i) for i, (t, label) in enumerate(zip(times, labels, strict=True))]
        self.picker.options = options
        self.note.value = (
            ""
            if call_id in self.files
            else "<i>the recording of this call is not at hand: nothing to play</i>"
        )
        if call_id in self.files:  # a recording not as long as the call is not its recording
            wrong = clips.length_mismatch(
                self.files[call_id], call_id, *self._lengths.get(call_id, (None, None))
            )
            if wrong is not None:
                del self.files[call_id]
                self.note.value = f"<i>{html.escape(wrong)}</i>"
        self.player.children = ()

    def play(self) -> Any:
        """The audio widget of the chosen moment (also shown in the box), or None."""
        index = self.picker.value
        if index is None or self._call not in self.files or index >= len(self._moments):
            return None
        row = self._moments.iloc[int(index)]
        import ipywidgets as w

        data = clips.encode_spans(
            self.files[self._call], [(float(row["clip_start"]), float(row["clip_end"]))]
        )[0]
        audio = w.Audio(value=data, format="ogg", autoplay=True, loop=False)
        self.player.children = (audio,)
        return audio
