"""zhtag for Python users: load a stored or shipped model and tag text.

    >>> import zhtag
    >>> tagger = zhtag.load("cws")
    >>> [text[s.start:s.end] for s in tagger.tag([text])[0]]

The same `Tagger` serves the CLI and the HTTP API.
"""
from __future__ import annotations

from data.corpus import Span
from data.errors import CheckpointError, CorpusError, InputError, ModelNotFound, ZhtagError
from model.store import Store
from model.tagger import Tagger

__all__ = ["CheckpointError", "CorpusError", "InputError", "ModelNotFound", "Span", "Store", "Tagger", "ZhtagError", "load"]


def load(ref: str = "cws", device: str = "cpu") -> Tagger:
    """The tagger a model reference (`name` or `name@N`) names, from `ZHTAG_STORE` or the shipped models."""
    return Tagger.load(ref, device=device)
