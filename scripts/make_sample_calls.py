#!/usr/bin/env python3
"""Render the scripted sample calls in ``scripts/sample_scripts.py`` to audio with exact ground truth.

    uv run python scripts/make_sample_calls.py [--out sample_data] [--only call_01_discovery]

Needs ``espeak-ng`` and ``ffmpeg`` on PATH. Deterministic: the same scripts give byte-identical
truth files and audio (ffmpeg runs with ``-bitexact``).

How the truth is exact: every *word* is synthesized on its own with espeak-ng, its leading and
trailing silence is trimmed (samples whose magnitude stays under ``SILENCE_THRESHOLD``), and it is
placed at a chosen sample of the call's timeline, with a chosen gap after it. A word's truth
``start``/``end`` is therefore the first/last non-silent sample of that word; a turn spans its
first to its last word. Overtalk, interruptions and backchannels are placed on purpose (see the
line syntax in ``sample_scripts.py``). The rep is on channel 0, the customer on channel 1; the
mono file is the average of both channels.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sample_scripts import CALLS, CallScript

ESPEAK_RATE = 22050
OUT_RATE = 16000
SILENCE_THRESHOLD = 200  # int16 magnitude; espeak-ng's own silence is exactly 0
LEAD_IN_S = 0.8
TAIL_S = 1.0
DEFAULT_GAP_S = 0.6
WORD_GAP_S = 0.06
COMMA_GAP_S = 0.2
SENTENCE_GAP_S = 0.35
ROLES = {"R": "rep", "C": "customer"}
CHANNEL = {"rep": 0, "customer": 1}
LINE_RE = re.compile(r"^(?P<who>[RC])(?:(?P<gap>[+-]\d+(?:\.\d+)?)|@(?P<at>\d+(?:\.\d+)?))?:\s*(?P<text>.+)$")


@dataclass
class Span:
    kind: str  # "plant" or "action"
    start_char: int
    end_char: int
    attrs: list[str] = field(default_factory=list)


@dataclass
class Utterance:
    role: str
    text: str
    gap: float | None
    at: float | None
    spans: list[Span]


def parse_markup(markup: str) -> tuple[str, list[Span]]:
    """Strip ``{tracker:words}`` and ``<<words|due|owner>>`` markup; return plain text and spans."""
    out: list[str] = []
    spans: list[Span] = []
    stack: list[Span] = []
    i = 0
    while i < len(markup):
        plant = re.match(r"\{(\w+):", markup[i:])
        if plant:
            stack.append(Span("plant", len("".join(out)), -1, [plant.group(1)]))
            i += plant.end()
        elif markup.startswith("<<", i):
            stack.append(Span("action", len("".join(out)), -1))
            i += 2
        elif markup[i] == "}":
            span = stack.pop()
            assert span.kind == "plant", markup
            span.end_char = len("".join(out))
            spans.append(span)
            i += 1
        elif markup[i] == "|" and stack and stack[-1].kind == "action":
            close = markup.index(">>", i)
            stack[-1].attrs = markup[i + 1 : close].split("|")
            i = close
        elif markup.startswith(">>", i):
            span = stack.pop()
            assert span.kind == "action", markup
            span.end_char = len("".join(out))
            spans.append(span)
            i += 2
        else:
            out.append(markup[i])
            i += 1
    assert not stack, f"unclosed markup in {markup!r}"
    return "".join(out), spans


def parse_lines(script: str) -> list[Utterance]:
    utterances = []
    for raw in script.strip().splitlines():
        match = LINE_RE.match(raw.strip())
        if match is None:
            raise ValueError(f"bad script line: {raw!r}")
        text, spans = parse_markup(match["text"])
        utterances.append(
            Utterance(
                role=ROLES[match["who"]],
                text=text,
                gap=float(match["gap"]) if match["gap"] else None,
                at=float(match["at"]) if match["at"] else None,
                spans=spans,
            )
        )
    return utterances


class Voice:
    """Renders single words with one espeak-ng voice, trimmed of silence, cached."""

    def __init__(self, name: str, pitch: int, speed: int, workdir: Path) -> None:
        self.name, self.pitch, self.speed = name, pitch, speed
        self.workdir = workdir
        self.cache: dict[str, np.ndarray] = {}

    def word(self, token: str) -> np.ndarray:
        if token not in self.cache:
            path = self.workdir / "word.wav"
            subprocess.run(
                ["espeak-ng", "-v", self.name, "-p", str(self.pitch), "-s", str(self.speed), "-w", str(path)],
                input=token.encode(),
                check=True,
            )
            with wave.open(str(path)) as wav:
                assert wav.getframerate() == ESPEAK_RATE
                samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
            loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE_THRESHOLD)
            if loud.size == 0:
                raise RuntimeError(f"espeak-ng produced silence for {token!r}")
            self.cache[token] = samples[loud[0] : loud[-1] + 1].astype(np.float32) / 32768.0
        return self.cache[token]


def gap_after(token: str) -> float:
    if token.endswith((".", "?", "!")):
        return SENTENCE_GAP_S
    if token.endswith((",", ";", ":")):
        return COMMA_GAP_S
    return WORD_GAP_S


def render_call(script: CallScript, workdir: Path) -> tuple[dict[str, object], np.ndarray]:
    voices = {
        "rep": Voice(*script.rep_voice, workdir=workdir),
        "customer": Voice(*script.customer_voice, workdir=workdir),
    }
    placed: list[dict[str, object]] = []  # one per utterance, in script order
    pieces: list[tuple[int, int, np.ndarray]] = []  # (channel, start sample, samples)
    floor = LEAD_IN_S
    last_main: dict[str, float] | None = None
    last_end = {"rep": 0.0, "customer": 0.0}
    for utt in parse_lines(script.lines):
        tokens = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", utt.text)]
        audio = [voices[utt.role].word(tok) for tok, _, _ in tokens]
        offsets, cursor = [], 0
        for (tok, _, _), samples in zip(tokens, audio, strict=True):
            offsets.append(cursor)
            cursor += len(samples) + round(gap_after(tok) * ESPEAK_RATE)
        length_s = (offsets[-1] + len(audio[-1])) / ESPEAK_RATE
        if utt.at is not None:
            assert last_main is not None
            start_s = last_main["start"] + utt.at * (last_main["end"] - last_main["start"])
        else:
            start_s = floor + (utt.gap if utt.gap is not None else DEFAULT_GAP_S)
        start_sample = round(start_s * ESPEAK_RATE)
        start_s = start_sample / ESPEAK_RATE
        if start_s < last_end[utt.role] + 0.05:
            raise ValueError(f"{script.call_id}: {utt.role} would overlap their own speech at {utt.text!r}")
        words = []
        for (tok, c0, c1), off, samples in zip(tokens, offsets, audio, strict=True):
            w_start = start_sample + off
            pieces.append((CHANNEL[utt.role], w_start, samples))
            words.append(
                {
                    "word": tok,
                    "start": round(w_start / ESPEAK_RATE, 6),
                    "end": round((w_start + len(samples)) / ESPEAK_RATE, 6),
                    "c0": c0,
                    "c1": c1,
                }
            )
        end_s = start_s + length_s
        last_end[utt.role] = end_s
        entry = {"utt": utt, "start": words[0]["start"], "end": words[-1]["end"], "words": words}
        placed.append(entry)
        if utt.at is None:
            last_main = {"start": start_s, "end": end_s}
            floor = max(floor, end_s)
    duration_s = max(float(e["end"]) for e in placed) + TAIL_S  # type: ignore[arg-type]
    n_samples = round(duration_s * ESPEAK_RATE)
    stereo = np.zeros((n_samples, 2), dtype=np.float32)
    for channel, start, samples in pieces:
        stereo[start : start + len(samples), channel] += samples
    return build_truth(script, placed, duration_s), stereo


def build_truth(script: CallScript, placed: list[dict[str, object]], duration_s: float) -> dict[str, object]:
    order = sorted(range(len(placed)), key=lambda i: (placed[i]["start"], i))
    turns, words, planted, actions = [], [], [], []
    for turn_id, index in enumerate(order):
        entry = placed[index]
        utt: Utterance = entry["utt"]  # type: ignore[assignment]
        utt_words: list[dict[str, object]] = entry["words"]  # type: ignore[assignment]
        role = utt.role
        turns.append(
            {
                "turn": turn_id,
                "start": entry["start"],
                "end": entry["end"],
                "speaker": role,
                "channel": CHANNEL[role],
                "role": role,
                "text": utt.text,
            }
        )
        for w in utt_words:
            words.append(
                {
                    "word": w["word"],
                    "start": w["start"],
                    "end": w["end"],
                    "speaker": role,
                    "channel": CHANNEL[role],
                    "role": role,
                    "turn": turn_id,
                }
            )
        for span in utt.spans:
            inside = [w for w in utt_words if w["c0"] < span.end_char and w["c1"] > span.start_char]  # type: ignore[operator]
            text = utt.text[span.start_char : span.end_char]
            if span.kind == "plant":
                planted.append(
                    {
                        "tracker": span.attrs[0],
                        "phrase": text,
                        "turn": turn_id,
                        "speaker": role,
                        "start": inside[0]["start"],
                        "end": inside[-1]["end"],
                    }
                )
            else:
                due = span.attrs[0] if span.attrs and span.attrs[0] else None
                owner = span.attrs[1] if len(span.attrs) > 1 else role
                item: dict[str, object] = {"text": text, "owner_role": owner, "turn": turn_id}
                if due:
                    item["due"] = due
                actions.append(item)
    planted.sort(key=lambda p: (p["start"], p["tracker"]))
    return {
        "call_id": script.call_id,
        "title": script.title,
        "kind": script.kind,
        "rep": script.rep,
        "customer": script.customer,
        "date": script.date,
        "duration_s": round(duration_s, 6),
        "turns": turns,
        "words": words,
        "planted": planted,
        "action_items": actions,
    }


def write_wav(path: Path, samples: np.ndarray) -> None:
    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1 if pcm.ndim == 1 else pcm.shape[1])
        wav.setsampwidth(2)
        wav.setframerate(OUT_RATE)
        wav.writeframes(pcm.tobytes())


def encode_opus(wav_path: Path, out_path: Path, bitrate: str) -> None:
    # mapping family 255 codes each channel as its own mono stream: plain stereo Opus at low
    # bitrates mixes the channels (intensity/mid-side coding), which leaks the customer's voice
    # into the rep's channel at about -13 dB.
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav_path),
            "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
            "-c:a", "libopus", "-b:a", bitrate, "-application", "voip", "-mapping_family", "255",
            str(out_path),
        ],
        check=True,
    )  # fmt: skip


def make_call(script: CallScript, out_dir: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        truth, stereo = render_call(script, workdir)
        stereo16 = resample_poly(stereo, OUT_RATE, ESPEAK_RATE, axis=0).astype(np.float32)
        peak = float(np.max(np.abs(stereo16))) or 1.0
        stereo16 *= 0.8 / peak
        mono16 = stereo16.mean(axis=1)
        write_wav(workdir / "stereo.wav", stereo16)
        write_wav(workdir / "mono.wav", mono16)
        encode_opus(workdir / "stereo.wav", out_dir / f"{script.call_id}.stereo.ogg", "20k")
        encode_opus(workdir / "mono.wav", out_dir / f"{script.call_id}.mono.ogg", "14k")
    (out_dir / f"{script.call_id}.truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "sample_data")
    parser.add_argument("--only", action="append", help="render only these call ids")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    index = []
    for script in CALLS:
        if args.only and script.call_id not in args.only:
            continue
        truth = make_call(script, args.out)
        entry = {k: truth[k] for k in ("call_id", "title", "kind", "rep", "customer", "date", "duration_s")}
        entry.update(
            stereo=f"{script.call_id}.stereo.ogg",
            mono=f"{script.call_id}.mono.ogg",
            truth=f"{script.call_id}.truth.json",
            result=f"{script.call_id}.result.json",
            mono_result=f"{script.call_id}.mono.result.json",
        )
        index.append(entry)
        turns = truth["turns"]
        print(f"{script.call_id}: {truth['duration_s']:.1f} s, {len(turns)} turns")  # type: ignore[arg-type]
    if not args.only:
        (args.out / "index.json").write_text(json.dumps({"calls": index}, indent=1) + "\n")


if __name__ == "__main__":
    main()
