"""Python's garbage collector, paused while torch and a model load.

Loading makes about a million objects that live as long as the process; each full pass the
collector makes over them while they are being made is wasted: 0.13 s of `zhtag segment`'s
1.5 s start (docs/EXPERIMENTS.md, session 23). This module imports nothing heavy, so it can
wrap the import of torch itself.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
