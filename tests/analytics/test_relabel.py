"""Re-labelling stored calls: the outcome equals analysing the results again with the new labels."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hearkit.record import STEREO_ROLES, CallSet, analyze_calls, sample_dir

ROLE_COLUMNS = (
    "talk_",
    "share_of_call_",
    "wpm_",
    "filler",
    "questions_",
    "interruptions_",
    "words_",
    "longest",
)


def _sources() -> dict[str, dict[str, object]]:
    base = Path(sample_dir())
    entries = json.loads((base / "index.json").read_text())["calls"]
    return {e["call_id"]: json.loads((base / e["result"]).read_text()) for e in entries}


def _assert_same_metrics(got: pd.DataFrame, want: pd.DataFrame) -> None:
    columns = [c for c in want.columns if c.startswith(ROLE_COLUMNS) or c in ("patience_s", "n_speakers")]
    a, b = got.set_index("call_id").loc[want["call_id"]], want.set_index("call_id")
    for column in columns:
        x, y = a[column].astype(float).to_numpy(), b[column].astype(float).to_numpy()
        assert np.allclose(x, y, equal_nan=True), column


@pytest.fixture(scope="module")
def stereo() -> CallSet:
    return analyze_calls(_sources(), roles=STEREO_ROLES, summaries=False)


def test_swapped_roles_equal_a_fresh_analysis_with_swapped_roles(stereo: CallSet) -> None:
    swapped = stereo.with_roles({c: {"speaker_0": "customer", "speaker_1": "rep"} for c in stereo.call_ids})
    fresh = analyze_calls(_sources(), roles={0: "customer", 1: "rep"}, summaries=False)
    _assert_same_metrics(swapped.calls, fresh.calls)
    merged = swapped.turns.merge(fresh.turns, on=["call_id", "turn"], suffixes=("", "_fresh"))
    assert (merged["role"] == merged["role_fresh"]).all()
    assert set(swapped.turns["role_source"]) == {"user"}
    assert set(swapped.turns["speaker_source"]) == {"channel"}
    hits = swapped.hits.merge(fresh.hits, on=["call_id", "start", "tracker"], suffixes=("", "_fresh"))
    assert len(hits) == len(fresh.hits) and (hits["role"] == hits["role_fresh"]).all()
    # the phrase index follows the new roles without being rebuilt
    said_by_rep = stereo.search("per seat", role="rep")
    assert len(swapped.search("per seat", role="customer")) == len(said_by_rep) > 0
    # the original is untouched
    assert set(stereo.turns["role"]) == {"rep", "customer"}
    assert (stereo.turns["role_source"] != "user").all()


def test_one_call_only_and_merge_then_split_round_trip(stereo: CallSet) -> None:
    call = "call_03_pricing"
    one = stereo.with_roles({call: {"speaker_1": "rep"}})
    changed = one.calls.set_index("call_id")
    assert changed.loc[call, "talk_ratio_rep"] == pytest.approx(1.0)
    others = [c for c in stereo.call_ids if c != call]
    pd.testing.assert_frame_equal(
        one.calls.set_index("call_id").loc[others], stereo.calls.set_index("call_id").loc[others]
    )

    customer_turns = stereo.turns[
        (stereo.turns["call_id"] == call) & (stereo.turns["speaker"] == "speaker_1")
    ]
    merged = stereo.merge_speakers(call, ["speaker_0", "speaker_1"])
    row = merged.calls.set_index("call_id").loc[call]
    assert row["n_speakers"] == 1 and row["talk_ratio_rep"] == pytest.approx(1.0)
    assert pd.isna(row["talk_ratio_customer"]) or row["talk_ratio_customer"] == 0
    assert set(merged.turns.loc[merged.turns["call_id"] == call, "speaker"]) == {"speaker_0"}
    assert set(merged.hits.loc[merged.hits["call_id"] == call, "speaker"]) == {"speaker_0"}
    back = merged.split_speaker(
        call, "speaker_0", customer_turns["turn"].tolist(), new_speaker="speaker_1", role="customer"
    )
    _assert_same_metrics(back.calls, stereo.calls)
    sources = back.turns.loc[back.turns["call_id"] == call, "speaker_source"]
    assert set(sources) == {"user"}


@pytest.mark.parametrize(
    ("roles", "error", "message"),
    [
        ({"nope": {"speaker_0": "rep"}}, KeyError, "no call 'nope'"),
        ({"call_01_discovery": {"speaker_7": "rep"}}, KeyError, "has no speaker 'speaker_7'"),
        ({"call_01_discovery": {"speaker_0": ""}}, ValueError, "non-empty string"),
        ({"call_01_discovery": "rep"}, TypeError, "must map speaker"),
    ],
)
def test_bad_roles_say_what_to_do(
    stereo: CallSet, roles: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        stereo.with_roles(roles)  # type: ignore[arg-type]


def test_one_string_where_a_list_is_wanted_is_refused(stereo: CallSet) -> None:
    """merge_speakers(c, "speaker_0") said "no speaker 's'"; split_speaker(..., "12") moved turns 1 and 2."""
    call = "call_01_discovery"
    with pytest.raises(TypeError, match=r"speakers is a list of speaker labels, e\.g\. \['speaker_0'"):
        stereo.merge_speakers(call, "speaker_0")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"turns is a list of turn ids .*e\.g\. \['12'\]"):
        stereo.split_speaker(call, "speaker_0", "12", new_speaker="speaker_9")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"e\.g\. \[12\]"):
        stereo.split_speaker(call, "speaker_0", 12, new_speaker="speaker_9")  # type: ignore[arg-type]


def test_hearkit_remap_rewrites_saved_calls(stereo: CallSet, tmp_path: Path) -> None:
    stereo.save(tmp_path / "out")

    def remap(*options: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "hearkit.cli.main", "remap", str(tmp_path / "out")]
        return subprocess.run(
            [*command, "--call", "call_01_discovery", *options], capture_output=True, text=True, timeout=120
        )

    ran = remap("--rep", "speaker_1")
    assert ran.returncode == 0, ran.stderr
    loaded = CallSet.load(tmp_path / "out").calls.set_index("call_id")
    before = stereo.calls.set_index("call_id")
    assert loaded.loc["call_01_discovery", "talk_ratio_rep"] == pytest.approx(
        before.loc["call_01_discovery", "talk_ratio_customer"]
    )
    assert "call_01_discovery: trust " in ran.stdout  # what the change did to the trust, said there
    # Naming only the customer of a two-voice call makes the other voice the rep (a trial saw both
    # become customers: rep talk 0 %, trust high).
    back = remap("--customer", "speaker_1")
    assert back.returncode == 0, back.stderr
    again = CallSet.load(tmp_path / "out").calls.set_index("call_id")
    assert again.loc["call_01_discovery", "talk_ratio_rep"] == pytest.approx(
        before.loc["call_01_discovery", "talk_ratio_rep"]
    )
    bad = remap("--rep", "speaker_9")
    assert (
        bad.returncode == 2 and "has no speaker 'speaker_9'" in bad.stderr and "Traceback" not in bad.stderr
    )


@pytest.mark.parametrize(
    ("first", "then", "flag"),
    [
        ({"speaker_0": "rep"}, {"speaker_1": "customer"}, None),  # the role that was missing, set
        ({0: "rep", 1: "customer"}, {"speaker_1": "unknown"}, "no_role"),  # a role taken away
        ({0: "rep", 1: "customer"}, {"speaker_0": "agent", "speaker_1": "caller"}, "no_rep_or_customer"),
    ],
    ids=["role set", "role removed", "agent and caller"],
)
def test_a_relabel_keeps_the_talk_ratio_rule_and_its_flag(
    first: dict[object, str], then: dict[str, str], flag: str | None
) -> None:
    """with_roles gave numbers where scorecards says 'not measured' (a speaker set back to unknown: rep
    0.45, customer 0.0), and left a no_role flag on a call whose roles it had just completed."""
    source = {"call_03_pricing": _sources()["call_03_pricing"]}
    roles_after = {**{f"speaker_{k}" if isinstance(k, int) else k: v for k, v in first.items()}, **then}
    relabelled = analyze_calls(source, roles=first, summaries=False).with_roles({"call_03_pricing": then})
    fresh = analyze_calls(source, roles=roles_after, summaries=False)
    _assert_same_metrics(relabelled.calls, fresh.calls)
    got = relabelled.calls.iloc[0]
    assert got["flags"] == fresh.calls.iloc[0]["flags"]
    if flag is None:
        assert 0 < got["talk_ratio_rep"] < 1 and "no_role" not in got["flags"]
    else:
        assert flag in got["flags"].split(",") and np.isnan(got["talk_ratio_rep"])
