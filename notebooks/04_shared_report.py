# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exporting a shared report
#
# `hearkit.report.write_html` writes one self-contained HTML file: an overview table, the
# charts, and a section per call with its transcript (tracker phrases highlighted) and summary.
# plotly.js is embedded once, so the file opens anywhere, offline. Everything that comes from a
# transcript is escaped.

# %%
from pathlib import Path

import plotly.io as pio

from hearkit import charts, report
from hearkit.record import CallSet

pio.renderers.default = "plotly_mimetype+notebook"

calls = CallSet.load_sample()

# %% [markdown]
# Pick the calls to share, for example one rep's calls that mention pricing.

# %%
pricing_calls = set(calls.hits.loc[calls.hits["tracker"] == "pricing", "call_id"])
chosen = calls.calls[calls.calls["call_id"].isin(pricing_calls)]
chosen[["call_id", "title", "rep", "date"]]

# %%
path = report.write_html(calls, Path("shared-report.html"), title="Calls that mention pricing")
print(f"wrote {path.resolve()} ({path.stat().st_size / 1e6:.1f} MB)")

# %% [markdown]
# The same figures are available one by one for a notebook of your own:

# %%
charts.pricing_mentions(calls.hits, calls.calls)

# %% [markdown]
# A call set saves to Parquet and loads back unchanged, to share the data behind a report.

# %%
calls.save(Path("shared-calls"))
CallSet.load(Path("shared-calls")).calls.equals(calls.calls)
