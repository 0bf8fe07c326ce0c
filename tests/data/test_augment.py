"""Specification of data/augment.py: mention replacement swaps entities for other entities of
their type from the corpus, keeps every other character, and is the same for the same seed."""
from __future__ import annotations

import random

from data.augment import MentionSwap
from data.corpus import Sentence, Span

SENTENCES = [
    Sentence("江泽民在北京会见了联合国秘书长。", (Span(0, 3, "PER"), Span(4, 6, "LOC"), Span(9, 12, "ORG"))),
    Sentence("李鹏访问上海。", (Span(0, 2, "PER"), Span(4, 6, "LOC"))),
    Sentence("欧阳修到了乌鲁木齐和世界银行。", (Span(0, 3, "PER"), Span(5, 9, "LOC"), Span(10, 14, "ORG"))),
    Sentence("今天天气很好。", ()),
]


def mentions(sentence: Sentence) -> list[tuple[str, str | None]]:
    return [(sentence.text[s.start : s.end], s.label) for s in sentence.spans]


def test_each_entity_is_replaced_by_one_of_its_type_and_the_context_is_kept() -> None:
    swap = MentionSwap(SENTENCES)
    for _ in range(20):
        for old, new in zip(SENTENCES, swap.swapped(SENTENCES, 1.0, random.Random(), max_len=150), strict=True):
            assert [label for _, label in mentions(new)] == [label for _, label in mentions(old)]
            for text, label in mentions(new):
                assert text in swap.mentions[label]
            context = [old.text[a:b] for a, b in zip([0, *(s.end for s in old.spans)], [*(s.start for s in old.spans), len(old.text)])]
            assert [new.text[a:b] for a, b in zip([0, *(s.end for s in new.spans)], [*(s.start for s in new.spans), len(new.text)])] == context


def test_a_share_of_zero_changes_nothing_and_a_share_between_swaps_some() -> None:
    swap = MentionSwap(SENTENCES * 50)
    assert swap.swapped(SENTENCES, 0.0, random.Random(1), max_len=150) == SENTENCES
    changed = sum(a != b for a, b in zip(SENTENCES * 50, swap.swapped(SENTENCES * 50, 0.5, random.Random(1), max_len=150)))
    assert 50 < changed < 150


def test_the_same_seed_swaps_the_same_way() -> None:
    swap = MentionSwap(SENTENCES)
    assert swap.swapped(SENTENCES, 0.5, random.Random(7), 150) == swap.swapped(SENTENCES, 0.5, random.Random(7), 150)


def test_a_sentence_that_would_grow_past_max_len_is_kept_as_it_is() -> None:
    swap = MentionSwap(SENTENCES)
    short = Sentence("李鹏访问上海。", (Span(0, 2, "PER"), Span(4, 6, "LOC")))
    for _ in range(20):
        new = swap.swapped([short], 1.0, random.Random(), max_len=len(short.text))[0]
        assert len(new.text) <= len(short.text)
