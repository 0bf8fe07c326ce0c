"""Specification of `model_pieces` (data/corpus.py): a sentence cut as the tagger cuts input,
every span clipped to the pieces it reaches into, in linear time (no timing here: the pieces
are checked against the plain scan of every span for each piece that was quadratic)."""
from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from data.corpus import Sentence, Span, model_pieces
from data.text import split_text

# Han characters, punctuation that pieces are cut after, and whitespace that separates them
CHARS = st.sampled_from("我们北京天安门的人，。！ \u3000\t")


def scanned_pieces(sentence: Sentence, max_len: int) -> list[Sentence]:
    """The reference: for each piece, every span of the sentence that overlaps it, clipped."""
    pieces = []
    for offset, piece in split_text(sentence.text, max_len):
        end = offset + len(piece)
        reaching = [s for s in sentence.spans if s.start < end and s.end > offset]
        spans = tuple(Span(max(s.start, offset) - offset, min(s.end, end) - offset, s.label) for s in reaching)
        pieces.append(Sentence(piece, spans))
    return pieces


@st.composite
def sentences(draw: st.DrawFn) -> Sentence:
    """A text with sorted disjoint spans, as readers give them: words that tile it, or
    entities with gaps (zero-length ones too)."""
    text = draw(st.text(CHARS, max_size=400))
    bounds = sorted(draw(st.lists(st.integers(0, len(text)), max_size=60)) + [0, len(text)])
    labels = st.sampled_from([None, "PER", "n"])
    if draw(st.booleans()):
        return Sentence(text, tuple(Span(a, b, draw(labels)) for a, b in pairwise(bounds) if a < b))
    return Sentence(text, tuple(Span(a, b, draw(labels)) for a, b in zip(bounds[::2], bounds[1::2], strict=False)))


@settings(max_examples=300, deadline=None)
@given(sentences(), st.integers(1, 12))
def test_pieces_clip_the_same_spans_as_a_scan_of_every_span(sentence: Sentence, max_len: int) -> None:
    assert model_pieces(sentence, max_len) == scanned_pieces(sentence, max_len)


def test_a_word_across_a_cut_is_clipped_into_both_pieces() -> None:
    sentence = Sentence("北京天安门 我们", (Span(0, 2, "ns"), Span(2, 5, "ns"), Span(6, 8, "r")))
    assert model_pieces(sentence, 3) == [
        Sentence("北京天", (Span(0, 2, "ns"), Span(2, 3, "ns"))),
        Sentence("安门", (Span(0, 2, "ns"),)),
        Sentence("我们", (Span(0, 2, "r"),)),
    ]
