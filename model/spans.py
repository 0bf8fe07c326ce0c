"""Decoded spans of many texts held as arrays, and the two ways out of them: `Span` lists
for the APIs, and segmented lines for `zhtag segment`, built without a Python step per word.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from data.corpus import Span
from data.text import codepoints

SPACE, NEWLINE = ord(" "), ord("\n")


def confident(spans: Sequence[Span], min_score: float) -> list[Span]:
    """The spans scored at least `min_score`; spans without a score (words) are all kept."""
    return [s for s in spans if s.score is None or s.score >= min_score]


@dataclass(frozen=True)
class SpanArrays:
    """Spans sorted by text, then by offset; `start`/`end` index their own text."""

    texts: int  # how many texts were tagged
    text: np.ndarray  # (spans,) int64: the text each span belongs to
    start: np.ndarray  # (spans,) int64
    end: np.ndarray  # (spans,) int64, exclusive
    label: np.ndarray  # (spans,) int64, index into `names`
    names: list[str | None]  # label names; `zhtag segment`'s words never look theirs up
    score: np.ndarray | None  # (spans,) float64, the CRF's marginal probability; None: not computed

    def lists(self) -> list[list[Span]]:
        """The spans of each text."""
        labels = [self.names[i] for i in self.label.tolist()]  # (spans,)
        scores = self.score.round(4).tolist() if self.score is not None else [None] * len(labels)
        flat = list(map(Span, self.start.tolist(), self.end.tolist(), labels, scores))
        bounds = np.searchsorted(self.text, np.arange(self.texts + 1)).tolist()  # (texts + 1,) where each text's spans begin
        return [flat[a:b] for a, b in zip(bounds, bounds[1:])]

    def segmented(self, texts: list[str]) -> str:
        """Each text's spans joined by spaces, one line per text (each ending in a newline):
        gathered from the texts' code points in one pass."""
        base = np.cumsum([0, *map(len, texts)])[:-1]  # (texts,) where each text begins in the joined code points
        cps = codepoints("".join(texts))  # (code points,)
        empty = np.flatnonzero(np.bincount(self.text, minlength=self.texts) == 0)  # (empty,) texts without spans still get a line
        text = np.concatenate([self.text, empty])  # (pieces,): the spans, then an empty piece per empty text
        order = np.argsort(text, kind="stable")  # (pieces,)
        text = text[order]  # (pieces,) by text, spans in order
        first = np.concatenate([base[self.text] + self.start, base[empty]])[order]  # (pieces,) first code point
        size = np.concatenate([self.end - self.start, np.zeros(len(empty), np.int64)])[order]  # (pieces,)
        last_of_text = np.append(text[1:] != text[:-1], True)  # (pieces,)
        out_len = size + 1  # (pieces,) each piece and the space or newline after it
        out_end = np.cumsum(out_len)  # (pieces,) exclusive
        out = np.empty(int(out_end[-1]) if len(out_end) else 0, dtype=np.uint32)  # (out,) code points
        is_char = np.ones(len(out), dtype=bool)  # (out,) false at each space and newline
        is_char[out_end - 1] = False
        out[out_end - 1] = np.where(last_of_text, NEWLINE, SPACE)
        source = np.arange(len(out)) - np.repeat(out_end - out_len - first, out_len)  # (out,) code point each output copies
        out[is_char] = cps[source[is_char]]
        return out.tobytes().decode("utf-32-le", "surrogatepass")
