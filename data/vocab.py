"""Vocabularies mapping characters, bigrams and tags to embedding rows.

Stored as plain JSON lists beside a checkpoint, so growing one for fine-tuning only appends.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

PAD, UNK = "<pad>", "<unk>"
SPECIALS = (PAD, UNK)  # the first rows of every vocabulary: padding is row 0, as the embeddings' padding_idx
UNK_ID = 1  # the index of UNK in every vocabulary `Vocab(tokens)` builds


class Vocab:
    def __init__(self, tokens: Iterable[str]) -> None:
        self.tokens: list[str] = list(SPECIALS)
        self.index: dict[str, int] = {tok: i for i, tok in enumerate(self.tokens)}
        self.extend(tokens)

    @classmethod
    def from_counts(cls, counts: Counter[str], min_count: int = 1, max_size: int | None = None) -> "Vocab":
        frequent = [tok for tok, n in counts.most_common(max_size) if n >= min_count]
        return cls(sorted(frequent))

    @classmethod
    def from_list(cls, tokens: list[str]) -> "Vocab":
        """Rebuild exactly the vocabulary that `tokens` lists (specials included)."""
        vocab = cls.__new__(cls)  # no specials: `tokens` lists them where it has them
        vocab.tokens, vocab.index = list(tokens), dict(zip(tokens, range(len(tokens))))
        if len(vocab.index) != len(tokens):
            raise ValueError("a vocabulary lists a token twice")
        return vocab

    def extend(self, tokens: Iterable[str]) -> None:
        for tok in tokens:
            if tok not in self.index:
                self.index[tok] = len(self.tokens)
                self.tokens.append(tok)

    def __len__(self) -> int:
        return len(self.tokens)

    def __getitem__(self, token: str) -> int:
        return self.index.get(token, UNK_ID)
