"""The quality block's measures per call, beside whether the call is wrong: how its flag thresholds are set.

Run: ``uv run --no-sync python benchmarks/quality_signals.py [--set dev|eval] [--only NAME]``

It runs the mono path of ``benchmarks/bench_diarization.py`` (same recordings, same cached
recognition, same definition of a *wrong* call: count off, or talk shares off by > 5 pp) and prints,
per call, the measures the flags read (``hearkit.schema.Quality``): the count margin, cluster
separation, voice similarity of the two most alike speakers, the largest speaker's split score
(mixed voice), the overlap share, the unattributed share and the voice no segment covers, with the
flags raised.

Thresholds are chosen on the **development** rows only (``--set dev``, the default); the
evaluation rows (``pyannote_ami_train``, ``google_commercial_call``) are printed to report on, never
to choose. For each measure the development table prints the highest value among right calls and
the values of the wrong calls, so a threshold between them can be read off.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bench_diarization import (
    Outcome,
    development_items,
    evaluation_items,
    run,
)

from hearkit.engine.pipeline import WhisperTranscriber

MEASURES = (
    ("speaker_count_margin", "margin"),
    ("cluster_separation", "separation"),
    ("voice_similarity", "voice sim"),
    ("mixed_voice", "mixed"),
    ("overlap_share", "overlap"),
    ("unattributed_speech", "unattr"),
    ("uncovered_voice", "uncovered"),
)


def _value(outcome: Outcome, field: str) -> float | None:
    quality = outcome.result.quality
    value = getattr(quality, field, None) if quality is not None else None
    return None if value is None else float(value)


def _cell(value: float | None) -> str:
    return "  –  " if value is None else f"{value:5.2f}"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["dev", "eval"], default="dev")
    parser.add_argument("--only")
    parser.add_argument(
        "--json", type=Path, help="also write each call's wrong/right, flags and quality block"
    )
    args = parser.parse_args(argv)
    items = development_items(args.only) if args.set == "dev" else evaluation_items(args.only)
    transcriber = WhisperTranscriber()
    outcomes = [run(transcriber, item, fresh=False) for item in items]
    header = " | ".join(label for _, label in MEASURES)
    print(f"\n### {args.set}: quality measures per call (load {os.getloadavg()[0]:.1f})\n")
    print(f"| call | wrong | spk found/true | share err pp | {header} | flags |")
    print("|---|---|---|---|" + "---|" * len(MEASURES) + "---|")
    for o in outcomes:
        cells = " | ".join(_cell(_value(o, field)) for field, _ in MEASURES)
        err = "–" if o.talk_err != o.talk_err else f"{o.talk_err:.1f}"
        codes = ",".join(o.flags) or "-"
        print(
            f"| {o.item.name} | {'WRONG' if o.wrong else 'right'} | {o.found}/{o.item.true_speakers} | {err}"
            f" | {cells} | {codes} |"
        )
    right = [o for o in outcomes if not o.wrong]
    wrong = [o for o in outcomes if o.wrong]
    print("\nper measure: highest and lowest among right calls; wrong calls' values")
    for field, label in MEASURES:
        values = [v for v in (_value(o, field) for o in right) if v is not None]
        span = f"{min(values):.3f} … {max(values):.3f}" if values else "–"
        listed = ", ".join(f"{o.item.name} {_cell(_value(o, field)).strip()}" for o in wrong)
        print(f"- {label}: right {span}; wrong: {listed or '-'}")
    print(
        f"\nflags: wrong calls flagged {sum(bool(o.flags) for o in wrong)}/{len(wrong)},"
        f" right calls flagged {sum(bool(o.flags) for o in right)}/{len(right)}"
    )
    if args.json:
        rows = [
            {
                "name": o.item.name,
                "wrong": bool(o.wrong),
                "found": o.found,
                "true": o.item.true_speakers,
                "talk_err": None if o.talk_err != o.talk_err else o.talk_err,
                "der_terms": o.terms,
                "flags": o.flags,
                "quality": None if o.result.quality is None else o.result.quality.to_api(),
            }
            for o in outcomes
        ]
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
