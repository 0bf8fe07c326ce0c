"""jieba's arguments that have no meaning for a neural tagger: ignored with a warning when
the answer keeps the shape the caller expects, refused when it would not.

`HMM`, `use_paddle` and `freq` tune how jieba finds the same kind of answer zhtag
gives (one segmentation, one tag per word), so code written for jieba still gets a correct
answer and a warning tells its author the knob does nothing. `cut_all=True` and
`mode="search"` ask for overlapping words, an answer of another shape: returning a plain
segmentation instead would silently break the search index or the code built on it, so they
raise. Passing jieba's defaults explicitly asks for what zhtag does anyway and is silent.
"""
from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from data.errors import InputError


class IgnoredArgumentWarning(UserWarning):
    """A jieba argument zhtag accepts and ignores: filter this class to silence them."""


@dataclass(frozen=True)
class _Option:
    native: Callable[[object], bool]  # whether a value asks for what zhtag does anyway, read as jieba reads it
    refused: bool
    why: str


_OPTIONS = {  # jieba tests its flags for truth (`if cut_all:`), and takes any mode but "default" for "search"
    "cut_all": _Option(lambda v: not v, True, "is refused: it asks for every dictionary word, overlapping, and zhtag gives one segmentation"),
    "mode": _Option(lambda v: v == "default", True, "is refused: zhtag gives one segmentation, mode='default' (jieba's 'search' asks for overlapping sub-words)"),
    "HMM": _Option(bool, False, "is ignored: zhtag's model always recognises words outside the dictionary"),
    "use_paddle": _Option(lambda v: not v, False, "is ignored: zhtag is itself a neural tagger"),
    "freq": _Option(lambda v: v is None, False, "is ignored: the models weigh dictionary words themselves, without frequencies"),
}


def check_jieba_options(**given: object) -> None:
    """Warn about or refuse each of jieba's arguments given other than as zhtag behaves.
    The warning points at the first line outside zhtag (`caller_stacklevel`)."""
    for name, value in given.items():
        option = _OPTIONS[name]
        if option.native(value):
            continue
        if option.refused:
            refuse(name, value)
        warnings.warn(f"{name}={value!r} {option.why}", IgnoredArgumentWarning, stacklevel=caller_stacklevel())


def refuse(name: str, value: object) -> NoReturn:
    """Raise for a jieba argument whose answer would have another shape than zhtag's."""
    raise InputError(f"{name}={value!r} {_OPTIONS[name].why}; leave {name} out")


def caller_stacklevel() -> int:
    """`warnings.warn`'s stacklevel, from the function calling this one, of the first frame
    outside zhtag: a warning points at the user's line whatever path led into zhtag."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == "zhtag":
        frame, level = frame.f_back, level + 1
    return level
