"""Loading torch and a model with Python's garbage collector paused: `load_tagger` is how
the CLI and the Python API load a model.

Loading makes about a million objects that live as long as the process; each full pass the
collector makes over them while they are being made is wasted: 0.13 s of `zhtag segment`'s
1.5 s start (docs/EXPERIMENTS.md, session 23). This module imports nothing heavy, so it can
wrap the import of torch itself.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from model.tagger import Tagger


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector off inside, then as it was before: a caller who had turned it off keeps
    it off, whatever the body raises."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_tagger(ref: str, store: Path | str | None = None, device: str = "cpu", freeze: bool = False) -> "Tagger":
    """`Tagger.load` of `ref` from the store at `store` (default: `ZHTAG_STORE`), torch's
    import included, with the collector paused. With `freeze`, for a process that keeps the
    model until it exits (the CLI), everything loaded is frozen out of the collector before it
    runs again: its first pass would walk all of it (0.1 s), and so would the one at exit."""
    with collector_paused():
        from model.store import Store
        from model.tagger import Tagger

        tagger = Tagger.load(ref, Store(store), device)
        if freeze:
            gc.freeze()
        return tagger
