"""What the model answered and the summary does not show is said (U3 finding 26: items citing turns
999 and -1 were dropped and counted, but the report's card showed only what was kept; an owner_role
"boss" was printed as an owner). Against the scripted chat completions server on loopback; the
expected counts are the answer this test scripts."""

from __future__ import annotations

import json

from hearkit import report, views
from hearkit.record import CallSet
from hearkit.summarize import summarize
from tests.summarize.conftest import ScriptedLLM, completion
from tests.summarize.scripted_call import turns_frame

ANSWER = json.dumps(
    {
        "summary": [
            {"text": "Rep greeted.", "turns": [0]},
            {"text": "The customer agreed to buy 500 seats at $90 each.", "turns": [999]},
        ],
        "action_items": [
            {"text": "Send the signed contract", "turns": [-1], "owner_role": "rep", "due": "tomorrow"},
            {"text": "Call the CFO", "turns": [1], "owner_role": "boss", "due": None},
            {"text": "Backfill the missing invoices", "turns": [10], "owner_role": " Rep ", "due": "tonight"},
            {"text": "Send the IT contact", "turns": [16], "owner_role": "customer", "due": "by Friday"},
        ],
        "next_steps": [],
        "objections": [],
    }
)


def test_dropped_items_and_unknown_owners_are_counted_and_said(llm_server: ScriptedLLM) -> None:
    llm_server.play(completion(ANSWER))
    summary = summarize(turns_frame(), llm=llm_server.config())

    assert summary.dropped_items == 2  # turn 999 and turn -1 are no turns of the call
    assert summary.unknown_owners == 1  # "boss"
    owners = {item.text: item.owner_role for item in summary.action_items}
    assert owners == {
        "Call the CFO": None,
        "Backfill the missing invoices": "rep",
        "Send the IT contact": "customer",
    }

    view = views.summary_view(summary)
    assert view is not None
    assert view.notes == [
        "2 items from the model cited no turn of this call and were left out",
        "1 action item named an owner that is no role of this call: shown without an owner",
    ]
    assert "(boss)" not in views.summary_html(view) and "were left out." in views.summary_html(view)

    calls = CallSet.load_sample("truth")  # the report card of a call holding this summary
    calls.summaries = {"call_01_discovery": summary.model_copy(update={"call_id": "call_01_discovery"})}
    page = report.render_html(calls)
    assert "2 items from the model cited no turn of this call and were left out." in page
    assert "boss" not in page
