"""Specification of data/hashtable.py: an array of keys looks up the value of each key in
the table, 0 for the others, however the keys' home slots collide."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from data.hashtable import HashTable

KEYS = st.lists(st.integers(0, 2**64 - 1), unique=True, max_size=300)


@given(KEYS, st.lists(st.integers(0, 2**64 - 1), max_size=100))
def test_every_key_finds_its_value_and_every_other_key_zero(keys: list[int], others: list[int]) -> None:
    values = np.arange(1, len(keys) + 1, dtype=np.uint32)
    table = HashTable.of(np.array(keys, dtype=np.uint64), values)
    assert table.find(np.array(keys, dtype=np.uint64)).tolist() == values.tolist()
    strangers = [k for k in others if k not in set(keys)]
    assert not table.find(np.array(strangers, dtype=np.uint64)).any()
    assert sorted(table.members.tolist()) == sorted(keys)
    assert table.well_formed


def test_keys_that_share_a_home_slot_probe_on_to_their_own() -> None:
    crowd = np.arange(1000, dtype=np.uint64)
    homes = HashTable(np.zeros(8, np.uint64), np.zeros(8, np.uint8))._home(crowd)  # 8 slots, as for 3 keys
    same = crowd[homes == homes[0]][:3]
    assert len(same) == 3
    table = HashTable.of(same, np.array([7, 8, 9], dtype=np.uint8))
    assert table.find(same).tolist() == [7, 8, 9]


def test_a_table_keeps_the_dtype_of_its_values() -> None:
    table = HashTable.of(np.array([3, 4], dtype=np.uint64), np.array([1, 2], dtype=np.uint8))
    assert table.find(np.array([4, 9], dtype=np.uint64)).dtype == np.uint8


def test_zero_values_are_refused_as_they_mark_empty_slots() -> None:
    with pytest.raises(ValueError, match="must be nonzero"):
        HashTable.of(np.array([1, 2], dtype=np.uint64), np.array([1, 0], dtype=np.uint8))


def test_a_key_given_twice_finds_its_first_value() -> None:
    table = HashTable.of(np.array([4, 9, 4], dtype=np.uint64), np.array([1, 2, 3], dtype=np.uint8))
    assert table.find(np.array([4, 9], dtype=np.uint64)).tolist() == [1, 2]


@pytest.mark.parametrize(
    "keys, values",
    [
        (np.zeros(6, np.uint64), np.zeros(6, np.uint8)),  # not a power of two
        (np.zeros(4, np.uint64), np.ones(4, np.uint8)),  # no empty slot: a probe would never end
        (np.zeros(4, np.int64), np.zeros(4, np.uint8)),  # signed keys
        (np.zeros(4, np.uint64), np.zeros(4, np.float32)),  # values not unsigned integers
        (np.zeros(4, np.uint64), np.zeros(8, np.uint8)),  # lengths differ
    ],
)
def test_arrays_no_table_could_have_are_not_well_formed(keys: np.ndarray, values: np.ndarray) -> None:
    assert not HashTable(keys, values).well_formed
