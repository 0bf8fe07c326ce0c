"""Tagging long inputs on every core: chunks go to one thread per core, each running torch
with one thread. Torch's LSTM gains little from a second thread of its own (per-step costs
dominate at these sizes), while a second chunk keeps the other core busy encoding, running the
network and decoding: on 2 cores this nearly doubles throughput."""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import torch

In, Out = TypeVar("In"), TypeVar("Out")
CHUNK_LINES = 1000  # lines tagged per call: enough for full length-sorted batches
CHUNK_CHARS = 150_000  # and at most about this many characters, so long lines keep memory bounded


def map_in_order(work: Callable[[In], Out], items: Iterable[In], workers: int) -> Iterator[Out]:
    """`work` of each item on `workers` threads, yielded in input order; at most one item per
    worker is taken ahead, so memory stays bounded however long `items` runs. Sets torch to
    one thread per worker for the rest of the process."""
    if workers > 1:
        torch.set_num_threads(1)
    with ThreadPoolExecutor(workers) as pool:
        pending: deque[Future[Out]] = deque()
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def map_chunks(
    work: Callable[[list[In]], Out], items: Iterable[In], workers: int, chunk_lines: int = CHUNK_LINES,
    chunk_chars: int = CHUNK_CHARS, size: Callable[[In], int] = len,
) -> Iterator[Out]:
    """`work` of each run of at most `chunk_lines` items and about `chunk_chars` characters
    (by `size`), on `workers` threads, in input order."""
    return map_in_order(work, chunks(iter(items), chunk_lines, chunk_chars, size), workers)


def chunks(items: Iterator[In], max_items: int = CHUNK_LINES, max_chars: int = CHUNK_CHARS, size: Callable[[In], int] = len) -> Iterator[list[In]]:
    """Runs of at most `max_items` items and about `max_chars` characters (by `size`)."""
    chunk: list[In] = []
    chars = 0
    for item in items:
        chunk.append(item)
        chars += size(item)
        if len(chunk) == max_items or chars >= max_chars:
            yield chunk
            chunk, chars = [], 0
    if chunk:
        yield chunk
