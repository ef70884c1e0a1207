"""Stereo calls with the rep's echo on the customer's channel: talk shares, flag, and the detection's cost.

    uv run python benchmarks/bench_echo.py [--seconds 40] [--levels 0,0.1,0.2,0.3] [--baseline]

U2 finding 7: a phone recording often carries the rep's voice on the customer's channel 10-20 dB down
(hybrid echo, speakerphone bleed). Each source is a call whose two parties were recorded apart, so
the echo is made here and the truth is outside hearkit:

* AWS contact-centre calls 40 and 49 (``../shared/realdata/aws_lca_calls``, agent and caller legs,
  8 kHz; development data), cut at ``--start`` (60 s) for ``--seconds``;
* sample calls 01, 06 (planted overtalk) and 07 (a monologue with backchannels): their stereo Opus
  files keep each party in its own stream (``sample_data/README.md``), the same cut.

Channel 0 = the rep's leg; channel 1 = the customer's leg + g × the rep's leg for each level g
(0.1 / 0.2 / 0.3 = echo at -20 / -14 / -10 dB), a "line" variant at g = 0.2: the rep's leg
band-passed to 300-3400 Hz and 40 ms late, as a line's hybrid echo arrives (not the zero-delay copy
the other rows use), and a "late" one, the same 160 ms late (through a mobile or VoIP leg); "cross"
is crosstalk both ways (each leg at -12 dB in the other channel, no delay: U5 finding 7).

Figures per source and level:

* **truth**: the rep's talk share from the legs' own speech (``references.channel_truth``: 50 ms
  frames 20 dB over the leg's floor, an energy detector that is not hearkit's), rep seconds /
  (rep + customer seconds);
* **rep share**: the result's (``quality.speaker_shares``: union of each channel's segments);
  **Δclean**: minus the same cut's share at g = 0 (what the echo moved), **Δtruth**: minus truth;
* **overtalk s** and **cust int.**: ``hearkit.metrics.scorecards``' overtalk seconds and customer
  interruptions;
* **flag**: ``strong_bleed`` raised, **bleed**: ``quality.bleed_share``, **trust**;
* **CPU s**: ``time.process_time()`` of the whole transcription (all threads); **echo CPU s**: of
  the echo detection alone on the same audio (``echo.drop_other_party`` on the call's regions and
  ``echo.drop_echo_words`` on its words), the detection's cost.

``--baseline`` runs every variant again with the detection switched off (the two calls in
``transcriber`` replaced by what was there before: ``channels.drop_bleed`` per channel, no word
filter), printed as ``before`` rows; which of the two runs first alternates per variant. The
model is loaded before the clock starts.

AWS call 40's rows flip between rep share ~0.62 and ~0.80 whatever the echo: its caller's first two
answers are packed at the end of a Whisper window behind the agent's speech, and the batched decode
drops them or not on a hair (white noise at -80 dBFS added to the caller's leg, no echo, loses them
in two of four seeds): a packing fragility of the stereo path, not of the echo detection
(/work/coord/NOTES-from-E3.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, sosfilt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.references import channel_truth
from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.engine.pipeline import transcriber as transcriber_module
from hearkit.engine.pipeline.asr import RecognizedWord
from hearkit.engine.pipeline.channels import drop_bleed
from hearkit.engine.pipeline.decode import SAMPLE_RATE, DecodedAudio, decode_audio
from hearkit.engine.pipeline.echo import drop_echo_words, drop_other_party
from hearkit.engine.pipeline.quality import speaker_shares
from hearkit.engine.pipeline.vad import energy_activity, energy_regions, speech_regions, union
from hearkit.record import analyze_call
from hearkit.schema import JobCreateParams, Result

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata"
SAMPLES = Path(__file__).resolve().parents[1] / "sample_data"
SAMPLE_CALLS = ("call_01_discovery", "call_06_overtalk", "call_07_monologue")


def legs_of(
    source: str, start: float, seconds: float
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The rep's and the customer's leg of ``source`` (16 kHz), cut at ``start`` for ``seconds``."""
    a, b = int(start * SAMPLE_RATE), int((start + seconds) * SAMPLE_RATE)
    if source.startswith("aws"):
        call = source[3:]
        rep, customer = (
            decode_audio(REAL / "aws_lca_calls" / f"Auto_Repairs_{call}_UTC_{leg}.wav").samples[0][a:b]
            for leg in ("agent", "caller")
        )
        return rep, customer
    both = decode_audio(SAMPLES / f"{source}.stereo.ogg").samples
    return both[0][a:b], both[1][a:b]


