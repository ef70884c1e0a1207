"""The dashboard's call timeline is as long as the call (U4 finding 10: a call with a 128 s hold after
its last turn was drawn ending at the last turn, no silence, where the report's timeline of the same
call shows the hold). The call's length is set here by hand: last turn end + 120 s."""

from __future__ import annotations

from hearkit.dashboard import FigureFactory, dashboard
from tests.dashboard.conftest import make_frames


def test_a_silent_tail_after_the_last_turn_is_drawn() -> None:
    frames = make_frames(3, seed=5)
    turns = frames.turns[frames.turns["call_id"] == "call_0000"]
    last_end = float(turns["end"].max())
    frames.calls.loc[frames.calls["call_id"] == "call_0000", "duration_s"] = last_end + 120.0
    board = dashboard(frames)
    figure = FigureFactory().call(
        board, "call_0000", board.turns_of(["call_0000"]), board.hits_of("call_0000")
    )[0]
    silence = next(trace for trace in figure.data if trace.name == "silence")
    tail = [(b, w) for b, w in zip(silence.base, silence.x, strict=True) if abs(b - last_end) < 0.01]
    assert tail and abs(tail[0][1] - 120.0) < 0.01  # the hold, from the last turn to the call's end
    assert abs(figure.layout.xaxis.range[1] - (last_end + 120.0)) < 0.01
