"""What the model reads of a text: one code point per user-perceived character.

A user-perceived character (an extended grapheme cluster, Unicode UAX #29) may be several code
points: an emoji with a skin tone or joined by ZWJ (👨‍👩‍👧), ❤ with its emoji-style selector,
a flag's two regional indicators, a letter with a combining accent. Tagged code point by code
point, a segmenter cuts them apart (jieba does), leaving tokens no one can read. So the tagger
reads each cluster as its first code point, and spans found in that view are mapped back to
offsets in the exact text: no span ever begins or ends inside a cluster.

Nearly all Chinese text holds no cluster of two code points, and is passed through after one
C-level scan; in other text only the runs of code points outside the ranges below, with their
neighbours, are cut into clusters, by the `regex` package's `\\X`.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from data.atoms import PICTOGRAPHS
from data.text import BREAKS_CLUSTER, JOINERS, SEPARATOR, codepoints

# Code points that neither continue a cluster nor join the next one to theirs (checked against
# Unicode's Grapheme_Cluster_Break property in tests/data/test_graphemes.py): ASCII, Latin and
# IPA letters; general punctuation (quotes, dashes, ellipses) but for the zero-width joiners
# (U+200C-200D) and the marks for symbols (U+20D0-20FF); letterlike and number forms, arrows,
# maths, shapes and symbols; CJK punctuation, kana and ideographs but for the ideographic tone
# marks (U+302A-302F) and the kana voicing marks (U+3099-309A); vertical, compatibility and
# small forms; full-width and half-width forms but for the half-width voicing marks (U+FF9E-FF9F).
SINGLE = (
    "\x00-\u02ff\u2000-\u200b\u200e-\u20cf\u2100-\u2bff\u3000-\u3029\u3030-\u3098\u309b-\u9fff"
    "\ufe10-\ufe1f\ufe30-\ufe6f\uff00-\uff9d\uffa0-\uffef"
)
_JOINING_RUN = re.compile(f"[^{SINGLE}]+")
_TRAILING_JOINERS = re.compile(f"[{JOINERS}]*$")


class GraphemeViews:
    """Each text as the model reads it (`views`), and the way back to the text's offsets.

    The texts are scanned joined by newlines, which end every cluster; where some cluster has
    two or more code points, `_kept` lists the joined string's cluster starts, so that offset
    `o` into view `i` is `_kept[_view_base[i] + o] - _base[i]` in text `i`."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.views: list[str] = list(texts)
        self._kept: np.ndarray | None = None
        joined = "\n".join(texts)
        if not _JOINING_RUN.search(joined):
            return
        kept = cluster_starts(joined)  # (clusters,)
        if len(kept) == len(joined):
            return
        self._base = np.cumsum([0, *(len(t) + 1 for t in texts[:-1])])  # (texts,) where each text begins in `joined`
        self._view_base = np.searchsorted(kept, self._base)  # (texts,) where each view begins in the joined view
        view = read_at(joined, kept)
        ends = np.append(self._view_base[1:] - 1, len(kept)).tolist()
        self.views = [view[a:b] for a, b in zip(self._view_base.tolist(), ends)]
        self._kept = np.append(kept, len(joined))

    def offsets(self, text: np.ndarray, offset: np.ndarray) -> np.ndarray:
        """(n,) offsets into the texts of `offset` (n,) into the views of texts `text` (n,)."""
        if self._kept is None:
            return offset
        return self._kept[self._view_base[text] + offset] - self._base[text]


def cluster_starts(text: str) -> np.ndarray:
    """(clusters,) where each extended grapheme cluster of `text` begins. Only the runs of code
    points outside SINGLE's ranges, with the code point on either side (a base before its
    marks; one after a joiner or a prepended sign), can hold a cluster of two or more, so only
    they are cut by `regex`'s `\\X`. A cluster holding whitespace or another separator (a
    space or a Hangul filler before a combining mark), or beginning with one (a ZWNJ before
    a mark), counts as its code points, one by one:
    a separator is never inside a span, nor dropped with a character beside it. Joiners and
    variation selectors ending a cluster that holds no emoji (王小明 and a ZWJ) are code
    points of their own, which separate (`data.text.JOINERS`)."""
    continues = np.zeros(len(text), dtype=bool)  # (len(text),) the code point is not its cluster's first
    clusters = _clusters()
    for begin, end in _regions(text):
        for match in clusters.finditer(text, begin, end):
            cluster = match.group()
            if len(cluster) > 1 and not BREAKS_CLUSTER.search(cluster) and not SEPARATOR.match(cluster):
                continues[match.start() + 1 : match.end() - _loose_joiners(cluster)] = True
    return np.flatnonzero(~continues)


def _loose_joiners(cluster: str) -> int:
    """How many joiners end `cluster` with no emoji before them (all of a cluster of joiners).
    An emoji is any Extended_Pictographic code point, those below U+2600 too (▶️, ©️, ↔️)."""
    run = _TRAILING_JOINERS.search(cluster).start()
    return 0 if run and _emoji().match(cluster[run - 1]) else len(cluster) - run


def read_at(text: str, starts: np.ndarray) -> str:
    """`text` as the tagger reads it, given where its clusters start (`cluster_starts`)."""
    return codepoints(text)[starts].tobytes().decode("utf-32-le", "surrogatepass")


def as_read(word: str) -> str:
    """`word` as the tagger reads text, each cluster its first code point (爱心❤️ as 爱心❤): the
    form a dictionary must hold to match it."""
    return GraphemeViews([word]).views[0]


def readable(word: str) -> bool:
    """Whether a text could hold `word` as one span: read as the tagger reads text, it holds no
    separator (a space, a zero-width space, a joiner outside an emoji; 爱心❤️ is readable)."""
    return not SEPARATOR.search(as_read(word))


@functools.cache
def _emoji() -> Any:
    """An emoji's code point: Extended_Pictographic, and PICTOGRAPHS for the skin tones and
    regional indicators it leaves out; `regex` compiled on first use (as `_clusters`)."""
    import regex

    return regex.compile(rf"[\p{{Extended_Pictographic}}{PICTOGRAPHS}]")


@functools.cache
def _clusters() -> Any:
    """`regex`'s extended grapheme cluster pattern, imported and compiled on first use: most
    text never needs it."""
    import regex

    return regex.compile(r"\X")


def _regions(text: str) -> list[tuple[int, int]]:
    """Each run outside SINGLE's ranges widened by a code point on either side, runs whose
    regions touch merged, so that every cluster of two or more lies inside one region."""
    regions: list[tuple[int, int]] = []
    for match in _JOINING_RUN.finditer(text):
        begin, end = max(match.start() - 1, 0), min(match.end() + 1, len(text))
        if regions and begin <= regions[-1][1]:
            begin = regions.pop()[0]
        regions.append((begin, end))
    return regions
