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


def load_tagger(ref: str, store: Path | str | None = None, device: str = "cpu") -> "Tagger":
    """`Tagger.load` of `ref` from the store at `store` (default: `ZHTAG_STORE`), torch's
    import included, with the collector paused."""
    with collector_paused():
        from model.store import Store
        from model.tagger import Tagger

        return Tagger.load(ref, Store(store), device)
