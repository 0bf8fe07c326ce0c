"""Where a tagger runs, the dtype its LSTM computes in on the CPU, and torch's threads in a
forked child: apart from the tagger, so that the service's settings check a precision without
importing the model."""
from __future__ import annotations

import os

import torch

from data.errors import InputError

PRECISIONS = ("auto", "float32", "bfloat16")


def _one_thread_in_forked_child() -> None:
    """A child forked after torch ran its thread pool inherits the pool's state but not its
    threads, and its first parallel operation waits for them for good (pytorch/pytorch#17199):
    `multiprocessing.Pool().map(zhtag.lcut, texts)` after one call in the parent hung. With one
    thread the child never enters that pool, and a pool of forked workers wants one each."""
    torch.set_num_threads(1)


os.register_at_fork(after_in_child=_one_thread_in_forked_child)


def pick_device(name: str = "auto") -> torch.device:
    """The torch device `name` means here; one this machine cannot run is refused now, in a
    line naming it, rather than by an assertion deep inside torch at the first batch."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise InputError(f"unknown device {name!r}: expected auto, cpu, cuda or cuda:N")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {name!r}: torch finds no CUDA GPU on this machine (use cpu or auto)")
    return device


def cpu_precision(name: str | None = None) -> torch.dtype:
    """The dtype tagging on the CPU runs the LSTM in: `name`, else `ZHTAG_PRECISION`, else
    auto. Auto is bfloat16 where oneDNN multiplies it natively (AVX-512 BF16 or AMX), which
    ran the LSTM faster and moved no shipped model's dev F1 by more than 0.01
    (docs/EXPERIMENTS.md); float32 elsewhere. float32 gives exactly what training computes."""
    name = name or os.environ.get("ZHTAG_PRECISION") or "auto"
    if name not in PRECISIONS:
        raise InputError(f"ZHTAG_PRECISION (or precision) must be one of {', '.join(PRECISIONS)}, not {name!r}")
    if name == "auto":
        name = "bfloat16" if torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported() else "float32"
    return getattr(torch, name)
