"""Segmentation speed of zhtag beside its peers on one text file, and how close zhtag comes to
this machine's compute bound.

    python bench/speed.py FILE [--model cws] [--batches 1,8,32,128,512] [--runs 3] [--sample-chars N]
    python bench/speed.py --raw CORPUS > FILE     # raw text lines from any zhtag corpus

Prints three tables, all from the same run on the same machine:
1. in-process characters per second on the first `--sample-chars` characters of FILE: zhtag's
   `Tagger.tag` fed `batch` lines per call, then each installed peer (jieba with and without
   HMM, THULAC, pkuseg) one line at a time;
2. whole-process wall time of `zhtag segment FILE` against `python -m jieba -d ' ' FILE`
   (output discarded), alternating runs, and the median of the per-pair ratios jieba / zhtag;
3. the compute bound: this machine's matrix-multiply FLOP/s measured with torch, in float32 and
   in the dtype the tagger runs its LSTM in (`ZHTAG_PRECISION`), the model's FLOPs per
   character (input projections and recurrent matmuls of both LSTM directions, emissions,
   Viterbi), the chars/s they allow, and the fraction zhtag reaches.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from accuracy import Cut, NotAvailable, jieba_cut, pkuseg_cut, thulac_cut  # bench/ is the script's own folder
from model.network import BiLSTMCRF
from model.parallel import CHUNK_LINES, map_chunks
from model.tagger import Tagger


def peers() -> dict[str, Cut | str]:
    """The peer segmenters of bench/accuracy.py, by name, or why one cannot run here."""
    found: dict[str, Cut | str] = {}
    for name, load in (
        ("jieba (HMM)", lambda: jieba_cut(True)),
        ("jieba (no HMM)", lambda: jieba_cut(False)),
        ("THULAC", thulac_cut),
        ("pkuseg", pkuseg_cut),
    ):
        try:
            found[name] = load()
        except NotAvailable as err:
            found[name] = str(err)
    return found


def rate(lines: list[str], run: Callable[[list[str]], object], chunk: int) -> float:
    """Characters per second of `run` over `lines`, fed `chunk` lines per call."""
    started = time.perf_counter()
    for i in range(0, len(lines), chunk):
        run(lines[i : i + chunk])
    return sum(map(len, lines)) / (time.perf_counter() - started)


def sample(lines: list[str], chars: int) -> list[str]:
    """The first lines holding `chars` characters."""
    few, total = [], 0
    for line in lines:
        if total >= chars:
            break
        few.append(line)
        total += len(line)
    return few


def in_process(lines: list[str], tagger: Tagger, batches: list[int], chars: int) -> dict[str, float]:
    few = sample(lines, chars)
    tagger.tag(few[:64])
    rates = {f"zhtag, {b} lines a call": rate(few, tagger.tag, b) for b in batches}
    workers = os.cpu_count() or 1
    tag_chunk = lambda chunk: tagger.span_arrays(chunk, [None] * len(chunk))  # noqa: E731
    rates[f"zhtag, whole file in {CHUNK_LINES}-line chunks on {workers} threads (as `zhtag segment`)"] = rate(lines, lambda part: list(map_chunks(tag_chunk, part, workers)), len(lines))
    torch.set_num_threads(workers)
    for name, segment in peers().items():
        if isinstance(segment, str):
            print(f"  {name}: {segment}")
            continue
        segment(few[0])
        rates[name] = rate(few, lambda chunk, fn=segment: [fn(text) for text in chunk], 1)
    return rates


def whole_process(path: Path, model: str, runs: int) -> list[tuple[float, float]]:
    """(zhtag seconds, jieba seconds) of each alternating pair of runs."""
    zhtag = [sys.executable, "-m", "service.cli", "segment", str(path), "--model", model]
    jieba = [sys.executable, "-m", "jieba", "-d", " ", str(path)]
    pairs = []
    for _ in range(runs):
        pairs.append((wall(zhtag), wall(jieba)))
    return pairs


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def matmul_flops(dtype: torch.dtype, size: int = 2048, seconds: float = 2.0) -> float:
    """FLOP/s of a square matrix multiply in `dtype` with torch's current threads."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        a @ b
        count += 1
    return 2 * size**3 * count / (time.perf_counter() - started)


