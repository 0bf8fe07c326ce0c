"""Specification of data/batches.py: features of a text, padding into a batch with its mask, and
length-grouped batches that keep within the character budget and cover every item once."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from data.batches import BOS, EOS, Encoder, bigram_strings, length_batches
from data.formats import read_corpus
from data.jiebadict import jieba_lexicon
from data.lexicon import MAX_WORD_LEN, Lexicon
from data.softlexicon import SoftLexicon
from data.text import codepoints, fold
from data.vocab import PAD, UNK, UNK_ID, Vocab

CORPORA = Path(__file__).resolve().parents[1] / "fixtures" / "corpora"


def test_batch_pads_every_piece_to_the_longest_with_zeros() -> None:
    chars = Vocab(list("北京上海好"))
    encoded = Encoder(chars, Vocab([]), Lexicon(["北京"])).encode(["北京好", "上", "海京"], tags=[[1, 2, 3], [4], [5, 6]])
    batch = encoded.batch([0, 1, 2])
    ids = [chars[ch] for ch in "北京好上海京"]
    assert batch.chars.tolist() == [ids[:3], [ids[3], 0, 0], [ids[4], ids[5], 0]]
    assert batch.bigrams.shape == (3, 3, 2) and batch.bigrams[1, 1:].tolist() == [[0, 0], [0, 0]]
    assert batch.lexicon.dtype == torch.float and batch.lexicon.shape == (3, 3, 3)
    assert batch.lexicon[0].tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    assert batch.lexicon[1:, 1:].abs().sum() == 0
    assert batch.lengths.tolist() == [3, 1, 2]
    assert batch.tags.tolist() == [[1, 2, 3], [4, 0, 0], [5, 6, 0]]


def test_batch_takes_any_pieces_in_any_order() -> None:
    chars = Vocab(list("一二三四五"))
    encoded = Encoder(chars, Vocab([]), None).encode(["一二", "三", "四五"])
    assert encoded.batch([2, 0]).chars.tolist() == [[chars["四"], chars["五"]], [chars["一"], chars["二"]]]
    assert encoded.batch([1]).chars.tolist() == [[chars["三"]]]


def test_mask_is_true_exactly_on_real_characters() -> None:
    batch = Encoder(Vocab([]), Vocab([]), None).encode(["abc", "d", "ef"]).batch([0, 1, 2])
    assert batch.mask.tolist() == [[True, True, True], [True, False, False], [True, True, False]]
    assert batch.tags is None


def test_bigrams_of_a_text_are_folded_and_marked_at_the_boundaries() -> None:
    assert bigram_strings("北京") == [(BOS + "北", "北京"), ("北京", "京" + EOS)]
    assert bigram_strings("Ａ1") == [(BOS + "a", "a0"), ("a0", "0" + EOS)]


def test_encoder_looks_up_folded_characters_and_sends_unknowns_to_unk() -> None:
    chars = Vocab(["北", "京", "0"])
    bigrams = Vocab([BOS + "北", "北京"])
    encoded = Encoder(chars, bigrams, Lexicon(["北京"])).encode(["北京９"])
    assert encoded.batch([0]).chars.tolist() == [[chars["北"], chars["京"], chars["0"]]]
    assert chars.tokens[:2] == [PAD, UNK] and chars["龘"] == 1
    assert encoded.batch([0]).bigrams.tolist() == [[[bigrams[BOS + "北"], bigrams["北京"]], [bigrams["北京"], 1], [1, 1]]]
    assert encoded.batch([0]).lexicon.tolist() == [[[1, 0, 0], [0, 0, 1], [0, 0, 0]]]
    assert Encoder(chars, bigrams, None).encode(["北京"]).batch([0]).lexicon.tolist() == [[[0, 0, 0], [0, 0, 0]]]


def reference_features(encoder: Encoder, text: str, extra: Lexicon | None) -> tuple[list, list, list]:
    """The definition the encoder's array code must meet: one dictionary lookup per
    character and bigram, and a walk over every start and length for the lexicon."""
    folded = fold(text)
    chars = [encoder.chars.index.get(ch, UNK_ID) for ch in folded]
    bigrams = [[encoder.bigrams.index.get(b, UNK_ID) for b in pair] for pair in bigram_strings(text)]
    flags = [[0, 0, 0] for _ in text]
    excluded = extra.excluded if extra else frozenset()
    for lexicon, skip in ((encoder.lexicon, excluded), (extra, frozenset())):
        for start in range(len(text)) if lexicon else ():
            for end in range(start + 2, min(len(text), start + MAX_WORD_LEN) + 1):
                if text[start:end] in lexicon.words and text[start:end] not in skip:
                    flags[start][0] = flags[end - 1][2] = 1
                    for i in range(start + 1, end - 1):
                        flags[i][1] = 1
    return chars, bigrams, flags


ALPHABET = "北京大学生天安门广场上海市Ａ1a \u3000。"
LEXICON = Lexicon(["北京", "北京大学", "大学生", "天安门广场", "门广", "上海", "上海市", "Ａ1", "学生"])
EXCLUDING = Lexicon(["市Ａ"], excluded=["上海市", "北京"])
PIECES = st.lists(st.text(ALPHABET, min_size=1, max_size=30).map(lambda t: t.replace(" ", "")).filter(bool), min_size=1, max_size=8)


@given(PIECES, st.sampled_from([None, Lexicon(["生天", "安门"]), Lexicon(["市Ａ"], excluded=["上海市", "北京"])]))
def test_encoder_agrees_with_the_reference_definition_on_any_pieces(pieces: list[str], extra: Lexicon | None) -> None:
    chars = Vocab(list("北京大学生a0"))
    bigrams = Vocab([BOS + "北", "北京", "京大", "学生", "生" + EOS, "a0", "0" + EOS])
    encoder = Encoder(chars, bigrams, LEXICON)
    extras = [extra if i % 2 else None for i in range(len(pieces))]
    batch = encoder.encode(pieces, extras).batch(range(len(pieces)))
    for row, (piece, piece_extra) in enumerate(zip(pieces, extras)):
        want_chars, want_bigrams, want_flags = reference_features(encoder, piece, piece_extra)
        n = len(piece)
        assert batch.chars[row, :n].tolist() == want_chars
        assert batch.bigrams[row, :n].tolist() == want_bigrams
        assert batch.lexicon[row, :n].tolist() == want_flags, piece


@given(PIECES, st.sampled_from([None, Lexicon(["生天"]), EXCLUDING]))
@example(["天安门广场", "北京上海市的大学生"], EXCLUDING)  # the second piece, with the dictionary, loses 北京 and 上海市
def test_pooled_word_vectors_of_each_piece_are_its_own_whatever_it_is_encoded_with(pieces: list[str], extra: Lexicon | None) -> None:
    words = ["北京", "大学生", "天安门广场", "上海市", "学生"]  # LEXICON's 门广, 上海, ... have no vector
    soft = SoftLexicon(words, torch.randn(5, 3, generator=torch.Generator().manual_seed(0)), torch.arange(1.0, 6.0))
    extras = [extra if i % 2 else None for i in range(len(pieces))]
    batch = Encoder(Vocab([]), Vocab([]), LEXICON, soft=soft).encode(pieces, extras).batch(range(len(pieces)))
    assert batch.lexicon.shape[-1] == 3 + soft.width
    for row, (piece, piece_extra) in enumerate(zip(pieces, extras)):
        alone = soft.features(len(piece), LEXICON.occurrences(codepoints(piece), piece_extra))  # (n, 9)
        assert np.allclose(batch.lexicon[row, : len(piece), 3:].numpy(), alone, atol=1e-6), piece


def test_a_user_word_mutes_the_word_vectors_where_it_lies_when_the_model_was_trained_so() -> None:
    soft = SoftLexicon(["北京", "大学生"], torch.ones(2, 3), torch.ones(2))
    pieces, extras = ["北京大学生", "北京大学生"], [Lexicon(["京大"]), None]

    def vectors(mute: bool) -> torch.Tensor:  # (pieces, chars): whether each character has pooled vectors
        encoder = Encoder(Vocab([]), Vocab([]), LEXICON, user_flags=True, soft=soft, mute_vectors=mute)
        return encoder.encode(pieces, extras).batch([0, 1]).lexicon[:, :5, 6:].any(-1)

    assert vectors(mute=True).tolist() == [[True, False, False, True, True], [True] * 5], "京 and 大 lie in the user's 京大"
    assert vectors(mute=False).tolist() == [[True] * 5] * 2


def test_encoder_agrees_with_the_reference_definition_on_the_fixture_corpora() -> None:
    sentences = [s for path in sorted(CORPORA.glob("tiny.*")) for s in read_corpus(path).sentences]
    texts = [s.text for s in sentences]
    chars = Vocab(sorted({ch for text in texts for ch in fold(text)}))
    bigrams = Vocab(sorted({b for text in texts[::2] for pair in bigram_strings(text) for b in pair}))
    encoder = Encoder(chars, bigrams, jieba_lexicon())
    batch = encoder.encode(texts).batch(range(len(texts)))
    assert len(texts) > 20 and batch.lexicon.sum() > 100, "the fixtures exercise the lexicon"
    for row, text in enumerate(texts):
        want_chars, want_bigrams, want_flags = reference_features(encoder, text, None)
        assert batch.chars[row, : len(text)].tolist() == want_chars
        assert batch.bigrams[row, : len(text)].tolist() == want_bigrams
        assert batch.lexicon[row, : len(text)].tolist() == want_flags, text


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


def test_a_user_dictionary_gets_flags_of_its_own_when_the_model_has_them() -> None:
    chars = Vocab(list("北京大学"))
    together = Encoder(chars, Vocab([]), Lexicon(["北京"])).encode(["北京大学"], [Lexicon(["大学"])])
    apart = Encoder(chars, Vocab([]), Lexicon(["北京"]), user_flags=True).encode(["北京大学"], [Lexicon(["大学"], excluded=["北京"])])
    assert together.batch([0]).lexicon[0].tolist() == [[1, 0, 0], [0, 0, 1], [1, 0, 0], [0, 0, 1]]
    assert apart.batch([0]).lexicon[0].tolist() == [[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 1]]
    plain = Encoder(chars, Vocab([]), Lexicon(["北京"]), user_flags=True).encode(["北京大学"])
    assert plain.batch([0]).lexicon[0, :, 3:].abs().sum() == 0, "no user dictionary, no user flags"


def lexicon_flags(lexicon: Lexicon, text: str, extra: Lexicon) -> list[tuple[int, int, int]]:
    """The lexicon flags a model without flags of the user's own reads of `text` brought with `extra`."""
    flags = Encoder(Vocab([]), Vocab([]), lexicon).encode([text], [extra]).batch([0]).lexicon[0]  # (chars, 3)
    return [tuple(row) for row in flags.int().tolist()]


