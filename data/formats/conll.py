"""Reading conll: `char TAG` lines in sentences, read as words or as entities in the scheme that
most of the file's sentences are valid in."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from data.corpus import Sentence
from data.errors import quoted
from data.formats.source import _BadLine, _decode, _Source
from data.schemes import OUTSIDE, SCHEMES, VALID_PREFIXES, detect_scheme, order_problem, split_tag, tags_to_spans, to_internal

_SEG_TAGS = frozenset("BMES")
_TAG_PREFIXES = frozenset("BIMESO")
_SEPARATORS = " \t"

Reading = Literal["words", "BIO", "BIOES", "BMES"]  # words: plain B M E S tags, segmentation
_READINGS: tuple[Reading, ...] = ("words", *SCHEMES)


@dataclass
class _Block:
    """One conll sentence as read, before the file's reading is known."""

    chars: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    bad: bool = False


def _tag_problem(tag: str) -> str | None:
    prefix, dash, label = tag.partition("-")
    if prefix not in _TAG_PREFIXES:
        return f"unknown tag prefix {quoted(prefix)} in tag {quoted(tag)}"
    if prefix == OUTSIDE and dash:
        return f"tag {quoted(tag)}: O takes no type"
    if dash and not label:
        return f"tag {quoted(tag)} has an empty type"
    return None


def _fields(line: str) -> list[str]:
    """The fields of a line led by whitespace: its character may itself be whitespace other than
    a space or tab, since text holds ideographic spaces (U+3000), tagged `O` like any character,
    and `split()` alone would eat them. Only such lines come here, so that the ordinary line pays
    for no more than `split()`."""
    char, rest = line[:1], line[1:]
    if char not in _SEPARATORS and rest[:1].isspace():
        return [char, *rest.split()]
    return line.split()


def _parse_conll_line(line: str) -> tuple[str, str]:
    fields = _fields(line) if line[:1].isspace() else line.split()
    if len(fields) != 2:
        raise _BadLine(f"expected 2 fields 'char TAG', got {len(fields)}")
    char, tag = fields
    if len(char) != 1:
        raise _BadLine(f"expected one character, got {quoted(char)}")
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


def _refusal(tag: str, reading: Reading) -> str | None:
    """Why `reading` refuses `tag` wherever it stands, or None."""
    if reading == "words":
        return None if tag in _SEG_TAGS else f"tag {quoted(tag)} is not a plain B, M, E or S, but this file tags words"
    prefix, label = split_tag(tag)
    if prefix != OUTSIDE and label is None:
        return f"tag {quoted(tag)} has no type, but this file tags entities"
    if prefix not in VALID_PREFIXES[reading]:
        return f"tag prefix {quoted(prefix)} is not valid in {reading}"
    return None


def _problem(tags: Sequence[str], reading: Reading) -> tuple[int, str] | None:
    """The index of the first tag that `reading` refuses, and why; None when the sentence is
    valid in it. Each distinct tag is judged once: a file may be judged in every reading."""
    refused = {tag: why for tag in set(tags) if (why := _refusal(tag, reading))}
    if refused:
        i = next(i for i, tag in enumerate(tags) if tag in refused)
        return i, refused[tags[i]]
    return order_problem(tags, "BMES" if reading == "words" else reading)


def _named(blocks: list[_Block]) -> Reading:
    """The reading the file's tags name: plain tags, words; else the most specific scheme their
    prefixes fit."""
    tags = {tag for block in blocks for tag in block.tags}
    return "words" if tags <= _SEG_TAGS else detect_scheme(split_tag(tag)[0] for tag in tags)


def _reading(blocks: list[_Block]) -> tuple[Reading, list[tuple[int, str] | None]]:
    """The reading that the most sentences are valid in, and each sentence's problem in it.
    One stray tag of another scheme (an `E-ORG` in a BIO file) then costs its own sentence,
    reported on its own line, where deciding by the tags seen made every other sentence wrong,
    and `skip_bad` dropped them all. A tie goes to the reading the tags name, so a BIO-looking
    `B-PER B-PER` in a file that also holds `M` is a BMES error, not two names. That reading is
    judged first: when every sentence is valid in it, no other can beat it, and a clean file is
    judged once rather than in all four readings."""
    named = _named(blocks)
    problems = {named: [_problem(block.tags, named) for block in blocks]}
    if all(problem is None for problem in problems[named]):
        return named, problems[named]
    problems |= {reading: [_problem(block.tags, reading) for block in blocks] for reading in _READINGS if reading != named}
    best = max(_READINGS, key=lambda reading: (problems[reading].count(None), reading == named))
    return best, problems[best]


def _read_conll(source: _Source, entities_from_pos: bool) -> tuple[list[Sentence], bool]:
    blocks = list(_conll_blocks(source))
    reading, problems = _reading(blocks)
    name = "words in BMES" if reading == "words" else reading
    why = f"{problems.count(None):,} of this file's {len(blocks):,} sentences read as {name}"
    sentences = []
    for block, problem in zip(blocks, problems, strict=True):
        if problem is not None:
            source.reject(block.lines[problem[0]], f"{problem[1]} ({why})")
            continue
        internal = block.tags if reading == "words" else to_internal(block.tags, reading)
        sentences.append(Sentence("".join(block.chars), tuple(tags_to_spans(internal))))
    return sentences, reading != "words"
