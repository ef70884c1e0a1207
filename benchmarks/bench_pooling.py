"""How many 30 s encoder windows pooling the speech of several calls could save in a batch run.

    uv run python benchmarks/bench_pooling.py [--calls 20] [--seconds 50] [--pool 4] [--wer]

No recognition runs: each call goes through the stereo path's speech detection and window planning
(``WhisperTranscriber.plan_stereo``, the windows the path would decode), on two archive-like sets:

* the ``calls`` stereo cuts of the sample calls that ``bench_archive.py`` transcribes (same cuts);
* short real calls: the two AWS contact-centre calls (agent and caller legs, 8 kHz) cut into
  consecutive pieces of 30, 45 and 60 s in turn (every cut of ≥ 30 s is kept).

Figures per set:

* **windows per call, summed**: Σ over calls of the windows the path plans for that call alone;
* **per-call floor, summed**: Σ ceil(packed seconds of the call / 30), packed seconds = the speech
  pieces plus the 0.2 s of silence laid between them (``channels.window_floor``);
* **pooled floor**: ceil(Σ packed seconds / 30), the fewest windows the same speech could fill if
  windows took speech of several calls; with the path's 29.5 s of speech a window, ceil(Σ / 29.5);
* **potential saving** = 1 − pooled floor / windows summed (share of the encoder windows a perfect
  cross-call packing would save; an upper bound, since pieces must also fit whole or be cut);
* **pooled windows**: the windows ``WhisperTranscriber.plan_pooled`` actually plans for the calls
  taken ``pool`` at a time in order (the engine's ``pool_calls``), and for all at once: each call's
  windows planned alone, whole windows merged where they fit (``channels.pool_windows``);
* **pooled windows, pieces**: the alternative measured beside it (:class:`PiecePooling`, not in the
  engine): the pooled calls' speech pieces laid one after the other into windows as one call's two
  channels are (``plan_full_windows``), a piece cut at a quiet spot where a window fills.

``--wer`` also transcribes every call of both sets and the seven full sample calls alone
(``transcribe``) and pooled (``transcribe_pooled``, ``pool`` calls at a time; with ``--pieces``
also pooled by :class:`PiecePooling`), rotating which goes first per pool, in this process:
**CPU seconds** = ``time.process_time()`` of the transcriptions (all threads; decoding the files
included), **WER** = (substitutions + deletions + insertions) / reference words over every call and
channel, the reference being the script's words said inside the cut (``<call>.truth.json``; jiwer,
text normalised as ``bench_pipeline.py`` does).
The AWS cuts have no script: for them the pooled words are compared with the words alone.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import jiwer
import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_archive import make_calls
from bench_pipeline import norm_words

from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.engine.pipeline.asr import Chunk
from hearkit.engine.pipeline.channels import window_floor
from hearkit.engine.pipeline.decode import SAMPLE_RATE, DecodedAudio, decode_audio
from hearkit.schema import JobCreateParams, Result
from tests.pipeline.conftest import write_wav

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata"
SAMPLES = Path(__file__).resolve().parents[1] / "sample_data"
AWS_CALLS = ("40", "49")
CUT_PATTERN_S = (30.0, 45.0, 60.0)


class PiecePooling(WhisperTranscriber):
    """Pooled calls' speech pieces packed as one call's channels are (the packing not kept)."""

    def _plan_pooled(
        self, signals: list[npt.NDArray[np.float32]], regions: list[list[tuple[int, int]]]
    ) -> list[Chunk]:
        return self._plan(signals, regions)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} / {five:.1f} / {fifteen:.1f}"


def aws_cuts() -> list[tuple[str, DecodedAudio]]:
    """The AWS calls' legs as stereo (agent on channel 0), cut into 30, 45, 60 s pieces in turn."""
    cuts: list[tuple[str, DecodedAudio]] = []
    for call in AWS_CALLS:
        agent = decode_audio(REAL / "aws_lca_calls" / f"Auto_Repairs_{call}_UTC_agent.wav")
        caller = decode_audio(REAL / "aws_lca_calls" / f"Auto_Repairs_{call}_UTC_caller.wav")
        length = min(agent.samples.shape[1], caller.samples.shape[1])
        stereo = np.stack([agent.samples[0, :length], caller.samples[0, :length]])
        start, index = 0, 0
        while True:
            seconds = CUT_PATTERN_S[index % len(CUT_PATTERN_S)]
            end = start + int(seconds * SAMPLE_RATE)
            if end > length:
                break
            piece = np.ascontiguousarray(stereo[:, start:end])
            cuts.append((f"aws_{call}@{start / SAMPLE_RATE:.0f}+{seconds:.0f}", DecodedAudio(piece, 8000, 2)))
            start, index = end, index + 1
    return cuts


