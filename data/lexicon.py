"""Dictionary features: for each character, whether it begins, continues or ends a word of
two or more characters found in a lexicon (jieba's dictionary plus any user dictionaries).

The tagger learns how far to trust the lexicon, so a user dictionary added at tagging time
nudges segmentation toward its words without retraining, and one that excludes a word of
jieba's dictionary nudges it away from that word.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
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

    def __init__(self, words: Iterable[str] = (), excluded: Iterable[str] = ()) -> None:
        self.excluded = frozenset(excluded)
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
        for start in range(len(text)):
            for end in range(start + 2, min(len(text), start + MAX_WORD_LEN) + 1):
                piece = text[start:end]
                if piece in self.words and piece not in excluded:
                    flags[start][0] = 1
                    for i in range(start + 1, end - 1):
                        flags[i][1] = 1
                    flags[end - 1][2] = 1
                if piece not in self._prefixes:
                    break


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
