"""An open-addressing hash table of uint64 keys, looked up for a whole array of keys at once.

Tagging looks up every character's bigram and every lexicon match: a binary search over
sorted keys (numpy's searchsorted) reads about 17 of them per lookup at random, while a table
at most half full with linear probing reads a slot or two. The 883k bigrams of the speed
bench's file, looked up among `cws`'s 111k: 86 ms by searchsorted, 29-55 ms here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_SPREAD = np.uint64(0xBF58476D1CE4E5B9)  # odd: mixes every bit of a key into the top ones, which pick its slot


@dataclass(frozen=True)
class HashTable:
    keys: np.ndarray  # (slots,) uint64; slots a power of two
    values: np.ndarray  # (slots,) unsigned integers; 0 marks an empty slot

    @classmethod
    def of(cls, keys: np.ndarray, values: np.ndarray) -> "HashTable":
        """The table of uint64 `keys` (n,) with their nonzero `values` (n,). Keys are placed in
        rounds, one per free slot a round; a key that finds its slot taken moves one on, so
        every slot between a key's home and its place is full, which `find` relies on. A key
        given twice is found with its first value, the one placed nearer its home (not
        refused: checking for repeats took as long as building the table)."""
        if not values.all():
            raise ValueError("a hash table's values must be nonzero: 0 marks an empty slot")
        size = 2 << max(len(keys) - 1, 0).bit_length()  # >= 2n
        table = cls(np.zeros(size, dtype=np.uint64), np.zeros(size, dtype=values.dtype))
        todo, slot = np.arange(len(keys)), table._home(keys)  # (n,) each
        while len(todo):
            free = np.flatnonzero(table.values[slot] == 0)
            taken, first = np.unique(slot[free], return_index=True)
            table.keys[taken], table.values[taken] = keys[todo[free[first]]], values[todo[free[first]]]
            left = np.ones(len(todo), dtype=bool)
            left[free[first]] = False
            todo, slot = todo[left], (slot[left] + 1) & (size - 1)
        return table

    @property
    def well_formed(self) -> bool:
        """Whether the arrays could be a table `of` made: what a table read from a file must be."""
        n = self.keys.shape
        sized = len(n) == 1 and self.values.shape == n and n[0] >= 2 and n[0] & (n[0] - 1) == 0  # a power of two
        return self.keys.dtype == np.uint64 and self.values.dtype.kind == "u" and sized and not self.values.all()  # an empty slot ends every probe

    def _home(self, keys: np.ndarray) -> np.ndarray:
        """(m,) int64 first slot of each key: the top bits of its product with an odd constant."""
        return ((keys * _SPREAD) >> np.uint64(65 - len(self.keys).bit_length())).astype(np.int64)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """(m,) the value of each of the uint64 `keys`, 0 for a key not in the table."""
        found = np.zeros(len(keys), dtype=self.values.dtype)  # (m,)
        todo, slot = np.arange(len(keys)), self._home(keys)  # (m,) each
        while len(todo):
            values = self.values[slot]
            hit = self.keys[slot] == keys[todo]
            found[todo[hit]] = values[hit]
            on = ~hit & (values != 0)  # neither the key nor an empty slot yet
            todo, slot = todo[on], (slot[on] + 1) & (len(self.keys) - 1)
        return found

    @property
    def members(self) -> np.ndarray:
        """(n,) uint64 the keys in the table."""
        return self.keys[self.values != 0]
