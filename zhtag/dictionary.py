"""A caller's user dictionary: words added to jieba's dictionary and words taken out of it,
as the lexicon features the models read (`data.lexicon`).

Changes can come from any thread while others are tagging. Each tagging call takes one
immutable `Lexicon` snapshot, so it never sees half a change; the snapshot is rebuilt on first
use after a change rather than on every change, because jieba users add words one by one in
loops of thousands.
"""
from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterable, Mapping
from typing import IO

from data.errors import InputError
from data.dictfile import parse_dictionary, read_dictionary
from data.lexicon import Lexicon
from data.script import simplified, user_lexicon
from data.graphemes import readable
from zhtag.options import IgnoredArgumentWarning, caller_stacklevel


class UserDictionary:
    def __init__(self, force: bool = False) -> None:
        """`force`: the words are kept whole where they cross no other (see `data.lexicon`)."""
        self.force = force
        self._lock = threading.Lock()
        self._added: frozenset[str] = frozenset()
        self._removed: frozenset[str] = frozenset()
        self._tags: dict[str, str] = {}
        self._lexicon: Lexicon | None = None
        self._stale = False

    def add(self, words: Iterable[str], tags: Mapping[str, str] | None = None) -> None:
        """Add `words`, undoing any earlier `remove` of them; `tags` (word -> POS tag) put
        words in the gazetteers of models that have them (ns: places)."""
        words = frozenset(_checked(word) for word in words)
        with self._lock:
            self._added |= words
            self._removed -= words
            self._tags.update({w: t for w, t in (tags or {}).items() if w in words and t})  # as in jieba, a word added again untagged keeps its tag
            self._stale = True

    def remove(self, word: str) -> None:
        """Take `word` out of both the added words and jieba's dictionary (as jieba's
        `del_word` does), so the lexicon features no longer mark it anywhere; an added word
        written in the other script goes too, since it was held in both."""
        word = _checked(word)
        with self._lock:
            same = {added for added in self._added if simplified(added) == simplified(word)}  # 酷雲盤 is held as 酷云盘 too
            self._added -= same | {word}
            self._removed |= {word}
            for each in same | {word}:
                self._tags.pop(each, None)
            self._stale = True

    def load(self, source: str | os.PathLike[str] | IO[str] | IO[bytes]) -> None:
        """Add the words of a jieba-format dictionary (`word [freq] [tag]` a line): a path, or
        a file opened in text or binary mode, as jieba's `load_userdict` takes. A line jieba
        reads as a word with a space is skipped with a warning, not the whole dictionary."""
        skipped: list[tuple[int, str]] = []
        spaced = lambda lineno, line: skipped.append((lineno, line))  # noqa: E731
        if isinstance(source, str | os.PathLike):
            name, words = source, read_dictionary(source, spaced)
        elif isinstance(source, Iterable) and not isinstance(source, bytes | bytearray):  # a file, or its lines, as jieba takes
            name = getattr(source, "name", "the dictionary's lines")
            words = parse_dictionary(source, name, spaced)
        else:
            raise InputError(f"a dictionary is a path, an open file or its lines, got {type(source).__name__}")
        for lineno, line in skipped:
            message = f"{name}:{lineno}: skipped {line!r}: a word with a space, which zhtag cannot match (it cuts text at whitespace)"
            warnings.warn(message, IgnoredArgumentWarning, stacklevel=caller_stacklevel())
        self.add(words, words)

    def lexicon(self) -> Lexicon | None:
        """The current snapshot, or None while there is nothing to add or remove."""
        with self._lock:
            if self._stale:
                self._lexicon = user_lexicon(self._added, self._removed, self.force, self._tags) if self._added or self._removed else None
                self._stale = False
            return self._lexicon


def _checked(word: str) -> str:
    if not isinstance(word, str) or not word or not readable(word):
        raise InputError(f"a dictionary word must be a non-empty str without whitespace or invisible separators, got {word!r}")
    return word
