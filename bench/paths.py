"""Tagging speed of one model through each way its network can run on the CPU, interleaved in
one process so that the machine's drift falls on all of them alike:

- `packed`: both LSTM directions in one call on packed input, as training runs (float32);
- `float32`, `bfloat16`: each direction its own call over padded input, as tagging runs
  (`BiLSTMCRF._by_direction`), in that precision.

    python bench/paths.py FILE [--model cws] [--lines 2000] [--rounds 6] [--batches 8000,16000,32000]

Prints the best and median chars/s of `Tagger.span_arrays` over the first `--lines` lines of
FILE, one torch thread, per path and padded characters per network call.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from model.tagger import Tagger

PATHS = ("packed", "float32", "bfloat16")


def tagger_for(model: str, path: str) -> Tagger:
    tagger = Tagger.load(model, precision="float32" if path == "packed" else path)
    if path == "packed":
        tagger.network.dropout.p = 0.0
        tagger.network.train()  # the training path, without its dropout
    return tagger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--model", default="cws")
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--batches", default="8000,16000,32000")
    args = parser.parse_args()
    torch.set_num_threads(1)
    lines = [line for line in args.file.read_text(encoding="utf-8").splitlines() if line.strip()][: args.lines]
    chars = sum(map(len, lines))
    taggers = {path: tagger_for(args.model, path) for path in PATHS}
    runs = [(path, int(batch)) for path in PATHS for batch in args.batches.split(",")]
    seconds: dict[tuple[str, int], list[float]] = {run: [] for run in runs}
    for tagger in taggers.values():
        tagger.span_arrays(lines[:300], [None] * 300)
    for _ in range(args.rounds):
        for path, batch in runs:
            started = time.perf_counter()
            taggers[path].span_arrays(lines, [None] * len(lines), batch_chars=batch)
            seconds[path, batch].append(time.perf_counter() - started)
    print(f"# {args.model} on {len(lines):,} lines ({chars:,} chars) of {args.file}, 1 thread, {args.rounds} interleaved rounds\n")
    print("| path | chars a call | best chars/s | median chars/s |\n|---|---|---|---|")
    for (path, batch), times in seconds.items():
        print(f"| {path} | {batch:,} | {chars / min(times):,.0f} | {chars / statistics.median(times):,.0f} |")


if __name__ == "__main__":
    main()
