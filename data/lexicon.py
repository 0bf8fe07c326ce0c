"""Dictionary features: for each character, whether it begins, continues or ends a word of
two or more characters found in a lexicon (jieba's dictionary plus any user dictionaries).

The tagger learns how far to trust the lexicon, so a user dictionary added at tagging time
nudges segmentation toward its words without retraining.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from data.errors import CorpusError

MAX_WORD_LEN = 12
FEATURES = 3  # begins, inside, ends


class Lexicon:
    """A set of words with every prefix indexed, so matching stops as soon as no word can."""

    def __init__(self, words: Iterable[str] = ()) -> None:
        self.words: set[str] = set()
        self._prefixes: set[str] = set()
        for word in words:
            if 2 <= len(word) <= MAX_WORD_LEN and not any(ch.isspace() for ch in word):
                self.words.add(word)
                self._prefixes.update(word[:i] for i in range(1, len(word)))

    def features(self, text: str, extra: "Lexicon | None" = None) -> list[tuple[int, int, int]]:
        """(begins, inside, ends) flags for every character of `text`, from this lexicon and
        `extra` (a user dictionary), which is matched separately rather than merged: merging
        would copy jieba's 350k words for every request that brings its own."""
        flags = [[0, 0, 0] for _ in text]
        for lexicon in (self, extra) if extra else (self,):
            lexicon._mark(text, flags)
        return [tuple(f) for f in flags]

    def _mark(self, text: str, flags: list[list[int]]) -> None:
        for start in range(len(text)):
            for end in range(start + 2, min(len(text), start + MAX_WORD_LEN) + 1):
                piece = text[start:end]
                if piece in self.words:
                    flags[start][0] = 1
                    for i in range(start + 1, end - 1):
                        flags[i][1] = 1
                    flags[end - 1][2] = 1
                if piece not in self._prefixes:
                    break


def read_dictionary(path: str | Path) -> list[str]:
    """Words of a jieba-format dictionary: `word [freq] [tag]` a line."""
    words = []
    try:
        with open(path, encoding="utf-8-sig") as handle:
            for lineno, line in enumerate(handle, 1):
                fields = line.split()
                if len(fields) > 3 or (len(fields) == 3 and not fields[1].isdigit()):
                    raise CorpusError(path, lineno, f"expected 'word [freq] [tag]', got {line.strip()!r}")
                if fields:
                    words.append(fields[0])
    except UnicodeDecodeError as err:
        raise CorpusError(path, 0, f"not UTF-8: {err}") from None
    except OSError as err:
        raise CorpusError(path, 0, f"cannot read dictionary: {err.strerror}") from None
    return words


@lru_cache(maxsize=1)
def jieba_lexicon() -> Lexicon:
    """jieba's shipped dictionary, loaded once per process."""
    import jieba

    return Lexicon(read_dictionary(Path(jieba.__file__).parent / "dict.txt"))
