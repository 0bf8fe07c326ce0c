"""jieba's module-level functions, answered by one default `zhtag.Tagger`, so replacing
`import jieba` with `import zhtag as jieba` keeps code working.

Like jieba, the default tagger and its user dictionary are shared by the whole process, and
whitespace and invisible separators (a zero-width space) come back as tokens of their own (each
character, `\\r\\n` together), so the words
of `cut` concatenate back to the input. The first call loads the model, not the import.
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Sequence
from typing import IO, NoReturn

from data.errors import InputError
from data.text import SEPARATOR
from zhtag.options import check_jieba_options
from zhtag.results import Token
from zhtag.tagger import Tagger

default = Tagger()

_SPACE = re.compile(rf"\r\n|{SEPARATOR.pattern}")
CHUNK_CHARS = 64_000  # `cut`, `lcut` and `tokenize` tag a long text about this much at a time, cut after a line
# break: its first words in 0.2-0.3 s, the whole 10-20% slower than in one call


def cut(sentence: str, cut_all: bool = False, HMM: bool = True, use_paddle: bool = False) -> Iterator[str]:
    """The words of `sentence`, whitespace included, tagged as they are iterated (a part at a
    time, `_tokens`). `cut_all=True` raises; `HMM` and `use_paddle` are ignored with a warning
    (see `zhtag.options`)."""
    check_jieba_options(cut_all=cut_all, HMM=HMM, use_paddle=use_paddle)
    return (text for text, _, _ in _tokens(one_sentence(sentence)))


def lcut(sentence: str, cut_all: bool = False, HMM: bool = True, use_paddle: bool = False) -> list[str]:
    """`cut` as a list."""
    return list(cut(sentence, cut_all, HMM, use_paddle))


def tokenize(unicode_sentence: str, mode: str = "default", HMM: bool = True) -> Iterator[tuple[str, int, int]]:
    """(word, start, end) of every word of `cut`, with `unicode_sentence[start:end] == word`.
    `mode="search"` raises; `HMM` is ignored with a warning."""
    check_jieba_options(mode=mode, HMM=HMM)
    return _tokens(one_sentence(unicode_sentence))


def cut_for_search(sentence: str, HMM: bool = True) -> NoReturn:
    """Refused, as `tokenize(mode="search")` is: jieba's search mode adds overlapping
    sub-words, an answer of another shape. Defined so that jieba code stops with that reason
    rather than an AttributeError."""
    _refuse_search("cut_for_search", "cut")


def lcut_for_search(sentence: str, HMM: bool = True) -> NoReturn:
    """Refused: see `cut_for_search`."""
    _refuse_search("lcut_for_search", "lcut")


def _refuse_search(name: str, instead: str) -> NoReturn:
    raise InputError(f"{name} is refused: jieba's search mode adds overlapping sub-words, and zhtag gives one segmentation; use {instead}")


def add_word(word: str, freq: int | None = None, tag: str | None = None) -> None:
    """See `Tagger.add_word`; `freq` is ignored with a warning."""
    check_jieba_options(freq=freq)
    default.add_word(word, tag or "")


def del_word(word: str) -> None:
    """See `Tagger.del_word`."""
    default.del_word(word)


def load_userdict(f: str | os.PathLike[str] | IO[str] | IO[bytes]) -> None:
    """See `Tagger.load_userdict`."""
    default.load_userdict(f)


def tiles(text: str, words: Sequence[Token]) -> list[tuple[int, int]]:
    """(start, end) of `words` (in order) with each whitespace
    token between them, in jieba's way, so the pieces tile `text`."""
    pieces, done = [], 0
    for word in words:
        pieces.extend(match.span() for match in _SPACE.finditer(text, done, word.start))
        pieces.append((word.start, word.end))
        done = word.end
    pieces.extend(match.span() for match in _SPACE.finditer(text, done))
    return pieces


def one_sentence(sentence: object) -> str:
    """jieba's functions take one text: a list, which `Tagger` methods take, is refused by name."""
    if isinstance(sentence, bytes | bytearray):
        raise InputError("sentence must be a str, got bytes: decode it first (zhtag does not guess an encoding)")
    if not isinstance(sentence, str):
        raise InputError(f"sentence must be a str, got {type(sentence).__name__} (zhtag.Tagger's methods take a list of texts)")
    return sentence


def _tokens(text: str) -> Iterator[tuple[str, int, int]]:
    """`tokenize`'s answer, a part at a time: a document read whole gives its first words at
    once and holds one part's answer, not all of them (jieba's `cut` streams so). No word
    crosses a line break, so the parts give the words the whole text does, but for
    `script="auto"`, which judges each part's script on its own (a document mixing the two
    scripts can feel it); `lcut` tags by parts too, so that it always lists what `cut` yields."""
    start = 0
    while start < len(text):
        end = text.find("\n", start + CHUNK_CHARS) + 1 or len(text)
        part = text[start:end]
        yield from ((part[a:b], start + a, start + b) for a, b in tiles(part, default.segment(part)))
        start = end


def setLogLevel(log_level: int | str) -> None:  # noqa: N802  jieba's name
    """Set the level of zhtag's loggers, as jieba's does of its own."""
    logging.getLogger("zhtag").setLevel(log_level)


_PARALLEL = "zhtag tags batches on every core already (Tagger.segment of a list; zhtag segment --threads)"
JIEBA_ONLY = {  # jieba's names that zhtag leaves out, and what to do instead
    "suggest_freq": "no word frequencies to tune: add_word(word) makes the model weigh a word, and zhtag.Tagger(dict_mode='force') keeps its added words whole",
    "enable_parallel": _PARALLEL,
    "enable_paddle": "zhtag is itself a neural tagger: use_paddle is ignored, and there is no paddle to enable",
    "disable_parallel": _PARALLEL,
    "set_dictionary": "a neural model takes the place of jieba's main dictionary: load_userdict adds words, del_word removes jieba's",
    "initialize": "the first call loads the model; zhtag.Tagger.load('cws') loads one now",
    "Tokenizer": "zhtag.Tagger is zhtag's tokenizer, one per dictionary and mode",
    "dt": "zhtag.compat.default is the Tagger these functions share",
    "analyse": "keyword extraction is not part of zhtag; jieba.analyse can rank zhtag's words",
    "get_FREQ": "no word frequencies: zhtag weighs words with a model",
}


def jieba_only(name: str, module: str = "zhtag", left_out: dict[str, str] = JIEBA_ONLY) -> NoReturn:
    """A module `__getattr__`: code written for jieba that reaches for one of its names zhtag
    leaves out learns why and what to use instead, rather than a bare AttributeError."""
    if name in left_out:
        raise AttributeError(f"{module} has no {module.replace('zhtag', 'jieba')}.{name}: {left_out[name]}")
    raise AttributeError(f"module {module!r} has no attribute {name!r}")
