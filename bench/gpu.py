"""The CUDA path, measured in one short run: batched inference and training steps on the GPU.

    bash bench/gpu.sh TEXT CORPUS [--models cws,ner]

Prints, per model, characters per second of `Tagger.tag` on TEXT at large character budgets
(end to end: encoding on the CPU, the network and Viterbi on the GPU, spans back on the CPU),
of chunks tagged by several threads sharing the GPU (as `zhtag segment` does on the CPU),
of the network's decoding alone on batches already encoded and on the GPU, and how many lines
the GPU tags exactly as the CPU does (decoding runs under autocast on the GPU), and with
`--dev`, each model's dev F1 on the GPU and on the CPU: reduced precision may change a line
here and there, but it must not move F1 by 0.05. Then the whole-process time of
`zhtag segment TEXT` (which takes the GPU by itself), and training steps per second on CORPUS
(a segmentation corpus in pd1998's format).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from data.batches import length_batches
from model.config import TrainConfig
from model.parallel import map_chunks
from model.tagger import Tagger
from model.evaluate import evaluate
from model.build import build_tagger
from model.corpora import sentences_for
from model.train import Trainer


DEVICE = "cuda"


def drain() -> None:
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def timed(run, repeat: int = 3) -> float:
    """Best wall time of `run` over `repeat` tries, the GPU drained before and after."""
    best = float("inf")
    for _ in range(repeat):
        drain()
        started = time.perf_counter()
        run()
        drain()
        best = min(best, time.perf_counter() - started)
    return best


def inference(name: str, lines: list[str], budgets: list[int]) -> None:
    tagger = Tagger.load(name, device=DEVICE)
    chars = sum(map(len, lines))
    tagger.tag(lines[:256])
    for budget in budgets:
        seconds = timed(lambda budget=budget: tagger.tag(lines, batch_chars=budget), repeat=2)
        print(f"{name}: tag(), batch_chars {budget:>7,}: {chars / seconds:>12,.0f} chars/s end to end")
    seconds = timed(lambda: tagger.encoder.encode(lines), repeat=2)
    print(f"{name}: encoding alone (CPU, one thread): {chars / seconds:>12,.0f} chars/s")
    for workers in (4, 8, 16):
        work = lambda chunk: tagger.span_arrays(chunk, [None] * len(chunk), budgets[-1])  # noqa: E731
        seconds = timed(lambda workers=workers, work=work: list(map_chunks(work, lines, workers, 2000)), repeat=2)
        print(f"{name}: 2,000-line chunks on {workers} threads sharing the GPU, batch_chars {budgets[-1]:,}: {chars / seconds:>12,.0f} chars/s end to end")
    encoded = tagger.encoder.encode(lines)
    for budget in budgets:
        batches = [encoded.batch(index).to(tagger.network.crf.start.device) for index in length_batches(encoded.lengths.tolist(), budget)]
        seconds = timed(lambda batches=batches: [tagger.network.decode(batch) for batch in batches])
        print(f"{name}: network.decode, batch_chars {budget:>7,}: {chars / seconds:>12,.0f} chars/s (batches already on the GPU)")
    sample = lines[:2000]
    on_gpu = tagger.tag(sample)
    on_cpu = Tagger.load(name, device="cpu").tag(sample)
    same = sum(a == b for a, b in zip(on_gpu, on_cpu))
    print(f"{name}: {same} of {len(sample)} lines tagged exactly as on the CPU")


def dev_f1(name: str, path: Path) -> None:
    """F1 of the model on its dev set, on the GPU and on the CPU."""
    scores = {}
    for device in (DEVICE, "cpu"):
        tagger = Tagger.load(name, device=device)
        gold = sentences_for(path, tagger.config.task)
        scores[device] = evaluate(tagger.config.task, gold, tagger.tag([s.text for s in gold]), tagger.train_words)["f1"]
    print(f"{name}: dev F1 {scores[DEVICE]:.4f} on {DEVICE}, {scores['cpu']:.4f} on the CPU ({len(gold):,} sentences of {path})")


def whole_process(text: str, runs: int) -> None:
    """Wall time of `zhtag segment TEXT`, start-up and model loading included."""
    chars = len(Path(text).read_text(encoding="utf-8"))
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "service.cli", "segment", text], stdout=subprocess.DEVNULL, check=True)
        seconds.append(time.perf_counter() - started)
    median = statistics.median(seconds)
    print(f"zhtag segment, whole process: median {median:.2f} s of {runs} ({', '.join(f'{s:.2f}' for s in seconds)}), {chars / median:,.0f} chars/s")


def training(corpus: str, budgets: list[int]) -> None:
    """A new `cws` model of `zhtag train`'s default size, over one whole epoch of CORPUS: its
    batches hold one length each, so a few steps alone would say little of an epoch."""
    sentences = sentences_for(Path(corpus), "cws")
    for budget in budgets:
        cfg = TrainConfig(batch_chars=budget)
        trainer = Trainer(build_tagger("cws", sentences, cfg, {}, None), sentences, cfg, torch.device(DEVICE))
        trainer.run_epoch(0, max_batches=3)
        steps = len(trainer.epoch_batches(1))
        seconds = timed(lambda trainer=trainer: trainer.run_epoch(1), repeat=1)
        print(f"training, batch_chars {budget:>7,}: {steps / seconds:,.1f} steps/s, {trainer.chars / seconds:>10,.0f} chars/s (an epoch: {steps} steps, {trainer.chars:,} chars)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("text")
    parser.add_argument("corpus")
    parser.add_argument("--models", default="cws")
    parser.add_argument("--budgets", default="6000,64000,256000")
    parser.add_argument("--dev", default="", metavar="MODEL=FILE,...", help="dev sets to score on both devices, e.g. cws=dev.txt,ner=dev.bio")
    parser.add_argument("--runs", type=int, default=3, help="whole-process runs of zhtag segment")
    parser.add_argument("--train-budgets", default="8000,32000,128000")
    parser.add_argument("--device", default="cuda", help="cpu: try the script here")
    args = parser.parse_args()
    global DEVICE
    DEVICE = args.device
    print(f"{torch.cuda.get_device_name() if DEVICE == 'cuda' else 'CPU'}, torch {torch.__version__}")
    lines = [line for line in open(args.text, encoding="utf-8").read().split("\n") if line.strip()]
    print(f"{len(lines):,} lines, {sum(map(len, lines)):,} characters")
    for name in args.models.split(","):
        inference(name, lines, [int(b) for b in args.budgets.split(",")])
    for pair in filter(None, args.dev.split(",")):
        name, path = pair.split("=", 1)
        dev_f1(name, Path(path))
    whole_process(args.text, args.runs)
    training(args.corpus, [int(b) for b in args.train_budgets.split(",")])


if __name__ == "__main__":
    main()
