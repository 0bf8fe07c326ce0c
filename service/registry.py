"""Loaded taggers by exact version, each with its batcher, shared by every request.

A bare name resolves through a table the registry keeps (no file access on the request path).
`watch` polls the store and, when another process (a second worker, the CLI) has activated
another version, verifies, loads and warms it before swapping it into the table; requests in
flight finish on the version they started with. A version that fails to load leaves the
current one serving.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import Callable

from data.errors import ZhtagError
from model.store import Store, parse_ref
from model.tagger import Tagger
from service.batcher import Batcher
from service.metrics import Metrics
from service.settings import Settings

log = logging.getLogger("zhtag.registry")


class NotReady(ZhtagError):
    """The startup models are still loading."""


class Registry:
    def __init__(self, store: Store, settings: Settings, metrics: Metrics, device: str = "cpu") -> None:
        self.store, self.settings, self.metrics, self.device = store, settings, metrics, device
        self.ready = threading.Event()
        self._taggers: dict[str, Tagger] = {}
        self._current: dict[str, str] = {}  # bare name -> exact `name@N` it serves now
        self._problems: dict[str, str] = {}  # bare name -> why its last refresh failed
        self._batchers: dict[str, Batcher] = {}
        self._lock = threading.Lock()  # loading
        self._swap = threading.Lock()  # activation and refresh: locate, load, swap as one step

    def warm(self, refs: list[str]) -> None:
        """Load and warm the startup models, then declare the registry ready (blocking)."""
        for ref in refs:
            self.load(ref)
        self.ready.set()

    def loaded(self, ref: str) -> Tagger | None:
        """The tagger `ref` names if it is loaded and known without touching the store: cheap
        enough for the event loop. None means: call `load` off the loop."""
        return self._taggers.get(self._current.get(ref, ref))

    def load(self, ref: str) -> Tagger:
        """The tagger `ref` names now, loaded and warmed on first use; a bare name joins the
        watched names (blocking: call it off the event loop)."""
        exact = self.store.locate(ref)
        tagger = self._load_exact(exact)
        name, version = parse_ref(ref)
        if version is None and name not in self._current:
            self._serve(exact)
        return tagger

    def activate(self, ref: str) -> str:
        """Load and warm the version `ref` names, make it the store's active one and serve it
        (blocking). If it fails to load, nothing changes."""
        with self._swap:
            return self._switch(self.store.locate(ref), self.store.activate)

    def rollback(self, name: str) -> str:
        """Serve again the version of `name` that was active before the current one, loaded and
        warmed first (blocking); returns its ref."""
        with self._swap:
            return self._switch(self.store.previous(name), lambda exact: self.store.rollback(name))

    def refresh(self) -> None:
        """Swap in the versions the store now names active for every watched name (blocking).
        Whatever goes wrong (a damaged version, a store out of reach: an object store's client
        raises errors of its own) keeps the current version serving and is logged once, when it
        begins and when it ends, rather than ending the watch or repeating every interval."""
        for name in list(self._current):
            with self._swap:
                serving = self._current[name]
                try:
                    exact = self.store.locate(name)
                    if exact != serving:
                        self._switch(exact, lambda exact: None)
                        log.info("now serving %s (was %s)", exact, serving)
                    problem = None
                except ZhtagError as err:
                    problem = str(err)
                except Exception as err:  # noqa: BLE001 - the watch must outlive any store failure
                    problem = f"cannot read the store: {type(err).__name__}: {err}"
                self._report(name, serving, problem)

    def _report(self, name: str, serving: str, problem: str | None) -> None:
        """Log a name's refresh problem when it appears or changes, and when it is gone."""
        if problem == self._problems.get(name):
            return
        if problem is None:
            log.info("%s: refreshing works again; serving %s", name, self._current[name])
            del self._problems[name]
            return
        log.error("keeping %s: %s", serving, problem)
        self._problems[name] = problem

    def _switch(self, exact: str, publish: Callable[[str], object]) -> str:
        """Load and warm `exact`, record it in the store (`publish`), then serve it for its
        name; called under the swap lock, so a failure anywhere changes nothing served."""
        self._load_exact(exact)
        publish(exact)
        self._serve(exact)
        return exact

    def _serve(self, exact: str) -> None:
        """Serve `exact` for its bare name, and set the active-version gauge now: set at each
        scrape instead, a worker that no scrape reached kept reporting the version it served
        before, and after a rollback the gauge (the highest over workers) named the old one."""
        name, version = parse_ref(exact)
        self._current[name] = exact
        self.metrics.active_version.labels(name).set(version or 0)

    async def watch(self, interval_s: float) -> None:
        """Refresh every `interval_s` seconds, off the event loop, until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval_s)
            await loop.run_in_executor(None, self.refresh)

    def _load_exact(self, exact: str) -> Tagger:
        """Load and warm once. Then everything loaded so far leaves the garbage collector's
        view: a full collection over a loaded process takes ~140 ms with the GIL held, which
        stalled every request in flight and made most of the latency tail under load."""
        with self._lock:
            if exact not in self._taggers:
                tagger = Tagger.from_checkpoint(self.store.resolve(exact), self.device, self.settings.precision)
                tagger.tag(["预热一下模型。"])
                self._taggers[exact] = tagger
                gc.freeze()
            return self._taggers[exact]

    def batcher(self, tagger: Tagger) -> Batcher:
        """The batcher of a loaded tagger; call it on the event loop."""
        key = tagger.ref or ""
        if key not in self._batchers:
            s = self.settings
            self._batchers[key] = Batcher(
                tagger.tag_each, s.max_batch_chars, s.max_wait_ms, s.max_queue, self.metrics.observe_batch, self.metrics.queue_depth.inc
            )
        return self._batchers[key]

    async def close(self) -> None:
        for batcher in self._batchers.values():
            await batcher.close()
