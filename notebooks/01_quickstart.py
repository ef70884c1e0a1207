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
# # Quickstart: one call, from audio to DataFrames and charts
#
# hearkit sends a recording to a PyAI Hear batch transcription job and turns the result into
# pandas DataFrames. With `PYAI_API_KEY` set, the job runs on the hosted API; without it, on
# hearkit's embedded engine (same HTTP contract, on this machine, no network needed).
#
# For speed this notebook transcribes the first 30 seconds of a sample sales call. It is a
# stereo recording: the rep on channel 0, the customer on channel 1, so `channel=True` splits
# the speakers exactly.

# %%
import tempfile
from pathlib import Path

import av
import plotly.io as pio

from hearkit import charts, transcript
from hearkit.client import PyAI
from hearkit.record import analyze_call
from hearkit.resources import sample_dir
from hearkit.trackers import find_hits

# Charts that render in JupyterLab, in Voilà and in an HTML export (plotly.js inlined once, offline).
pio.renderers.default = "plotly_mimetype+notebook"

SAMPLE_DATA = sample_dir()  # the sample calls shipped with hearkit
CLIP_SECONDS = 30


# %%
def first_seconds(source: Path, target: Path, seconds: float) -> Path:
    """Write the first `seconds` of `source` to a WAV file (every channel kept)."""
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        audio = inp.streams.audio[0]
        stream = out.add_stream("pcm_s16le", rate=audio.rate, layout=audio.layout.name)
        for frame in inp.decode(audio):
            if frame.time is not None and frame.time >= seconds:
                break
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return target


# The clip (5.7 MB of WAV) goes to a temporary folder, not next to this notebook.
clip_dir = Path(tempfile.mkdtemp(prefix="hearkit-quickstart-"))
clip = first_seconds(SAMPLE_DATA / "call_03_pricing.stereo.ogg", clip_dir / "clip.wav", CLIP_SECONDS)

# %% [markdown]
# ## Transcribe
# `transcribe` submits the job and waits for it; `result` reads the transcript (inline, or from
# the job's signed `result_url` when it was offloaded). The client reads `PYAI_API_KEY`; with no
# key it starts the embedded engine once per process.

# %%
client = PyAI()
job = client.jobs.transcribe(audio=clip, channel=True)
result = client.jobs.result(job)
print(job.job_id, job.status, f"{result.audio_seconds} s of audio, via {client.base_url}")

# %% [markdown]
# ## DataFrames
# One row per speaker turn, and one per word. Channel 0 is the rep, channel 1 the customer.

# %%
roles = {0: "rep", 1: "customer"}
turns = transcript.turns(result, call_id="quickstart", roles=roles)
words = transcript.words(result, call_id="quickstart", roles=roles)
turns[["turn", "speaker", "role", "start", "end", "text"]]

# %% [markdown]
# ## Trackers and the scorecard
# Tracker hits are phrases (pricing, competitors, next steps, …) with the word timings where they
# were said. `analyze_call` gathers every metric of the call into one record.

# %%
hits = find_hits(words, turns=turns)
hits[["tracker", "phrase", "role", "start", "snippet"]]

# %%
record = analyze_call(result, call_id="quickstart", roles=roles)
print("talk ratio:", record.talk_ratio)
print(record.transcript)

# %% [markdown]
# ## Charts

# %%
charts.call_timeline(turns, "quickstart", hits=hits)

# %%
charts.talk_ratio(turns)
