"""The step that dominates tagging on the CPU, the network's Bi-LSTM, on other backends:
torch float32 (what zhtag runs), torch bfloat16 (the weights and inputs cast; this CPU has
AVX-512 BF16 and AMX), and ONNX Runtime float32 on the same weights, exported by torch.

    python bench/backends.py FILE [--model cws] [--threads 1,2] [--chars 200000]

The inputs are the model's real LSTM inputs for the first `--chars` characters of FILE, in the
tagger's length-sorted batches of 32,000 characters, run padded (no packing, the same work
for every backend). Prints chars/s per backend and thread count, and each backend's largest
difference from torch float32 in the LSTM's outputs.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from data.batches import length_batches
from model.tagger import Tagger


def inputs(tagger: Tagger, lines: list[str]) -> list[torch.Tensor]:
    """(seq, batch, width) padded LSTM inputs of each batch."""
    encoded = tagger.encoder.encode(lines)
    batches = [encoded.batch(index[::-1]) for index in length_batches(encoded.lengths.tolist(), tagger.batch_chars)]
    with torch.inference_mode():
        return [tagger.network._inputs(b.chars.T, b.bigrams.transpose(0, 1), b.lexicon.transpose(0, 1)) for b in batches]


def onnx_runner(lstm: torch.nn.LSTM, example: torch.Tensor, threads: int):
    import onnxruntime

    path = Path(tempfile.mkdtemp()) / "lstm.onnx"
    torch.onnx.export(lstm, (example,), str(path), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "seq", 1: "batch"}, "y": {0: "seq", 1: "batch"}}, dynamo=False)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda x: torch.from_numpy(session.run(["y"], {"x": x.numpy()})[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--model", default="cws")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--chars", type=int, default=200_000)
    args = parser.parse_args()
    tagger = Tagger.load(args.model)
    lines, total = [], 0
    for line in args.file.read_text(encoding="utf-8").splitlines():
        if line.strip() and total < args.chars:
            lines.append(line)
            total += len(line)
    xs = inputs(tagger, lines)
    chars = sum(x.shape[0] * x.shape[1] for x in xs)
    lstm = tagger.network.lstm
    bf16 = torch.nn.LSTM(lstm.input_size, lstm.hidden_size, bidirectional=True).to(torch.bfloat16)
    bf16.load_state_dict({k: v.to(torch.bfloat16) for k, v in lstm.state_dict().items()})
    print(f"{args.model}: hidden {lstm.hidden_size}, input width {lstm.input_size}; {len(xs)} batches, {chars:,} padded characters\n")
    print("| backend | threads | chars/s | largest difference from torch float32 |\n|---|---|---|---|")
    with torch.inference_mode():
        reference = [lstm(x)[0] for x in xs]
        for threads in [int(t) for t in args.threads.split(",")]:
            torch.set_num_threads(threads)
            runners = {
                "torch float32": lambda x: lstm(x)[0],
                "torch bfloat16": lambda x: bf16(x.to(torch.bfloat16))[0].float(),
                "ONNX Runtime float32": onnx_runner(lstm, xs[0], threads),
            }
            for name, run in runners.items():
                outputs = [run(x) for x in xs[:2]]
                started = time.perf_counter()
                outputs = [run(x) for x in xs]
                rate = chars / (time.perf_counter() - started)
                gap = max(float((a - b).abs().max()) for a, b in zip(outputs, reference))
                print(f"| {name} | {threads} | {rate:,.0f} | {gap:.2e} |")


if __name__ == "__main__":
    main()
