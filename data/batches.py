"""Turning texts into model inputs: per-character ids and flags, padded into batches.

Batches are grouped by length (a character budget per batch) because LSTM cost follows the
longest sentence of a batch; sorting within shuffled pools keeps epochs random yet dense.
"""
from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import torch

from data.hashtable import HashTable
from data.lexicon import FEATURES, Lexicon, marks
from data.softlexicon import SETS, SoftLexicon
from data.text import codepoints, fold, fold_codepoints
from data.vocab import UNK_ID, Vocab

BOS, EOS = "\x02", "\x03"


def flag_width(user_flags: bool, gazetteers: int, word_dim: int = 0) -> int:
    """Lexicon features per character: the lexicon's flags, then the user dictionary's when
    apart from them, then each gazetteer's (see `ModelConfig.gazetteers`), then the pooled
    vectors of its words (`data.softlexicon`), if any."""
    return FEATURES * (1 + user_flags + gazetteers) + SETS * word_dim


@dataclass
class Batch:
    chars: torch.Tensor  # (batch, seq) long
    bigrams: torch.Tensor  # (batch, seq, 2) long
    lexicon: torch.Tensor  # (batch, seq, features) float: see `flag_width`
    lengths: torch.Tensor  # (batch,) long, on CPU as pack_padded_sequence needs
    tags: torch.Tensor | None  # (batch, seq) long

    @property
    def mask(self) -> torch.Tensor:
        """(batch, seq) bool, True on real characters."""
        return torch.arange(self.chars.shape[1])[None, :] < self.lengths[:, None]

    def to(self, device: torch.device) -> "Batch":
        """On a GPU the copies go through pinned memory, so they overlap the work queued before."""
        pinned = device.type == "cuda"
        move = lambda t: None if t is None else (t.pin_memory() if pinned else t).to(device, non_blocking=pinned)  # noqa: E731
        return Batch(move(self.chars), move(self.bigrams), move(self.lexicon), self.lengths, move(self.tags))


@dataclass(frozen=True)
class Encoded:
    """Features of many pieces laid end to end in columns, each piece followed by one
    separator row, so that encoding and batching are array operations rather than a Python
    step per character. The last row is all zeros: padding points there."""

    chars: np.ndarray  # (rows,) int64
    bigrams: np.ndarray  # (rows, 2) int64
    lexicon: np.ndarray  # (rows, features) float32
    starts: np.ndarray  # (pieces,) int64: first row of each piece
    lengths: np.ndarray  # (pieces,) int64
    tags: np.ndarray | None = None  # (rows,) int64, for training

    def batch(self, index: Sequence[int]) -> Batch:
        """The pieces `index`, padded to the longest of them with the zero row."""
        index = np.asarray(index)
        lengths = self.lengths[index]  # (batch,)
        steps = np.arange(lengths.max())  # (width,)
        rows = np.where(steps[None, :] < lengths[:, None], self.starts[index, None] + steps[None, :], len(self.chars) - 1)  # (batch, width)
        take = lambda column: torch.from_numpy(column[rows])  # noqa: E731
        tags = None if self.tags is None else take(self.tags)
        return Batch(take(self.chars), take(self.bigrams), take(self.lexicon), torch.from_numpy(lengths), tags)


def bigram_strings(text: str) -> list[tuple[str, str]]:
    """(left, right) folded bigrams of every character, with sentence-boundary marks."""
    padded = BOS + fold(text) + EOS
    return [(padded[i : i + 2], padded[i + 1 : i + 3]) for i in range(len(text))]


