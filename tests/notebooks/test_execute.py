"""Every notebook runs headless through a real kernel, and its HTML export carries its charts."""

from __future__ import annotations

import re

import pytest

from tests.notebooks.conftest import NOTEBOOK_NAMES, Executed

PLOTLY_MIME = "application/vnd.plotly.v1+json"


def figures_of(run: Executed) -> list[dict[str, object]]:
    """The plotly figures the notebook displayed, in order."""
    return [
        output["data"][PLOTLY_MIME]
        for cell in run.notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if PLOTLY_MIME in output.get("data", {})
    ]


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_runs_without_errors(executed: dict[str, Executed], name: str) -> None:
    run = executed[name]
    errors = [
        output
        for cell in run.notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error" or output.get("name") == "stderr"
    ]
    assert errors == []
    assert all(c.execution_count for c in run.notebook.cells if c.cell_type == "code")


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_export_contains_every_chart(executed: dict[str, Executed], name: str) -> None:
    run = executed[name]
    figures = figures_of(run)
    assert figures, f"{name} shows no chart"
    html = run.html
    divs = re.findall(r'<div class="plotly-graph-div" id="([0-9a-f-]{36})"', html)
    assert len(divs) == len(figures), "each chart of the notebook has a plot container in the export"
    for div in divs:
        assert re.search(r'Plotly\.newPlot\(\s*"' + div + '"', html), f"no Plotly.newPlot for {div}"
    # plotly.js travels inline, once (the export opens offline), not from plot.ly's CDN.
    assert html.count("* plotly.js v") == 1
    assert '<script src="https://cdn.plot.ly' not in html
    titles = [str(f["layout"].get("title", {}).get("text", "")) for f in figures]  # type: ignore[union-attr]
    for title in titles:
        if title:
            assert title.split(":")[0].split("(")[0].strip() in html


def test_quickstart_transcribed_the_clip(executed: dict[str, Executed]) -> None:
    """The clip's words come out of the real pipeline: the first 30 s of the pricing call."""
    import json

    from tests.notebooks.conftest import REPO

    truth = json.loads((REPO / "sample_data" / "call_03_pricing.truth.json").read_text())
    said = " ".join(t["text"] for t in truth["turns"] if t["end"] <= 30).lower()
    text = "".join(
        "".join(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
        for c in executed["01_quickstart"].notebook.cells
        if c.cell_type == "code"
        for o in c.outputs
    ).lower()
    truth_words = {w.strip(".,?!") for w in said.split() if len(w) > 4}
    found = {w for w in truth_words if w in text}
    assert len(found) >= 0.6 * len(truth_words), sorted(truth_words - found)


def test_quickstart_leaves_no_audio_beside_itself(executed: dict[str, Executed]) -> None:
    """U7 finding 17: the quickstart wrote its 30 s clip (5.7 MB of WAV) next to itself, in the user's
    notebooks folder. Its folder holds the notebook and the test's export only."""
    run = executed["01_quickstart"]
    assert sorted(p.name for p in run.workdir.iterdir()) == ["01_quickstart.html", "01_quickstart.ipynb"]


def test_dashboard_notebook_narrowed_to_one_rep(executed: dict[str, Executed]) -> None:
    import json

    from tests.notebooks.conftest import REPO

    index = json.loads((REPO / "sample_data" / "index.json").read_text())["calls"]
    expected = {c["call_id"] for c in index if c["rep"] == "Sam Ortiz"}
    cell = next(c for c in executed["03_dashboard"].notebook.cells if "board.selection.call_ids" in c.source)
    shown = eval(cell.outputs[0]["text"])  # the printed list of call ids
    assert set(shown) == expected


def test_report_notebook_wrote_the_report(executed: dict[str, Executed]) -> None:
    run = executed["04_shared_report"]
    report = run.workdir / "shared-report.html"
    assert report.exists()
    assert "Calls that mention pricing" in report.read_text(encoding="utf-8")
