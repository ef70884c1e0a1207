"""The contract between stages: producers make frames with the declared columns and dtypes, and
every consumer refuses a frame without the columns it reads, naming them and what makes the frame."""

from __future__ import annotations

import pandas as pd
import pytest

from hearkit import charts, dashboard, frames, metrics, report, summarize
from hearkit.record import CallSet


@pytest.fixture(scope="module")
def sample() -> CallSet:
    return CallSet.load_sample()


def dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {str(c): str(t) for c, t in frame.dtypes.items()}


@pytest.mark.parametrize("kind", ["turns", "words", "hits"])
def test_producers_make_the_declared_columns_and_dtypes(sample: CallSet, kind: str) -> None:
    made = getattr(sample, kind)
    spec = frames.SPECS[kind]
    assert tuple(made.columns) == spec.columns
    assert dtypes(made) == dtypes(frames.empty(kind))  # type: ignore[arg-type]
    assert len(made) > 0


def test_the_calls_frame_starts_with_call_id_and_holds_the_scorecard(sample: CallSet) -> None:
    assert sample.calls.columns[0] == frames.CALL_ID
    assert set(metrics.SCORECARD_COLUMNS) <= set(sample.calls.columns)


def test_check_names_the_missing_columns_and_the_producer(sample: CallSet) -> None:
    broken = sample.turns.drop(columns=["end", "text"])
    with pytest.raises(
        ValueError, match=r"turns frame lacks column\(s\) \['end', 'text'\].*hearkit\.transcript\.turns"
    ):
        frames.check(broken, "turns")
    with pytest.raises(
        ValueError, match=r"hits frame lacks column\(s\) \['phrase'\].*hearkit\.trackers\.find_hits"
    ):
        frames.check(sample.hits.drop(columns="phrase"), "hits", [frames.CALL_ID, frames.PHRASE])
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        frames.check([{"call_id": "c"}], "calls")
    assert frames.check(sample.turns, "turns") is sample.turns


def test_every_consumer_refuses_a_turns_frame_without_text_through_the_one_check(sample: CallSet) -> None:
    broken = sample.turns.drop(columns="text")
    as_set = type("Set", (), {"calls": sample.calls, "turns": broken, "hits": sample.hits})()
    consumers = [
        lambda: charts.call_timeline(broken, str(sample.turns["call_id"].iloc[0])),
        lambda: report.render_html(as_set),
        lambda: dashboard.build_index(as_set),
        lambda: summarize.summarize(broken[broken["call_id"] == broken["call_id"].iloc[0]]),
    ]
    for consume in consumers:
        with pytest.raises(ValueError, match=r"the turns frame lacks column\(s\) \['text'\]; it has"):
            consume()


def test_a_call_set_is_call_frames(sample: CallSet) -> None:
    assert isinstance(sample, frames.CallFrames)
    assert dashboard.CallSetLike is frames.CallFrames and report.CallFrames is frames.CallFrames
