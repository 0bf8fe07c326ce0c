"""Reading jsonl: CLUENER `label` (end inclusive) or `entities` (end exclusive), one object a line."""
from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import pairwise

from data.corpus import Sentence, Span
from data.errors import quoted
from data.formats.source import _BadLine, _read_by_line, _Source


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _checked_span(text: str, start: int, end: int, label: str, shown: str) -> Span:
    """`shown` is the offsets as the file wrote them, so the message matches what the user sees."""
    if start >= end:
        raise _BadLine(f"entity {quoted(label)} {shown}: start is not before end")
    if start < 0 or end > len(text):
        raise _BadLine(f"entity {quoted(label)} {shown} is out of range for a text of {len(text):,} characters")
    return Span(start, end, label)


def _cluener_spans(text: str, label: object) -> Iterator[Span]:
    shape = "'label' must be {TYPE: {mention: [[start, end], ...]}}"
    if not isinstance(label, dict):
        raise _BadLine(shape)
    for type_, mentions in label.items():
        if not isinstance(mentions, dict):
            raise _BadLine(f"{shape}; {quoted(type_)} maps to {quoted(mentions)}")
        for mention, offsets in mentions.items():
            if not isinstance(offsets, list):
                raise _BadLine(f"{shape}; mention {quoted(mention)} maps to {quoted(offsets)}")
            for pair in offsets:
                if not (isinstance(pair, list) and len(pair) == 2 and all(map(_is_int, pair))):
                    raise _BadLine(f"offsets of mention {quoted(mention)} must be [start, end], got {quoted(pair)}")
                span = _checked_span(text, pair[0], pair[1] + 1, type_, f"[{pair[0]}, {pair[1]}]")
                found = text[span.start : span.end]
                if found != mention:
                    raise _BadLine(f"mention {quoted(mention)} does not match text[{span.start}:{span.end}] {quoted(found)}")
                yield span


def _plain_spans(text: str, entities: object) -> Iterator[Span]:
    if not isinstance(entities, list):
        raise _BadLine("'entities' must be a list of {start, end, type}")
    for entity in entities:
        if not (
            isinstance(entity, dict)
            and _is_int(entity.get("start"))
            and _is_int(entity.get("end"))
            and isinstance(entity.get("type"), str)
            and entity["type"]
        ):
            raise _BadLine(f"entity must be {{start, end, type}} with integer offsets, got {quoted(entity)}")
        start, end = entity["start"], entity["end"]
        yield _checked_span(text, start, end, entity["type"], f"[{start}, {end})")


def _parse_jsonl(line: str) -> Sentence:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise _BadLine(f"invalid JSON: {e.msg.removesuffix(' at')} at column {e.colno}") from None
    except RecursionError:
        raise _BadLine("JSON nested too deeply") from None
    if not isinstance(record, dict):
        raise _BadLine(f"expected a JSON object, got {type(record).__name__}")
    text = record.get("text")
    if not isinstance(text, str):
        raise _BadLine("missing or non-string 'text'")
    if "label" in record and "entities" in record:
        raise _BadLine("has both 'label' and 'entities'; expected one of them")
    if "label" in record:
        found = _cluener_spans(text, record["label"])
    else:
        found = _plain_spans(text, record.get("entities", []))
    spans = sorted(found, key=lambda s: (s.start, s.end))
    for a, b in pairwise(spans):
        if b.start < a.end:
            raise _BadLine(f"entities overlap: {quoted(a.label)} [{a.start}, {a.end}) and {quoted(b.label)} [{b.start}, {b.end})")
    return Sentence(text, tuple(spans))


def _read_jsonl(source: _Source, entities_from_pos: bool) -> tuple[list[Sentence], bool]:
    return _read_by_line(source, _parse_jsonl), True
