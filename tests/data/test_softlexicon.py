"""Specification of data/softlexicon.py: each character's begins/inside/ends word sets, their
pretrained vectors pooled by word frequency over all of the character's words."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from data.lexicon import Lexicon
from data.softlexicon import SoftLexicon
from data.text import codepoints

WORDS = ["北京", "北京大学", "大学", "学生"]
VECTORS = torch.eye(4)  # word i is the unit vector i, so each pooled column reads as one word's share
WEIGHTS = torch.tensor([3.0, 1.0, 1.0, 1.0])


def pooled(text: str, soft: SoftLexicon, lexicon: Lexicon, excluded: Lexicon | None = None) -> np.ndarray:
    """(characters, begins|inside|ends, words) shares."""
    return soft.features(len(text), lexicon.occurrences(codepoints(text), excluded)).reshape(len(text), 3, soft.vectors.shape[1])


def test_each_set_holds_its_words_weighted_by_frequency_over_all_the_characters_words() -> None:
    soft, lexicon = SoftLexicon(WORDS, VECTORS, WEIGHTS), Lexicon(WORDS)
    shares = pooled("北京大学生", soft, lexicon)
    assert np.allclose(shares[0], [[0.75, 0.25, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])  # 北 begins 北京 (3) and 北京大学 (1)
    assert np.allclose(shares[1], [[0, 0, 0, 0], [0, 0.25, 0, 0], [0.75, 0, 0, 0]])  # 京 inside 北京大学, ends 北京
    assert np.allclose(shares[3], [[0, 0, 0, 1 / 3], [0, 0, 0, 0], [0, 1 / 3, 1 / 3, 0]])  # 学 begins 学生, ends 北京大学 and 大学
    assert np.allclose(shares.sum(axis=(1, 2)), 1), "every character in some word has its weights sum to one"


def test_a_character_in_no_known_word_gets_zeros() -> None:
    soft = SoftLexicon(["北京"], VECTORS[:1], WEIGHTS[:1])
    shares = pooled("去南京大学", soft, Lexicon(["南京", "大学"]))
    assert not shares.any(), "words the table lacks (a user dictionary's) add nothing"
    assert SoftLexicon([], torch.empty(0, 4), torch.empty(0)).features(2, Lexicon(["北京"]).occurrences(codepoints("北京"))).shape == (2, 12)


def test_words_a_dictionary_excludes_are_left_out() -> None:
    soft, lexicon = SoftLexicon(WORDS, VECTORS, WEIGHTS), Lexicon(WORDS)
    shares = pooled("北京大学", soft, lexicon, excluded=Lexicon(excluded=["北京大学"]))
    assert shares[0, 0].tolist() == [1, 0, 0, 0] and not shares[1, 1].any()


def test_a_word_listed_twice_reads_its_first_vector() -> None:
    soft = SoftLexicon(["北京", "大学", "北京"], torch.eye(3), torch.ones(3))
    assert pooled("北京", soft, Lexicon(["北京"]))[0, 0].tolist() == [1, 0, 0]


@pytest.mark.parametrize("text", ["中华人民共和国", "在北京大学生活", ""])
def test_inside_sets_cover_every_inner_character_of_long_words(text: str) -> None:
    words = ["中华人民共和国", "北京大学", "大学生", "生活"]
    shares = pooled(text, SoftLexicon(words, torch.eye(4), torch.ones(4)), Lexicon(words))
    inside = {(i, w) for i, w in zip(*np.nonzero(shares[:, 1]))}
    expected = {(i, k) for k, w in enumerate(words) for s in range(len(text)) if text.startswith(w, s) for i in range(s + 1, s + len(w) - 1)}
    assert inside == expected
