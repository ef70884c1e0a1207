"""Development-only tuning of the voice embedding's clustering settings, many variants in one process.

Run: ``uv run --no-sync python benchmarks/tune_speaker_embedding.py --variant NAME:SETTING,... [...]``

A SETTING is ``env=resemblyzer|campplus|both`` (the voice embedding, ``diarize.EMBEDDING_ENV``),
``KIND.FIELD=value`` for a field of ``diarize.VOICE_SETTINGS[KIND]`` (e.g. ``campplus.hop_s=2.0``,
``campplus.voice_weight=5``) or ``module.NAME=value`` for a constant of ``diarize`` or ``quality`` (e.g.
``diarize.CLEAN_SHARE=0.7``; flag bars are better re-derived offline from ``--json``). Every development file
of ``bench_diarization.py --set dev`` runs through ``bench_diarization.run`` (the same DER, talk-share error,
wrong/flagged rule) once per variant; the segmentation and each embedding of a window are computed once per
file and reused by every variant (so CPU seconds here are not the product's: time with
``bench_diarization.py``). Prints, per variant, the pooled DER (miss / FA / confusion), counts, wrong calls
and flags, and writes every file's row (with its quality block) to ``--json``. Evaluation files are never
read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from bench_diarization import Outcome, der_parts, development_items, run

from hearkit.engine.pipeline import WhisperTranscriber, quality
from hearkit.engine.pipeline import diarize as diarize_module

_SEGMENTS: dict[str, Any] = {}
_EMBEDDINGS: dict[tuple[str, str, str], npt.NDArray[np.float32]] = {}
_real_segment = diarize_module.segment
_real_embed = diarize_module._Voices.embed
_real_init = diarize_module._Voices.__init__


def _digest(array: npt.NDArray[Any]) -> str:
    return hashlib.sha1(np.ascontiguousarray(array).tobytes()).hexdigest()


def _segment(signal: npt.NDArray[np.float32], *args: Any, **kwargs: Any) -> Any:
    key = _digest(signal) + repr((args, sorted(kwargs.items())))
    if key not in _SEGMENTS:
        _SEGMENTS[key] = _real_segment(signal, *args, **kwargs)
    return _SEGMENTS[key]


def _init(self: Any, signal: npt.NDArray[np.float32]) -> None:
    _real_init(self, signal)
    self.digest = _digest(signal)


def _embed(self: Any, windows: list[npt.NDArray[np.int64]]) -> npt.NDArray[np.float32]:
    out = np.empty((len(windows), 0), dtype=np.float32)
    rows: list[npt.NDArray[np.float32]] = []
    todo = []
    for k, window in enumerate(windows):
        key = (self.kind, self.digest, _digest(window))
        if key not in _EMBEDDINGS:
            todo.append(k)
    if todo:
        for k, vector in zip(todo, _real_embed(self, [windows[k] for k in todo]), strict=True):
            _EMBEDDINGS[(self.kind, self.digest, _digest(windows[k]))] = vector
    for window in windows:
        rows.append(_EMBEDDINGS[(self.kind, self.digest, _digest(window))])
    return np.stack(rows) if rows else out


def _apply(settings: dict[str, str]) -> dict[str, Any]:
    """Set a variant's settings; returns what to restore."""
    old: dict[str, Any] = {"env": os.environ.get(diarize_module.EMBEDDING_ENV)}
    for name, value in settings.items():
        if name == "env":
            os.environ[diarize_module.EMBEDDING_ENV] = value
            continue
        module_name, attr = name.split(".", 1)
        if module_name in diarize_module.VOICE_SETTINGS:
            voice = diarize_module.VOICE_SETTINGS[module_name]
            old[name] = voice
            field: dict[str, Any] = {attr: type(getattr(voice, attr))(float(value))}  # clean_voice=1: True
            diarize_module.VOICE_SETTINGS[module_name] = replace(voice, **field)
            continue
        module = {"diarize": diarize_module, "quality": quality}[module_name]
        old[name] = getattr(module, attr)
        if isinstance(old[name], dict):  # CAMPPLUS_OFFSET: the value for CAM++ alone
            setattr(module, attr, {**old[name], "campplus": float(value)})
        else:
            setattr(module, attr, type(old[name])(float(value)))
    return old


