"""Runs of text that are one word whatever their context: web and e-mail addresses.

The corpora hold almost none (People's Daily, 1998, has one web address, written as one word),
so a model cuts them at every dot and slash, and no reader wants `https`, `:` and
`//www.example.com/path` back. Segmentation keeps each one whole by constraining the Viterbi
path, as `force` does for dictionary words. Full-width forms (ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ)
count as their ASCII twins.
"""
from __future__ import annotations

import re

from data.fullwidth import HALF_WIDTH

_HINT = re.compile("//|@|ww|WW|／／|＠|ｗｗ|ＷＷ")  # every address has one: most pieces are passed over after this scan
_URL = re.compile(r"(?:(?:https?|ftp)://|www\.)[\w\-.~:/?#\[\]@!$&'()*+,;=%]*[\w/#=&~\-+%]", re.IGNORECASE | re.ASCII)
_EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}", re.ASCII)


def atom_spans(piece: str) -> list[tuple[int, int]]:
    """(start, end) of each web or e-mail address in `piece`, in order, none overlapping:
    where two overlap (an address inside a web address) the one that begins first, or the
    longer, is kept. An address never ends in punctuation (a full stop after it is not its)."""
    if not _HINT.search(piece):
        return []
    text = piece.translate(HALF_WIDTH)
    found = sorted((m.span() for pattern in (_URL, _EMAIL) for m in pattern.finditer(text)), key=lambda s: (s[0], -s[1]))
    kept: list[tuple[int, int]] = []
    for start, end in found:
        if not kept or start >= kept[-1][1]:
            kept.append((start, end))
    return kept
