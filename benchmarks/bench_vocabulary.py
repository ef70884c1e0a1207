"""What a vocabulary prompt gains and costs: plain, prompt everywhere, prompt kept where it heard a term.

Run: ``uv run --no-sync python benchmarks/bench_vocabulary.py [--calls call_01,call_06] [--no-aws]
[--systems heard]`` (plain always runs: the others are compared with it)

Files: the seven stereo sample calls (``sample_data/``; truth = the generating script's words and
its planted competitor mentions) and AWS contact-centre call 40 (``../shared/realdata/aws_lca_calls``,
its two legs as one stereo file; it names no competitor, so every term found there is invented;
truth for its words = the plain decode, since no script exists). Vocabulary: hearkit's default
competitor names (``hearkit.trackers.DEFAULT_COMPETITORS``), as ``--vocabulary competitors`` sends.

Systems, each the local engine's stereo path (tiny.en int8, 2 threads):

* ``plain``: no vocabulary;
* ``prompt everywhere``: the vocabulary as Whisper's initial prompt in every window (hearkit
  before :mod:`hearkit.engine.pipeline.vocabulary`);
* ``prompt where heard``: hearkit now: both decodes, the prompted one kept per window only where it
  heard more of a term and did not read the prompt back.

Metrics, per system over the files:

* **found**: planted mentions with a term hit within 0.5 s of the planted word (the sample calls'
  truth), of all planted mentions;
* **invented**: term hits farther than 0.5 s from every planted mention (all of AWS 40's hits);
* **WER** (sample calls): word error rate against the script (jiwer, lower case, no punctuation,
  fillers dropped), pooled over the calls' words;
* **AWS 40 words lost**: words of the plain decode missing from the system's (jiwer deletions with
  the plain transcript as the reference), and its word count;
* **CPU s**: process CPU seconds of the transcriptions (load printed; the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_pipeline import deletions, norm_words, wer  # noqa: E402

from hearkit.engine.pipeline.asr import DecodeSettings  # noqa: E402
from hearkit.engine.pipeline.decode import SAMPLE_RATE, DecodedAudio, decode_audio  # noqa: E402
from hearkit.engine.pipeline.transcriber import WhisperTranscriber, _vocabulary_prompt  # noqa: E402
from hearkit.engine.pipeline.vocabulary import _term_positions, _tokens, prompt_terms  # noqa: E402
from hearkit.schema import JobCreateParams  # noqa: E402
from hearkit.trackers import DEFAULT_COMPETITORS  # noqa: E402

SAMPLES = ROOT / "sample_data"
AWS = ROOT.parent / "shared" / "realdata" / "aws_lca_calls"
NEAR_S = 0.5


class PromptEverywhere(WhisperTranscriber):
    """The engine before the per-window choice: the prompt decodes every window."""

    def _settings(self, vocabulary: list[str] | None) -> DecodeSettings:
        settings = super()._settings(vocabulary)
        return DecodeSettings(**{**settings.__dict__, "vocabulary": ()})


def _stereo_aws40() -> DecodedAudio:
    """AWS call 40's agent and caller legs as one stereo recording (agent on channel 0)."""
    agent, caller = (
        decode_audio(AWS / f"Auto_Repairs_40_UTC_{leg}.wav").samples[0] for leg in ("agent", "caller")
    )
    n = min(len(agent), len(caller))
    return DecodedAudio(np.stack([agent[:n], caller[:n]]), SAMPLE_RATE, 2)


def _hits(words: list[dict[str, float | str]]) -> list[float]:
    """Times of the term occurrences in a result's words (word order by channel then time)."""
    terms = prompt_terms(list(DEFAULT_COMPETITORS))
    ordered = sorted(words, key=lambda w: (w["channel"], w["start"]))  # type: ignore[arg-type, return-value]
    tokens: list[str] = []
    owner: list[int] = []
    for i, w in enumerate(ordered):
        for tok in _tokens(str(w["word"])):
            tokens.append(tok)
            owner.append(i)
    return [float(ordered[owner[first]]["start"]) for first, _, _ in _term_positions(tokens, terms)]


