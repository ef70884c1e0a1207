#!/usr/bin/env python3
"""Transcribe the sample calls with the local engine and store what it returns.

    uv run python scripts/transcribe_samples.py [--only call_01_discovery] [--mono-only|--stereo-only]

For every call in ``sample_data/index.json``: the stereo file with ``channel: true`` gives
``<call_id>.result.json``, the mono mix with ``diarize: true`` gives ``<call_id>.mono.result.json``.
Both go through the real stack: :class:`hearkit.engine.LocalEngine` (its default Whisper
transcriber) over loopback HTTP with :class:`hearkit.client.PyAI`. The stored document is the
job's ``Result`` as the API sends it, minus ``formats`` (signed links to a server that is gone).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from hearkit.client import PyAI
from hearkit.engine import LocalEngine

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="only these call ids")
    parser.add_argument("--mono-only", action="store_true")
    parser.add_argument("--stereo-only", action="store_true")
    args = parser.parse_args()
    index = json.loads((SAMPLE_DIR / "index.json").read_text())["calls"]
    modes = []
    if not args.mono_only:
        modes.append(("stereo", {"channel": True}, "result"))
    if not args.stereo_only:
        modes.append(("mono", {"diarize": True}, "mono_result"))
    with tempfile.TemporaryDirectory() as data_dir, LocalEngine(data_dir) as engine:
        client = PyAI(api_key=engine.api_key, base_url=engine.base_url)
        for entry in index:
            if args.only and entry["call_id"] not in args.only:
                continue
            for audio_key, options, out_key in modes:
                began = time.perf_counter()
                job = client.jobs.transcribe(SAMPLE_DIR / entry[audio_key], timeout=1800, **options)
                result = client.jobs.result(job).to_api()
                result.pop("formats", None)
                (SAMPLE_DIR / entry[out_key]).write_text(json.dumps(result, indent=1) + "\n")
                took = time.perf_counter() - began
                print(
                    f"{entry['call_id']} {audio_key}: {len(result.get('segments', []))} segments, "
                    f"{len(result.get('words', []))} words, {took:.1f} s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
