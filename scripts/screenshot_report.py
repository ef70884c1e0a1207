"""Render the real report of the sample calls in headless Chromium and save docs/img/report.png.

    uv run python scripts/screenshot_report.py [--out docs/img/report.png]

The picture is the top of the real report, unedited: overview table, talk ratio per call and the
keyword timeline, so the README shows what `hearkit report sample` writes.
Needs /usr/bin/chromium (Debian package `chromium`).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from hearkit import report
from hearkit.record import CallSet

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDTH = 1100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "report.png")
    args = parser.parse_args()

    calls = CallSet.load_sample()
    with tempfile.TemporaryDirectory() as folder:
        page_path = report.write_html(
            calls, Path(folder) / "report.html", title="hearkit: sample sales calls"
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": WIDTH, "height": 900}, device_scale_factor=1)
            page.goto(page_path.as_uri())
            charts = page.locator("#charts .chart")
            for index in range(charts.count()):
                charts.nth(index).locator(".main-svg").first.wait_for(state="attached")
            page.wait_for_timeout(500)  # let plotly finish drawing
            # the top of the page down to the second chart (talk ratio, keyword timeline)
            bottom = charts.nth(min(1, charts.count() - 1)).evaluate(
                "c => c.getBoundingClientRect().bottom + window.scrollY + 12"
            )
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=str(args.out), full_page=True, clip={"x": 0, "y": 0, "width": WIDTH, "height": bottom}
            )
            browser.close()
    print(f"wrote {args.out} ({args.out.stat().st_size / 1000:.0f} kB)")


if __name__ == "__main__":
    main()
