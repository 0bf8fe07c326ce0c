"""The batcher merges concurrent requests without changing any answer."""
from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from data.corpus import Span
from data.lexicon import Lexicon
from model.store import Store
from model.tagger import Tagger
from service.batcher import Batcher
from service.errors import DeadlineExceeded, QueueFull


class Recorder:
    """A stand-in tagger: one span per character, labelled with its text; records each call."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.scores: list[bool | None] = []

    def __call__(self, texts: Sequence[str], user_words: Sequence[Lexicon | None], scores: bool | None = None) -> list[list[Span]]:
        self.calls.append(list(texts))
        self.scores.append(scores)
        return [[Span(i, i + 1, text) for i in range(len(text))] for text in texts]


def test_answers_under_concurrency_equal_answers_alone(store: Path) -> None:
    tagger = Tagger.load("tcws", Store(root=store, shipped=store / "none"))
    rng = random.Random(0)
    pool = "今天天气很好我们一起去公园散步王小明在北京工作。，"
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 60))) for _ in range(40)]

    async def concurrently() -> list[list[list[Span]]]:
        batcher = Batcher(tagger.tag_each, max_batch_chars=300, max_wait_ms=20, max_queue=100)
        answers = await asyncio.gather(*(batcher.submit([text], words[i % 2]) for i, text in enumerate(texts)))
        await batcher.close()
        return [spans for spans, _ in answers]

    words = [None, Lexicon(["天气很好", "王小明"])]
    assert asyncio.run(concurrently()) == [tagger.tag([text], words[i % 2]) for i, text in enumerate(texts)]


def test_concurrent_requests_share_batches_within_the_character_budget() -> None:
    tag = Recorder()

    async def scenario() -> None:
        batcher = Batcher(tag, max_batch_chars=10, max_wait_ms=50, max_queue=100)
        results = await asyncio.gather(*(batcher.submit(["ab", "c"]) for _ in range(8)))
        await batcher.close()
        assert all(spans == [[Span(0, 1, "ab"), Span(1, 2, "ab")], [Span(0, 1, "c")]] for spans, _ in results)

    asyncio.run(scenario())
    assert sum(len(call) for call in tag.calls) == 16
    assert len(tag.calls) < 8, "requests were merged"
    assert all(sum(map(len, call)) <= 10 for call in tag.calls)


def test_a_lone_request_is_answered_at_its_deadline_and_reports_its_timing() -> None:
    """It waits `max_wait_ms` for company (less a millisecond of timer rounding), and not much
    more: the upper bound leaves a loaded machine 450 ms of slack, yet fails a batcher that
    answers after a fixed half second."""
    async def scenario() -> None:
        batcher = Batcher(Recorder(), max_batch_chars=1_000_000, max_wait_ms=50, max_queue=1)
        started = time.perf_counter()
        spans, timing = await batcher.submit(["好"])
        elapsed_ms = (time.perf_counter() - started) * 1000
        await batcher.close()
        assert spans == [[Span(0, 1, "好")]]
        assert 49 <= timing.queue_ms < 500, timing
        assert timing.inference_ms >= 0 and timing.queue_ms + timing.inference_ms <= elapsed_ms, (timing, elapsed_ms)

    asyncio.run(scenario())


def test_a_request_larger_than_the_budget_runs_alone() -> None:
    tag = Recorder()

    async def scenario() -> None:
        batcher = Batcher(tag, max_batch_chars=3, max_wait_ms=10, max_queue=10)
        await asyncio.gather(batcher.submit(["abcdef"]), batcher.submit(["g"]))
        await batcher.close()

    asyncio.run(scenario())
    assert sorted(tag.calls) == [["abcdef"], ["g"]]


def test_a_large_request_takes_turns_with_the_requests_after_it() -> None:
    """Queued in parts of the budget, one part a batch, its other parts behind later requests:
    a request sent just after one of megabytes waits one batch, not all of them."""
    tag = Recorder()

    async def scenario() -> None:
        batcher = Batcher(tag, max_batch_chars=4, max_wait_ms=0, max_queue=10)
        started = time.perf_counter()
        large = asyncio.ensure_future(batcher.submit(["ab"] * 10))
        await asyncio.sleep(0)
        small = asyncio.ensure_future(batcher.submit(["x"]))
        (spans, timing), _ = await asyncio.gather(large, small)
        elapsed_ms = (time.perf_counter() - started) * 1000
        await batcher.close()
        assert spans == [[Span(0, 1, "ab"), Span(1, 2, "ab")]] * 10
        assert 0 <= timing.queue_ms and timing.queue_ms + timing.inference_ms <= elapsed_ms, "waiting between its parts counts as waiting"

    asyncio.run(scenario())
    assert all(sum(map(len, call)) <= 4 for call in tag.calls)
    assert next(i for i, call in enumerate(tag.calls) if "x" in call) <= 1, tag.calls


def test_a_full_queue_refuses_new_requests() -> None:
    async def scenario() -> None:
        batcher = Batcher(Recorder(), max_batch_chars=1_000, max_wait_ms=10_000, max_queue=2)
        waiting = [asyncio.ensure_future(batcher.submit(["a"])) for _ in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(QueueFull):
            await batcher.submit(["b"])
        await batcher.close()
        for task in waiting:
            task.cancel()

    asyncio.run(scenario())


def test_requests_whose_callers_gave_up_no_longer_count_against_the_queue() -> None:
    depth: list[int] = []

    async def scenario() -> None:
        batcher = Batcher(Recorder(), max_batch_chars=1_000, max_wait_ms=10_000, max_queue=2, on_queue=depth.append)
        for _ in range(2):
            with pytest.raises(DeadlineExceeded):
                await batcher.submit_within(["a"], None, timeout_s=0.01)
        waiting = asyncio.ensure_future(batcher.submit(["b"]))  # the queue holds two requests, both given up
        await asyncio.sleep(0)
        assert not waiting.done(), "queued, not refused"
        await batcher.close()
        waiting.cancel()

    asyncio.run(scenario())
    assert sum(depth) == 1, "the gauge counts the one live request"


def test_closing_takes_the_requests_whose_callers_gave_up_off_the_queue_depth_gauge() -> None:
    depth: list[int] = []

    async def scenario() -> None:
        batcher = Batcher(Recorder(), max_batch_chars=1_000, max_wait_ms=10_000, max_queue=2, on_queue=depth.append)
        with pytest.raises(DeadlineExceeded):
            await batcher.submit_within(["a"], None, timeout_s=0.01)
        await batcher.close()

    asyncio.run(scenario())
    assert sum(depth) == 0


def test_a_request_whose_caller_has_gone_is_not_computed() -> None:
    tag = Recorder()

    async def scenario() -> None:
        batcher = Batcher(tag, max_batch_chars=100, max_wait_ms=30, max_queue=10)
        gone = asyncio.ensure_future(batcher.submit(["gone"]))
        stays = asyncio.ensure_future(batcher.submit(["stays"]))
        await asyncio.sleep(0)
        gone.cancel()
        await stays
        await batcher.close()

    asyncio.run(scenario())
    assert tag.calls == [["stays"]]


def test_a_failing_batch_fails_its_requests_and_the_batcher_keeps_serving() -> None:
    calls = []

    def flaky(texts: Sequence[str], user_words: Sequence[Lexicon | None], scores: bool | None = None) -> list[list[Span]]:
        calls.append(texts)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return [[] for _ in texts]

    async def scenario() -> None:
        batcher = Batcher(flaky, max_batch_chars=100, max_wait_ms=0, max_queue=10)
        with pytest.raises(RuntimeError, match="boom"):
            await batcher.submit(["x"])
        assert (await batcher.submit(["y"]))[0] == [[]]
        await batcher.close()

    asyncio.run(scenario())


def test_a_request_past_its_deadline_is_refused_and_never_computed() -> None:
    tag = Recorder()

    async def scenario() -> None:
        batcher = Batcher(tag, max_batch_chars=1_000, max_wait_ms=200, max_queue=10)
        with pytest.raises(DeadlineExceeded):
            await batcher.submit_within(["late"], None, timeout_s=0.01)
        assert (await batcher.submit(["next"]))[0] == [[Span(i, i + 1, "next") for i in range(4)]]
        await batcher.close()

    asyncio.run(scenario())
    assert tag.calls == [["next"]]


def test_a_batch_computes_scores_when_any_of_its_requests_asks() -> None:
    tag = Recorder()

    async def scenario() -> None:
        batcher = Batcher(tag, max_batch_chars=1000, max_wait_ms=50, max_queue=100)
        await asyncio.gather(batcher.submit(["a"]), batcher.submit(["b"], scores=True))
        await batcher.submit(["c"])
        await batcher.close()

    asyncio.run(scenario())
    assert tag.scores == [True, None]
