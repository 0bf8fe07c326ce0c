"""Tagging speed of one model through each way its network runs on the CPU, interleaved in one
process so that the machine's drift falls on both alike:

- `float32`: both LSTM directions in one call on packed input, as training runs;
- `bfloat16`: each direction its own call over padded input (`BiLSTMCRF._by_direction`).

    python bench/paths.py FILE [--model cws] [--lines 2000] [--rounds 6] [--batches 8000,16000,32000] [--workers 1]

Prints the best and median chars/s of `Tagger.span_arrays` over the first `--lines` lines of
FILE (0: all), per path and padded characters per network call: with one torch thread, or with
`--workers` threads tagging 1,000-line chunks of one torch thread each, as `zhtag segment` does.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from model.parallel import map_chunks
from model.tagger import Tagger

PATHS = ("float32", "bfloat16")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--model", default="cws")
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--batches", default="8000,16000,32000")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    lines = [line for line in args.file.read_text(encoding="utf-8").splitlines() if line.strip()][: args.lines or None]
    chars = sum(map(len, lines))
    taggers = {path: Tagger.load(args.model, precision=path) for path in PATHS}
    runs = [(path, int(batch)) for path in PATHS for batch in args.batches.split(",")]
    seconds: dict[tuple[str, int], list[float]] = {run: [] for run in runs}
    for tagger in taggers.values():
        tagger.span_arrays(lines[:300], [None] * 300)
    for _ in range(args.rounds):
        for path, batch in runs:
            tag = lambda chunk, tagger=taggers[path], batch=batch: tagger.span_arrays(chunk, [None] * len(chunk), batch_chars=batch)  # noqa: E731
            started = time.perf_counter()
            list(map_chunks(tag, lines, args.workers))
            seconds[path, batch].append(time.perf_counter() - started)
    print(f"# {args.model} on {len(lines):,} lines ({chars:,} chars) of {args.file}, {args.workers} thread(s), {args.rounds} interleaved rounds\n")
    print("| path | chars a call | best chars/s | median chars/s |\n|---|---|---|---|")
    for (path, batch), times in seconds.items():
        print(f"| {path} | {batch:,} | {chars / min(times):,.0f} | {chars / statistics.median(times):,.0f} |")


if __name__ == "__main__":
    main()
