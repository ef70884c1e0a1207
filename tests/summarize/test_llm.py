"""The LLM path against a real chat completions server on loopback (see conftest.py)."""

from __future__ import annotations

import json
import logging
import re

import pandas as pd
import pytest

from hearkit.summarize import LLMConfig, SummarizeError, summarize
from tests.summarize.conftest import API_KEY, MODEL, Reply, ScriptedLLM, Seen, completion, error
from tests.summarize.scripted_call import LINES, turns_frame

TURN_LINE = re.compile(r"^\[(\d+)\]", re.MULTILINE)


def answer(**fields: object) -> str:
    body: dict[str, object] = {"summary": [], "action_items": [], "next_steps": [], "objections": []}
    body.update(fields)
    return json.dumps(body)


GOOD = answer(
    summary=[{"text": "Invoices stopped syncing; the rep reconnected the connector.", "turns": [1, 8]}],
    action_items=[
        {"text": "Backfill the missing invoices", "turns": [10], "owner_role": "rep", "due": "tonight"},
        {"text": "Send the IT contact", "turns": [16], "owner_role": "customer", "due": "by Friday"},
    ],
    next_steps=[{"text": "Review call next Wednesday", "turns": [17]}],
    objections=[{"text": "Second outage this quarter", "turns": [5]}],
)


def test_valid_answer_becomes_a_cited_summary(llm_server: ScriptedLLM) -> None:
    llm_server.play(completion(GOOD))
    turns = turns_frame()

    summary = summarize(turns, llm=llm_server.config())

    assert summary.method == "llm" and summary.model == MODEL and summary.chunks == 1
    assert summary.dropped_items == 0
    backfill = summary.action_items[0]
    assert (backfill.owner_role, backfill.due) == ("rep", "tonight")
    row = turns.loc[turns["turn"] == 10].iloc[0]
    assert (backfill.citations[0].turn, backfill.citations[0].start, backfill.citations[0].end) == (
        10,
        row["start"],
        row["end"],
    )
    assert [c.turn for c in summary.summary[0].citations] == [1, 8]
    assert summary.objections[0].citations[0].turn == 5
    # What went over the wire: one request, schema asked for and stated, every turn labelled.
    (seen,) = llm_server.seen
    assert seen.headers["authorization"] == f"Bearer {API_KEY}"
    assert seen.body["model"] == MODEL
    assert seen.body["response_format"]["type"] == "json_schema"
    assert '"action_items"' in seen.system and "owner_role" in seen.system
    assert [int(t) for t in TURN_LINE.findall(seen.user)] == list(range(len(LINES)))
    assert "[12] " in seen.user and "rep (channel_0): Sure, I'll email you" in seen.user
    assert "customer (channel_1): Hi Sam." in seen.user


def test_invalid_answer_is_retried_once_with_the_validation_error(llm_server: ScriptedLLM) -> None:
    bad = '{"summary": [{"text": "x", "turns": ["not a turn id"]}]}'
    llm_server.play(completion(bad), completion("```json\n" + GOOD + "\n```"))

    summary = summarize(turns_frame(), llm=llm_server.config())

    assert len(llm_server.seen) == 2
    retry = llm_server.seen[1].messages
    assert retry[2] == {"role": "assistant", "content": bad}
    assert "not valid" in retry[3]["content"] and "turns" in retry[3]["content"]
    assert len(summary.action_items) == 2


def test_invalid_answer_twice_raises_a_clear_error(llm_server: ScriptedLLM) -> None:
    llm_server.play(completion("Sure! Here is your summary: the call went well."))

    with pytest.raises(SummarizeError, match="invalid JSON twice") as caught:
        summarize(turns_frame(), llm=llm_server.config())

    assert len(llm_server.seen) == 2
    assert "llm=None" in str(caught.value)


def test_items_citing_missing_turns_are_dropped_and_counted(llm_server: ScriptedLLM) -> None:
    llm_server.play(
        completion(
            answer(
                summary=[{"text": "Made up", "turns": [999]}, {"text": "Real", "turns": [1, 404]}],
                action_items=[{"text": "Ghost task", "turns": [], "owner_role": "rep", "due": None}],
                objections=[{"text": "Ghost objection", "turns": [-1, 57]}],
            )
        )
    )

    summary = summarize(turns_frame(), llm=llm_server.config())

    assert summary.dropped_items == 3
    assert [item.text for item in summary.summary] == ["Real"]
    assert [c.turn for c in summary.summary[0].citations] == [1]
    assert summary.action_items == [] and summary.objections == []


