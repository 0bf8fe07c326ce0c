"""Loaded taggers by exact version, each with its batcher, shared by every request.

A bare name resolves through a table the registry keeps (no file access on the request path).
`watch` polls the store and, when another process (a second worker, the CLI) has activated
another version, verifies, loads and warms it before swapping it into the table; requests in
flight finish on the version they started with. A version that fails to load leaves the
current one serving.

What stays loaded is bounded: the versions served (and those the startup models name by @N),
and the `max_pinned_versions` versions that requests named by @N most recently. A version that
is none of these is unloaded, and its batcher closed once the requests in flight on it are answered.
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Callable

from data.errors import ZhtagError
from model.store import Store, parse_ref
from model.tagger import Tagger
from service.batcher import Batcher
from service.errors import NotReady
from service.metrics import Metrics
from service.settings import Settings

log = logging.getLogger("zhtag.registry")


class Registry:
    def __init__(self, store: Store, settings: Settings, metrics: Metrics, device: str = "cpu") -> None:
        self.store, self.settings, self.metrics, self.device = store, settings, metrics, device
        self.ready = threading.Event()
        self.failure: str | None = None  # why a startup model failed to load; the registry is never ready then
        self._taggers: dict[str, Tagger] = {}  # exact `name@N` -> its tagger: the versions served and pinned
        self._current: dict[str, str] = {}  # bare name -> exact `name@N` it serves now
        self._pinned: OrderedDict[str, None] = OrderedDict()  # versions named by @N and not served, least recently used first
        self._kept: set[str] = set()  # versions the startup models name by @N: loaded for good
        self._problems: dict[str, str] = {}  # bare name -> why its last refresh failed
        self._batchers: dict[int, Batcher] = {}  # id of a tagger -> its batcher, which holds the tagger (so the id is never reused meanwhile)
        self._users: Counter[int] = Counter()  # id of a tagger -> requests using its batcher now
        self._closing: set[asyncio.Task] = set()
        self._loop: asyncio.AbstractEventLoop | None = None  # the requests' loop, where batchers live
        self._lock = threading.Lock()  # loading, and changing what is loaded
        self._swap = threading.Lock()  # activation and refresh: locate, load, swap as one step

    def warm(self, refs: list[str]) -> None:
        """Load and warm the startup models, then declare the registry ready (blocking). A
        model that fails to load is logged at once and makes readiness say why: its error
        used to wait, unseen, in a future nobody looked at before shutdown."""
        for ref in refs:
            try:
                self.load(ref, startup=True)
            except Exception as err:  # noqa: BLE001 - whatever it is, the operator must read it
                reason = str(err) if isinstance(err, ZhtagError) else f"{type(err).__name__}: {err}"
                self.failure = f"startup model {ref} failed to load: {reason}"
                log.error("%s; the server will not become ready", self.failure)
                return
        self.ready.set()
        self.metrics.warm.set(1)

    def check_ready(self) -> None:
        """Raises NotReady, saying why, until the startup models are loaded and warmed."""
        if self.failure is not None:
            raise NotReady(self.failure)
        if not self.ready.is_set():
            raise NotReady("models are still loading; retry shortly")

    def loaded(self, ref: str) -> Tagger | None:
        """The tagger `ref` names if it is loaded and known without touching the store: cheap
        enough for the event loop. None means: call `load` off the loop."""
        exact = self._current.get(ref, ref)
        tagger = self._taggers.get(exact)
        if tagger is not None and exact in self._pinned:
            with contextlib.suppress(KeyError):  # unpinned by another thread meanwhile
                self._pinned.move_to_end(exact)
        return tagger

    def load(self, ref: str, startup: bool = False) -> Tagger:
        """The tagger `ref` names now, loaded and warmed on first use; a bare name joins the
        watched names (blocking: call it off the event loop). A version the startup models
        name by @N stays loaded as long as the server runs, as the served ones do; any other
        is pinned, so that a client naming every stored version by @N cannot make them all
        stay loaded."""
        exact = self.store.locate(ref)
        name, version = parse_ref(ref)
        with self._lock:
            tagger = self._load_exact(exact)
            if version is None and name not in self._current:
                self._serve(exact)
            elif startup and version is not None:
                self._kept.add(exact)
            elif exact != self._current.get(name) and exact not in self._kept:
                self._pin(exact)
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
        name; called under the swap lock, so a failure anywhere changes nothing served. The
        version it replaces is unloaded, and so is `exact` if it was loaded in vain."""
        with self._lock:
            replaced = self._current.get(parse_ref(exact)[0])
            try:
                self._load_exact(exact)
                publish(exact)
                self._serve(exact)
            finally:
                for ref in {exact, replaced} - {None}:
                    self._unload_unheld(ref)
        return exact

    def _serve(self, exact: str) -> None:
        """Serve `exact` for its bare name, and set the active-version gauge now: set at each
        scrape instead, a worker that no scrape reached kept reporting the version it served
        before, and after a rollback the gauge (the highest over workers) named the old one."""
        name, version = parse_ref(exact)
        self._current[name] = exact
        self._pinned.pop(exact, None)
        self.metrics.active_version.labels(name).set(version or 0)

    def _pin(self, exact: str) -> None:
        """Keep `exact` loaded as the most recently used pinned version, unloading the least
        recently used beyond `max_pinned_versions`; under the loading lock."""
        self._pinned[exact] = None
        self._pinned.move_to_end(exact)
        while len(self._pinned) > self.settings.max_pinned_versions:
            self._unload_unheld(self._pinned.popitem(last=False)[0])

    def _unload_unheld(self, exact: str) -> None:
        """Unload `exact` unless it is served, pinned, or named by a startup model; under the loading lock. Its batcher,
        if it has one, is closed on the event loop once no request uses it."""
        if exact == self._current.get(parse_ref(exact)[0]) or exact in self._pinned or exact in self._kept:
            return
        tagger = self._taggers.pop(exact, None)
        loop = self._loop
        if tagger is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._close_if_unused, tagger)

    async def watch(self, interval_s: float) -> None:
        """Refresh every `interval_s` seconds, off the event loop, until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval_s)
            await loop.run_in_executor(None, self.refresh)

    def _load_exact(self, exact: str) -> Tagger:
        """Load and warm once; under the loading lock. Then everything loaded so far leaves the
        garbage collector's view: a full collection over a loaded process takes ~140 ms with the
        GIL held, which stalled every request in flight and made most of the latency tail under
        load. First, once per load, everything is unfrozen and collected: a cycle that holds
        frozen objects is never collected, so garbage that held an unloaded version (its tagger,
        ~115 MiB for `pos`) through a cycle would have kept it for good."""
        if exact not in self._taggers:
            tagger = Tagger.from_checkpoint(self.store.resolve(exact), self.device, self.settings.precision)
            tagger.tag(["预热一下模型。"])
            self._taggers[exact] = tagger
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        return self._taggers[exact]

    @contextlib.asynccontextmanager
    async def batcher(self, tagger: Tagger) -> AsyncIterator[Batcher]:
        """The batcher of a tagger, for one request; use it on the event loop. A tagger that
        was unloaded meanwhile (swapped out, or pinned and evicted) still gets one: its batcher
        is closed when the last request using it is answered, not before."""
        self._loop = asyncio.get_running_loop()
        key = id(tagger)
        if key not in self._batchers:
            s = self.settings
            self._batchers[key] = Batcher(
                tagger.tag_each, s.max_batch_chars, s.max_wait_ms, s.max_queue, self.metrics.observe_batch, self.metrics.queue_depth.inc
            )
        self._users[key] += 1
        try:
            yield self._batchers[key]
        finally:
            self._users[key] -= 1
            self._close_if_unused(tagger)

    def _close_if_unused(self, tagger: Tagger) -> None:
        """Close the batcher of an unloaded tagger that no request uses (on the event loop):
        the batcher held the tagger, and with it the version's memory, and a thread."""
        key = id(tagger)
        if key not in self._batchers or self._users[key] or self._taggers.get(tagger.ref or "") is tagger:
            return
        self._users.pop(key, None)
        closing = asyncio.ensure_future(self._batchers.pop(key).close())
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        await asyncio.gather(*(batcher.close() for batcher in self._batchers.values()), *self._closing)
