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
# # Dashboard
#
# Filter the calls by rep, date, tracker hits, talk ratio, duration or words in the transcript;
# the table and charts follow, and the call view shows the selected call's timeline and its
# transcript with tracker phrases highlighted.
#
# `hearkit dashboard` serves the same dashboard as a web page for readers, without code
# (`hearkit dashboard OUT` for the calls of a batch); `hearkit dashboard --notebook
# notebooks/03_dashboard.ipynb` serves this notebook itself with Voilà.

# %%
import plotly.io as pio
from IPython.display import display

from hearkit import charts
from hearkit.dashboard import FilterState, dashboard
from hearkit.record import CallSet

pio.renderers.default = "plotly_mimetype+notebook"

calls = CallSet.load_sample()
board = dashboard(calls)
display(board)

# %% [markdown]
# ## Driving the filters from code
# `board.state` is a plain `FilterState`; `board.set_state(...)` sets the widgets, as a click
# would. Here: one rep's calls, then back to every call.

# %%
board.set_state(FilterState(reps=("Sam Ortiz",)))
one_rep = list(board.selection.call_ids)
board.set_state(FilterState())
print(one_rep)

# %%
charts.talk_ratio(calls.turns[calls.turns["call_id"].isin(one_rep)], calls.calls)
