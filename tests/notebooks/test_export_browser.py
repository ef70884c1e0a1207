"""An exported notebook opened in headless Chromium: no console errors, every chart drawn."""

from __future__ import annotations

from typing import Any

import pytest

from tests.notebooks.conftest import Executed

# Helpers the export links but the charts do not need: nbconvert's lab template loads require.js and
# MathJax 2, plotly's notebook output MathJax 3 (for LaTeX in labels), all from cdnjs. There is no
# network in this browser, so those loads fail; plotly.js itself is inline and must draw every chart.
CDN_HELPERS = (
    "https://cdnjs.cloudflare.com/ajax/libs/require.js/",
    "https://cdnjs.cloudflare.com/ajax/libs/mathjax/",
)


@pytest.mark.browser
def test_exported_notebook_renders_in_chromium(executed: dict[str, Executed], browser: Any) -> None:
    run = executed["02_talk_ratio_and_trackers"]
    page = browser.new_page()
    errors: list[str] = []
    failed: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(run.html_path.as_uri())
    expected = run.html.count('class="plotly-graph-div"')
    page.wait_for_function(
        f"document.querySelectorAll('.plotly-graph-div .main-svg').length >= {expected}", timeout=30_000
    )
    drawn = page.eval_on_selector_all(
        ".plotly-graph-div", "divs => divs.map(d => d.querySelectorAll('.main-svg .trace').length)"
    )
    assert len(drawn) == expected >= 4
    assert all(n > 0 for n in drawn), drawn
    assert [url for url in failed if not url.startswith(CDN_HELPERS)] == []
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []
    assert len(errors) == len(failed)
    page.close()
