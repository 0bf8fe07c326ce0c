"""Word vectors of the lexicon words around each character (SoftLexicon, Ma et al. 2020).

The lexicon flags say only that some word begins, continues or ends at a character; an entity
model also gains from knowing which words: 中国 beginning at 中 reads differently from 中介.
Each character gets, for each of its three word sets (the words it begins, lies inside, ends),
the sum of their pretrained vectors weighted by word frequency, all three divided by the
total weight of the character's words, as the paper pools them. The vectors stay as
pretrained (the network learns how to read them), so these are input features computed with
the lexicon flags, and a word the table lacks, such as a user dictionary's, adds nothing here.
"""
from __future__ import annotations

import numpy as np
import torch

from data.lexicon import word_hashes

SETS = 3  # the words a character begins, lies strictly inside, ends


class SoftLexicon:
    def __init__(self, words: list[str], vectors: torch.Tensor, weights: torch.Tensor) -> None:
        """`vectors` (words, dim) and `weights` (words,) float32 belong to `words` row by row."""
        hashes = word_hashes(words)  # (words,)
        self._order = np.argsort(hashes)  # (words,): row of each sorted hash
        self._hashes = hashes[self._order]  # (words,) sorted
        self.vectors, self.weights = vectors, weights
        self._weighted = vectors * weights[:, None]  # (words, dim)

    @property
    def width(self) -> int:
        """Feature columns per character."""
        return SETS * self.vectors.shape[1]

    def features(self, n: int, occurrences: tuple[np.ndarray, np.ndarray, np.ndarray], out: np.ndarray | None = None) -> np.ndarray:
        """(n, width) float32 pooled vectors of the word occurrences (starts, ends, hashes) that
        `Lexicon.occurrences` found in n code points: begins, inside, ends. Taking them rather
        than matching again lets the encoder match the lexicon once for its flags and these.
        Written into `out` (zeros, possibly a column slice of a wider array) when given, so that
        a 150,000-character chunk needs no second array of its width."""
        out = np.zeros((n, self.width), dtype=np.float32) if out is None else out
        starts, ends, rows = self._known(*occurrences)  # (m,) each
        inner = ends - starts - 2  # (m,) characters strictly inside each occurrence
        of = np.repeat(np.arange(len(starts)), inner)  # (inside,) occurrence of each inside character
        at = starts[of] + 1 + np.arange(len(of)) - np.repeat(np.cumsum(inner) - inner, inner)  # (inside,)
        sets = torch.from_numpy(out).view(n, SETS, self.vectors.shape[1])  # (n, 3, dim), a view of `out`
        total = torch.zeros(n)  # (n,)
        for k, (chars, words) in enumerate([(starts, rows), (at, rows[of]), (ends - 1, rows)]):
            chars, words = torch.from_numpy(chars), torch.from_numpy(words)  # (hits,) each
            sets[:, k].index_add_(0, chars, self._weighted[words])
            total.index_add_(0, chars, self.weights[words])
        sets.div_(total.clamp_min(1e-9)[:, None, None])
        return out

    def _known(self, starts: np.ndarray, ends: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, table rows) of the occurrences whose word has a vector."""
        if not len(self._hashes):
            return starts[:0], ends[:0], starts[:0]
        at = np.searchsorted(self._hashes, hashes).clip(max=len(self._hashes) - 1)  # (m,)
        known = self._hashes[at] == hashes
        return starts[known], ends[known], self._order[at[known]]
