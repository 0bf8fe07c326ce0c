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

from data.hashtable import HashTable
from data.lexicon import word_hashes

SETS = 3  # the words a character begins, lies strictly inside, ends


class SoftLexicon:
    def __init__(self, words: list[str], vectors: torch.Tensor, weights: torch.Tensor) -> None:
        """`vectors` (words, dim) and `weights` (words,) float32 belong to `words` row by row."""
        self._rows = HashTable.of(word_hashes(words), np.arange(1, len(words) + 1, dtype=np.uint32))  # hash -> row + 1
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
            sets[:, k].index_put_((chars,), self._weighted[words], accumulate=True)  # on CPU 1.5-3x faster than index_add_ into these strided columns
            total.index_put_((chars,), self.weights[words], accumulate=True)
        sets.div_(total.clamp_min(1e-9)[:, None, None])
        return out

    def _known(self, starts: np.ndarray, ends: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, table rows) of the occurrences whose word has a vector."""
        rows = self._rows.find(hashes).astype(np.int64) - 1  # (m,) -1 where the word has no vector
        known = rows >= 0
        return starts[known], ends[known], rows[known]