def measure(name: str, calls: list[tuple[str, DecodedAudio]], pool: int, verbose: bool) -> None:
    transcriber = WhisperTranscriber()
    windows = floors = 0
    packed = 0.0
    audio = 0.0
    for call, decoded in calls:
        chunks = transcriber.plan_stereo(decoded)
        seconds = sum(chunk.samples for chunk in chunks) / SAMPLE_RATE
        windows += len(chunks)
        floors += window_floor(chunks)
        packed += seconds
        audio += decoded.duration
        if verbose:
            print(
                f"    {call:24s} {decoded.duration:5.1f} s audio, {seconds:5.1f} s packed,"
                f" {len(chunks)} windows"
            )
    pooled = math.ceil(packed / 30.0)
    pooled_295 = math.ceil(packed / 29.5)
    audios = [decoded for _, decoded in calls]
    in_pools = sum(len(transcriber.plan_pooled(audios[i : i + pool])) for i in range(0, len(audios), pool))
    all_at_once = len(transcriber.plan_pooled(audios))
    pieces = PiecePooling()
    pieces_in_pools = sum(len(pieces.plan_pooled(audios[i : i + pool])) for i in range(0, len(audios), pool))
    print(
        f"  {name}: {len(calls)} calls, {audio / 60:.1f} audio min,"
        f" {packed:.0f} s packed speech (both channels)\n"
        f"    windows per call, summed {windows}; per-call floor, summed {floors};"
        f" pooled floor {pooled} (at 29.5 s: {pooled_295})\n"
        f"    potential saving vs the windows used: {1 - pooled / windows:.1%}"
        f" ({1 - pooled_295 / windows:.1%} at 29.5 s);"
        f" mean fill of the windows used {packed / (30 * windows):.1%}\n"
        f"    pooled windows planned: {in_pools} in pools of {pool} ({1 - in_pools / windows:.1%} fewer),"
        f" {all_at_once} all at once ({1 - all_at_once / windows:.1%} fewer);"
        f" pieces packing: {pieces_in_pools} in pools of {pool} ({1 - pieces_in_pools / windows:.1%} fewer)"
        f" — {load()}",
        flush=True,
    )


def script_words(call: str, offset: float, seconds: float) -> list[list[str]]:
    """The script's words said inside the cut, per channel (normalised)."""
    words = json.loads((SAMPLES / f"{call}.truth.json").read_text())["words"]
    out: list[list[str]] = [[], []]
    for w in words:
        if offset <= w["start"] and w["end"] <= offset + seconds:
            out[int(w["channel"])].extend(norm_words(w["word"]))
    return out


def channel_words(result: Result) -> list[list[str]]:
    out: list[list[str]] = [[], []]
    for w in result.words:
        out[w.channel or 0].extend(norm_words(w.word))
    return out


