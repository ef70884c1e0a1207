"""A report whose reps have too few calls to compare says so (U9 finding 4: a small team's report had
no roll-up by rep and no word of why). The sample calls: Jordan Lee 6 calls, Sam Ortiz 1."""

from __future__ import annotations

import html

from hearkit.record import CallSet
from hearkit.report import render_html


def test_a_report_without_a_comparison_says_why() -> None:
    calls = CallSet.load_sample()
    sizes = calls.calls["rep"].value_counts()
    assert (sizes < 10).all()  # the premise: no rep has the 10 calls a comparison needs
    page = html.unescape(render_html(calls, audio="none"))
    assert 'id="compare-absent"' in page and 'id="compare"' not in page
    said = "No comparison by rep: it needs at least 2 reps with 10 calls each"
    assert said in page
    assert all(f"{rep} {n}" in page for rep, n in sizes.items())
