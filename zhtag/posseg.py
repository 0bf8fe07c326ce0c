"""jieba.posseg's functions: words with their part of speech, from the default tagger's pos
model and the user dictionary `zhtag.add_word` and `zhtag.load_userdict` fill.

Tags are those of the People's Daily (PKU) corpus the pos model learnt; jieba's tag set grew
from it, so the common tags (n, v, a, d, nr, ns, nt, ...) mean the same, but punctuation is `w`
where jieba says `x`. Whitespace comes back as its own pair flagged `x`, as in jieba.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from zhtag import compat
from zhtag.options import check_jieba_options

__all__ = ["Pair", "cut", "lcut"]

WHITESPACE_FLAG = "x"


class Pair(NamedTuple):
    """What jieba.posseg yields: unpacks as `word, flag`, has `.word` and `.flag`, prints as `word/flag`."""

    word: str
    flag: str

    def __str__(self) -> str:
        return f"{self.word}/{self.flag}"


def cut(sentence: str, HMM: bool = True, use_paddle: bool = False) -> Iterator[Pair]:
    """(word, flag) pairs of `sentence`; `HMM` and `use_paddle` are ignored with a warning."""
    check_jieba_options(HMM=HMM, use_paddle=use_paddle)
    return iter(_pairs(sentence))


def lcut(sentence: str, HMM: bool = True, use_paddle: bool = False) -> list[Pair]:
    """`cut` as a list."""
    check_jieba_options(HMM=HMM, use_paddle=use_paddle)
    return _pairs(sentence)


JIEBA_POSSEG_ONLY = {  # jieba.posseg's names that zhtag leaves out, and what to do instead
    "POSTokenizer": "zhtag.Tagger is zhtag's tokenizer: zhtag.Tagger().pos(text) gives words with their tags and offsets",
    "dt": "zhtag.compat.default is the Tagger these functions share",
}


def __getattr__(name: str) -> object:
    compat.jieba_only(name, "zhtag.posseg", JIEBA_POSSEG_ONLY)


def _pairs(sentence: str) -> list[Pair]:
    sentence = compat.one_sentence(sentence)
    words = compat.default.pos(sentence)
    tags = {(word.start, word.end): word.tag for word in words}
    return [Pair(sentence[start:end], tags.get((start, end), WHITESPACE_FLAG)) for start, end in compat.tiles(sentence, words)]