def errors(reference: list[list[str]], hypothesis: list[list[str]]) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference words) over the channels."""
    wrong = total = 0
    for ref, hyp in zip(reference, hypothesis, strict=True):
        if not ref:
            wrong += len(hyp)
            continue
        out = jiwer.process_words(" ".join(ref), " ".join(hyp) or "<empty>")
        wrong += out.substitutions + out.deletions + out.insertions
        total += len(ref)
    return wrong, total


def transcribe_both(
    name: str, calls: Sequence[tuple[Path, list[list[str]] | None]], pool: int, pieces: bool = False
) -> None:
    """CPU seconds and WER of ``calls`` transcribed alone and pooled ``pool`` at a time."""
    transcribers = {"alone": WhisperTranscriber(), "pooled": WhisperTranscriber()}
    if pieces:
        transcribers["pieces"] = PiecePooling()
    modes = list(transcribers)
    options = JobCreateParams(channel=True)
    cpu = dict.fromkeys(modes, 0.0)
    results: dict[str, list[Result]] = {mode: [] for mode in modes}
    for index in range(0, len(calls), pool):
        group = [path for path, _ in calls[index : index + pool]]
        shift = (index // pool) % len(modes)
        for mode in modes[shift:] + modes[:shift]:
            transcriber = transcribers[mode]
            started = time.process_time()
            if mode == "alone":
                found: list[Result | Exception] = [transcriber.transcribe(path, options) for path in group]
            else:
                found = transcriber.transcribe_pooled([(path, options) for path in group])
            cpu[mode] += time.process_time() - started
            for result in found:
                if not isinstance(result, Result):
                    raise RuntimeError(f"{mode}: {result}")
                results[mode].append(result)
    line = f"  {name}: CPU s alone {cpu['alone']:.1f}"
    for mode in modes[1:]:
        line += f", {mode} {cpu[mode]:.1f} ({1 - cpu[mode] / cpu['alone']:.1%} less)"
    if all(ref is not None for _, ref in calls):
        for mode in modes:
            wrong = total = 0
            for (_, ref), result in zip(calls, results[mode], strict=True):
                w, t = errors(ref or [[], []], channel_words(result))
                wrong, total = wrong + w, total + t
            line += f"; WER {mode} {wrong / total:.2%} ({total} words)"
    for mode in modes[1:]:
        wrong = total = 0
        for alone, pooled in zip(results["alone"], results[mode], strict=True):
            w, t = errors(channel_words(alone), channel_words(pooled))
            wrong, total = wrong + w, total + t
        line += f"; {mode} words vs alone: {wrong / max(total, 1):.2%} differ"
    print(line + f" — {load()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=50.0)
    parser.add_argument(
        "--pool", type=int, default=4, help="calls pooled at a time (the engine's pool_calls)"
    )
    parser.add_argument("--wer", action="store_true", help="also transcribe alone and pooled: CPU s and WER")
    parser.add_argument("--pieces", action="store_true", help="with --wer: also pooled by PiecePooling")
    parser.add_argument("--no-full", action="store_true", help="with --wer: skip the 7 full sample calls")
    parser.add_argument("--no-aws", action="store_true", help="skip the AWS cuts")
    parser.add_argument("--verbose", action="store_true", help="print every call")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hearkit-pooling-") as tmp_name:
        tmp = Path(tmp_name)
        folder = tmp / "calls"
        make_calls(folder, args.calls, args.seconds)
        cut_paths = sorted(folder.iterdir())
        archive = [(path.name, decode_audio(path)) for path in cut_paths]
        print(f"windows a batch run could pool, tiny.en's 30 s windows — {load()}")
        measure(
            f"bench_archive cuts ({args.seconds:.0f} s of the sample calls)", archive, args.pool, args.verbose
        )
        aws = aws_cuts() if (REAL / "aws_lca_calls").is_dir() and not args.no_aws else []
        if aws:
            measure("AWS contact-centre legs cut to 30/45/60 s", aws, args.pool, args.verbose)
        else:
            print(f"  (no {REAL / 'aws_lca_calls'}: the real short calls are skipped)")
        if not args.wer:
            return
        print(f"alone vs pooled {args.pool} at a time (tiny.en int8, beam 4, 2 lanes):", flush=True)
        cut_refs = []
        for path in cut_paths:
            call, offset = re.fullmatch(r"(.+)\.at(\d+)\.ogg", path.name).groups()  # type: ignore[union-attr]
            cut_refs.append((path, script_words(call, float(offset), args.seconds)))
        transcribe_both("bench_archive cuts", cut_refs, args.pool, args.pieces)
        aws_paths = [(write_wav(tmp / f"{name}.wav", audio.samples.T), None) for name, audio in aws]
        if aws_paths:
            transcribe_both("AWS cuts (no script: pooled vs alone only)", aws_paths, args.pool, args.pieces)
        if args.no_full:
            return
        full = [
            (
                SAMPLES / f"{path.name.removesuffix('.truth.json')}.stereo.ogg",
                script_words(path.name.removesuffix(".truth.json"), 0.0, 1e9),
            )
            for path in sorted(SAMPLES.glob("*.truth.json"))
        ]
        transcribe_both("the 7 full sample calls (2.5-3.2 min)", full, args.pool, args.pieces)


if __name__ == "__main__":
    main()
