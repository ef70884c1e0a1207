"""The report in a real headless Chromium (Debian chromium driven by Playwright, file:// URL): it
renders with no console errors (Content-Security-Policy violations included), every chart holds a
drawn plot, highlights and collapsible sections work, and no injected script runs.

Loading plotly.js costs seconds on a busy 2-core machine, so the tests of one report share one
page and run in file order; each says what state it leaves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plotly.offline
import pytest

from hearkit import report
from tests.report.frames import INJECTION, Frames

pytestmark = pytest.mark.browser


class Page:
    """A Playwright page that records console errors and uncaught exceptions."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

    def open(self, path: Path, hash_: str = "") -> Any:
        self.page.goto(path.as_uri() + hash_)
        return self.page


@pytest.fixture(scope="module")
def report_path(tmp_path_factory: pytest.TempPathFactory, hostile: Frames, sample: Frames) -> Path:
    return report.write_html([hostile, sample], tmp_path_factory.mktemp("report") / "report.html")


def _page(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)
    try:
        yield Page(context.new_page())
    finally:
        context.close()


@pytest.fixture(scope="module")
def shared(browser: Any, report_path: Path) -> Iterator[Page]:
    for page in _page(browser):
        page.open(report_path)
        yield page


@pytest.fixture
def fresh(browser: Any) -> Iterator[Page]:
    yield from _page(browser)


def _wait_until_drawn(p: Any, selector: str) -> int:
    """Wait until every chart under ``selector`` holds a plotly SVG; return how many there are."""
    charts = p.locator(selector)
    for i in range(charts.count()):
        charts.nth(i).locator(".main-svg").first.wait_for(state="attached")
    return int(charts.count())


def test_overall_charts_draw_at_load_and_call_charts_wait_for_their_section(shared: Page) -> None:
    p = shared.page
    assert _wait_until_drawn(p, "#charts .chart") == 4
    assert p.locator("details.call[open]").count() == 0
    assert p.locator("#calls .chart .main-svg").count() == 0
    assert shared.errors == []


def test_every_chart_holds_a_rendered_plot_once_opened(shared: Page, sample: Frames) -> None:
    p = shared.page
    p.click("#open-all")  # leaves every section open
    assert _wait_until_drawn(p, ".chart") == 4 + 2 * (
        2 + len(sample.calls)
    )  # timeline + distribution per call
    assert p.locator(".chart.js-plotly-plot .main-svg").count() >= p.locator(".chart").count()
    assert p.locator(".chart .bars path").count() >= len(sample.turns)  # a bar per turn, at least
    assert shared.errors == []


def test_tracker_highlights_are_shown(shared: Page, sample: Frames) -> None:
    p = shared.page
    marks = p.locator("ol.transcript mark")
    assert marks.count() >= len(sample.hits)
    assert marks.first.is_visible()
    colour = marks.first.evaluate("m => getComputedStyle(m).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
    assert {h.lower() for h in sample.hits["phrase"]} <= {t.lower() for t in marks.all_inner_texts()}


def test_injected_markup_shows_as_text_and_never_runs(shared: Page) -> None:
    p = shared.page
    scripts_before = p.evaluate("document.scripts.length")
    assert INJECTION in p.locator("#c0t0 > span").inner_text()
    assert p.locator("#call-0 h1").count() == 0  # "</details></ol><h1>fake heading</h1>" stayed text
    assert p.locator("img").count() == 0
    # hover the timeline bar of turn 0, whose text carries the <script>: the label shows it as text
    bar = p.locator("#call-0 .chart").first.locator(".bars path").first
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    assert box
    p.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    p.locator("#call-0 .hoverlayer .hovertext").first.wait_for()
    label = p.locator("#call-0 .hoverlayer .hovertext").first.text_content() or ""
    assert "".join(INJECTION.split()) in "".join(
        label.split()
    )  # label lines are <tspan>s: compare sans spaces
    assert p.evaluate("typeof window.__pwned") == "undefined"
    assert p.evaluate("document.scripts.length") == scripts_before
    assert shared.errors == []


def test_sections_open_and_close_on_click(shared: Page) -> None:
    p = shared.page
    p.click("#close-all")
    assert p.locator("details.call[open]").count() == 0
    section = p.locator("details.call").nth(2)
    assert not section.locator("ol.transcript").is_visible()
    section.locator("summary").click()
    assert section.evaluate("d => d.open") is True
    assert section.locator("ol.transcript").is_visible()
    assert p.locator("details.call[open]").count() == 1
    section.locator("summary").click()
    assert section.evaluate("d => d.open") is False  # leaves every section closed
    assert shared.errors == []


def test_citation_link_opens_and_targets_the_cited_turn(shared: Page) -> None:
    p = shared.page
    p.locator("#call-2 summary").click()
    cite = p.locator("#call-2 a.cite").first
    href = cite.get_attribute("href")
    assert href and href.startswith("#c2t")
    cite.click()
    assert p.evaluate("location.hash") == href
    assert p.locator(href).evaluate("li => li.matches(':target')") is True
    in_view = "li => { const r = li.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"
    assert p.locator(href).evaluate(in_view) is True
    # a link from elsewhere (hash change) opens a closed section
    p.locator("#call-2 summary").click()
    p.evaluate("location.hash = '#c3t2'")
    p.locator("#c3t2").wait_for(state="visible")
    assert p.locator("#call-3").evaluate("d => d.open") is True
    assert shared.errors == []


def test_cdn_mode_loads_plotly_from_the_pinned_url_with_integrity(
    fresh: Page, tmp_path: Path, hostile: Frames
) -> None:
    path = report.write_html(hostile, tmp_path / "cdn.html", plotlyjs="cdn")
    served: list[str] = []

    def fulfil(route: Any) -> None:
        served.append(route.request.url)
        route.fulfill(
            status=200,
            content_type="application/javascript",
            headers={"Access-Control-Allow-Origin": "*"},
            body=plotly.offline.get_plotlyjs(),
        )

    fresh.page.route("https://cdn.plot.ly/**", fulfil)
    p = fresh.open(path, "#c0t1")  # the hash opens the section at load
    assert _wait_until_drawn(p, "#charts .chart, #call-0 .chart") == 4 + 2  # the hash opened call-0
    assert p.locator("#call-1 .chart .main-svg").count() == 0
    assert served == [f"https://cdn.plot.ly/plotly-{plotly.offline.get_plotlyjs_version()}.min.js"]
    assert fresh.errors == []


def test_cdn_mode_offline_says_why_the_charts_are_missing(
    fresh: Page, tmp_path: Path, hostile: Frames
) -> None:
    path = report.write_html(hostile, tmp_path / "cdn.html", plotlyjs="cdn")
    fresh.page.route("https://cdn.plot.ly/**", lambda route: route.abort())
    p = fresh.open(path)
    assert "plotly.js did not load" in p.locator("#charts .chart").first.inner_text()
    p.locator("details.call summary").first.click()
    assert p.locator("details.call ol.transcript").first.is_visible()  # the rest of the report works
