"""Segmentation throughput of zhtag against jieba on the texts of one corpus file.

    python bench/segment_throughput.py CORPUS [--model cws] [--lines N]

The corpus (any zhtag format) is reduced to raw text lines. Prints characters per second for
the Tagger alone (model loaded), for the `zhtag segment` command end to end (process start and
model load included), and for `jieba.cut` (its default, HMM on) on the same lines.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jieba
import torch

from data.formats import read_corpus
from model.tagger import Tagger


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--model", default="cws")
    parser.add_argument("--lines", type=int, default=5000)
    args = parser.parse_args()
    lines = [s.text for s in read_corpus(args.corpus).sentences[: args.lines]]
    chars = sum(map(len, lines))
    print(f"lines {len(lines)}, chars {chars:,}, torch threads {torch.get_num_threads()}")

    tagger = Tagger.load(args.model)
    tagger.tag(lines[:10])
    print(f"zhtag Tagger.tag ({tagger.ref}): {chars / timed(lambda: tagger.tag(lines)):,.0f} chars/s")

    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt") as raw:
        raw.write("\n".join(lines) + "\n")
        raw.flush()
        command = [sys.executable, "-m", "service.cli", "segment", raw.name, "--model", args.model]
        seconds = timed(lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL))
    print(f"zhtag segment (end to end): {chars / seconds:,.0f} chars/s")

    jieba.initialize()
    print(f"jieba.cut: {chars / timed(lambda: [list(jieba.cut(line)) for line in lines]):,.0f} chars/s")


if __name__ == "__main__":
    main()
