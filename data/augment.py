"""Mention replacement (Dai & Adel 2020) for entity corpora: each epoch, some entities of the
training sentences are replaced by other entities of their type from the same sentences.

Held-out text of other years is full of names no training sentence holds (a fifth of the dev
entities are unseen, and more in later text). A name the model has seen in one context every
epoch can be learned by heart; a name that changes from epoch to epoch has to be found from its
context and its form, which is what an unseen name offers.
"""
from __future__ import annotations

import random
from collections import defaultdict

from data.corpus import Sentence, Span


class MentionSwap:
    """The entity texts of each type in `sentences`, to swap in."""

    def __init__(self, sentences: list[Sentence]) -> None:
        found: defaultdict[str, set[str]] = defaultdict(set)
        for sentence in sentences:
            for span in sentence.spans:
                found[span.label].add(sentence.text[span.start : span.end])
        self.mentions = {label: sorted(texts) for label, texts in sorted(found.items())}  # sorted: the same draws on every run

    def swapped(self, sentences: list[Sentence], share: float, rng: random.Random, max_len: int) -> list[Sentence]:
        """`sentences` with each entity replaced, with probability `share`, by an entity text of
        its type drawn uniformly (rare names as often as common ones); a sentence that would
        grow past `max_len` characters stays as it is."""
        out = []
        for sentence in sentences:
            new = self._swap(sentence, share, rng) if sentence.spans else sentence
            out.append(new if len(new.text) <= max_len else sentence)
        return out

    def _swap(self, sentence: Sentence, share: float, rng: random.Random) -> Sentence:
        parts, spans, at, moved = [], [], 0, 0
        for span in sorted(sentence.spans):
            mention = sentence.text[span.start : span.end]
            if rng.random() < share:
                mention = rng.choice(self.mentions[span.label])
            parts.append(sentence.text[at : span.start])
            start = span.start + moved
            spans.append(Span(start, start + len(mention), span.label))
            parts.append(mention)
            moved += len(mention) - (span.end - span.start)
            at = span.end
        parts.append(sentence.text[at:])
        return Sentence("".join(parts), tuple(spans))
