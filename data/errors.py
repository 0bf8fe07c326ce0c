"""The exception tree of zhtag, rooted here because `data` is the bottom layer.

    ZhtagError                  anything zhtag refuses, with a message meant for the user
    ├── CorpusError             a corpus line that cannot be read (file, line, what is wrong)
    ├── CheckpointError         a stored model that is missing, corrupt or unreadable
    │   └── ModelNotFound       a model reference that names nothing in the store
    └── InputError              text or options a caller passed that cannot be tagged

The service's own errors (QueueFull, NotReady, JobNotFound and the rest) subclass ZhtagError in
service/errors.py, which draws the whole tree with each error's HTTP status: `data` never
imports `service`. The CLI maps every ZhtagError to one line and exit code 1 (service/cli.py).
"""
from __future__ import annotations

from pathlib import Path


QUOTE_LIMIT = 40  # characters of a corpus field that a message quotes


def quoted(value: object) -> str:
    """`value` for a one-line message about a corpus: a string as its repr, a JSON value as
    its repr's text, cut at QUOTE_LIMIT characters with an ellipsis and the full length,
    since a malformed line can be megabytes long and the message is printed whole."""
    shown = value if isinstance(value, str) else repr(value)
    cut = shown[:QUOTE_LIMIT]
    quote = repr(cut) if isinstance(value, str) else cut
    return quote if cut == shown else f"{quote}… ({len(shown):,} characters)"


class ZhtagError(Exception):
    """Base of every error zhtag raises on purpose."""


class CorpusError(ZhtagError):
    """A corpus line is malformed; names the file and the 1-based line number (0 when the
    file as a whole is at fault: missing, unreadable; the message then names the file alone)."""

    def __init__(self, path: str | Path, line: int, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        super().__init__(f"{self.path}:{line}: {problem}" if line else f"{self.path}: {problem}")


class CheckpointError(ZhtagError):
    """A checkpoint cannot be loaded or written."""


class ModelNotFound(CheckpointError):
    """A model reference names no model or version in the store."""


class InputError(ZhtagError):
    """Caller-supplied input or options are invalid."""
