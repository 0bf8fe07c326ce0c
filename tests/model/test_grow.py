"""Specification of model/grow.transfer: every weight of the parent that has a place in the
grown network is copied there by token (character, bigram, tag), whatever order the new
vocabularies use; rows for new tokens keep their fresh initialisation."""
from __future__ import annotations

import pytest
import torch

from data.vocab import Vocab
from model.config import ModelConfig
from model.grow import transfer
from model.network import BiLSTMCRF

OLD_CHARS = Vocab(["北", "京", "大", "学"])
NEW_CHARS = Vocab(["学", "生", "北", "京", "海"])  # reordered, one dropped, new ones
OLD_BIGRAMS = Vocab(["北京", "京大", "大学"])
NEW_BIGRAMS = Vocab(["大学", "学生", "北京"])
OLD_TAGS = ["O", "B-PER", "E-PER", "S-PER"]
NEW_TAGS = ["B-LOC", "E-LOC", "O", "S-PER", "B-PER", "E-PER"]


def network(chars: Vocab, bigrams: Vocab, tags: list[str], seed: int) -> BiLSTMCRF:
    torch.manual_seed(seed)
    config = ModelConfig(
        task="ner", tags=tags, char_vocab_size=len(chars), bigram_vocab_size=len(bigrams),
        char_dim=6, bigram_dim=3, hidden=5, lexicon="jieba",
    )
    net = BiLSTMCRF(config)
    with torch.no_grad():
        for parameter in (net.crf.transitions, net.crf.start, net.crf.end):
            parameter.normal_()
    return net


@pytest.fixture
def grown() -> tuple[BiLSTMCRF, BiLSTMCRF, dict[str, torch.Tensor]]:
    old = network(OLD_CHARS, OLD_BIGRAMS, OLD_TAGS, seed=1)
    new = network(NEW_CHARS, NEW_BIGRAMS, NEW_TAGS, seed=2)
    fresh = {k: v.clone() for k, v in new.state_dict().items()}
    transfer(old, OLD_CHARS, OLD_BIGRAMS, new, NEW_CHARS, NEW_BIGRAMS)
    return old, new, fresh


def test_character_rows_follow_their_characters(grown) -> None:
    old, new, fresh = grown
    for token in OLD_CHARS.tokens:  # specials included
        if token in NEW_CHARS.index:
            assert torch.equal(new.char_embed.weight[NEW_CHARS[token]], old.char_embed.weight[OLD_CHARS[token]]), token


def test_new_characters_keep_their_fresh_rows(grown) -> None:
    old, new, fresh = grown
    for token in ("生", "海"):
        row = NEW_CHARS[token]
        assert torch.equal(new.char_embed.weight[row], fresh["char_embed.weight"][row]), token


def test_bigram_rows_follow_their_bigrams(grown) -> None:
    old, new, fresh = grown
    for token in ("大学", "北京", "<unk>"):
        assert torch.equal(new.bigram_embed.weight[NEW_BIGRAMS[token]], old.bigram_embed.weight[OLD_BIGRAMS[token]])
    assert torch.equal(new.bigram_embed.weight[NEW_BIGRAMS["学生"]], fresh["bigram_embed.weight"][NEW_BIGRAMS["学生"]])


def test_the_lstm_is_copied_whole(grown) -> None:
    old, new, fresh = grown
    for key, tensor in old.lstm.state_dict().items():
        assert torch.equal(new.lstm.state_dict()[key], tensor), key


def test_emission_rows_and_crf_scores_follow_their_tags(grown) -> None:
    old, new, fresh = grown
    for tag in OLD_TAGS:
        i, j = OLD_TAGS.index(tag), NEW_TAGS.index(tag)
        assert torch.equal(new.emit.weight[j], old.emit.weight[i]), tag
        assert new.emit.bias[j] == old.emit.bias[i]
        assert new.crf.start[j] == old.crf.start[i] and new.crf.end[j] == old.crf.end[i]
        for other in OLD_TAGS:
            k, m = OLD_TAGS.index(other), NEW_TAGS.index(other)
            assert new.crf.transitions[j, m] == old.crf.transitions[i, k], (tag, other)


def test_new_tags_keep_their_fresh_scores(grown) -> None:
    old, new, fresh = grown
    for tag in ("B-LOC", "E-LOC"):
        j = NEW_TAGS.index(tag)
        assert torch.equal(new.emit.weight[j], fresh["emit.weight"][j]), tag
        assert torch.equal(new.crf.transitions[j], fresh["crf.transitions"][j]), tag
        assert torch.equal(new.crf.transitions[:, j], fresh["crf.transitions"][:, j]), tag


def test_transfer_between_identical_vocabularies_copies_everything() -> None:
    old = network(OLD_CHARS, OLD_BIGRAMS, OLD_TAGS, seed=3)
    new = network(OLD_CHARS, OLD_BIGRAMS, OLD_TAGS, seed=4)
    transfer(old, OLD_CHARS, OLD_BIGRAMS, new, OLD_CHARS, OLD_BIGRAMS)
    for key, tensor in old.state_dict().items():
        assert torch.equal(new.state_dict()[key], tensor), key