def test_429_waits_for_retry_after_then_succeeds(llm_server: ScriptedLLM) -> None:
    llm_server.play(error(429, "slow down", "rate_limit_exceeded", **{"Retry-After": "1"}), completion(GOOD))

    summary = summarize(turns_frame(), llm=llm_server.config(max_retries=2))

    first, second = llm_server.seen
    assert second.at - first.at >= 0.95  # the server asked for 1 s; the jittered backoff would be < 0.5 s
    assert len(summary.action_items) == 2


def test_429_that_persists_raises_with_what_to_do(llm_server: ScriptedLLM) -> None:
    llm_server.play(error(429, "quota window full", "rate_limit_exceeded", **{"Retry-After": "1"}))

    with pytest.raises(SummarizeError, match="429") as caught:
        summarize(turns_frame(), llm=llm_server.config(max_retries=1))

    assert caught.value.status_code == 429
    assert "wait 1 s" in str(caught.value) and "max_retries" in str(caught.value)
    assert len(llm_server.seen) == 2


def test_timeout_is_retried(llm_server: ScriptedLLM) -> None:
    llm_server.play(Reply(delay=3.0, body={}), completion(GOOD))

    summary = summarize(turns_frame(), llm=llm_server.config(timeout=0.5, max_retries=2))

    assert len(llm_server.seen) == 2
    assert summary.action_items[0].due == "tonight"


def test_timeout_every_time_raises_and_says_so(llm_server: ScriptedLLM) -> None:
    llm_server.play(Reply(delay=3.0, body={}))

    with pytest.raises(SummarizeError, match=r"did not answer within 0.3 s, 2 attempt"):
        summarize(turns_frame(), llm=llm_server.config(timeout=0.3, max_retries=1))


def test_server_errors_raise_without_leaking_the_key(
    llm_server: ScriptedLLM, caplog: pytest.LogCaptureFixture
) -> None:
    llm_server.play(error(503, "model is loading"))
    caplog.set_level(logging.DEBUG)

    with pytest.raises(SummarizeError, match="server error 503 after 2 attempt") as caught:
        summarize(turns_frame(), llm=llm_server.config(max_retries=1))

    assert caught.value.status_code == 503
    assert len(llm_server.seen) == 2
    assert caplog.records, "the openai client and hearkit both log at debug level"
    assert API_KEY not in caplog.text and API_KEY not in str(caught.value)
    assert API_KEY not in repr(llm_server.config())


def test_endpoint_without_json_schema_support_gets_json_object(llm_server: ScriptedLLM) -> None:
    def strict_server(seen: Seen, index: int) -> Reply:
        if seen.body.get("response_format", {}).get("type") == "json_schema":
            return error(400, "response_format json_schema is not supported")
        return completion(GOOD)

    llm_server.play(strict_server)

    summary = summarize(turns_frame(), llm=llm_server.config())

    assert [s.body["response_format"]["type"] for s in llm_server.seen] == ["json_schema", "json_object"]
    assert len(summary.action_items) == 2


def long_call(repeats: int = 3) -> pd.DataFrame:
    """The scripted call said ``repeats`` times over: 60 turns, ~5,000 characters."""
    one = turns_frame()
    parts = []
    for n in range(repeats):
        part = one.copy()
        part["turn"] = part["turn"] + n * len(one)
        part["start"] = part["start"] + n * 100.0
        part["end"] = part["end"] + n * 100.0
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def echo_model(seen: Seen, index: int) -> Reply:
    """A model that cites what it was sent: every transcript turn, or every turn the partials cite."""
    if seen.system.startswith("You merge"):
        parts = [
            json.loads(line.split(": ", 1)[1]) for line in seen.user.splitlines() if line.startswith("Part ")
        ]
        cited = sorted({t for part in parts for item in part["summary"] for t in item["turns"]})
        actions = [item for part in parts for item in part["action_items"]]
        return completion(answer(summary=[{"text": "merged", "turns": cited}], action_items=actions))
    turns = sorted({int(t) for t in TURN_LINE.findall(seen.user)})
    first = turns[0]
    return completion(
        answer(
            summary=[{"text": f"part from {first}", "turns": turns}],
            action_items=[{"text": f"task at {first}", "turns": [first], "owner_role": "rep", "due": None}],
        )
    )