def _pair_keys(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """One uint64 per pair of code points (each below 2**21), as `Encoder` keys bigrams."""
    return (left.astype(np.uint64) << np.uint64(21)) | right.astype(np.uint64)


class Encoder:
    """Maps texts to feature ids with lookup tables: code point -> character id, and a hash
    table of code-point pairs -> bigram id."""

    def __init__(
        self, chars: Vocab, bigrams: Vocab, lexicon: Lexicon | None, user_flags: bool = False,
        gazetteers: Mapping[str, Lexicon] | None = None, soft: SoftLexicon | None = None, mute_vectors: bool = False,
    ) -> None:
        """`user_flags`: a user dictionary's words get flags of their own, after the lexicon's,
        rather than adding to its flags (see `ModelConfig.user_flags`). Each of `gazetteers`
        (lexicons of one kind of name, by POS tag prefix) flags its words in columns of its
        own, after those; a user dictionary's words tagged with that prefix join them. `soft`
        pools the vectors of the lexicon's words in the last columns; with `mute_vectors` they
        are zeros wherever a user dictionary's word lies, so the user's word is not outweighed
        by the vectors of the jieba words it overrides (see `ModelConfig.user_words_mute_vectors`)."""
        self.chars, self.bigrams, self.lexicon, self.user_flags, self.gazetteers = chars, bigrams, lexicon, user_flags, dict(gazetteers or {})
        self.soft, self.mute_vectors = soft, mute_vectors and soft is not None
        self._char_ids = np.full(0x110000, UNK_ID, dtype=np.int32)  # (code points,)
        singles = [(ord(t), i) for t, i in chars.index.items() if len(t) == 1]
        if singles:
            self._char_ids[[c for c, _ in singles]] = [i for _, i in singles]
        lengths = np.fromiter(map(len, bigrams.tokens), dtype=np.int64, count=len(bigrams))  # (tokens,)
        pairs = np.flatnonzero(lengths == 2)  # (pairs,) ids of code-point pairs: the specials are longer, and first, so ids > 0
        first = (np.cumsum(lengths) - lengths)[pairs]  # (pairs,) where each pair begins in the joined tokens
        points = codepoints("".join(bigrams.tokens))  # (total,)
        self._bigram_table = HashTable.of(_pair_keys(points[first], points[first + 1]), pairs.astype(np.uint32))

    def encode(self, pieces: Sequence[str], extras: Sequence[Lexicon | None] | None = None,
               tags: Sequence[Sequence[int]] | None = None) -> Encoded:
        """Features of `pieces` (no whitespace inside any); `extras[i]` (a user dictionary)
        adds to the lexicon flags of piece i; `tags` are the gold tag ids, for training."""
        lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))  # (pieces,)
        starts = np.cumsum(lengths + 1) - lengths - 1  # (pieces,)
        joined = "".join(piece + "\n" for piece in pieces) + "\n"  # the final separator is the padding row
        cps = codepoints(joined)  # (rows,)
        folded = fold_codepoints(cps)  # (rows,)
        chars = self._char_ids[folded].astype(np.int64)  # (rows,)
        bigrams = self._bigrams(folded, starts, lengths)  # (rows, 2)
        lexicon = self._lexicon(cps, lengths, extras)  # (rows, flags)
        gold = None
        if tags is not None:
            gold = np.zeros(len(joined), dtype=np.int64)
            gold[:-1] = np.fromiter(chain.from_iterable((*t, 0) for t in tags), dtype=np.int64, count=len(joined) - 1)
        chars[-1], bigrams[-1], lexicon[-1] = 0, 0, 0
        return Encoded(chars, bigrams, lexicon, starts, lengths, gold)

    def _bigrams(self, folded: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """(rows, 2) ids of each character's left and right bigram: the right one of a
        character is the left one of the next, except at piece boundaries (BOS, EOS)."""
        following = np.append(folded[1:], ord(EOS))  # (rows,)
        ends = (starts + lengths - 1)[lengths > 0]
        following[ends] = ord(EOS)
        right = self._bigram_ids_of(_pair_keys(folded, following))  # (rows,)
        left = np.roll(right, 1)  # (rows,)
        firsts = starts[lengths > 0]
        left[firsts] = self._bigram_ids_of(_pair_keys(np.full(len(firsts), ord(BOS)), folded[firsts]))
        return np.stack([left, right], axis=1)

    def _bigram_ids_of(self, keys: np.ndarray) -> np.ndarray:
        ids = self._bigram_table.find(keys).astype(np.int64)  # (n,) 0 where not a bigram of the vocabulary
        ids[ids == 0] = UNK_ID
        return ids

    def _lexicon(self, cps: np.ndarray, lengths: np.ndarray, extras: Sequence[Lexicon | None] | None) -> np.ndarray:
        """Lexicon flags of every row, then each user dictionary's flags on the pieces that
        bring it: in flags of their own when the model has them, else added to the lexicon's
        (flags of a union of words are the union of their flags). Only a dictionary that
        excludes words has the lexicon matched again on its pieces."""
        flags = np.zeros((len(cps), self.width), dtype=np.float32)  # (rows, width)
        if self.lexicon is None:
            return flags
        found = self.lexicon.occurrences(cps)
        flags[:, :FEATURES] = marks(len(cps), *found[:2])
        if self.soft is not None:
            self.soft.features(len(cps), found, out=flags[:, self.soft_columns])
        for columns, gazetteer in zip(self._gazetteer_columns(), self.gazetteers.values()):
            flags[:, columns] = gazetteer.flags(cps)
        owner = np.append(np.repeat(np.arange(len(lengths)), lengths + 1), -1)  # (rows,): piece of each row
        for extra in {id(e): e for e in extras or () if e is not None}.values():
            brings = np.array([e is extra for e in extras] + [False])  # (pieces + 1,)
            rows = np.flatnonzero(brings[owner])
            if extra.excluded:
                found = self.lexicon.occurrences(cps[rows], extra)
                flags[rows, :FEATURES] = marks(len(rows), *found[:2])
                if self.soft is not None:
                    flags[rows, self.soft_columns] = self.soft.features(len(rows), found)
            own = self.user_columns
            flags[rows, own] = np.maximum(flags[rows, own], marks(len(rows), *extra.hits(cps[rows])))
            if self.mute_vectors:
                flags[rows[flags[rows, own].any(axis=1)], self.soft_columns] = 0
            for columns, (prefix, gazetteer) in zip(self._gazetteer_columns(), self.gazetteers.items()):
                if extra.excluded:
                    flags[rows, columns] = marks(len(rows), *gazetteer.hits(cps[rows], extra))
                if extra.tags:  # an untagged dictionary, the usual kind, builds no lexicon here
                    flags[rows, columns] = np.maximum(flags[rows, columns], marks(len(rows), *extra.tagged(prefix).hits(cps[rows])))
        return flags

    @property
    def user_columns(self) -> slice:
        """The flags a user dictionary's words set: their own, or the lexicon's."""
        return slice(FEATURES, 2 * FEATURES) if self.user_flags else slice(0, FEATURES)

    def _gazetteer_columns(self) -> list[slice]:
        return [slice(flag_width(self.user_flags, i), flag_width(self.user_flags, i + 1)) for i in range(len(self.gazetteers))]

    @property
    def soft_columns(self) -> slice:
        return slice(flag_width(self.user_flags, len(self.gazetteers)), self.width)

    @property
    def width(self) -> int:
        return flag_width(self.user_flags, len(self.gazetteers)) + (self.soft.width if self.soft is not None else 0)


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
