"""Reading pos (People's Daily `word/TAG`), as tagged words or as nr/ns/nt entities."""
from __future__ import annotations

from data.corpus import Sentence, Span, sentence_from_words
from data.errors import quoted
from data.formats.source import _BadLine, _read_by_line, _Source

POS_ENTITIES = {"nr": "PER", "ns": "LOC", "nt": "ORG"}


def _pos_tokens(line: str) -> tuple[list[str], list[str]]:
    words, tags = [], []
    for token in line.split():
        word, slash, tag = token.rpartition("/")  # the last slash: a word may contain one
        if not slash:
            raise _BadLine(f"token {quoted(token)} has no /TAG")
        if not word:
            raise _BadLine(f"token {quoted(token)} has an empty word")
        if not tag:
            raise _BadLine(f"token {quoted(token)} has an empty tag")
        words.append(word)
        tags.append(tag)
    return words, tags


def _parse_pos(line: str) -> Sentence:
    words, tags = _pos_tokens(line)
    return sentence_from_words(words, [*tags])


def _parse_pos_entities(line: str) -> Sentence:
    words, tags = _pos_tokens(line)
    spans: list[Span] = []
    start = 0
    for word, tag in zip(words, tags):
        label = POS_ENTITIES.get(tag)
        end = start + len(word)
        if label == "PER" and spans and spans[-1].label == "PER" and spans[-1].end == start:
            spans[-1] = Span(spans[-1].start, end, label)
        elif label is not None:
            spans.append(Span(start, end, label))
        start = end
    return Sentence("".join(words), tuple(spans))


def _read_pos(source: _Source, entities_from_pos: bool) -> tuple[list[Sentence], bool]:
    return _read_by_line(source, _parse_pos_entities if entities_from_pos else _parse_pos), True
