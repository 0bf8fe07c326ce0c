"""Runs of text that are one word whatever their context: web and e-mail addresses, and
numbers written with a decimal point, thousands separators, or digits joined by dots or hyphens.

The corpora hold almost no addresses (People's Daily, 1998, has one web address, written as
one word), so a model cuts them at every dot and slash, and no reader wants `https`, `:` and
`//www.example.com/path` back. Emoji are another: the corpora hold none, so a model reads
them as unknown characters, joins neighbours (👍🏽❤️ as one word) and tags them as anything
(a person's name); each is held as a word of its own, a symbol. Numbers it has seen short (３．５％) but cuts long ones
(3.14 159265) and those with separators, which People's Daily never writes (12 , 345 , 678).
Segmentation keeps each one whole by constraining the Viterbi path, as `force` does for
dictionary words. A number takes what the PKU standard writes with it: a range (０．４－０．６)
and a following ％, ‰, 万 or 亿 (１．５万, １２．３％). Digits joined by dots are one number too
(１９９７．８．１２ in the corpus; a version or an IP address), and by hyphens (a date
2024-03-05, a telephone number 010-12345678), which the corpus never writes: cut at the
hyphen, each part after the first reads as a negative number. Full-width forms (ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ,
１２．３) count as their ASCII twins.
"""
from __future__ import annotations

import functools
import re
import unicodedata

from data.fullwidth import HALF_WIDTH

_HINT = re.compile("//|@|ww|WW|／／|＠|ｗｗ|ＷＷ")  # every address has one: most pieces are passed over after this scan
_URL = re.compile(r"(?:(?:https?|ftp)://|www\.)[\w\-.~:/?#\[\]@!$&'()*+,;=%]*[\w/#=&~\-+%]", re.IGNORECASE | re.ASCII)
# Parts bounded by the standard's limits (64 characters before the @, 63 a label): unbounded,
# a search tried from every position of a long run of letters scanned to its end each time.
_EMAIL = re.compile(r"[\w.%+\-]{1,64}@[\w\-]{1,63}(?:\.[\w\-]{1,63})*\.[A-Za-z]{2,63}", re.ASCII)
_D = "[0-9０-９]"  # numbers are matched in either width as written: translating each piece that holds one tripled the cost
_NUMBER_HINT = re.compile(f"{_D}[.．,，\\-－]{_D}")
# Digits joined by dots are one number as an IPv4 address or a version in ASCII digits
# (192.168.1.1, 1.10.2), or as a date (1997.8.12, １９９７．８．１２), no other way: People's
# Daily's tables, joined without spaces as its raw text is, run figures together
# (１．３０．９０．５, ９１７．０２９１４．０６), and those are several words.
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED = f"(?:{_OCTET}(?:\\.{_OCTET}){{3}}|[0-9]{{1,4}}(?:\\.[0-9]{{1,2}}){{2,}}|{_D}{{4}}[.．]{_D}{{1,2}}[.．]{_D}{{1,2}})"
_NUMBER_PART = f"(?:{_D}{{1,3}}(?:[,，]{_D}{{3}})+(?:[.．]{_D}+)?|{_DOTTED}|{_D}+[.．]{_D}+)"
_DASHED = f"{_D}+(?:[-－]{_D}+)+"  # 2024-03-05, 010-12345678, 138-1234-5678: no minus signs in them
_WORD = "[A-Za-z0-9_Ａ-Ｚａ-ｚ０-９＿]"  # a letter or digit a number may not touch, in either width
_NUMBER = re.compile(
    f"(?<!{_WORD})(?<!{_D}[.．,，\\-－·])(?:{_NUMBER_PART}(?:[-－](?:{_NUMBER_PART}|{_D}+))?|{_D}+[-－]{_NUMBER_PART}|{_DASHED})(?!{_WORD}|[.．,，\\-－·]{_D})(?:[%％‰]|[万亿]+)?"
)

# Emoji and pictographs: the Miscellaneous Symbols, Dingbats and Symbols and Arrows blocks, two
# arrows, and U+1F000-1FFFD (mahjong to the pictographs Unicode keeps for later, regional
# indicators included), which hold every Extended_Pictographic code point above U+2600 outside
# the CJK blocks (tests/data/test_atoms.py checks that against `regex`'s property).
PICTOGRAPHS = "\u2600-\u27bf\u2934\u2935\u2b00-\u2bff\U0001f000-\U0001fffd"
# Symbols that People's Daily, and its entities, never write inside a word: it holds no @ or #
# and writes every other symbol alone, but ○ as a zero (二○○二年), ∶ in ratios (１∶１１), ××
# for a name withheld, ± and + beside numbers. Read by the model, an unseen one was glued to a
# one-character given name (张三@李四 as 张 | 三@ | 李 | 四) and a lone one tagged a name.
JOINED_SYMBOLS = "○∶×±+＋"
_SIGNS = "@#＠＃"


def symbol_positions(piece: str) -> list[int]:
    """Where `piece` holds an emoji or another symbol (Unicode's S categories in the Basic
    Multilingual Plane, where all but emoji and rare scripts' signs are; @ and #), each a word
    of its own. As the tagger reads text (`data.graphemes`), a whole emoji sequence
    (👨‍👩‍👧, ❤️, 🇨🇳) is one position, its first code point."""
    return [m.start() for m in _symbols().finditer(piece)]


@functools.cache
def _symbols() -> re.Pattern[str]:
    """The class of `symbol_positions`, made on first use from Unicode's categories (5 ms).
    It is written as runs of code points: its 3,800 characters escaped one by one took `re`'s
    parser 90 ms once a model was loaded, the collector walking the model's objects as the
    parser's garbage piled up (the Python API's first call)."""
    symbols = [c for c in range(0x10000) if unicodedata.category(chr(c))[0] == "S" and chr(c) not in JOINED_SYMBOLS]
    return re.compile(f"[{PICTOGRAPHS}{_runs(symbols + list(map(ord, _SIGNS)))}]")


def _runs(points: list[int]) -> str:
    """A character class's body matching `points`, one range per run of consecutive ones."""
    points = sorted(points)
    breaks = [i for i in range(1, len(points)) if points[i] != points[i - 1] + 1]
    bounds = zip([0, *breaks], [*breaks, len(points)])
    return "".join(f"{re.escape(chr(points[a]))}-{re.escape(chr(points[b - 1]))}" for a, b in bounds)


def atom_spans(piece: str) -> list[tuple[int, int]]:
    """(start, end) of each address and number in `piece`, in order, none overlapping:
    where two overlap (an address inside a web address) the one that begins first, or the
    longer, is kept. An address never ends in punctuation (a full stop after it is not its)."""
    spans = [m.span() for m in _NUMBER.finditer(piece)] if _NUMBER_HINT.search(piece) else []
    if _HINT.search(piece):
        text = piece.translate(HALF_WIDTH)
        spans += [m.span() for pattern in (_URL, _EMAIL) for m in pattern.finditer(text)]
    found = sorted(spans, key=lambda s: (s[0], -s[1]))
    kept: list[tuple[int, int]] = []
    for start, end in found:
        if not kept or start >= kept[-1][1]:
            kept.append((start, end))
    return kept
