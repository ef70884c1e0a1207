"""The widgets without a browser: setting a control's value updates the table, charts and call view."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from hearkit.dashboard import (
    Dashboard,
    FilterState,
    apply_filters,
    build_index,
    dashboard,
    highlight_transcript_html,
)
from hearkit.summary import CallSummary, SummaryItem
from tests.dashboard.conftest import Frames, make_frames


def table_ids(board: Dashboard) -> list[str]:
    return re.findall(r'<tr data-call-id="([^"]+)">', board.table.value)


def plotly_titles(output: object) -> list[str]:
    return [
        o["data"]["application/vnd.plotly.v1+json"]["layout"]["title"]["text"]
        for o in output.outputs  # type: ignore[attr-defined]
    ]


def test_rep_filter_updates_count_table_and_charts(frames: Frames) -> None:
    board = dashboard(frames)
    assert f"{len(frames.calls)} of {len(frames.calls)} calls" in board.table.value
    assert plotly_titles(board.charts)[0] == "Talk ratio per call"

    board.rep.value = ("Bo",)

    bo = set(frames.calls.loc[frames.calls["rep"] == "Bo", "call_id"])
    assert set(board.selection.call_ids) == bo
    assert f">{len(bo)} of {len(frames.calls)} calls<" in board.table.value
    assert set(table_ids(board)) == bo
    bars = board.charts.outputs[0]["data"]["application/vnd.plotly.v1+json"]["data"][0]
    assert set(bars["y"]) <= bo
    assert board.selected_call in bo


def test_team_filter_widget_drives_the_selection(frames: Frames) -> None:
    board = dashboard(frames)
    assert board.team.options == ("East", "Partners", "West") and board.team.layout.display is None
    board.team.value = ("West", "Partners")
    wanted = set(frames.calls.loc[frames.calls["team"].isin(["West", "Partners"]), "call_id"])
    assert set(board.selection.call_ids) == wanted and board.state.teams == ("West", "Partners")
    assert f">{len(wanted)} of {len(frames.calls)} calls" in board.table.value
    board.set_state(FilterState(teams=("East",), reps=("Bo",)))
    east_bo = frames.calls[(frames.calls["team"] == "East") & (frames.calls["rep"] == "Bo")]
    assert set(board.selection.call_ids) == set(east_bo["call_id"])
    with pytest.raises(ValueError, match="no call has team 'North'; the teams of these calls are: 'East'"):
        board.set_state(FilterState(teams=("North",)))
    board.reset.click()
    assert board.team.value == () and len(board.selection) == len(frames.calls)
    plain = dashboard(Frames(frames.calls.drop(columns="team"), frames.turns, frames.hits))
    assert plain.team.options == () and plain.team.layout.display == "none"  # no teams: no filter shown


def test_table_is_newest_first(frames: Frames) -> None:
    board = dashboard(frames)
    dates = frames.calls.set_index("call_id")["date"]
    shown = [dates[c] for c in table_ids(board)]
    assert shown == sorted(shown, reverse=True)
    assert len(shown) == 100
    assert "showing the newest 100" in board.table.value


def test_sliders_and_search_drive_the_same_path(frames: Frames) -> None:
    board = dashboard(frames)
    board.talk_ratio.value = (30.0, 60.0)
    board.search.value = "discount"
    state = board.state
    assert state.talk_ratio == (0.3, 0.6)
    assert state.search == "discount"
    for call_id in board.selection.call_ids:
        row = frames.calls.set_index("call_id").loc[call_id]
        assert 0.3 <= row["talk_ratio_rep"] <= 0.6
        text = " ".join(frames.turns.loc[frames.turns["call_id"] == call_id, "text"]).lower()
        assert "discount" in text
    board.reset.click()
    assert board.state == FilterState()
    assert len(board.selection) == len(frames.calls)


def test_set_state_round_trips(frames: Frames) -> None:
    board = dashboard(frames)
    state = FilterState(
        reps=("Ana", "Chen"),
        date_from=dt.date(2026, 2, 1),
        date_to=dt.date(2026, 3, 31),
        trackers=("pricing",),
        tracker_mode="all",
        talk_ratio=(0.1, 0.8),
        duration_s=(30.0, 180.0),
        search="price",
    )
    board.set_state(state)
    assert board.state == state
    assert board.selection.call_ids == apply_filters(build_index(frames), state).call_ids
    assert 0 < len(board.selection) < len(frames.calls)


def test_no_match_empties_the_views(frames: Frames) -> None:
    board = dashboard(frames)
    board.search.value = "zebra"
    assert len(board.selection) == 0
    assert board.selected_call is None
    assert board.charts.outputs == ()
    assert "No call matches" in board.transcript.value


def test_call_view_shows_timeline_highlights_and_summary() -> None:
    frames = make_frames(5, seed=9)
    call_id = "call_0002"
    frames.turns.loc[frames.turns["call_id"] == call_id, "text"] = "what is the Pricing of <script>x</script>"
    frames.hits.loc[len(frames.hits)] = [
        call_id,
        "pricing",
        "pricing",
        "channel_0",
        "rep",
        1.0,
        2.0,
        0.1,
        "pricing",
        0,
        "words",
    ]
    frames.summaries[call_id] = CallSummary(
        call_id=call_id, method="extractive", summary=[SummaryItem(text="They asked <b>about</b> price")]
    )
    board = dashboard(frames)
    board.call_picker.value = call_id
    assert board.selected_call == call_id
    assert '<mark title="pricing">Pricing</mark>' in board.transcript.value
    assert "<script>" not in board.transcript.value
    assert "&lt;script&gt;x&lt;/script&gt;" in board.transcript.value
    assert "They asked &lt;b&gt;about&lt;/b&gt; price" in board.summary.value
    timeline = board.call_chart.outputs[0]["data"]["application/vnd.plotly.v1+json"]
    assert timeline["data"], "the call timeline has traces"


def test_highlight_prefers_the_longest_phrase_and_whole_words() -> None:
    frames = make_frames(1)
    turns = frames.turns.iloc[:1].assign(text="our pricing page vs overpriced price list")
    hits = frames.hits.iloc[:0]
    hits.loc[0] = ["call_0000", "pricing", "price list", "channel_0", "rep", 0.0, 1.0, 0.0, "x", 0, "words"]
    hits.loc[1] = ["call_0000", "pricing", "price", "channel_0", "rep", 0.0, 1.0, 0.0, "x", 0, "words"]
    out = highlight_transcript_html(turns, hits)
    assert out.count("<mark") == 1
    assert '<mark title="pricing">price list</mark>' in out
    assert "overpriced" in out


def test_displays_as_a_widget(frames: Frames) -> None:
    bundle = dashboard(frames)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_on_the_sample_call_set_from_its_scripts() -> None:
    """The real CallSet layout (hearkit.record) of the sample calls' scripted truth: the filters agree
    with what the scripts planted and with sample_data/index.json."""
    import json

    from hearkit.record import CallSet
    from tests.dashboard.test_voila import REPO

    calls = CallSet.load_sample(source="truth")
    truths = {
        p.name.removesuffix(".truth.json"): json.loads(p.read_text())
        for p in (REPO / "sample_data").glob("*.truth.json")
    }
    board = dashboard(calls)
    board.set_state(FilterState(trackers=("competitors",)))
    planted = {cid for cid, t in truths.items() if any(p["tracker"] == "competitors" for p in t["planted"])}
    assert set(board.selection.call_ids) == planted
    assert len(planted) < len(truths)

    index = json.loads((REPO / "sample_data" / "index.json").read_text())["calls"]
    board.set_state(FilterState(reps=("Sam Ortiz",)))
    assert set(board.selection.call_ids) == {c["call_id"] for c in index if c["rep"] == "Sam Ortiz"}
    # A rep, tracker or range the calls cannot match is refused, not dropped (which had turned the
    # filter off and shown every call); the selection stays as it was.
    before = set(board.selection.call_ids)
    for bad, message in (
        (FilterState(reps=("Nobody",)), "no call has rep 'Nobody'"),
        (FilterState(trackers=("no_such_tracker",)), "no call has tracker 'no_such_tracker'"),
        (FilterState(talk_ratio=(50.0, 70.0)), "fractions between 0 and 1"),
    ):
        with pytest.raises(ValueError, match=message):
            board.set_state(bad)
    assert set(board.selection.call_ids) == before

    cid, truth = sorted(truths.items())[2]
    phrase = " ".join(truth["turns"][3]["text"].split()[:4])
    board.set_state(FilterState(search=f'"{phrase}"'))
    assert cid in board.selection.call_ids
    board.call_picker.value = cid
    assert board.call_chart.outputs, "the call view draws the timeline"
    assert "<mark" in board.transcript.value


def test_frames_the_call_view_cannot_show_are_refused_with_the_names() -> None:
    """A turns frame without turn/role ids got as far as `KeyError: 'turn'` from the moments list."""
    from hearkit.dashboard import dashboard
    from hearkit.record import CallSet

    calls = CallSet.load_sample()
    bare = CallSet(
        calls=calls.calls,
        turns=calls.turns[["call_id", "speaker", "start", "end", "text"]],
        words=calls.words,
        hits=calls.hits,
        speakers=calls.speakers,
    )
    with pytest.raises(ValueError, match=r"the turns frame lacks column\(s\) \['turn', 'role'\]"):
        dashboard(bare)
    with pytest.raises(TypeError, match=r"dashboard takes a CallSet .* not dict"):
        dashboard({"calls": calls.calls})  # type: ignore[arg-type]
