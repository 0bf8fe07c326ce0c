"""Dynamic batching: texts from concurrent requests are merged into one tagger call.

A batch closes when its queued texts reach `max_batch_chars`, or `max_wait_ms` after its first
request was queued, whichever comes first. The tagger runs in one worker thread, so the event
loop keeps accepting requests while a batch computes, and the model never runs two batches at
once (on 2 cores, two concurrent torch calls are much slower than one after the other). One
batcher serves one loaded model version, so a batch never mixes versions. A request whose
caller has gone (its future cancelled) is dropped before it is computed.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from data.corpus import Span
from data.errors import ZhtagError
from data.lexicon import Lexicon

TagFn = Callable[..., list[list[Span]]]  # Tagger.tag_each(texts, user_words, scores=True | None)


class QueueFull(ZhtagError):
    """More requests are waiting than `max_queue`; the caller should retry later."""


class DeadlineExceeded(ZhtagError):
    """A request was not answered within its deadline; it is dropped if not yet computed."""


@dataclass(frozen=True)
class Timing:
    queue_ms: float  # from queueing to the start of its batch
    inference_ms: float  # the batch's tagger call


@dataclass
class _Request:
    texts: Sequence[str]
    user_words: Lexicon | None
    scores: bool  # spans with their marginal probabilities
    future: asyncio.Future
    queued: float = field(default_factory=time.perf_counter)

    @property
    def chars(self) -> int:
        return sum(map(len, self.texts))


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
        self._queue: deque[_Request] = deque()
        self._queued_chars = 0
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zhtag-batch")
        self._task: asyncio.Task | None = None

    async def submit(self, texts: Sequence[str], user_words: Lexicon | None = None, scores: bool = False) -> tuple[list[list[Span]], Timing]:
        """Spans of each text, computed in some batch; raises QueueFull when the queue is full.
        A batch computes scores when any of its requests asks for them."""
        self._drop_gone()
        if len(self._queue) >= self.max_queue:
            raise QueueFull(f"{len(self._queue)} requests already queued (max_queue {self.max_queue})")
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._serve())
        request = _Request(texts, user_words, scores, asyncio.get_running_loop().create_future())
        self._queue.append(request)
        self._queued_chars += request.chars
        self.on_queue(1)
        self._wakeup.set()
        return await request.future

    def _drop_gone(self) -> None:
        """Requests whose callers gave up (past their deadline, disconnected) leave the queue:
        kept, they counted against `max_queue`, and live clients got 429s with no one waiting."""
        gone = [request for request in self._queue if request.future.done()]
        if gone:
            self._queue = deque(request for request in self._queue if not request.future.done())
            self._queued_chars -= sum(request.chars for request in gone)
            self.on_queue(-len(gone))

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
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
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

    def _take(self) -> list[_Request]:
        """Requests from the head of the queue within the budget (at least one), live ones only."""
        batch: list[_Request] = []
        chars = 0
        while self._queue and (not batch or chars + self._queue[0].chars <= self.max_batch_chars):
            request = self._queue.popleft()
            self._queued_chars -= request.chars
            self.on_queue(-1)
            if not request.future.done():
                batch.append(request)
                chars += request.chars
        return batch

    async def _run(self, batch: list[_Request]) -> None:
        texts = [text for request in batch for text in request.texts]
        user_words = [request.user_words for request in batch for _ in request.texts]
        if self.on_batch:
            self.on_batch(len(texts), sum(map(len, texts)))
        started = time.perf_counter()
        try:
            scores = True if any(request.scores for request in batch) else None  # None: the tagger's default (entities only)
            results = await asyncio.get_running_loop().run_in_executor(self._executor, partial(self.tag, texts, user_words, scores=scores))
        except Exception as err:  # the batch's callers get the error; the batcher keeps serving
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(err)
            return
        inference_ms = (time.perf_counter() - started) * 1000
        offset = 0
        for request in batch:
            part = results[offset : offset + len(request.texts)]
            offset += len(request.texts)
            if not request.future.done():
                request.future.set_result((part, Timing((started - request.queued) * 1000, inference_ms)))
