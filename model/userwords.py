"""Made-up user dictionaries, drawn afresh each epoch, for a model that flags a user's words.

A model with user flags never sees a real user's dictionary in training; these samples of the
training sentences' own words (and a few wrong ones) are what teach it to follow such flags.
Apart from the training loop because the sampling has invariants of its own (a word never
crosses a sentence; separators are never flagged) that its test checks alone.
"""
from __future__ import annotations

import numpy as np

from data.batches import Encoded
from data.corpus import Sentence
from data.lexicon import marks


class UserWords:
    """Made-up user dictionaries for a model with user flags: each epoch, about half the
    sentences get one holding some of their own words, plus a few wrong words (real words
    shifted by a character), so the model learns to follow a user's words, yet weigh them."""

    SHARE_WITH_DICTIONARY, SHARE_OF_WORDS, SHARE_WRONG = 0.5, 0.3, 0.1

    def __init__(self, train: list[Sentence], encoded: Encoded) -> None:
        rows = [(encoded.starts[i] + s.start, encoded.starts[i] + s.end, i) for i, sentence in enumerate(train) for s in sentence.spans if s.end - s.start > 1]
        self.starts, self.ends, self.sentence = (np.array([r[k] for r in rows], dtype=np.int64) for k in range(3))  # (words,) each
        self.owner = np.full(len(encoded.chars), -1, dtype=np.int64)  # (rows,): sentence of each character row
        real = np.arange(len(encoded.chars) - 1)
        piece = np.repeat(np.arange(len(encoded.lengths)), encoded.lengths + 1)
        inside = real - encoded.starts[piece] < encoded.lengths[piece]
        self.owner[real[inside]] = piece[inside]
        self.sentences = len(encoded.lengths)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """(rows, FEATURES) flags of this epoch's user dictionaries."""
        chosen = (rng.random(self.sentences) < self.SHARE_WITH_DICTIONARY)[self.sentence] & (rng.random(len(self.starts)) < self.SHARE_OF_WORDS)  # (words,)
        starts, ends = self.starts[chosen], self.ends[chosen]  # (chosen,) each
        wrong = rng.random(len(starts)) < self.SHARE_WRONG  # (chosen,)
        shift = rng.choice(np.array([-1, 1]), size=int(wrong.sum()))  # (wrong,)
        moved_starts, moved_ends = starts[wrong] + shift, ends[wrong] + shift  # (wrong,) each
        same = (self.owner[moved_starts] == self.owner[starts[wrong]]) & (self.owner[moved_ends - 1] == self.owner[starts[wrong]])  # (wrong,)
        starts = np.concatenate([starts, moved_starts[same]])  # (chosen + kept wrong,)
        ends = np.concatenate([ends, moved_ends[same]])  # (chosen + kept wrong,)
        return marks(len(self.owner), starts, ends)
