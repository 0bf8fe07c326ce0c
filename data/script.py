"""Traditional-script input, tagged through a character-by-character traditional→simplified
mapping (OpenCC's t2s conversion of each single character): the text the model sees has the
same length as the input, so every offset points into the original text and every span keeps
its original characters. The models were trained on simplified text.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Literal

import numpy as np

from data.graphemes import as_read
from data.lexicon import Lexicon
from data.numerals import ordinary_numerals
from data.text import codepoints

Script = Literal["auto", "simplified", "traditional"]
SCRIPTS: tuple[Script, ...] = ("auto", "simplified", "traditional")
TRADITIONAL_SHARE = 0.1  # of a text's Han characters that must be traditional-only for `auto` to map it
_HAN = [(0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00)]


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[int, int], np.ndarray, np.ndarray]:
    """(traditional -> simplified code points, one to one; (code points,) bool: a Han
    character; (code points,) bool: a traditional form outside GB2312, the simplified
    character set, so never in simplified text: 說 is, 乾 (乾隆) is not)."""
    import opencc

    han = np.zeros(0x110000, dtype=bool)
    for lo, hi in _HAN:
        han[lo:hi] = True
    chars = [chr(cp) for cp in np.flatnonzero(han).tolist()]
    joined = "\n".join(chars)  # one call each; a line break ends any phrase
    standard, hong_kong = (opencc.OpenCC(config).convert(joined).split("\n") for config in ("t2s", "hk2s"))  # hk2s: Hong Kong forms t2s keeps (衞)
    mapping = {ord(ch): ord(out) for ch, t, h in zip(chars, standard, hong_kong, strict=True) for out in (t if t != ch else h,) if len(out) == 1 and out != ch}
    traditional = np.zeros(0x110000, dtype=bool)
    traditional[[cp for cp in mapping if not _in_gb2312(chr(cp))]] = True
    return mapping, han, traditional


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _counts(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(texts,) each text's Han characters and traditional-only forms among them, counted for
    all texts in one pass over their code points."""
    _, han, traditional = _tables()
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    cps = codepoints("".join(texts))
    starts = np.cumsum(lengths) - lengths
    nonempty = lengths > 0
    han_count, trad_count = np.zeros(len(texts)), np.zeros(len(texts))
    if nonempty.any():
        han_count[nonempty] = np.add.reduceat(han[cps], starts[nonempty])
        trad_count[nonempty] = np.add.reduceat(traditional[cps], starts[nonempty])
    return han_count, trad_count


def _mostly_traditional(han_count: np.ndarray, trad_count: np.ndarray) -> np.ndarray:
    """(texts,) bool: at least TRADITIONAL_SHARE of the text's Han characters are
    traditional-only forms, given both counts (`_counts`)."""
    return (trad_count > 0) & (trad_count >= TRADITIONAL_SHARE * han_count)


@lru_cache(maxsize=1)
def _traditional_only() -> dict[int, int]:
    """The mapping of the traditional forms that simplified text never holds (outside GB2312)."""
    mapping, _, traditional = _tables()
    return {cp: to for cp, to in mapping.items() if traditional[cp]}


def for_model(texts: Sequence[str], script: Script = "auto") -> list[str]:
    """The texts the model should see, same lengths: traditional ones mapped to simplified
    characters (all of them for `traditional`; for `auto`, those `_mostly_traditional` finds,
    and in the others, such as a simplified sentence naming 臺灣大學, the traditional-only
    forms alone, which simplified text never holds: 乾 of 乾隆 stays), and financial numerals
    (壹万贰仟) written as ordinary ones (`data.numerals`)."""
    return [ordinary_numerals(text) for text in _simplified_texts(texts, script)]


def _simplified_texts(texts: Sequence[str], script: Script) -> Sequence[str]:
    if script == "simplified":
        return texts
    mapping = _tables()[0]
    if script == "traditional":
        return [text.translate(mapping) for text in texts]
    han_count, trad_count = _counts(texts)
    whole, some = _mostly_traditional(han_count, trad_count).tolist(), (trad_count > 0).tolist()
    return [text.translate(mapping if w else _traditional_only()) if s else text for text, w, s in zip(texts, whole, some)]


def simplified(word: str) -> str:
    """`word` mapped character by character to simplified forms, as a traditional text is."""
    return word.translate(_tables()[0])


def user_lexicon(words: Iterable[str], excluded: Iterable[str] = (), force: bool = False, tags: Mapping[str, str] | None = None) -> Lexicon:
    """A user dictionary that matches text in either script: each word written with
    traditional characters is also held in its simplified form, since a traditional text is
    mapped to simplified before the model and the dictionary see it (`for_model`), while the
    word as written still matches a text left as it is. Each is held as the tagger reads text
    (`data.graphemes.as_read`, financial numerals as ordinary ones), so a word holding an emoji
    sequence (爱心❤️) or an amount (壹万元) matches too."""
    both = lambda word: {as_read(ordinary_numerals(form)) for form in (word, simplified(word))}  # noqa: E731
    forms = lambda group: [form for word in group for form in both(word)]  # noqa: E731
    return Lexicon(forms(words), forms(excluded), force, {form: tag for word, tag in (tags or {}).items() for form in both(word)})
