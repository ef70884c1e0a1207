"""Resemblyzer's speaker encoder, run in numpy (no PyTorch).

The network is Resemblyzer's ``VoiceEncoder`` (Apache-2.0, © Resemble AI; weights converted
once from the ``pretrained.pt`` that ships in the ``resemblyzer`` wheel, stored as float16 in
``assets/voice_encoder.npz``, see ``assets/NOTICE.resemblyzer``): a 3-layer LSTM (40 → 256)
over 160 frames (1.6 s) of a 40-band mel power spectrogram (25 ms window, 10 ms hop), then
``relu(linear(h_last))`` L2-normalised to a 256-d embedding. 1.42 M parameters.

The mel front end reproduces ``librosa.feature.melspectrogram`` (centred, zero-padded STFT,
periodic Hann window, Slaney mel filters), which Resemblyzer uses; ``tests/pipeline`` checks
the embeddings against the original torch model.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

__all__ = [
    "ENCODER_BATCH",
    "FRAMES_PER_PARTIAL",
    "HOP",
    "MEL_BLOCK_FRAMES",
    "SpeakerEncoder",
    "default_encoder",
    "mel_spectrogram",
    "normalize_volume",
]

_SAMPLE_RATE = 16_000
N_FFT = 400
HOP = 160
N_MELS = 40
FRAMES_PER_PARTIAL = 160
_WEIGHTS = Path(__file__).resolve().parent / "assets" / "voice_encoder.npz"

MEL_BLOCK_FRAMES = 6_000
"""Frames (60 s) whose spectrum :func:`mel_spectrogram` holds at once. The whole file's complex
spectrum at once took about 50 bytes per audio sample (measured 1.0 GB extra on a 20 min mono
call, 3.0 GB on a 1 h one); blocks of 60 s hold about 30 MB whatever the length."""
ENCODER_BATCH = 128
"""Windows :meth:`SpeakerEncoder.embed` runs through the LSTM at once. All windows in one batch
kept about 1.7 MB per window alive (the input projection, 160 × 1024 floats, each layer's outputs
and the gates' temporaries): measured 2.6 GB extra on a 20 min mono call and 8.2 GB on a 1 h one
(peak RSS 9.6 GB; a 3 h call would not fit in 24 GB); 128 windows hold about 200 MB and the matrix
products stay large enough to run at full speed."""

FloatArray = npt.NDArray[np.float32]


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Slaney's mel scale (librosa's default, ``htk=False``)."""
    f_sp = 200.0 / 3
    mels = hz / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    log_part = min_log_mel + np.log(np.maximum(hz, min_log_hz) / min_log_hz) / logstep
    return np.where(hz >= min_log_hz, log_part, mels)


def _mel_to_hz(mels: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    f_sp = 200.0 / 3
    freqs = f_sp * mels
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    log_part = min_log_hz * np.exp(logstep * (mels - min_log_mel))
    return np.where(mels >= min_log_mel, log_part, freqs)


@functools.cache
def _mel_filters() -> npt.NDArray[np.float32]:
    """``librosa.filters.mel(sr=16000, n_fft=400, n_mels=40)``: Slaney-normalised triangles."""
    fft_freqs = np.linspace(0, _SAMPLE_RATE / 2, 1 + N_FFT // 2)
    mel_points = _mel_to_hz(
        np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(_SAMPLE_RATE / 2.0)), N_MELS + 2)
    )
    fdiff = np.diff(mel_points)
    ramps = mel_points[:, None] - fft_freqs[None, :]
    weights = np.zeros((N_MELS, len(fft_freqs)))
    for i in range(N_MELS):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_points[2 : N_MELS + 2] - mel_points[:N_MELS]))[:, None]
    return weights.astype(np.float32)