def test_a_user_dictionarys_words_add_to_the_flags_of_the_lexicon() -> None:
    assert lexicon_flags(Lexicon(["北京"]), "北京上海市", Lexicon(["上海市"])) == [(1, 0, 0), (0, 0, 1), (1, 0, 0), (0, 1, 0), (0, 0, 1)]


def test_words_a_user_dictionary_excludes_are_not_matched_in_the_lexicon_it_extends() -> None:
    base = Lexicon(["北京", "天安门"])
    assert lexicon_flags(base, "北京天安门", Lexicon(excluded=["天安门"])) == [(1, 0, 0), (0, 0, 1)] + [(0, 0, 0)] * 3
    assert lexicon_flags(base, "北京天安门", Lexicon(["安门"], excluded=["天安门"]))[3:] == [(1, 0, 0), (0, 0, 1)]


def test_each_gazetteer_flags_its_words_in_columns_after_the_user_dictionarys() -> None:
    chars = Vocab(list("王明在北京"))
    places, names = Lexicon(["北京"]), Lexicon(["王明"])
    encoded = Encoder(chars, Vocab([]), Lexicon(["北京", "王明"]), user_flags=True, gazetteers={"ns": places, "nr": names}).encode(["王明在北京"], [Lexicon(["在北"])])
    flags = encoded.batch([0]).lexicon[0]  # (5, lexicon 3 + user 3 + places 3 + names 3)
    assert flags.shape == (5, 12)
    assert flags[:, 3:6].tolist() == [[0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 1], [0, 0, 0]], "the user dictionary's 在北"
    assert flags[:, 6:9].tolist() == [[0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 1]], "places: 北京"
    assert flags[:, 9:12].tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0]], "names: 王明"


def test_a_user_dictionarys_tagged_words_join_the_gazetteer_of_their_tag() -> None:
    chars = Vocab(list("王明在新城北京"))
    encoder = Encoder(chars, Vocab([]), Lexicon(["北京"]), gazetteers={"ns": Lexicon(["北京"]), "nr": Lexicon([])})
    user = Lexicon(["新城", "王明"], excluded=["北京"], tags={"新城": "ns"})
    flags = encoder.encode(["王明在新城北京"], [user]).batch([0]).lexicon[0]  # (7, lexicon 3 + ns 3 + nr 3)
    assert flags[:, 3:6].tolist() == [[0, 0, 0]] * 3 + [[1, 0, 0], [0, 0, 1]] + [[0, 0, 0]] * 2, "新城 is a place; 北京 was taken out"
    assert flags[:, 6:9].abs().sum() == 0, "王明 has no tag"
    assert flags[:, :3].tolist()[:2] == [[1, 0, 0], [0, 0, 1]], "王明 is still a word"
