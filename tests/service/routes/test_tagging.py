"""A request whose client has gone is cancelled before it is computed."""
from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from data.corpus import Span
from data.lexicon import Lexicon
from service.batcher import Batcher
from service.routes.tagging import ClientGone, unless_client_gone


class Gone:
    """Stands in for a Starlette request whose client has disconnected."""

    async def is_disconnected(self) -> bool:
        return True


def test_a_request_whose_client_has_gone_is_dropped_before_it_is_computed() -> None:
    calls: list[Sequence[str]] = []

    def tag(texts: Sequence[str], user_words: Sequence[Lexicon | None]) -> list[list[Span]]:
        calls.append(texts)
        return [[] for _ in texts]

    async def scenario() -> None:
        batcher = Batcher(tag, max_batch_chars=1_000, max_wait_ms=500, max_queue=10)
        with pytest.raises(ClientGone):
            await unless_client_gone(Gone(), batcher.submit(["abandoned"]))  # type: ignore[arg-type]
        assert (await batcher.submit(["kept"]))[0] == [[]]
        await batcher.close()

    asyncio.run(scenario())
    assert calls == [["kept"]]