def _near(planted: dict[str, float], hit: float) -> bool:
    return planted["start"] - NEAR_S <= hit <= planted["end"] + NEAR_S


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", help="comma-separated sample call id prefixes (default: all seven)")
    parser.add_argument("--no-aws", action="store_true", help="leave AWS call 40 out")
    parser.add_argument("--systems", help="comma-separated: plain, everywhere, heard (default: all three)")
    args = parser.parse_args()
    print(f"load {os.getloadavg()} (2 cores, shared); tiny.en int8")
    print(f"vocabulary {', '.join(DEFAULT_COMPETITORS)}")
    print(f"prompt: {_vocabulary_prompt(list(DEFAULT_COMPETITORS))}")
    index = json.loads((SAMPLES / "index.json").read_text())["calls"]
    prefixes = args.calls.split(",") if args.calls else [""]
    chosen = [c for c in index if any(c["call_id"].startswith(p) for p in prefixes)]
    systems = {
        "plain": (WhisperTranscriber(), None),
        "prompt everywhere": (PromptEverywhere(), list(DEFAULT_COMPETITORS)),
        "prompt where heard": (WhisperTranscriber(), list(DEFAULT_COMPETITORS)),
    }
    if args.systems:
        wanted = args.systems.split(",")
        systems = {k: v for k, v in systems.items() if k == "plain" or any(w in k for w in wanted)}
    totals = {
        name: {"found": 0, "planted": 0, "invented": 0, "ref": [], "hyp": [], "cpu": 0.0} for name in systems
    }
    aws_words: dict[str, list[str]] = {}
    # Decoded once; each run gets its own copy (the echo step may edit a stereo call's samples).
    runs: list[tuple[dict[str, str] | None, DecodedAudio]] = [
        (c, decode_audio(SAMPLES / c["stereo"])) for c in chosen
    ]
    if not args.no_aws and AWS.is_dir():
        runs.append((None, _stereo_aws40()))
    for name, (transcriber, vocabulary) in systems.items():
        options = JobCreateParams(channel=True, vocabulary=vocabulary)
        for call, audio in runs:
            started = time.process_time()
            result = transcriber.transcribe_audio(replace(audio, samples=audio.samples.copy()), options)
            totals[name]["cpu"] += time.process_time() - started
            words = [w.model_dump() for w in result.words or []]
            hits = _hits(words)
            hyp = norm_words(" ".join(str(w["word"]) for w in sorted(words, key=lambda w: w["start"])))
            if call is None:
                totals[name]["invented"] += len(hits)
                aws_words[name] = hyp
                continue
            truth = json.loads((SAMPLES / call["truth"]).read_text())
            planted = [p for p in truth["planted"] if p["tracker"] == "competitors"]
            found = [p for p in planted if any(_near(p, h) for h in hits)]
            invented = [h for h in hits if not any(_near(p, h) for p in planted)]
            totals[name]["found"] += len(found)
            totals[name]["planted"] += len(planted)
            totals[name]["invented"] += len(invented)
            totals[name]["ref"] += norm_words(" ".join(w["word"] for w in truth["words"]))
            totals[name]["hyp"] += hyp
            print(
                f"  {name:20s} {call['call_id']:22s} found {len(found)}/{len(planted)}"
                f" invented {len(invented)}"
                f" prompted windows {getattr(result.quality, 'vocabulary_windows', '-')}",
                flush=True,
            )
    print(
        "\n| system | found / planted | invented | WER (sample calls) | AWS 40 words"
        " | AWS 40 words lost vs plain | CPU s |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, t in totals.items():
        lost = "-" if name not in aws_words else f"{deletions(aws_words['plain'], aws_words[name])}"
        count = len(aws_words.get(name, [])) or "-"
        print(
            f"| {name} | {t['found']}/{t['planted']} | {t['invented']} |"
            f" {100 * wer(t['ref'], t['hyp']):.1f} % |"
            f" {count} | {lost} | {t['cpu']:.1f} |"
        )
    print(f"\nload at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
