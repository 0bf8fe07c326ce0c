"""Dynamic batching: texts from concurrent requests are merged into one tagger call.

A batch closes when its queued texts reach `max_batch_chars`, or `max_wait_ms` after its first
request was queued, whichever comes first. A request larger than `max_batch_chars` is queued in
parts of at most that size, and a batch takes one part of each request at most: a request of
3 MB shares the tagger with the requests that come after it, rather than holding it for
seconds. The tagger runs in one worker thread, so the event loop keeps accepting requests
while a batch computes, and the model never runs two batches at once (on 2 cores, two
concurrent torch calls are much slower than one after the other). One batcher serves one
loaded model version, so a batch never mixes versions. A request whose caller has gone (its
future cancelled) is dropped before it is computed.
"""
from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from data.corpus import Span
from data.lexicon import Lexicon
from service.errors import DeadlineExceeded, QueueFull


class TagFn(Protocol):
    """What a batch is tagged with: `Tagger.tag_each`, or the tests' stand-ins. Every text has
    its own user words, so requests with different dictionaries share a batch; `scores` None
    is the tagger's default (entities only)."""

    def __call__(self, texts: Sequence[str], user_words: Sequence[Lexicon | None], *, scores: bool | None = None) -> list[list[Span]]: ...


@dataclass(frozen=True)
class Timing:
    queue_ms: float  # waiting: from queueing to the answer, less the tagger calls (a large request's, between its parts too)
    inference_ms: float  # the tagger calls of its batches


@dataclass
class _Part:
    """A request, or a part of one that is larger than a batch."""

    texts: Sequence[str]
    user_words: Lexicon | None
    scores: bool  # spans with their marginal probabilities
    future: asyncio.Future
    caller: int  # the `submit` call it belongs to
    queued: float = field(default_factory=time.perf_counter)

    @property
    def chars(self) -> int:
        return sum(map(len, self.texts))


def _parts(texts: Sequence[str], budget: int) -> list[list[str]]:
    """Consecutive runs of `texts` of at most `budget` characters (a longer text alone)."""
    parts: list[list[str]] = [[]]
    chars = 0
    for text in texts:
        if parts[-1] and chars + len(text) > budget:
            parts.append([])
            chars = 0
        parts[-1].append(text)
        chars += len(text)
    return parts


