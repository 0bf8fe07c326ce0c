"""The spans held in a piece before the CRF decodes it, and the tags that hold them there.

Web and e-mail addresses and numbers, lone symbols, the words of a `force` dictionary and
lone brackets come out as the user and the rules expect whatever the network scores: the CRF
decodes under `SpanConstraints.allowed`, which leaves each held span one span of its label.
Apart from the tagger because this is the part most edited, and read without the loading and
decoding around it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from data.atoms import atom_spans, symbol_positions
from data.brackets import NO_BRACKETS, Brackets, brackets
from data.formats.pos import POS_ENTITIES
from data.lexicon import Lexicon
from data.schemes import OUTSIDE, split_tag  # OUTSIDE also labels a held span that must be no entity
from data.text import codepoints
from model.config import ModelConfig

SYMBOL = "w"  # the PKU standard's tag for symbols and punctuation, which a POS model gives an emoji where it has it
INSIDE = " inside"  # labels a held span that lies inside one entity, which may reach beyond it (no type is named so)


def kept_whole(user_words: Lexicon | None) -> Callable[[str], list[tuple[int, int]]]:
    """What a long run of text must not be cut inside: addresses and numbers, and the words a
    `force` dictionary keeps whole, which a cut would split into two."""
    if user_words is None or not user_words.force:
        return atom_spans
    return lambda run: sorted(atom_spans(run) + user_words.forced(run))


def dictionary_words(lexicon: Lexicon | None, user_words: Lexicon | None, run: str) -> list[tuple[int, int]]:
    """The lexicon's and the user's words in a long run without punctuation: it is cut
    between them, not inside one (`data.text.split_text`)."""
    cps = codepoints(run)
    found = [words.hits(cps) for words in (lexicon, user_words) if words is not None]
    return [span for starts, ends in found for span in zip(starts.tolist(), ends.tolist())]


def clash(span: tuple[int, int, str], other: tuple[int, int, str]) -> bool:
    """Whether two held spans overlap and hold their positions to different labels."""
    return span[0] < other[1] and other[0] < span[1] and not span[2] == other[2] == OUTSIDE


class SpanConstraints:
    """The held spans of one model's pieces (`forced`) and the tags they allow (`allowed`):
    which labels a span can be held to depends on the model's tags and task."""

    def __init__(self, config: ModelConfig, lexicon: Lexicon | None) -> None:
        """`lexicon` (jieba's, where the model reads one) keeps a symbol inside its words whole."""
        self._ner, self._tags, self._lexicon = config.task == "ner", len(config.tags), lexicon
        prefixes, labels = zip(*(split_tag(tag) for tag in config.tags))
        self.types = set(labels) - {None}  # entity types (ner), POS tags (pos), none (cws)
        self._span_tags = {  # type ("" for any) -> B/M/E -> (tags,) the tags a forced span may take there
            kind: {p: torch.tensor([q == p and kind in ("", label) for q, label in zip(prefixes, labels)]) for p in "BMES"} for kind in {"", *self.types}
        }
        if OUTSIDE in prefixes:  # an entity model holds addresses and emoji outside every entity
            outside = torch.tensor([q == OUTSIDE for q in prefixes])
            self._span_tags[OUTSIDE] = dict.fromkeys("BMES", outside)
            self._span_tags[""] = {p: tags | outside for p, tags in self._span_tags[""].items()}  # a word of no type: one entity or none, never cut
            within = {p: torch.tensor([q == p for q in prefixes]) for p in "BME"}
            self._span_tags[INSIDE] = {"B": within["B"] | within["M"], "M": within["M"], "E": within["M"] | within["E"], "S": within["M"]}
        self._symbol = OUTSIDE if OUTSIDE in prefixes else SYMBOL if SYMBOL in self.types else ""
        self.opens = np.array([p in "BS" for p in prefixes])  # (tags,): the tag begins a span
        self.closes = np.array([p in "ES" for p in prefixes])  # (tags,): the tag ends one

    def brackets(self, piece: str) -> Brackets:
        """The brackets of `piece` an entity model keeps from cutting an entity (`data.brackets`);
        none for a model that finds words."""
        return brackets(piece) if OUTSIDE in self._span_tags else NO_BRACKETS

    def forced(self, piece: str, user_words: Lexicon | None, marks: Brackets) -> list[tuple[int, int, str]]:
        """(start, end, label) of the spans held in `piece`. Web and e-mail addresses and
        numbers (`data.atoms`) are kept whole by segmentation and outside every entity by an
        entity model; each emoji and other symbol outside them and outside any dictionary word
        (`data.atoms.symbol_positions`) is a word of its own, tagged as a symbol where the model has the tag, and outside every
        entity; then the words of a `force` dictionary that overlap none of them, each held
        to its tag's label (`_forced_label`), else to one span of any label ("": for an entity
        model, one entity or none, so that no entity cuts the word). Last, each bracket of
        `marks` (an entity model's; `data.brackets`) without its partner in the piece outside
        every entity, but inside a forced word, which the user wrote as it is (`“解放军报`)."""
        spans = atom_spans(piece)
        atoms = [(start, end, OUTSIDE if self._ner else "") for start, end in spans]
        atoms += [(at, at + 1, self._symbol) for at in self._lone_symbols(piece, spans, user_words)]
        words = self._forced_words(piece, user_words)
        held = atoms + [(start, end, label) for start, end, label in words if not any(start < e and s < end for s, e, _ in atoms)]
        lone = [(at, at + 1, OUTSIDE) for at in marks.lone]
        return held + [bracket for bracket in lone if not any(clash(bracket, span) for span in held)]

    def _forced_words(self, piece: str, user_words: Lexicon | None) -> list[tuple[int, int, str]]:
        """(start, end, label) of a `force` dictionary's words in `piece`; none without one."""
        if user_words is None or not user_words.force:
            return []
        return [(start, end, self._forced_label(user_words.tags.get(piece[start:end], ""))) for start, end in user_words.forced(piece)]

    def _lone_symbols(self, piece: str, atoms: list[tuple[int, int]], user_words: Lexicon | None) -> list[int]:
        """Where `piece` holds a symbol held as a word of its own: outside the atoms, and
        outside every word of the lexicon's or the user's that holds it (C#, #话题#, @人民日报)."""
        found = [at for at in symbol_positions(piece) if not any(start <= at < end for start, end in atoms)]
        if not found:
            return found
        words = [(start, end) for start, end in dictionary_words(self._lexicon, user_words, piece) if end - start > 1]
        return [at for at in found if not any(start <= at < end for start, end in words)]

    def _forced_label(self, tag: str) -> str:
        """The label a forced word's dictionary tag holds it to: for an entity model, its
        entity type (see `_entity_type`), or outside every entity for the tag `O` (a user's
        veto: 哈哈哈 O); for a POS model, the tag itself where the model has it; else any ("")."""
        if self._ner:
            return OUTSIDE if tag == OUTSIDE else self._entity_type(tag)
        return tag if tag in self.types else ""

    def _entity_type(self, tag: str) -> str:
        """The entity type a dictionary tag names for this model, "" for none: the type itself
        (for a model trained on its own labels) or jieba's nr, ns, nt (nrfg, nsf, ...) for PER,
        LOC, ORG."""
        named = tag if tag in self.types else next((label for prefix, label in POS_ENTITIES.items() if tag.startswith(prefix)), "")
        return named if named in self.types else ""

    def allowed(self, forced: Sequence[list[tuple[int, int, str]]], width: int) -> torch.Tensor | None:
        """(batch, width, tags) tags each position may take so that every forced word is one
        span: B at its start, M inside, E at its end, or S where it is one position (an emoji),
        each of the word's label where it has one (the CRF's transitions do the rest)."""
        if not any(forced):
            return None
        allowed = torch.ones(len(forced), width, self._tags, dtype=torch.bool)  # (batch, width, tags)
        for row, words in enumerate(forced):
            for start, end, label in words:
                tags = self._span_tags[label]
                if end - start == 1:
                    allowed[row, start] = tags["S"]
                    continue
                allowed[row, start] = tags["B"]
                allowed[row, start + 1 : end - 1] = tags["M"]
                allowed[row, end - 1] = tags["E"]
        return allowed
