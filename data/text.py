"""Text handling shared by training and tagging: feature folding and splitting long input.

Folding (full-width to half-width, digits to `0`, Latin letters to `a`, accented ones and
other alphabets' too, brackets to the corpus's own) only feeds the model's features, so `１９９８年` and `2024年` look alike
to it, and `café` or `Москва` reads as one foreign word rather than characters it never saw; output always keeps the original
characters because every piece carries its offset into the exact input string.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache

import numpy as np

from data.atoms import atom_spans
from data.fullwidth import FULL_WIDTH, HALF_WIDTH

SENTENCE_END = frozenset("。！？!?；;…")
CLAUSE_END = frozenset("，,、：:")
WHITESPACE = frozenset(c for c in map(chr, range(0x3001)) if c.isspace())  # every str.isspace() character
# Whitespace, and the invisible characters that separate as it does: control characters (NUL,
# ESC, DEL, C1), soft hyphen, Hangul fillers, zero-width space, direction marks (Arabic letter
# mark, Mongolian vowel separator), embeddings and isolates, word joiner, invisible operators,
# byte-order mark. Inside a span they would make a word or entity that
# no longer matches its visible text; alone they were tagged as words (NUL a verb).
_SEPARATORS = "\\s\\x00-\\x08\\x0e-\\x1f\\x7f-\\x9f\u00ad\u061c\u115f\u1160\u180e\u3164\uffa0\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
# The joiners (ZWNJ, ZWJ) and variation selectors: inside an emoji sequence (👨‍👩‍👧, ❤️) they are
# part of one character (`data.graphemes`); after a Han character or a letter, or alone, the
# invisible leftovers of stripped emoji, they separate too, or a name would end in one.
JOINERS = "\u200c\u200d\ufe00-\ufe0f"
SEPARATOR = re.compile(f"[{_SEPARATORS}{JOINERS}]")
BREAKS_CLUSTER = re.compile(f"[{_SEPARATORS}]")  # a cluster holding one is read code point by code point
_NON_SPACE = re.compile(f"[^{_SEPARATORS}{JOINERS}]+")


# Letters read as Latin letters: accented Latin (Latin-1 Supplement, Extended-A and -B, Extended
# Additional), and the alphabets Chinese text quotes words in (Greek, Cyrillic, Armenian, Hebrew,
# Arabic, Thai, Georgian, Hangul, kana). The corpora hold almost none of them, so each would be
# a character the model never learnt, tagged one by one (each Cyrillic letter a person's name);
# read as Latin, a run of them is one foreign word, as `Moscow` is.
FOREIGN_LETTERS = (
    range(0xC0, 0x250), range(0x1E00, 0x1F00), range(0x370, 0x590), range(0x5D0, 0x5F0), range(0x620, 0x6D4),
    range(0xE01, 0xE4F), range(0x10A0, 0x1100), range(0x1100, 0x1200), range(0x3041, 0x3097), range(0x30A1, 0x30FB), range(0x3131, 0x3164), range(0x3165, 0x318F), range(0xAC00, 0xD7A4),
)


# Brackets and quotes read as the ones People's Daily writes, which the models learnt are always
# words of their own: 「」 (the quotation marks of Taiwan and Hong Kong text), 【】 (opening
# e-commerce titles and posts), braces. Read as themselves, rare or unseen, they were glued to
# the word beside them (「石墨烯」 as 石墨 | 烯」). 《》, 『』, 〈〉 and the quotes “” ‘’ are the corpus's own.
BRACKETS = {
    **dict.fromkeys("[{【〔〖〘〚﹙﹛⦅", "("), **dict.fromkeys("]}】〕〗〙〛﹚﹜⦆", ")"),
    **dict.fromkeys("「﹁«", "“"), **dict.fromkeys("」﹂»", "”"), **dict.fromkeys("﹃‹", "‘"), **dict.fromkeys("﹄›", "’"),
}


def codepoints(text: str) -> np.ndarray:
    """(len(text),) uint32 code points; lone surrogates (valid in JSON escapes) pass through."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def fold_char(ch: str) -> str:
    """Feature form of one character."""
    ch = chr(HALF_WIDTH.get(ord(ch), ord(ch)))
    ch = BRACKETS.get(ch, ch)
    if ch.isascii() and ch.isdigit():
        return "0"
    if ch.isalpha() and (ch.isascii() or ord(ch) in _FOREIGN):
        return "a"
    return ch


_FOREIGN = frozenset(code for block in FOREIGN_LETTERS for code in block)  # a set: the table below asks of 13,000 code points, at import
_FOLD_TABLE = {code: fold_char(chr(code)) for code in [*range(0x21, 0x7F), *FULL_WIDTH, *map(ord, BRACKETS), *_FOREIGN]}


def fold(text: str) -> str:
    """`fold_char` of every character, as one C-level `str.translate`."""
    return text.translate(_FOLD_TABLE)


def fold_codepoints(cps: np.ndarray) -> np.ndarray:
    """`fold` of text as code points (uint32), as one gather: the tagger has the code points
    already, and `fold` with a second encoding took 53 ms on 883k characters against 3 ms."""
    return _fold_points()[cps]


@lru_cache(maxsize=1)
def _fold_points() -> np.ndarray:
    """(code points,) uint32 the folded code point of each: 4.4 MB, made on first use."""
    table = np.arange(0x110000, dtype=np.uint32)
    table[list(_FOLD_TABLE)] = [ord(ch) for ch in _FOLD_TABLE.values()]
    return table


