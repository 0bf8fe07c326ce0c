"""Loaded taggers by exact version, each with its batcher, shared by every request.

A bare name is looked up in the store on each call (cheaply, without checksums), so activating
another version is picked up without a restart; a version is verified and loaded once.
"""
from __future__ import annotations

import threading

from model.store import Store
from model.tagger import Tagger
from service.batcher import Batcher
from service.settings import Settings


class Registry:
    def __init__(self, store: Store, settings: Settings, device: str = "cpu") -> None:
        self.store, self.settings, self.device = store, settings, device
        self._taggers: dict[str, Tagger] = {}
        self._batchers: dict[str, Batcher] = {}
        self._lock = threading.Lock()

    def get(self, ref: str) -> Tagger:
        """The tagger `ref` names now; blocking (it may load a model), so call it off the event loop."""
        exact = self.store.locate(ref)
        with self._lock:
            if exact not in self._taggers:
                self._taggers[exact] = Tagger.from_checkpoint(self.store.resolve(exact), self.device)
            return self._taggers[exact]

    def batcher(self, tagger: Tagger) -> Batcher:
        """The batcher of a loaded tagger; call it on the event loop."""
        key = tagger.ref or ""
        if key not in self._batchers:
            s = self.settings
            self._batchers[key] = Batcher(tagger.tag, s.max_batch_chars, s.max_wait_ms, s.max_queue)
        return self._batchers[key]

    async def close(self) -> None:
        for batcher in self._batchers.values():
            await batcher.close()
