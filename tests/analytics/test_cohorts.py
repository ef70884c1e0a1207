"""hearkit.cohorts: intervals that cover known differences, plain readings, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hearkit import cohorts
from hearkit.metrics import scorecards
from hearkit.synth import synthetic_calls


def _population(n: int, seed: int, scale: float) -> pd.DataFrame:
    calls = synthetic_calls(n, seed=seed, mean_turns=40, rep_turn_scale=scale)
    cards = scorecards(calls.turns, durations=calls.calls.set_index("call_id")["duration_s"])
    return calls.calls.merge(cards, on="call_id")


@pytest.fixture(scope="module")
def populations() -> tuple[pd.DataFrame, pd.DataFrame]:
    return _population(1500, 11, 1.3), _population(1500, 12, 1.0)


def test_intervals_cover_a_known_difference(populations: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """60 seeded repetitions (the benchmark runs 400): coverage near 95 %, loosely bounded."""
    pop_a, pop_b = populations
    truth = pop_a["talk_ratio_rep"].mean() - pop_b["talk_ratio_rep"].mean()
    assert truth > 0.03  # the synthetic knob really makes A's rep talk more
    rng = np.random.default_rng(5)
    covered = 0
    for rep in range(60):
        sample = pd.concat(
            [
                pop_a.iloc[rng.integers(0, len(pop_a), 30)].assign(team="A"),
                pop_b.iloc[rng.integers(0, len(pop_b), 30)].assign(team="B"),
            ]
        )
        diff = cohorts.compare(sample, "talk_ratio_rep", by="team", seed=rep, n_resamples=400).differences
        covered += int(diff["lo"].iloc[0] <= truth <= diff["hi"].iloc[0])
    assert 51 <= covered <= 60  # 85–100 %: P(fewer than 51 | p = 0.95) < 0.5 %


def test_group_means_counts_and_reading(populations: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    pop_a, pop_b = populations
    sample = pd.concat([pop_a.head(200).assign(rep="Maya"), pop_b.head(180).assign(rep="Sam")])
    sample.loc[sample.index[:5], "patience_s"] = np.nan  # not measured: left out of n and the mean
    result = cohorts.compare(sample, ["talk_ratio_rep", "patience_s"], by="rep", seed=1)
    groups = result.groups.set_index(["metric", "group"])
    expected = sample.groupby("rep")["talk_ratio_rep"].mean()
    assert groups.loc[("talk_ratio_rep", "Maya"), "mean"] == pytest.approx(expected["Maya"])
    assert groups.loc[("talk_ratio_rep", "Sam"), "n_calls"] == 180
    assert (
        groups.loc[("patience_s", "Maya"), "n_calls"]
        == sample[sample["rep"] == "Maya"]["patience_s"].notna().sum()
    )
    for row in result.groups.itertuples():
        assert row.lo <= row.mean <= row.hi
    talk = result.differences[result.differences["metric"] == "talk_ratio_rep"].iloc[0]
    assert talk["verdict"] == "a_higher"
    assert talk["reading"].startswith("Maya talks more than Sam: 95 % interval of the difference ")
    assert talk["reading"].endswith("pp, 200 and 180 calls")
    lo, hi = talk["reading"].split("difference ")[1].split(" pp")[0].split("–")
    assert float(lo) == pytest.approx(100 * talk["lo"], abs=0.5)
    assert float(hi) == pytest.approx(100 * talk["hi"], abs=0.5)


def test_same_seed_same_intervals_and_few_calls(populations: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    pop_a, pop_b = populations
    sample = pd.concat([pop_a.head(4).assign(rep="New"), pop_b.head(50).assign(rep="Old")])
    one = cohorts.compare(sample, "talk_ratio_rep", seed=3)
    two = cohorts.compare(sample, "talk_ratio_rep", seed=3)
    pd.testing.assert_frame_equal(one.differences, two.differences)
    assert one.differences["verdict"].iloc[0] == "not_enough"
    assert "not enough calls to say" in one.differences["reading"].iloc[0]


def test_vs_rest_and_trend(populations: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    pop_a, pop_b = populations
    early = pop_b.head(60).assign(rep="Ana", date="2026-01-15")
    late = pop_a.head(60).assign(rep="Ana", date="2026-03-10")
    other = pop_b.iloc[100:160].assign(rep="Bo", date="2026-02-02")
    frame = pd.concat([early, late, other], ignore_index=True)
    rest = cohorts.compare(frame, "talk_ratio_rep", pairs="vs_rest")
    assert set(rest.differences["b"]) == {"the rest"}
    assert rest.differences.set_index("a").loc["Bo", "n_b"] == 120
    result = cohorts.trend(frame, "talk_ratio_rep", by="rep", period="month")
    assert list(result.points[result.points["group"] == "Ana"]["n_calls"]) == [60, 60]
    ana = result.changes.set_index("group").loc["Ana"]
    assert ana["verdict"] == "a_higher"
    assert ana["reading"].startswith("Ana's talk ratio (rep) rose from 2026-01 to 2026-03")
    assert result.changes.set_index("group").loc["Bo", "verdict"] == "not_enough"
    weeks = cohorts.compare(frame, "talk_ratio_rep", by="week")
    assert set(weeks.groups["group"]) == {"2026-W03", "2026-W11", "2026-W06"}  # ISO weeks of the dates


def test_calls_without_the_grouping_value_are_counted_not_dropped_silently(
    populations: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    pop_a, pop_b = populations
    named = pd.concat([pop_a.head(20).assign(rep="Maya"), pop_b.head(20).assign(rep="Sam")])
    unnamed = pd.concat([pop_a.iloc[50:53].assign(rep=None), pop_b.iloc[50:52].assign(rep="")])
    frame = pd.concat([named, unnamed], ignore_index=True)  # 45 calls, 5 of them without a rep
    result = cohorts.compare(frame, "talk_ratio_rep", by="rep")
    assert result.n_calls == 45 and result.left_out == {"no rep": 5}
    assert result.readings()[0] == "5 of 45 calls not compared: no rep (5)"
    assert int(result.groups["n_calls"].sum()) == 40
    dated = frame.assign(date=["2026-01-05"] * 38 + ["someday"] * 2 + ["2026-02-02"] * 5)
    trend = cohorts.trend(dated, "talk_ratio_rep", by="rep")
    # the last 5 have no rep; of the 40 with a rep, 2 have no readable date
    assert trend.left_out == {"no rep": 5, "no readable date": 2}
    assert trend.left_out_note == "7 of 45 calls not in the trend: no rep (5), no readable date (2)"
    weeks = cohorts.compare(dated, "talk_ratio_rep", by="week")
    assert weeks.left_out == {"no readable date": 2}
    from hearkit import cohort_charts

    _, report_readings = cohort_charts.report_section(frame, min_calls=10)  # the report's section
    assert report_readings[0] == "5 of 45 calls not compared: no rep (5)"
    with pytest.raises(ValueError, match="no call has a team to group it by"):
        cohorts.compare(frame.assign(team=None), "talk_ratio_rep", by="team")


def test_one_group_says_there_is_nothing_to_compare(populations: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """A single rep gave readings() == [], which reads as 'no difference found'."""
    result = cohorts.compare(populations[0].head(12).assign(rep="Maya"), "talk_ratio_rep", by="rep")
    assert result.readings() == [
        "only one rep to compare (Maya, 12 calls): nothing to compare it with; group by another column, "
        "or add calls of other rep values"
    ]
    with pytest.raises(
        KeyError, match="'wpm_rep' was not compared; metrics compared: \\['talk_ratio_rep'\\]"
    ):
        result.readings("wpm_rep")


def test_calls_whose_metric_is_not_measured_are_named_in_the_reading() -> None:
    """'12 and 0 calls' read as if Sam had no calls; his 14 had no measured talk ratio (no_role)."""
    maya = pd.DataFrame({"rep": "Maya", "talk_ratio_rep": np.linspace(0.3, 0.6, 12)})
    sam = pd.DataFrame({"rep": "Sam", "talk_ratio_rep": [np.nan] * 14})
    (reading,) = cohorts.compare(pd.concat([maya, sam]), "talk_ratio_rep", by="rep").readings()
    assert reading.endswith("(12 and 0 calls measured; not measured: Sam 14 of 14; 10 each needed)")
    sam = sam.assign(talk_ratio_rep=[*np.linspace(0.5, 0.8, 11), np.nan, np.nan, np.nan])
    (reading,) = cohorts.compare(pd.concat([maya, sam]), "talk_ratio_rep", by="rep").readings()
    assert reading.endswith("12 and 11 calls measured; not measured: Sam 3 of 14")


def test_every_call_compared_has_no_note(populations: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    sample = pd.concat([populations[0].head(12).assign(rep="A"), populations[1].head(12).assign(rep="B")])
    result = cohorts.compare(sample, "talk_ratio_rep")
    assert result.left_out == {} and result.left_out_note == ""
    assert result.readings() == list(result.differences["reading"])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"metrics": "nope"}, KeyError, "no metric column 'nope'"),
        ({"metrics": "rep"}, TypeError, "not a numeric metric"),
        ({"by": "team"}, KeyError, "no column 'team' to group calls by"),
        ({"confidence": 95}, ValueError, "confidence must be in"),
        ({"n_resamples": 10}, ValueError, "n_resamples must be"),
        ({"pairs": [("Maya", "Zed")]}, KeyError, "no group 'Zed'"),
    ],
)
def test_bad_input_says_what_to_do(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    frame = pd.DataFrame({"rep": ["Maya", "Sam"] * 5, "talk_ratio_rep": np.linspace(0.3, 0.7, 10)})
    with pytest.raises(error, match=message):
        cohorts.compare(frame, **{"metrics": "talk_ratio_rep", **kwargs})  # type: ignore[arg-type]


def test_not_a_frame_and_no_dates() -> None:
    with pytest.raises(TypeError, match="calls DataFrame or a CallSet"):
        cohorts.compare([1, 2, 3])
    frame = pd.DataFrame({"rep": ["A", "B"], "date": ["soon", "later"], "talk_ratio_rep": [0.4, 0.5]})
    with pytest.raises(ValueError, match="no readable dates"):
        cohorts.trend(frame, "talk_ratio_rep")


def test_charts_draw_the_intervals(populations: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    from hearkit import cohort_charts

    pop_a, pop_b = populations
    frame = pd.concat([pop_a.head(40).assign(rep="A <b>"), pop_b.head(40).assign(rep="B")])
    result = cohorts.compare(frame, "talk_ratio_rep")
    fig = cohort_charts.group_intervals(result, "talk_ratio_rep")
    rows = result.groups.iloc[::-1]
    (trace,) = fig.data
    assert list(trace.x) == pytest.approx(list(100 * rows["mean"]), abs=1e-3)
    assert list(trace.error_x.array) == pytest.approx(list(100 * (rows["hi"] - rows["mean"])), abs=1e-3)
    assert list(trace.error_x.arrayminus) == pytest.approx(list(100 * (rows["mean"] - rows["lo"])), abs=1e-3)
    assert "A &lt;b&gt; (n=40)" in trace.y  # labels escaped, n beside each group
    diff = cohort_charts.differences(result, "talk_ratio_rep")
    assert sum(len(t.x) for t in diff.data) == 1
    dated = frame.assign(date=["2026-01-05"] * 40 + ["2026-02-05"] * 40)
    assert len(cohort_charts.trend(cohorts.trend(dated, "talk_ratio_rep")).data) == 2


def test_a_group_of_under_five_calls_gets_no_interval_and_five_cover_the_mean() -> None:
    """U3 finding 2: a "95 %" interval of 2-4 calls held the true mean 53-86 % of the time.
    Calls drawn from a known population (talk ratio Normal(0.5, 0.1)): 2-4 calls get no
    interval (NaN); 6 calls get one that holds 0.5 about as often as it says."""
    rng = np.random.default_rng(7)

    def group(n: int, seed: int) -> pd.Series:
        frame = pd.DataFrame(
            {"rep": "Ana", "talk_ratio_rep": np.clip(rng.normal(0.5, 0.1, n), 0, 1), "call_id": range(n)}
        )
        return cohorts.compare(frame, "talk_ratio_rep", by="rep", seed=seed, n_resamples=400).groups.iloc[0]

    for n in (2, 3, 4):
        row = group(n, n)
        assert row["n_calls"] == n and np.isfinite(row["mean"])
        assert np.isnan(row["lo"]) and np.isnan(row["hi"])
    covered = sum(int(row["lo"] <= 0.5 <= row["hi"]) for row in (group(6, seed) for seed in range(60)))
    assert covered >= 50, covered  # 83 %+: P(under 50 | p = 0.95) < 0.1 %


def test_a_share_is_in_percent_and_a_difference_of_shares_in_points(
    populations: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """U9 finding 3: a rep's mean talk ratio (a share, 62 %) was labelled "pp" in the groups frame and on
    the interval and trend charts' axes; percentage points are what a difference of two shares is in."""
    from hearkit import cohort_charts

    pop_a, pop_b = populations
    frame = pd.concat([pop_a.head(40).assign(rep="A"), pop_b.head(40).assign(rep="B")])
    result = cohorts.compare(frame, ["talk_ratio_rep", "patience_s"], by="rep")
    units = result.groups.drop_duplicates("metric").set_index("metric")["unit"]
    assert (units["talk_ratio_rep"], units["patience_s"]) == ("%", "s")
    assert "(%)" in str(cohort_charts.group_intervals(result, "talk_ratio_rep").layout.xaxis.title.text)
    difference = str(cohort_charts.differences(result, "talk_ratio_rep").layout.xaxis.title.text)
    assert difference.startswith("difference") and "pp" in difference
    dated = frame.assign(date=["2026-01-05"] * 40 + ["2026-02-05"] * 40)
    trend_axis = str(cohort_charts.trend(cohorts.trend(dated, "talk_ratio_rep")).layout.yaxis.title.text)
    assert "(%)" in trend_axis


