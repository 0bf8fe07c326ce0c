"""What the model reads of a text: one code point per user-perceived character.

A user-perceived character (an extended grapheme cluster, Unicode UAX #29) may be several code
points: an emoji with a skin tone or joined by ZWJ (👨‍👩‍👧), ❤ with its emoji-style selector,
a flag's two regional indicators, a letter with a combining accent. Tagged code point by code
point, a segmenter cuts them apart (jieba does), leaving tokens no one can read. So the tagger
reads each cluster as its first code point, and spans found in that view are mapped back to
offsets in the exact text: no span ever begins or ends inside a cluster.

Nearly all Chinese text holds no cluster of two code points, and is passed through after one
C-level scan; only a text with a code point outside the ranges below is cut into clusters, by
the `regex` package's `\\X`.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

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
_MAY_JOIN = re.compile(f"[^{SINGLE}]")


class GraphemeViews:
    """Each text as the model reads it (`views`), and the way back to the text's offsets."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.views: list[str] = list(texts)
        self._starts: dict[int, np.ndarray] = {}  # text -> (clusters + 1,) where each cluster begins, then the text's length
        for i, text in enumerate(texts):
            if _MAY_JOIN.search(text):
                starts = cluster_starts(text)
                if len(starts) < len(text):
                    self.views[i] = "".join(text[s] for s in starts)
                    self._starts[i] = np.array([*starts, len(text)], dtype=np.int64)

    def offsets(self, text: np.ndarray, offset: np.ndarray) -> np.ndarray:
        """(n,) offsets into the texts of `offset` (n,) into the views of texts `text` (n,)."""
        if not self._starts:
            return offset
        collapsed = list(self._starts)
        base = np.full(len(self.views), -1, dtype=np.int64)  # (texts,) where each text's starts lie in `table`
        base[collapsed] = np.cumsum([0, *(len(self._starts[i]) for i in collapsed[:-1])])
        table = np.concatenate([self._starts[i] for i in collapsed])
        hit = base[text] >= 0
        mapped = offset.copy()
        mapped[hit] = table[base[text[hit]] + offset[hit]]
        return mapped


def cluster_starts(text: str) -> list[int]:
    """Where each extended grapheme cluster of `text` begins. A cluster holding whitespace (a
    space before a combining mark, or after a prepended sign) counts as its code points, one by
    one: whitespace is never inside a span, nor dropped with a mark beside it."""
    import regex  # only for text outside SINGLE's ranges

    starts = []
    for match in regex.finditer(r"\X", text):
        begin, end = match.span()
        starts.extend(range(begin, end) if any(ch.isspace() for ch in match.group()) else (begin,))
    return starts
