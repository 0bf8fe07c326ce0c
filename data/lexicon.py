"""Dictionary features: for each character, whether it begins, continues or ends a word of
two or more characters found in a lexicon (jieba's dictionary plus any user dictionaries).

The tagger learns how far to trust the lexicon, so a user dictionary added at tagging time
nudges segmentation toward its words without retraining, and one that excludes a word of
jieba's dictionary nudges it away from that word.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from data.errors import CorpusError

MAX_WORD_LEN = 12
_SPACE = re.compile(r"\s")
FEATURES = 3  # begins, inside, ends


class Lexicon:
    """A set of words with every prefix indexed, so matching stops as soon as no word can.

    `excluded` words only matter in a user dictionary: they are not matched in the lexicon it
    extends, which is how a caller takes a word out of jieba's dictionary (jieba's `del_word`)."""

    def __init__(self, words: Iterable[str] = (), excluded: Iterable[str] = (), force: bool = False) -> None:
        """`force`: as a user dictionary, its words are kept whole where they do not cut one
        another (see `forced`), instead of only being weighed as features."""
        self.excluded, self.force = frozenset(excluded), force
        self.words: set[str] = {w for w in words if 2 <= len(w) <= MAX_WORD_LEN and not _SPACE.search(w)}
        self._prefixes: set[str] = {w[:i] for w in self.words for i in range(1, len(w))}  # comprehensions: jieba's 350k words load at start-up

    def features(self, text: str, extra: "Lexicon | None" = None) -> list[tuple[int, int, int]]:
        """(begins, inside, ends) flags for every character of `text`, from this lexicon and
        `extra` (a user dictionary), which is matched separately rather than merged: merging
        would copy jieba's 350k words for every request that brings its own."""
        flags = [[0, 0, 0] for _ in text]
        self._mark(text, flags, extra.excluded if extra else frozenset())
        if extra:
            extra._mark(text, flags, frozenset())
        return [tuple(f) for f in flags]

    def _mark(self, text: str, flags: list[list[int]], excluded: frozenset[str]) -> None:
        for start, end in self.matches(text, excluded):
            flags[start][0] = 1
            for i in range(start + 1, end - 1):
                flags[i][1] = 1
            flags[end - 1][2] = 1

    def matches(self, text: str, excluded: frozenset[str] = frozenset()) -> Iterator[tuple[int, int]]:
        """(start, end) of every occurrence of a word of this lexicon in `text`."""
        for start in range(len(text)):
            for end in range(start + 2, min(len(text), start + MAX_WORD_LEN) + 1):
                piece = text[start:end]
                if piece in self.words and piece not in excluded:
                    yield start, end
                if piece not in self._prefixes:
                    break

    def forced(self, text: str) -> list[tuple[int, int]]:
        """The occurrences to keep whole: those that cross no other occurrence and lie inside
        no longer one. Keeping 北京大学 whole cuts nothing inside it; keeping either of two
        crossing words would cut the other, so neither is forced."""
        found = list(self.matches(text))

        def crosses(a: tuple[int, int], b: tuple[int, int]) -> bool:
            return a[0] < b[0] < a[1] < b[1] or b[0] < a[0] < b[1] < a[1]

        def inside(a: tuple[int, int], b: tuple[int, int]) -> bool:
            return a != b and b[0] <= a[0] and a[1] <= b[1]

        return [m for m in found if not any(crosses(m, o) or inside(m, o) for o in found)]


def read_dictionary(path: str | Path) -> list[str]:
    """Words of a jieba-format dictionary file: `word [freq] [tag]` a line."""
    try:
        with open(path, "rb") as handle:
            return parse_dictionary(handle, path)
    except OSError as err:
        raise CorpusError(path, 0, f"cannot read dictionary: {err.strerror}") from None


def parse_dictionary(lines: Iterable[str | bytes], source: str | Path) -> list[str]:
    """Words of jieba-format dictionary lines, text or UTF-8 bytes (jieba's `load_userdict`
    reads files opened in binary mode); `source` names them in errors."""
    words = []
    for lineno, line in enumerate(lines, 1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as err:
                raise CorpusError(source, lineno, f"not UTF-8: {err}") from None
        fields = line.removeprefix("\ufeff").split()
        if len(fields) > 3 or (len(fields) == 3 and not fields[1].isdigit()):
            raise CorpusError(source, lineno, f"expected 'word [freq] [tag]', got {line.strip()!r}")
        if fields:
            words.append(fields[0])
    return words


@lru_cache(maxsize=1)
def jieba_lexicon() -> Lexicon:
    """jieba's shipped dictionary, loaded once per process."""
    import jieba

    return Lexicon(read_dictionary(Path(jieba.__file__).parent / "dict.txt"))