def test_a_trend_without_enough_calls_still_names_its_periods_and_counts() -> None:
    """U9 finding 5: a rep with 3 calls in September and 3 in October read first/last NaT and n 0 and 0
    in `trend(...).changes`, as if the rep had no calls."""
    calls = pd.DataFrame(
        {
            "rep": ["Jo"] * 6 + ["Sam"],
            "date": [
                "2026-09-02",
                "2026-09-09",
                "2026-09-16",
                "2026-10-05",
                "2026-10-12",
                "2026-10-19",
                "2026-09-03",
            ],
            "talk_ratio_rep": [0.5, 0.6, 0.7, 0.7, 0.8, 0.9, 0.4],
        }
    )
    changes = cohorts.trend(calls, "talk_ratio_rep", by="rep", period="month").changes.set_index("group")
    jo, sam = changes.loc["Jo"], changes.loc["Sam"]
    assert (jo["first"], jo["last"]) == (pd.Timestamp("2026-09-01"), pd.Timestamp("2026-10-01"))
    assert (jo["n_first"], jo["n_last"], jo["verdict"]) == (3, 3, "not_enough")
    assert jo["change"] == pytest.approx(0.8 - 0.6) and np.isnan(jo["lo"])
    assert (sam["n_first"], sam["n_last"]) == (1, 1) and np.isnan(sam["change"])
