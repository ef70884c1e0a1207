"""A call's scorecard names each share's denominator (U9 finding 2: "rep talk ratio 69.3 %" beside "rep
share of call 60.0 %" on one call, neither saying of what)."""

from __future__ import annotations

from hearkit.record import CallSet
from hearkit.views import metric_items


def test_every_share_of_the_call_view_says_what_it_is_a_share_of() -> None:
    row = CallSet.load_sample().calls.set_index("call_id").loc["call_01_discovery"]
    labels = {item["label"]: item["value"] for item in metric_items(row)}
    shares = {label: value for label, value in labels.items() if value.endswith("%")}
    assert len(shares) >= 5
    for label in shares:
        assert "(of all talk)" in label or "(of the call's length)" in label, label
