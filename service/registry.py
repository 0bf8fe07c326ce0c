"""Loaded taggers by reference, shared by every request; a reference is resolved against the
store on each call, so activating another version is picked up without a restart."""
from __future__ import annotations

import threading

from model.store import Store
from model.tagger import Tagger


class Registry:
    def __init__(self, store: Store, device: str = "cpu") -> None:
        self.store, self.device = store, device
        self._taggers: dict[str, Tagger] = {}
        self._lock = threading.Lock()

    def get(self, ref: str) -> Tagger:
        checkpoint = self.store.resolve(ref)
        with self._lock:
            if checkpoint.ref not in self._taggers:
                self._taggers[checkpoint.ref] = Tagger.from_checkpoint(checkpoint, self.device)
            return self._taggers[checkpoint.ref]
