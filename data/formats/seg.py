"""Reading seg: one sentence a line, words separated by whitespace."""
from __future__ import annotations

from data.corpus import Sentence, sentence_from_words
from data.formats.source import _read_by_line, _Source


def _parse_seg(line: str) -> Sentence:
    return sentence_from_words(line.split())


def _read_seg(source: _Source, entities_from_pos: bool) -> tuple[list[Sentence], bool]:
    return _read_by_line(source, _parse_seg), False
