"""Loaded taggers by exact version, each with its batcher, shared by every request.

A bare name is looked up in the store on each call (cheaply, without checksums), so activating
another version is picked up without a restart. A version is verified, loaded and warmed once,
off the request path, before it is ever handed to a request.
"""
from __future__ import annotations

import threading

from data.errors import ZhtagError
from model.store import Store
from model.tagger import Tagger
from service.batcher import Batcher
from service.metrics import Metrics
from service.settings import Settings


class NotReady(ZhtagError):
    """The startup models are still loading."""


class Registry:
    def __init__(self, store: Store, settings: Settings, metrics: Metrics, device: str = "cpu") -> None:
        self.store, self.settings, self.metrics, self.device = store, settings, metrics, device
        self.ready = threading.Event()
        self._taggers: dict[str, Tagger] = {}
        self._batchers: dict[str, Batcher] = {}
        self._lock = threading.Lock()
        metrics.watch_queue(lambda: sum(b.depth for b in list(self._batchers.values())))

    def warm(self, refs: list[str]) -> None:
        """Load and warm the startup models, then declare the registry ready (blocking)."""
        for ref in refs:
            self.load(ref)
        self.ready.set()

    def loaded(self, ref: str) -> Tagger | None:
        """The tagger `ref` names now if it is already loaded: cheap enough for the event loop."""
        return self._taggers.get(self.store.locate(ref))

    def load(self, ref: str) -> Tagger:
        """The tagger `ref` names now, loaded and warmed on first use (blocking: call it off
        the event loop)."""
        exact = self.store.locate(ref)
        with self._lock:
            if exact not in self._taggers:
                tagger = Tagger.from_checkpoint(self.store.resolve(exact), self.device)
                tagger.tag(["预热一下模型。"])
                self._taggers[exact] = tagger
            return self._taggers[exact]

    def batcher(self, tagger: Tagger) -> Batcher:
        """The batcher of a loaded tagger; call it on the event loop."""
        key = tagger.ref or ""
        if key not in self._batchers:
            s = self.settings
            self._batchers[key] = Batcher(tagger.tag_each, s.max_batch_chars, s.max_wait_ms, s.max_queue, self.metrics.observe_batch)
        return self._batchers[key]

    async def close(self) -> None:
        for batcher in self._batchers.values():
            await batcher.close()