def flops_per_char(network: BiLSTMCRF) -> dict[str, int]:
    """Multiply-adds (x2) per character of one forward pass and the Viterbi step."""
    width, h, tags = network.lstm.input_size, network.config.hidden, len(network.config.tags)
    return {
        "LSTM input projections (2 directions)": 2 * 2 * width * 4 * h,
        "LSTM recurrent matmuls (2 directions)": 2 * 2 * h * 4 * h,
        "LSTM gate nonlinearities (2 directions)": 2 * 10 * h,
        "emissions": 2 * 2 * h * tags,
        "Viterbi (add and max over tag pairs)": 2 * tags * tags,
    }


def lstm_alone(network: BiLSTMCRF, rows: int = 224, steps: int = 150, seconds: float = 2.0) -> float:
    """Chars/s of torch's LSTM alone, both directions in turn as tagging runs them, on random
    inputs of the tagger's width and dtype: how near the kernel itself comes to the bound, and
    so how much of the gap the rest of the pipeline makes."""
    inputs = torch.randn(steps, rows, network.tagging_width).to(network.tagging_dtype)  # (seq, batch, width)
    run = lambda: [network._direction(inputs, suffix) for suffix in ("l0", "l0_reverse")]  # noqa: E731
    with torch.inference_mode():
        run()
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            run()
            count += 1
    return count * rows * steps / (time.perf_counter() - started)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), platform.processor())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip() or "?"
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads), {datetime.date.today()}, commit {commit}"


def raw_lines(corpus: Path) -> None:
    """Print the corpus's text; `| head -n N` ends it quietly, as it ends any Unix filter."""
    from data.formats import read_corpus

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    for sentence in read_corpus(corpus).sentences:
        if sentence.text.strip():
            print(sentence.text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, nargs="?", help="raw UTF-8 text, one input a line")
    parser.add_argument("--raw", type=Path, metavar="CORPUS", help="print the raw text lines of CORPUS and stop")
    parser.add_argument("--model", default="cws")
    parser.add_argument("--batches", default="1,8,32,128,512")
    parser.add_argument("--runs", type=int, default=3, help="alternating whole-process runs of each command")
    parser.add_argument("--sample-chars", type=int, default=200_000, help="characters of FILE each in-process run segments")
    args = parser.parse_args()
    if args.raw:
        return raw_lines(args.raw)
    if args.file is None:
        parser.error("FILE is required (make one with --raw CORPUS)")
    lines = [line.rstrip("\n") for line in args.file.open(encoding="utf-8") if line.strip()]
    print(f"# {args.file}: {len(lines):,} lines, {sum(map(len, lines)):,} chars\n# {machine()}\n")

    tagger = Tagger.load(args.model)
    print("| in-process | chars/s |\n|---|---|")
    rates = in_process(lines, tagger, [int(b) for b in args.batches.split(",")], args.sample_chars)
    for name, value in rates.items():
        print(f"| {name} | {value:,.0f} |")

    pairs = whole_process(args.file, args.model, args.runs)
    ratios = [jieba / zhtag for zhtag, jieba in pairs]
    print("\n| whole process | seconds per run | median |\n|---|---|---|")
    print(f"| `zhtag segment` | {', '.join(f'{z:.2f}' for z, _ in pairs)} | {statistics.median(z for z, _ in pairs):.2f} |")
    print(f"| `python -m jieba -d ' '` | {', '.join(f'{j:.2f}' for _, j in pairs)} | {statistics.median(j for _, j in pairs):.2f} |")
    print(f"\nratio jieba / zhtag (median of pairs): {statistics.median(ratios):.3f} (target >= 0.8)")

    flops = flops_per_char(tagger.network)
    best = max(v for k, v in rates.items() if k.startswith("zhtag"))
    print("\n| model FLOPs per character | |\n|---|---|")
    for name, value in flops.items():
        print(f"| {name} | {value:,} |")
    print(f"| total | {sum(flops.values()):,} |\n")
    ran_in = tagger.network.tagging_dtype
    for dtype in dict.fromkeys((torch.float32, ran_in)):
        peak = matmul_flops(dtype)
        bound = peak / sum(flops.values())
        print(f"{str(dtype)[6:]} matmul: {peak / 1e9:,.1f} GFLOP/s -> compute bound {bound:,.0f} chars/s; "
              f"zhtag's best in-process {best:,.0f} chars/s = {best / bound:.1%} of it (target >= 50%)")
        if dtype == ran_in:
            alone = lstm_alone(tagger.network)
            print(f"torch's LSTM alone, both directions, 224 rows x 150 steps of random input: {alone:,.0f} chars/s = {alone / bound:.1%} of it")
    print(f"(zhtag ran its LSTM in {str(ran_in)[6:]}; the bound of that dtype is the one that applies)")


if __name__ == "__main__":
    main()
