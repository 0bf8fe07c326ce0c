"""Reading conll: `char TAG` lines in sentences, segmentation or entities in a scheme detected per file."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from data.corpus import Sentence
from data.formats.source import _BadLine, _decode, _Source
from data.schemes import (
    OUTSIDE,
    VALID_PREFIXES,
    Scheme,
    allowed,
    allowed_start,
    detect_scheme,
    first_invalid,
    split_tag,
    tags_to_spans,
    to_internal,
)

_SEG_TAGS = frozenset("BMES")
_TAG_PREFIXES = frozenset("BIMESO")


@dataclass
class _Block:
    """One conll sentence as read, before the file's scheme is known."""

    chars: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    bad: bool = False


def _tag_problem(tag: str) -> str | None:
    prefix, dash, label = tag.partition("-")
    if prefix not in _TAG_PREFIXES:
        return f"unknown tag prefix {prefix!r} in tag {tag!r}"
    if prefix == OUTSIDE and dash:
        return f"tag {tag!r}: O takes no type"
    if dash and not label:
        return f"tag {tag!r} has an empty type"
    return None


def _parse_conll_line(line: str) -> tuple[str, str]:
    fields = line.split()
    if len(fields) != 2:
        raise _BadLine(f"expected 2 fields 'char TAG', got {len(fields)}")
    char, tag = fields
    if len(char) != 1:
        raise _BadLine(f"expected one character, got {char!r}")
    problem = _tag_problem(tag)
    if problem:
        raise _BadLine(problem)
    return char, tag


def _conll_blocks(source: _Source) -> Iterator[_Block]:
    """Sentences whose every line is well formed; a bad one is rejected at its first bad line."""
    block = _Block()
    for lineno, raw in source.lines():
        try:
            line = _decode(raw)
            if not line.strip():
                if block.tags and not block.bad:
                    yield block
                block = _Block()
                continue
            char, tag = _parse_conll_line(line)
        except _BadLine as e:
            if not block.bad:
                source.reject(lineno, e.problem)
            block.bad = True
            continue
        block.chars.append(char)
        block.tags.append(tag)
        block.lines.append(lineno)
    if block.tags and not block.bad:
        yield block


def _order_problem(tags: list[str], internal: list[str], i: int, scheme: str) -> str:
    if i == 0 and not allowed_start(internal[0]):
        return f"tag {tags[0]!r} cannot start a sentence in {scheme}"
    if i > 0 and not allowed(internal[i - 1], internal[i]):
        return f"tag {tags[i]!r} cannot follow {tags[i - 1]!r} in {scheme}"
    return f"tag {tags[i]!r} cannot end a sentence in {scheme}"


def _conll_sentence(block: _Block, scheme: Scheme, segmentation: bool) -> Sentence:
    internal = block.tags
    if not segmentation:
        for tag, line in zip(block.tags, block.lines):
            prefix, label = split_tag(tag)
            if prefix != OUTSIDE and label is None:
                raise _BadLine(f"tag {tag!r} has no type, but this file tags entities", line)
            if prefix not in VALID_PREFIXES[scheme]:
                raise _BadLine(f"tag prefix {prefix!r} is not valid in {scheme}, this file's scheme", line)
        internal = to_internal(block.tags, scheme)
    i = first_invalid(internal)
    if i is not None:
        raise _BadLine(_order_problem(block.tags, internal, i, scheme), block.lines[i])
    return Sentence("".join(block.chars), tuple(tags_to_spans(internal)))


def _read_conll(source: _Source, entities_from_pos: bool) -> tuple[list[Sentence], bool]:
    blocks = list(_conll_blocks(source))
    segmentation = all(tag in _SEG_TAGS for block in blocks for tag in block.tags)
    prefixes = (split_tag(tag)[0] for block in blocks for tag in block.tags)
    scheme: Scheme = "BMES" if segmentation else detect_scheme(prefixes)
    sentences = []
    for block in blocks:
        try:
            sentences.append(_conll_sentence(block, scheme, segmentation))
        except _BadLine as e:
            source.reject(e.line, e.problem)
    return sentences, not segmentation