def line_echo(rep: npt.NDArray[np.float32], delay_s: float = 0.04) -> npt.NDArray[np.float32]:
    """The rep's leg as a line's hybrid echo carries it: 300-3400 Hz, ``delay_s`` late."""
    sos = butter(4, [300, 3400], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    late = np.concatenate([np.zeros(int(delay_s * SAMPLE_RATE), np.float32), rep])[: len(rep)]
    return np.asarray(sosfilt(sos, late), dtype=np.float32)


def variants(
    rep: npt.NDArray[np.float32], customer: npt.NDArray[np.float32], levels: list[float]
) -> Iterator[tuple[str, npt.NDArray[np.float32]]]:
    for g in levels:
        yield f"g={g:g}", np.stack([rep, customer + g * rep]).astype(np.float32)
    yield "line 0.2", np.stack([rep, customer + 0.2 * line_echo(rep)]).astype(np.float32)
    yield "late 0.2", np.stack([rep, customer + 0.2 * line_echo(rep, 0.16)]).astype(np.float32)
    yield "cross .25", np.stack([rep + 0.25 * customer, customer + 0.25 * rep]).astype(np.float32)


def truth_share(rep: npt.NDArray[np.float32], customer: npt.NDArray[np.float32]) -> float:
    seconds = [sum(b - a for a, b, _ in channel_truth(leg, "x")) for leg in (rep, customer)]
    return seconds[0] / sum(seconds)


def echo_cost(samples: npt.NDArray[np.float32], words: list[RecognizedWord]) -> float:
    """CPU seconds of the echo detection on ``samples`` (its inputs computed outside the clock)."""
    activity = [energy_activity(x) for x in samples]
    raw = [
        union(speech_regions(x), energy_regions(x, active=a)) for x, a in zip(samples, activity, strict=True)
    ]
    samples = samples.copy()
    start = time.process_time()
    drop_other_party(samples, raw, activity)
    drop_echo_words(words, samples)
    return time.process_time() - start


def _old_regions(
    samples: npt.NDArray[np.float32], raw: list[list[tuple[int, int]]], activity: list[npt.NDArray[np.bool_]]
) -> list[list[tuple[int, int]]]:
    left, right = samples[0], samples[1]
    return [drop_bleed(raw[0], left, right, raw[1]), drop_bleed(raw[1], right, left, raw[0])]


def _no_filter(words: list[RecognizedWord], samples: npt.NDArray[np.float32]) -> list[RecognizedWord]:
    return words


@contextmanager
def detection_off() -> Iterator[None]:
    """The stereo path as it was before ``pipeline.echo`` (drop_bleed only)."""
    saved: tuple[Callable[..., object], Callable[..., object]] = (
        transcriber_module.drop_other_party,
        transcriber_module.drop_echo_words,
    )
    transcriber_module.drop_other_party = _old_regions  # type: ignore[assignment]
    transcriber_module.drop_echo_words = _no_filter  # type: ignore[assignment]
    try:
        yield
    finally:
        transcriber_module.drop_other_party, transcriber_module.drop_echo_words = saved  # type: ignore[assignment]


def _number(value: object) -> float:
    """A metric as a float; NaN when not measured (``None``: one party said nothing)."""
    return float(value) if isinstance(value, (int, float)) else float("nan")


def run(transcriber: WhisperTranscriber, samples: npt.NDArray[np.float32]) -> tuple[Result, float]:
    """The call's result and the CPU seconds it took (on a copy: the path subtracts an echo in place)."""
    audio = DecodedAudio(samples.copy(), SAMPLE_RATE, 2)
    start = time.process_time()
    result = transcriber.transcribe_audio(audio, JobCreateParams(channel=True))
    return result, time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--start", type=float, default=60.0)
    parser.add_argument("--levels", default="0,0.1,0.2,0.3")
    parser.add_argument("--sources", default="aws40,aws49," + ",".join(SAMPLE_CALLS))
    parser.add_argument("--baseline", action="store_true")
    args = parser.parse_args()
    levels = [float(x) for x in args.levels.split(",")]
    transcriber = WhisperTranscriber()
    # the model, Silero and the decoder warm up on real speech outside the clock (a first timed run cost
    # ~0.5 CPU s more than the same run later)
    run(transcriber, np.stack(legs_of(args.sources.split(",")[0], args.start, min(args.seconds, 10.0))))
    load = os.getloadavg()
    cut = f"{args.start:g}-{args.start + args.seconds:g} s"
    print(f"load before: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; cut {cut}")
    header = (
        f"{'source':20} {'variant':9} {'path':6} {'truth':>6} {'rep':>6} {'Δclean':>7} {'Δtruth':>7}"
        f" {'overtalk':>8} {'cust int':>8} {'flag':>5} {'bleed':>6} {'trust':>6} {'CPU s':>6} {'echo CPU':>8}"
    )
    print(header)
    totals = {"cpu": 0.0, "echo": 0.0}
    for source in args.sources.split(","):
        rep, customer = legs_of(source, args.start, args.seconds)
        truth = truth_share(rep, customer)
        clean: dict[str, float] = {}
        for index, (name, samples) in enumerate(variants(rep, customer, levels)):
            paths = [("after", False)] + ([("before", True)] if args.baseline else [])
            # which path runs first alternates, so neither always meets a cold cache
            for path, off in paths[:: -1 if index % 2 else 1]:
                if off:
                    with detection_off():
                        result, cpu = run(transcriber, samples)
                else:
                    result, cpu = run(transcriber, samples)
                quality = result.quality
                assert quality is not None
                share = speaker_shares(result.segments).get("speaker_0", float("nan"))
                clean.setdefault(path, share)
                metrics = analyze_call(result, summary=False).metrics
                cost = float("nan")
                if not off:
                    words = [
                        RecognizedWord(w.word, w.start, w.end, w.confidence or 0.0, w.channel or 0)
                        for w in result.words
                    ]
                    cost = echo_cost(samples, words)
                    totals["cpu"] += cpu
                    totals["echo"] += cost
                flagged = any(f.code == "strong_bleed" for f in quality.flags)
                print(
                    f"{source:20} {name:9} {path:6} {truth:6.3f} {share:6.3f} {share - clean[path]:+7.3f}"
                    f" {share - truth:+7.3f} {_number(metrics.get('overtalk_s')):8.1f}"
                    f" {metrics.get('interruptions_customer', 0)!s:>8} {'yes' if flagged else 'no':>5}"
                    f" {quality.bleed_share or 0.0:6.3f} {quality.trust:>6} {cpu:6.2f} {cost:8.3f}",
                    flush=True,
                )
    load = os.getloadavg()
    print(
        f"echo detection: {totals['echo']:.2f} CPU s of {totals['cpu']:.1f} CPU s of transcription"
        f" ({totals['echo'] / max(totals['cpu'], 1e-9):.1%});"
        f" load after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )


if __name__ == "__main__":
    main()
