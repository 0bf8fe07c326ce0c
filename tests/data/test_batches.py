"""Specification of data/batches.py: features of a text, padding into a batch with its mask, and
length-grouped batches that keep within the character budget and cover every item once."""
from __future__ import annotations

import random

import torch
from hypothesis import given
from hypothesis import strategies as st

from data.batches import BOS, EOS, Encoder, Features, bigram_strings, collate, length_batches
from data.lexicon import Lexicon
from data.vocab import PAD, UNK, Vocab


def features(n: int, base: int = 2) -> Features:
    return Features(
        chars=[base + i for i in range(n)],
        bigrams=[(base + i, base + i + 1) for i in range(n)],
        lexicon=[(1, 0, i % 2) for i in range(n)],
    )


def test_collate_pads_every_row_to_the_longest_with_zeros() -> None:
    items = [features(3), features(1, base=7), features(2, base=4)]
    batch = collate(items, tags=[[1, 2, 3], [4], [5, 6]])
    assert batch.chars.tolist() == [[2, 3, 4], [7, 0, 0], [4, 5, 0]]
    assert batch.bigrams.shape == (3, 3, 2)
    assert batch.bigrams[1].tolist() == [[7, 8], [0, 0], [0, 0]]
    assert batch.lexicon.dtype == torch.float and batch.lexicon.shape == (3, 3, 3)
    assert batch.lexicon[2].tolist() == [[1.0, 0.0, 0.0], [1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    assert batch.lengths.tolist() == [3, 1, 2]
    assert batch.tags.tolist() == [[1, 2, 3], [4, 0, 0], [5, 6, 0]]


def test_mask_is_true_exactly_on_real_characters() -> None:
    batch = collate([features(3), features(1), features(2)])
    assert batch.mask.tolist() == [[True, True, True], [True, False, False], [True, True, False]]
    assert batch.tags is None


def test_bigrams_of_a_text_are_folded_and_marked_at_the_boundaries() -> None:
    assert bigram_strings("北京") == [(BOS + "北", "北京"), ("北京", "京" + EOS)]
    assert bigram_strings("Ａ1") == [(BOS + "a", "a0"), ("a0", "0" + EOS)]


def test_encoder_looks_up_folded_characters_and_sends_unknowns_to_unk() -> None:
    chars = Vocab(["北", "京", "0"])
    bigrams = Vocab([BOS + "北", "北京"])
    encoded = Encoder(chars, bigrams, Lexicon(["北京"])).encode("北京９")
    assert encoded.chars == [chars["北"], chars["京"], chars["0"]]
    assert chars.tokens[:2] == [PAD, UNK] and chars["龘"] == 1
    assert encoded.bigrams == [(bigrams[BOS + "北"], bigrams["北京"]), (bigrams["北京"], 1), (1, 1)]
    assert encoded.lexicon == [(1, 0, 0), (0, 0, 1), (0, 0, 0)]
    assert Encoder(chars, bigrams, None).encode("北京").lexicon == [(0, 0, 0), (0, 0, 0)]


def check_batches(batches: list[list[int]], lengths: list[int], max_chars: int) -> None:
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert batch, "no empty batch"
        longest = max(lengths[i] for i in batch)
        assert len(batch) * longest <= max_chars or len(batch) == 1, (batch, [lengths[i] for i in batch])


LENGTHS = st.lists(st.integers(1, 40), max_size=60)
BUDGET = st.integers(1, 200)


@given(LENGTHS, BUDGET)
def test_tagging_batches_cover_every_item_once_within_the_budget(lengths: list[int], max_chars: int) -> None:
    batches = length_batches(lengths, max_chars)
    check_batches(batches, lengths, max_chars)
    order = [lengths[i] for batch in batches for i in batch]
    assert order == sorted(order), "tagging batches follow length order"


@given(LENGTHS, BUDGET, st.integers(0, 2**32))
def test_training_batches_hold_one_exact_length_each(lengths: list[int], max_chars: int, seed: int) -> None:
    batches = length_batches(lengths, max_chars, random.Random(seed))
    check_batches(batches, lengths, max_chars)
    for batch in batches:
        assert len({lengths[i] for i in batch}) == 1, [lengths[i] for i in batch]


@given(LENGTHS, BUDGET, st.integers(0, 2**32))
def test_training_batches_depend_on_the_seed_alone(lengths: list[int], max_chars: int, seed: int) -> None:
    assert length_batches(lengths, max_chars, random.Random(seed)) == length_batches(
        lengths, max_chars, random.Random(seed)
    )


def test_training_batches_come_in_a_seeded_random_order() -> None:
    lengths = [n for n in range(1, 21) for _ in range(3)]
    orders = {tuple(map(tuple, length_batches(lengths, 30, random.Random(seed)))) for seed in range(5)}
    assert len(orders) == 5
    for order in orders:
        firsts = [lengths[batch[0]] for batch in order]
        assert firsts != sorted(firsts), "not in length order"


def test_batches_are_filled_up_to_the_budget() -> None:
    assert length_batches([2, 2, 2, 2, 2], 6) == [[0, 1, 2], [3, 4]]
    assert length_batches([10, 1], 5) == [[1], [0]]  # an item over budget still gets a batch
    assert length_batches([], 100) == []