def mel_spectrogram(wav: FloatArray) -> FloatArray:
    """Mel power spectrogram, shape ``(frames, 40)``, one frame per 10 ms (``len // 160 + 1``)."""
    padded = np.pad(wav.astype(np.float32), N_FFT // 2)
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(n_frames, N_FFT), strides=(padded.strides[0] * HOP, padded.strides[0])
    )
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    filters = _mel_filters().T
    out = np.empty((n_frames, N_MELS), dtype=np.float32)
    for a in range(0, n_frames, MEL_BLOCK_FRAMES):  # the spectrum block by block: see MEL_BLOCK_FRAMES
        spectrum = np.fft.rfft(frames[a : a + MEL_BLOCK_FRAMES] * window, axis=1)
        power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
        out[a : a + MEL_BLOCK_FRAMES] = power @ filters
    return out


def normalize_volume(wav: FloatArray, target_dbfs: float = -30.0) -> FloatArray:
    """Resemblyzer's preprocessing: raise (never lower) the level to ``target_dbfs`` RMS."""
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) if wav.size else 0.0
    if rms == 0.0:
        return wav
    change_db = target_dbfs - 20 * np.log10(rms)
    if change_db < 0:
        return wav
    return np.asarray(wav * (10 ** (change_db / 20)), dtype=np.float32)


def _sigmoid(x: FloatArray) -> FloatArray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)), dtype=np.float32)


class SpeakerEncoder:
    """Maps batches of 160-frame mel windows to L2-normalised 256-d speaker embeddings."""

    def __init__(self, weights: Path = _WEIGHTS) -> None:
        with np.load(weights) as data:
            params = {k: data[k].astype(np.float32) for k in data.files}
        self._layers = [
            (
                np.ascontiguousarray(params[f"lstm.weight_ih_l{i}"].T),
                np.ascontiguousarray(params[f"lstm.weight_hh_l{i}"].T),
                params[f"lstm.bias_ih_l{i}"] + params[f"lstm.bias_hh_l{i}"],
            )
            for i in range(3)
        ]
        self._linear_w = np.ascontiguousarray(params["linear.weight"].T)
        self._linear_b = params["linear.bias"]

    def embed(self, mels: FloatArray, batch_size: int = ENCODER_BATCH) -> FloatArray:
        """Embeddings of ``mels`` shaped ``(batch, frames, 40)``; returns ``(batch, 256)``.

        Run ``batch_size`` windows at a time (:data:`ENCODER_BATCH`), so memory stays bounded
        however many windows a long call gives."""
        # OpenBLAS's spinning threads make these small matmuls ~10x slower on a busy machine.
        with threadpool_limits(limits=1, user_api="blas"):
            if len(mels) <= batch_size:
                return self._embed(mels.astype(np.float32))
            out = np.empty((len(mels), 256), dtype=np.float32)
            for a in range(0, len(mels), batch_size):
                out[a : a + batch_size] = self._embed(mels[a : a + batch_size].astype(np.float32))
            return out

    def _embed(self, x: FloatArray) -> FloatArray:
        batch, steps, _ = x.shape
        h = np.zeros((batch, 256), dtype=np.float32)
        for w_ih, w_hh, bias in self._layers:
            projected = x @ w_ih + bias
            h = np.zeros((batch, 256), dtype=np.float32)
            c = np.zeros((batch, 256), dtype=np.float32)
            outputs = np.empty((batch, steps, 256), dtype=np.float32)
            for t in range(steps):
                gates = projected[:, t] + h @ w_hh
                i_gate = _sigmoid(gates[:, :256])
                f_gate = _sigmoid(gates[:, 256:512])
                g_gate = np.tanh(gates[:, 512:768])
                o_gate = _sigmoid(gates[:, 768:])
                c = f_gate * c + i_gate * g_gate
                h = o_gate * np.tanh(c)
                outputs[:, t] = h
            x = outputs
        raw = np.maximum(h @ self._linear_w + self._linear_b, 0.0)
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        return np.asarray(raw / np.maximum(norms, 1e-12), dtype=np.float32)


@functools.cache
def default_encoder() -> SpeakerEncoder:
    """The process-wide encoder with the bundled weights (loaded on first use)."""
    return SpeakerEncoder()
