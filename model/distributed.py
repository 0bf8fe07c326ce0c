"""Training in several processes, as `torchrun` launches them: torch.distributed's process
group (gloo on CPU, nccl on GPU) and DistributedDataParallel do the work; this module only
joins the group torchrun describes in the environment and names the few things a rank does
differently. Without torchrun's variables the world is one process and nothing changes.

Rank 0 owns everything that leaves the run: it builds or restores the tagger and sends it to
the others, scores dev, writes training states and publishes the version. Every rank trains
on its own share of each epoch's length-bucketed batches.
"""
from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import torch
from torch import distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

from data.errors import InputError
from model.device import pick_device

T = TypeVar("T")
PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when its parent dies


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def share(self, value: T) -> T:
        """Rank 0's `value`, on every rank. What travels is our own rank 0's Python objects
        (files as bytes, scores), over the group's private connections."""
        if self.size == 1:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def check_same(self, fingerprint: dict[str, str]) -> None:
        """Refuse a run whose ranks were started differently (another option, another file at
        the same path): every rank sees every rank's `fingerprint`, so all stop together at the
        start, rather than rank 0 publishing while another waits in a step it alone takes."""
        if self.size == 1:
            return
        every: list[dict[str, str]] = [{}] * self.size
        dist.all_gather_object(every, fingerprint)
        differing = sorted({key for other in every[1:] for key in every[0].keys() | other.keys() if other.get(key) != every[0].get(key)})
        if differing:
            raise InputError(f"the ranks of this run differ in {', '.join(differing)}: start every rank with the same options and files")

    def shard(self, batches: Sequence[T]) -> list[T]:
        """This rank's share of `batches`, which every rank built alike. DistributedSampler
        deals whole length buckets round-robin and repeats a few so every rank takes the same
        number of steps (DDP's all-reduce needs each rank at every step)."""
        if self.size == 1:
            return list(batches)
        sampler = DistributedSampler(range(len(batches)), num_replicas=self.size, rank=self.rank, shuffle=False)
        return [batches[i] for i in sampler]

    def wrap(self, network: nn.Module, device: torch.device) -> nn.Module:
        """`network` whose backward passes average gradients over the ranks."""
        if self.size == 1:
            return network
        return DistributedDataParallel(network, device_ids=[device.index] if device.type == "cuda" else None)


def join(device_name: str = "auto") -> tuple[World, torch.device]:
    """This process's place in the run torchrun started (WORLD_SIZE, RANK, LOCAL_RANK and the
    rendezvous address in the environment), and the device it trains on; a world of one when
    started any other way."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    device = pick_device(device_name)
    if size == 1:
        return World(), device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    _die_with_parent()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return World(dist.get_rank(), dist.get_world_size()), device


def _die_with_parent() -> None:
    """Ask Linux to end this rank when its torchrun agent dies. torchrun starts each rank in a
    session of its own, so a `kill -9` of torchrun's process group left the ranks training,
    and they published a version after the user had stopped the run (and perhaps resumed it)."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def main_process() -> bool:
    """Whether this process is rank 0 (or alone), the one that speaks for a run."""
    return int(os.environ.get("RANK", "0")) == 0


def leave() -> None:
    """Leave the group with nothing left that holds it. DistributedDataParallel keeps the group
    alive from inside reference cycles; left to the interpreter's exit, gloo's threads were
    torn down with it and a rank aborted ("terminate called without an active exception") in
    2 of 40 two-process runs. Collecting the cycles first ends the group here, while Python
    is still whole."""
    if dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()