def test_context_length_error_forces_smaller_chunks_and_every_turn_is_sent(llm_server: ScriptedLLM) -> None:
    turns = long_call()
    limit: dict[str, int] = {}

    def small_context(seen: Seen, index: int) -> Reply:
        # The server's context: its instructions plus ~1,500 characters; it refuses more.
        limit.setdefault("chars", len(seen.system) + 1500)
        if seen.size > limit["chars"]:
            return error(
                400, "This model's maximum context length is 2048 tokens.", "context_length_exceeded"
            )
        return echo_model(seen, index)

    llm_server.play(small_context)

    summary = summarize(turns, llm=llm_server.config(context_tokens=32_000))

    refused = [s for s in llm_server.seen if s.size > limit["chars"]]
    answered = [s for s in llm_server.seen if s.size <= limit["chars"]]
    maps = [s for s in answered if not s.system.startswith("You merge")]
    assert refused and refused[0].size > 4000  # the whole call was tried first
    assert len(maps) >= 3 and summary.chunks == len(maps)
    sent = [int(t) for s in maps for t in TURN_LINE.findall(s.user)]
    assert sorted(set(sent)) == turns["turn"].tolist()  # every turn went to the model
    assert sorted(sent) == sorted(set(sent))  # and none twice
    assert any(s.system.startswith("You merge") for s in answered)
    cited = sorted({c.turn for item in summary.summary for c in item.citations})
    assert cited == turns["turn"].tolist()  # and came back cited through map and reduce
    assert len(summary.action_items) == len(maps)


def test_context_budget_splits_without_a_server_error_and_long_turns_are_not_cut(
    llm_server: ScriptedLLM,
) -> None:
    turns = turns_frame()
    monologue = " ".join(f"word{n}" for n in range(600))  # ~4,300 characters, one turn
    turns.loc[4, "text"] = monologue
    llm_server.play(echo_model)

    summary = summarize(turns, llm=llm_server.config(context_tokens=2000, max_output_tokens=300))

    maps = [s for s in llm_server.seen if not s.system.startswith("You merge")]
    assert len(maps) >= 3 and summary.chunks == len(maps)
    sent_words = re.findall(r"word\d+", "\n".join(s.user for s in maps))
    assert sent_words == monologue.split()  # all of it, in order, split into parts
    assert "(part 1/" in "\n".join(s.user for s in maps)
    assert all(s.size <= 2000 * 4 for s in llm_server.seen)


def test_environment_configures_the_endpoint(
    llm_server: ScriptedLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    llm_server.play(completion(GOOD))
    monkeypatch.setenv("HEARKIT_LLM_BASE_URL", llm_server.base_url)
    monkeypatch.setenv("HEARKIT_LLM_MODEL", "env-model")
    monkeypatch.setenv("HEARKIT_LLM_API_KEY", "sk-from-env")

    summary = summarize(turns_frame())

    assert summary.method == "llm" and summary.model == "env-model"
    assert llm_server.seen[0].headers["authorization"] == "Bearer sk-from-env"
    assert summarize(turns_frame(), method="extractive").method == "extractive"
    assert len(llm_server.seen) == 1


def test_bad_configuration_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARKIT_LLM_BASE_URL", "https://llm.example.com/v1")
    with pytest.raises(ValueError, match="HEARKIT_LLM_MODEL"):
        summarize(turns_frame())
    with pytest.raises(ValueError, match="plain http"):
        LLMConfig(base_url="http://llm.example.com/v1", model="m")
    with pytest.raises(ValueError, match="context_tokens"):
        LLMConfig(base_url="https://llm.example.com/v1", model="m", context_tokens=100, max_output_tokens=200)
    monkeypatch.delenv("HEARKIT_LLM_BASE_URL")
    with pytest.raises(ValueError, match="needs an endpoint"):
        summarize(turns_frame(), method="llm")


def test_unreachable_endpoint_raises_connection_error() -> None:
    config = LLMConfig(base_url="http://127.0.0.1:9/v1", model="m", max_retries=0, timeout=2.0)
    with pytest.raises(SummarizeError, match="could not connect"):
        summarize(turns_frame(), llm=config)


def test_call_without_speech_sends_nothing(llm_server: ScriptedLLM) -> None:
    llm_server.play(completion(GOOD))
    summary = summarize(turns_frame().iloc[0:0], llm=llm_server.config(), call_id="silent")
    assert (summary.method, summary.chunks, summary.summary) == ("llm", 0, [])
    assert llm_server.seen == []


@pytest.mark.parametrize(
    ("body", "headers", "said"),
    [
        (
            "<html><body>nginx 502 Bad Gateway</body></html>",
            {"content-type": "text/html"},
            "not a chat completion",
        ),
        ('{"choices": [', {}, "broken JSON"),
    ],
    ids=["proxy-page", "cut-json"],
)
def test_a_200_that_is_not_a_chat_completion_is_a_clear_error(
    llm_server: ScriptedLLM, body: str, headers: dict[str, str], said: str
) -> None:
    """U8 finding 3: a proxy's HTML page or a cut JSON body, answered 200, ended in AttributeError /
    JSONDecodeError tracebacks (and stopped `hearkit batch`) instead of a SummarizeError."""
    llm_server.play(Reply(status=200, body=body, headers=headers))
    with pytest.raises(SummarizeError, match=said) as caught:
        summarize(turns_frame(), llm=llm_server.config(max_retries=0))
    assert llm_server.base_url in str(caught.value) and API_KEY not in str(caught.value)
