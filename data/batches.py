"""Turning texts into model inputs: per-character ids and flags, padded into batches.

Batches are grouped by length (a character budget per batch) because LSTM cost follows the
longest sentence of a batch; sorting within shuffled pools keeps epochs random yet dense.
"""
from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from data.lexicon import FEATURES, Lexicon
from data.text import fold
from data.vocab import UNK_ID, Vocab

BOS, EOS = "\x02", "\x03"


@dataclass(frozen=True)
class Features:
    chars: list[int]
    bigrams: list[tuple[int, int]]  # (left, right) bigram ids
    lexicon: list[tuple[int, int, int]]


@dataclass
class Batch:
    chars: torch.Tensor  # (batch, seq) long
    bigrams: torch.Tensor  # (batch, seq, 2) long
    lexicon: torch.Tensor  # (batch, seq, FEATURES) float
    lengths: torch.Tensor  # (batch,) long, on CPU as pack_padded_sequence needs
    tags: torch.Tensor | None  # (batch, seq) long

    @property
    def mask(self) -> torch.Tensor:
        """(batch, seq) bool, True on real characters."""
        return torch.arange(self.chars.shape[1])[None, :] < self.lengths[:, None]

    def to(self, device: torch.device) -> "Batch":
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return Batch(move(self.chars), move(self.bigrams), move(self.lexicon), self.lengths, move(self.tags))


def bigram_strings(text: str) -> list[tuple[str, str]]:
    """(left, right) folded bigrams of every character, with sentence-boundary marks."""
    return _bigrams_of_folded(fold(text))


def _bigrams_of_folded(folded: str) -> list[tuple[str, str]]:
    padded = BOS + folded + EOS
    return [(padded[i : i + 2], padded[i + 1 : i + 3]) for i in range(len(folded))]


class Encoder:
    def __init__(self, chars: Vocab, bigrams: Vocab, lexicon: Lexicon | None) -> None:
        self.chars, self.bigrams, self.lexicon = chars, bigrams, lexicon

    def encode(self, text: str, extra: Lexicon | None = None) -> Features:
        """Features of `text`; `extra` words (a user dictionary) add to the lexicon flags."""
        char_id, bigram_id = self.chars.index.get, self.bigrams.index.get  # dict lookups: the hot path
        folded = fold(text)
        char_ids = [char_id(ch, UNK_ID) for ch in folded]
        bigram_ids = [(bigram_id(left, UNK_ID), bigram_id(right, UNK_ID)) for left, right in _bigrams_of_folded(folded)]
        flags = self.lexicon.features(text, extra) if self.lexicon else [(0, 0, 0)] * len(text)
        return Features(char_ids, bigram_ids, flags)


def collate(items: Sequence[Features], tags: Sequence[Sequence[int]] | None = None) -> Batch:
    """Pad to the longest item; padding ids are 0 and masked out downstream."""
    size, width = len(items), max(len(f.chars) for f in items)
    chars = torch.zeros(size, width, dtype=torch.long)
    bigrams = torch.zeros(size, width, 2, dtype=torch.long)
    lexicon = torch.zeros(size, width, FEATURES)
    tag_ids = torch.zeros(size, width, dtype=torch.long) if tags is not None else None
    for row, feats in enumerate(items):
        n = len(feats.chars)
        chars[row, :n] = torch.tensor(feats.chars)
        bigrams[row, :n] = torch.tensor(feats.bigrams)
        lexicon[row, :n] = torch.tensor(feats.lexicon, dtype=torch.float)
        if tag_ids is not None:
            tag_ids[row, :n] = torch.tensor(tags[row])
    lengths = torch.tensor([len(f.chars) for f in items])
    return Batch(chars, bigrams, lexicon, lengths, tag_ids)


def length_batches(lengths: Sequence[int], max_chars: int, rng: random.Random | None = None) -> list[list[int]]:
    """Index lists whose padded size (count x longest) stays within `max_chars`.

    Without `rng` (tagging) items are sorted by length and batches mix nearby lengths. With
    `rng` (training) each batch holds one exact length, in random order: torch's CPU LSTM
    backward over packed sequences grows quadratically with length, and equal lengths need
    no packing at all.
    """
    if rng is None:
        return _fill(sorted(range(len(lengths)), key=lengths.__getitem__), lengths, max_chars)
    groups: dict[int, list[int]] = defaultdict(list)
    for i, n in enumerate(lengths):
        groups[n].append(i)
    batches = []
    for n in sorted(groups):
        rng.shuffle(groups[n])
        batches.extend(_fill(groups[n], lengths, max_chars))
    rng.shuffle(batches)
    return batches


def _fill(order: list[int], lengths: Sequence[int], max_chars: int) -> list[list[int]]:
    """Greedy batches over `order`, which must be sorted by length."""
    batches: list[list[int]] = [[]]
    for i in order:
        if batches[-1] and (len(batches[-1]) + 1) * lengths[i] > max_chars:
            batches.append([])
        batches[-1].append(i)
    return batches if batches[0] else []
