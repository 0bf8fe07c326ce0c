"""jieba.posseg's functions: words with their part of speech, from the default tagger's pos
model and the user dictionary `zhtag.add_word` and `zhtag.load_userdict` fill.

Tags are those of the People's Daily (PKU) corpus the pos model learnt; jieba's tag set grew
from it, so the common tags (n, v, a, d, nr, ns, nt, ...) mean the same, but punctuation is `w`
where jieba says `x`. Whitespace comes back as its own pair flagged `x`, as in jieba. A person's
name is one pair, as in jieba (王小明/nr), where the PKU standard writes surname and given name
apart (王/nr 小明/nr): code that collects `flag == "nr"` would find two people.
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
    return _whole_names([Pair(sentence[start:end], tags.get((start, end), WHITESPACE_FLAG)) for start, end in compat.tiles(sentence, words)])


# Surnames of two characters: any other two-character `nr` is a whole name (布什, 老王), which
# the word after it never belongs to.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 独孤 南宫 轩辕 呼延 澹台 公冶 宗政 濮阳 淳于 单于 太叔 申屠 钟离 闻人 万俟".split()
)


def _whole_names(pairs: list[Pair]) -> list[Pair]:
    """`pairs` with each surname joined to the given name after it: an `nr` of one character
    (or a compound surname), then an `nr` of one or two. A longer `nr` (克林顿) is whole already."""
    joined, at = [], 0
    while at < len(pairs):
        if at + 1 < len(pairs) and _surname(pairs[at]) and pairs[at + 1].flag == "nr" and len(pairs[at + 1].word) <= 2:
            joined.append(Pair(pairs[at].word + pairs[at + 1].word, "nr"))
            at += 2
        else:
            joined.append(pairs[at])
            at += 1
    return joined


def _surname(pair: Pair) -> bool:
    return pair.flag == "nr" and (len(pair.word) == 1 or pair.word in COMPOUND_SURNAMES)
