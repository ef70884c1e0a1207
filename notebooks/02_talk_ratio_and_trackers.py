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
# # Talk ratio and trackers across the sample calls
#
# The sample set holds seven scripted sales and support calls, already transcribed (their
# results are committed in `sample_data/`), so this notebook needs no transcription.
#
# **Talk ratio** = a speaker's talk time / the talk time of everyone on the call (overlap counted
# for each speaker). Top performers talk about 43% of the time; above 65% goes with lower win
# rates (the band in the chart).

# %%
import plotly.io as pio

from hearkit import charts
from hearkit.record import CallSet

pio.renderers.default = "plotly_mimetype+notebook"

calls = CallSet.load_sample()
calls.calls[["call_id", "title", "rep", "date"]]

# %%
charts.talk_ratio(calls.turns, calls.calls)

# %% [markdown]
# ## Trackers
# Hits per call and tracker, then where in each call they fall.

# %%
calls.hits.pivot_table(index="call_id", columns="tracker", values="start", aggfunc="count", fill_value=0)

# %%
charts.keyword_timeline(calls.hits)

# %% [markdown]
# ## Pricing mentions
# How often pricing comes up, and where (the position is the share of the call elapsed).

# %%
charts.pricing_mentions(calls.hits, calls.calls)

# %% [markdown]
# ## Metrics across calls
# Every call's value as a point; the pricing call is highlighted.

# %%
charts.metric_distributions(calls.calls, selected="call_03_pricing")