class Batcher:
    def __init__(
        self,
        tag: TagFn,
        max_batch_chars: int,
        max_wait_ms: float,
        max_queue: int,
        on_batch: Callable[[int, int], None] | None = None,
        on_queue: Callable[[int], None] | None = None,
    ) -> None:
        """`on_batch(texts, chars)` sees every batch; `on_queue(change)` every change of the
        queue's depth (so a gauge stays right across worker processes)."""
        self.tag, self.max_batch_chars, self.max_wait = tag, max_batch_chars, max_wait_ms / 1000
        self.max_queue, self.on_batch, self.on_queue = max_queue, on_batch, on_queue or (lambda change: None)
        self._queue: deque[_Part] = deque()
        self._callers = itertools.count()
        self._served_last: set[int] = set()  # the callers of the last batch
        self._queued_chars = 0
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zhtag-batch")
        self._task: asyncio.Task | None = None

    async def submit(self, texts: Sequence[str], user_words: Lexicon | None = None, scores: bool = False) -> tuple[list[list[Span]], Timing]:
        """Spans of each text, computed in some batch (or, for a large request, in several);
        raises QueueFull when `max_queue` requests are waiting. A batch computes scores when
        any of its requests asks for them."""
        self._drop_gone()
        waiting = len({part.caller for part in self._queue})
        if waiting >= self.max_queue:
            raise QueueFull(f"{waiting} requests already queued (max_queue {self.max_queue})")
        loop = asyncio.get_running_loop()
        if self._task is None:
            self._task = loop.create_task(self._serve())
        caller = next(self._callers)
        parts = [_Part(texts_of_part, user_words, scores, loop.create_future(), caller) for texts_of_part in _parts(texts, self.max_batch_chars)]
        self._queue.extend(parts)
        self._queued_chars += sum(part.chars for part in parts)
        self.on_queue(len(parts))
        self._wakeup.set()
        try:
            answers = await asyncio.gather(*(part.future for part in parts))
        except BaseException:  # given up, or a batch failed: the other parts need no computing
            for part in parts:
                part.future.cancel()
            raise
        if len(parts) == 1:
            return answers[0]
        inference_ms = sum(timing.inference_ms for _, timing in answers)
        waited_ms = (time.perf_counter() - parts[0].queued) * 1000 - inference_ms
        return [found for part_spans, _ in answers for found in part_spans], Timing(waited_ms, inference_ms)

    def _drop_gone(self) -> None:
        """Parts whose callers gave up (past their deadline, disconnected) leave the queue:
        kept, they counted against `max_queue`, and live clients got 429s with no one waiting."""
        gone = [part for part in self._queue if part.future.done()]
        if gone:
            self._queue = deque(part for part in self._queue if not part.future.done())
            for part in gone:
                self._dequeued(part)

    def _dequeued(self, part: _Part) -> None:
        self._queued_chars -= part.chars
        self.on_queue(-1)

    async def submit_within(
        self, texts: Sequence[str], user_words: Lexicon | None, timeout_s: float, scores: bool = False
    ) -> tuple[list[list[Span]], Timing]:
        """`submit`, given up after `timeout_s`: the cancelled request is skipped by its batch."""
        try:
            async with asyncio.timeout(timeout_s):
                return await self.submit(texts, user_words, scores)
        except TimeoutError:
            raise DeadlineExceeded(f"not answered within {timeout_s * 1000:.0f} ms (request_timeout_ms)") from None

    async def close(self) -> None:
        """Stop serving. Parts left queued by callers that gave up leave the queue-depth gauge
        too: a version unloaded after a swap closes its batcher, and the gauge kept counting
        them for as long as the worker lived. The cancelled task is let go: its error's
        traceback holds this batcher, and that cycle, once frozen by the registry's
        `gc.freeze()`, kept the batcher and its tagger for good."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self._drop_gone()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _serve(self) -> None:
        while True:
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            await self._fill(deadline=self._queue[0].queued + self.max_wait)
            batch = self._take()
            if batch:
                await self._run(batch)

    async def _fill(self, deadline: float) -> None:
        """Wait until the budget is reached or the first request's deadline passes."""
        while self._queued_chars < self.max_batch_chars:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return
            self._wakeup.clear()
            try:  # asyncio.timeout, not wait_for: on 3.11, wait_for swallowed a cancel that came as the event was set, and close() hung
                async with asyncio.timeout(remaining):
                    await self._wakeup.wait()
            except TimeoutError:
                return

    def _take(self) -> list[_Part]:
        """Live parts from the head of the queue within the budget (at least one), one part
        of each request at most. The requests the last batch served wait behind the others
        (a stable sort keeps every other order): each request gets its turn."""
        served_last = self._served_last
        self._queue = deque(sorted(self._queue, key=lambda part: part.caller in served_last))
        batch: list[_Part] = []
        kept: deque[_Part] = deque()
        chars, callers = 0, set()
        while self._queue and chars < self.max_batch_chars:
            part = self._queue.popleft()
            if part.future.done():
                self._dequeued(part)
            elif part.caller in callers:
                kept.append(part)
            elif batch and chars + part.chars > self.max_batch_chars:
                kept.append(part)
                break
            else:
                self._dequeued(part)
                batch.append(part)
                chars += part.chars
                callers.add(part.caller)
        kept.extend(self._queue)
        self._queue, self._served_last = kept, callers
        return batch

    async def _run(self, batch: list[_Part]) -> None:
        texts = [text for part in batch for text in part.texts]
        user_words = [part.user_words for part in batch for _ in part.texts]
        if self.on_batch:
            self.on_batch(len(texts), sum(map(len, texts)))
        started = time.perf_counter()
        try:
            scores = True if any(part.scores for part in batch) else None  # None: the tagger's default (entities only)
            results = await asyncio.get_running_loop().run_in_executor(self._executor, partial(self.tag, texts, user_words, scores=scores))
        except Exception as err:  # the batch's callers get the error; the batcher keeps serving
            for part in batch:
                if not part.future.done():
                    part.future.set_exception(err)
            return
        inference_ms = (time.perf_counter() - started) * 1000
        offset = 0
        for part in batch:
            found = results[offset : offset + len(part.texts)]
            offset += len(part.texts)
            if not part.future.done():
                part.future.set_result((found, Timing((started - part.queued) * 1000, inference_ms)))