def _restore(old: dict[str, Any]) -> None:
    for name, value in old.items():
        if name == "env":
            if value is None:
                os.environ.pop(diarize_module.EMBEDDING_ENV, None)
            else:
                os.environ[diarize_module.EMBEDDING_ENV] = value
            continue
        module_name, attr = name.split(".", 1)
        if module_name in diarize_module.VOICE_SETTINGS:
            diarize_module.VOICE_SETTINGS[module_name] = value
            continue
        setattr({"diarize": diarize_module, "quality": quality}[module_name], attr, value)


def summary(name: str, outcomes: list[Outcome]) -> str:
    der, miss, fa, conf = der_parts(outcomes)
    two = [o for o in outcomes if o.item.two_party]
    exact = sum(o.found == o.item.true_speakers for o in outcomes)
    near = sum(abs(o.found - o.item.true_speakers) <= 1 for o in outcomes)
    wrong = [o for o in outcomes if o.wrong]
    right = [o for o in outcomes if not o.wrong]
    two_der = der_parts(two)[0]
    return (
        f"{name}: DER {100 * der:.2f} % ({100 * miss:.2f} / {100 * fa:.2f} / {100 * conf:.2f}); two-party"
        f" {100 * two_der:.2f} %; exact {exact}/{len(outcomes)}, ±1 {near}/{len(outcomes)}; wrong flagged"
        f" {sum(bool(o.flags) for o in wrong)}/{len(wrong)} ({', '.join(o.item.name for o in wrong)});"
        f" right flagged {sum(bool(o.flags) for o in right)}/{len(right)}"
        f" ({', '.join(o.item.name + ':' + '+'.join(o.flags) for o in right if o.flags)})"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", required=True, help="NAME:SETTING,SETTING,...")
    parser.add_argument("--only", help="as bench_diarization.py --only")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    variants = []
    for spec in args.variant:
        name, _, rest = spec.partition(":")
        settings = dict(item.split("=", 1) for item in rest.split(",") if item)
        variants.append((name, settings))
    diarize_module.segment = _segment  # type: ignore[assignment]
    diarize_module._Voices.__init__ = _init  # type: ignore[method-assign]
    diarize_module._Voices.embed = _embed  # type: ignore[method-assign]
    transcriber = WhisperTranscriber()
    print(f"load average {Path('/proc/loadavg').read_text().split()[:3]}")
    results: dict[str, list[Outcome]] = {name: [] for name, _ in variants}
    rows = []
    for item in development_items(args.only):
        for name, settings in variants:
            old = _apply(settings)
            try:
                outcome = run(transcriber, item, False)
            finally:
                _restore(old)
            results[name].append(outcome)
            q = outcome.result.quality
            rows.append(
                {
                    "variant": name,
                    "name": item.name,
                    "two_party": item.two_party,
                    "terms": outcome.terms,
                    "found": outcome.found,
                    "true": item.true_speakers,
                    "talk_err": float(outcome.talk_err),
                    "wrong": bool(outcome.wrong),
                    "flags": outcome.flags,
                    "quality": None if q is None else q.to_api(),
                    "segments": [(g.start, g.end, str(g.speaker)) for g in outcome.result.segments],
                    "count_frames": None
                    if outcome.count is None
                    else np.bincount(np.asarray(outcome.count), minlength=4).tolist(),
                    "count": None if outcome.count is None else np.asarray(outcome.count).tolist(),
                }
            )
            print(
                f"  {item.name:28s} {name:12s} found {outcome.found}/{item.true_speakers}"
                f" talk {outcome.talk_err:5.1f} DER {100 * der_parts([outcome])[0]:5.1f}"
                f" {'WRONG' if outcome.wrong else 'ok   '} {' '.join(outcome.flags)}",
                flush=True,
            )
        _SEGMENTS.clear()
        _EMBEDDINGS.clear()
    print()
    for name, outcomes in results.items():
        print(summary(name, outcomes))
    print(f"load average at the end {Path('/proc/loadavg').read_text().split()[:3]}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
