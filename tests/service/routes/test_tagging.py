"""A request whose client has gone is cancelled before it is computed."""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest

from data.corpus import Span
from data.lexicon import Lexicon
from service.batcher import Batcher
from service.errors import ClientGone
from service.routes.tagging import unless_client_gone


async def gone() -> dict:
    """The ASGI `receive` of a request whose client has disconnected."""
    return {"type": "http.disconnect"}


async def connected() -> dict:
    """The ASGI `receive` of a request whose body is read and whose client waits."""
    await asyncio.Event().wait()
    return {"type": "http.disconnect"}


def recording() -> tuple[list[Sequence[str]], Callable[..., list[list[Span]]]]:
    calls: list[Sequence[str]] = []

    def tag(texts: Sequence[str], user_words: Sequence[Lexicon | None], scores: bool | None = None) -> list[list[Span]]:
        calls.append(texts)
        return [[] for _ in texts]

    return calls, tag


def test_a_request_whose_client_has_gone_is_dropped_before_it_is_computed() -> None:
    calls, tag = recording()

    async def scenario() -> None:
        batcher = Batcher(tag, max_batch_chars=1_000, max_wait_ms=500, max_queue=10)
        with pytest.raises(ClientGone):
            await unless_client_gone(gone, batcher.submit(["abandoned"]))
        assert (await batcher.submit(["kept"]))[0] == [[]]
        await batcher.close()

    asyncio.run(scenario())
    assert calls == [["kept"]]


def test_a_waiting_client_gets_its_answer() -> None:
    calls, tag = recording()

    async def scenario() -> None:
        batcher = Batcher(tag, max_batch_chars=1_000, max_wait_ms=5, max_queue=10)
        assert (await unless_client_gone(connected, batcher.submit(["wanted"])))[0] == [[]]
        await batcher.close()

    asyncio.run(scenario())
    assert calls == [["wanted"]]