Spans = Callable[[str], list[tuple[int, int]]]  # (start, end) of spans found in a text


def _cut_points(text: str, max_len: int, held: Spans, words: Spans | None) -> list[int]:
    """Ends of chunks of at most `max_len` characters, cut after sentence punctuation when
    possible, else after clause punctuation; never inside a span `held` finds (a web or
    e-mail address, whose `?`, `:` and `,` are no punctuation; a word a dictionary forces).
    Where the window holds no punctuation (speech transcripts, chat), the cut also avoids
    every word `words` finds (a lexicon's), so that it falls between words, not inside one;
    only where no such point is left is a chunk cut hard at `max_len`."""
    if len(text) <= max_len:
        return [len(text)]
    spans = held(text)
    kept = _free(len(text), spans)
    between: list[np.ndarray | None] = []  # the positions between words too, found at the first cut that needs them
    cuts, start = [], 0
    while len(text) - start > max_len:
        window = text[start : start + max_len]
        after = last_end(window, SENTENCE_END) or last_end(window, CLAUSE_END)
        if not after and not between:
            between.append(_free(len(text), spans + (words(text) if words else [])))
        start = _last_free(kept if after else between[0], start, start + (after or max_len), max_len)
        cuts.append(start)
    cuts.append(len(text))
    return cuts


def same_cut(text: str, after: int, before: int, max_len: int, held: Spans = atom_spans, words: Spans | None = None) -> int | None:
    """A point in (after, before] at which `text` may be cut into two that `split_text` cuts
    as it cuts `text` whole, so that a line read in parts is tagged as if whole: the end of the
    last separator there (runs end at one anyway); else the last of the run's own cuts there
    that the run's part before it is cut the same way to: the first, or one more than
    `max_len` past the last cut but one (cut greedily, a part that ends sooner would end in one
    piece where the whole run has two), and inside no span `held` finds (a web address longer
    than `max_len` is cut inside; its rest, read alone, would be no address). None where there
    is neither. The text must run on at
    least `max_len` past `before`, so the windows that place these cuts lie inside it."""
    ends = [match.end() for match in SEPARATOR.finditer(text, after, before)]
    if ends:
        return ends[-1]
    begins = [match.end() for match in SEPARATOR.finditer(text, 0, after)]
    run_start = begins[-1] if begins else 0
    follows = SEPARATOR.search(text, before)
    run = text[run_start : follows.start() if follows else len(text)]
    spans = held(run)  # one longer than max_len is cut hard inside; from there, the rest would read as no address
    cuts = [0, *_cut_points(run, max_len, lambda _: spans, words)]
    same = [cut for m, cut in enumerate(cuts) if (m == 1 or (m > 1 and cut - cuts[m - 2] > max_len)) and not any(a < cut < b for a, b in spans)]
    inside = [run_start + cut for cut in same if after < run_start + cut <= before]
    return inside[-1] if inside else None


def cut_between(text: str, spans: list[tuple[int, int]], after: int, before: int, breaks: frozenset[str] = frozenset()) -> int:
    """The last position in (after, before] inside none of `spans`, preferring one just after
    a character of `breaks`; else the end of `text`."""
    free = _free(len(text), spans)
    points = np.arange(after + 1, before + 1) if free is None else free[(free > after) & (free <= before)]  # (candidates,)
    if not len(points):
        return len(text)
    after_break = np.isin(codepoints(text)[points - 1], [ord(ch) for ch in breaks])  # (candidates,)
    return int(points[after_break][-1] if after_break.any() else points[-1])


def _free(length: int, spans: list[tuple[int, int]]) -> np.ndarray | None:
    """(points,) the positions 0..length inside none of `spans`, ascending; None (all of
    them) when there are no spans, as in most text."""
    if not spans:
        return None
    inside = np.zeros(length + 2, dtype=np.int32)  # (length + 2,) +1 where a span's inside begins, -1 past it
    starts, ends = np.array(spans, dtype=np.int64).T
    np.add.at(inside, starts + 1, 1)
    np.add.at(inside, ends, -1)
    return np.flatnonzero(np.cumsum(inside)[: length + 1] == 0)


def _last_free(free: np.ndarray | None, start: int, cut: int, max_len: int) -> int:
    """The last free position in (start, cut], else a hard cut at start + max_len."""
    if free is None:
        return cut
    found = free[np.searchsorted(free, cut, side="right") - 1]
    return int(found) if found > start else start + max_len


def last_end(window: str, marks: frozenset[str]) -> int:
    """Just past the last of `marks` in `window` after its first character, or 0 if none is.
    One C-level `rfind` per mark: a Python loop over the window was a tenth of tagging's time."""
    last = max((window.rfind(mark, 1) for mark in marks), default=-1)
    return last + 1 if last > 0 else 0


def split_text(text: str, max_len: int, held: Spans = atom_spans, words: Spans | None = None) -> Iterator[tuple[int, str]]:
    """(offset, piece) for the model: whitespace and the invisible separators (SEPARATOR)
    separate pieces and are never inside one; a run longer than `max_len` is cut at
    punctuation, outside the spans `held` finds in it (by default addresses and numbers), or
    where it has none, between the `words` found in it (see `_cut_points`). Offsets index the
    exact input."""
    for match in _NON_SPACE.finditer(text):
        run, base, start = match.group(), match.start(), 0
        for end in _cut_points(run, max_len, held, words):
            yield base + start, run[start:end]
            start = end
