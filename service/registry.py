"""Loaded taggers by exact version, shared by every request. A bare name is looked up in the
store on each call (cheaply, without checksums), so activating another version is picked up
without a restart; a version is verified and loaded once."""
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
        exact = self.store.locate(ref)
        with self._lock:
            if exact not in self._taggers:
                self._taggers[exact] = Tagger.from_checkpoint(self.store.resolve(exact), self.device)
            return self._taggers[exact]
