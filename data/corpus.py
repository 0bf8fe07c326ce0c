"""One representation for every corpus: a text and labelled spans over it.

Segmentation, POS and NER corpora differ only in how spans cover the text: words tile it
(label None for plain segmentation, the POS tag for joint segmentation + POS), entities cover
parts of it. Readers of every format produce `Sentence`s; tag schemes are derived from spans.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from data.text import split_text


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int  # exclusive, a Python str index
    label: str | None = None
    score: float | None = field(default=None, compare=False)  # the model's probability of it, where known


@dataclass(frozen=True)
class Sentence:
    text: str
    spans: tuple[Span, ...]

    def words(self) -> list[str]:
        return [self.text[s.start : s.end] for s in self.spans]

    def unlabelled(self) -> "Sentence":
        """The same spans without their labels: what segmentation learns from a POS corpus."""
        return Sentence(self.text, tuple(Span(s.start, s.end) for s in self.spans))


def sentence_from_words(words: list[str], tags: list[str | None] | None = None) -> Sentence:
    """Join words into a sentence whose spans tile the text (whitespace already removed)."""
    tags = tags if tags is not None else [None] * len(words)
    spans, start = [], 0
    for word, tag in zip(words, tags, strict=True):
        spans.append(Span(start, start + len(word), tag))
        start += len(word)
    return Sentence("".join(words), tuple(spans))


def model_pieces(sentence: Sentence, max_len: int) -> list[Sentence]:
    """The sentence cut as the tagger cuts input (`data.text.split_text`), spans clipped to
    each piece, so training sees exactly the kind of pieces tagging does.

    The spans must be sorted and disjoint, as every reader gives them: the pieces are walked
    with one moving index into them, since a scan of every span for each piece made a 4 MB
    one-line corpus take 42 s to read."""
    pieces = []
    spans = sentence.spans
    first = 0  # the first span that may reach into the current piece or a later one
    for offset, piece in split_text(sentence.text, max_len):
        end = offset + len(piece)
        while first < len(spans) and spans[first].end <= offset:
            first += 1
        clipped, i = [], first
        while i < len(spans) and spans[i].start < end:
            clipped.append(Span(max(spans[i].start, offset) - offset, min(spans[i].end, end) - offset, spans[i].label))
            i += 1
        pieces.append(Sentence(piece, tuple(clipped)))
    return pieces
