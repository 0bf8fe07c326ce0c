"""Read and write the corpus formats zhtag trains on; every format becomes `Sentence`s.

    seg    one sentence a line, words separated by whitespace (U+3000 included)
    pos    People's Daily: `word/TAG` tokens separated by whitespace
    conll  `char TAG` a line (tab or spaces), a blank line between sentences
    jsonl  one JSON object a line: CLUENER `{"text", "label": {TYPE: {mention: [[start, end]]}}}`
           with END INCLUSIVE, or `{"text", "entities": [{"start", "end", "type"}]}` with end
           exclusive

Choices a user of these files should know about:

- A conll file is either segmentation (every tag one of plain `B M E S`: the spans are words,
  unlabelled) or entities (`O` and `PREFIX-TYPE` tags). The entity scheme (BIO, BIOES or BMES)
  is detected once for the whole file from every prefix in it, not per sentence, because a BIO
  sentence and a BMES sentence without `M`/`E`/`S` tags look alike.
- BIO is repaired the way conlleval does it: an `I-X` that does not continue an `X` entity (after
  `O`, or after an entity of another type) starts a new entity. BIOES and BMES have no such
  convention, so an order they forbid is an error on the line of the offending tag.
- In `pos` with `entities_from_pos`, consecutive `nr` tokens form one person, since People's
  Daily splits surname and given name (`王/nr  小明/nr`); two names written side by side with
  nothing between them therefore merge.
- Files are decoded line by line so that invalid UTF-8 is reported on its line. With
  `skip_bad`, a bad line is dropped and counted; in conll the whole sentence around it is dropped
  and counted once, since a sentence with a hole in it would teach the wrong tags.
"""
from __future__ import annotations

import codecs
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice, pairwise
from pathlib import Path

from data.corpus import Sentence, Span, sentence_from_words
from data.errors import CorpusError, InputError
from data.schemes import (
    OUTSIDE,
    VALID_PREFIXES,
    Scheme,
    allowed,
    allowed_start,
    detect_scheme,
    first_invalid,
    join_tag,
    spans_to_tags,
    split_tag,
    tags_to_spans,
    to_internal,
)

FORMATS = ("seg", "pos", "conll", "jsonl")
POS_ENTITIES = {"nr": "PER", "ns": "LOC", "nt": "ORG"}

_DETECT_SAMPLE = 5  # non-empty lines voted on, so that one odd line cannot decide the format
_SEG_TAGS = frozenset("BMES")
_TAG_PREFIXES = frozenset("BIMESO")
_FROM_INTERNAL: dict[str, dict[str, str]] = {
    "BIO": {"B": "B", "M": "I", "E": "I", "S": "B"},
    "BIOES": {"M": "I"},
    "BMES": {},
}


@dataclass
class Corpus:
    sentences: list[Sentence]
    format: str
    skipped: int  # bad lines (conll: bad sentences) dropped under skip_bad
    labelled: bool


class _BadLine(Exception):
    """A malformed line; `line` is set only where the problem is found after the line was read."""

    def __init__(self, problem: str, line: int = 0) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


@dataclass
class _Source:
    """The file being read and the policy for its bad lines, shared by every reader."""

    path: str  # as the caller wrote it, so messages name the file the way the user did
    skip_bad: bool
    skipped: int = 0

    def lines(self) -> Iterator[tuple[int, bytes]]:
        try:
            handle = open(self.path, "rb")
        except FileNotFoundError:
            raise CorpusError(self.path, 0, "file not found") from None
        except OSError as e:
            raise CorpusError(self.path, 0, f"cannot open file: {e.strerror}") from None
        with handle:
            for lineno, raw in enumerate(handle, 1):
                yield lineno, raw.removeprefix(codecs.BOM_UTF8) if lineno == 1 else raw

    def reject(self, line: int, problem: str) -> None:
        if not self.skip_bad:
            raise CorpusError(self.path, line, problem)
        self.skipped += 1


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _BadLine(f"invalid UTF-8 at byte {e.start + 1}") from None


def _is_pos_token(token: str) -> bool:
    word, slash, tag = token.rpartition("/")
    return bool(slash and word and tag)


def _line_format(line: str) -> str:
    fields = line.split()
    if line.lstrip().startswith("{"):
        return "jsonl"
    if len(fields) == 2 and len(fields[0]) == 1:
        return "conll"
    if all(map(_is_pos_token, fields)):
        return "pos"
    return "seg"


def _detect(source: _Source) -> str:
    """The format most of the first non-empty lines look like (ties: the first line's)."""
    texts = (raw.decode("utf-8", "replace") for _, raw in source.lines())
    votes = Counter(map(_line_format, islice((t for t in texts if t.strip()), _DETECT_SAMPLE)))
    return votes.most_common(1)[0][0] if votes else "seg"


# ---------------------------------------------------------------- line-per-sentence formats


def _read_by_line(source: _Source, parse: Callable[[str], Sentence]) -> list[Sentence]:
    sentences = []
    for lineno, raw in source.lines():
        try:
            line = _decode(raw)
            if line.strip():
                sentences.append(parse(line))
        except _BadLine as e:
            source.reject(lineno, e.problem)
    return sentences


def _parse_seg(line: str) -> Sentence:
    return sentence_from_words(line.split())


def _pos_tokens(line: str) -> tuple[list[str], list[str]]:
    words, tags = [], []
    for token in line.split():
        word, slash, tag = token.rpartition("/")  # the last slash: a word may contain one
        if not slash:
            raise _BadLine(f"token {token!r} has no /TAG")
        if not word:
            raise _BadLine(f"token {token!r} has an empty word")
        if not tag:
            raise _BadLine(f"token {token!r} has an empty tag")
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


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _checked_span(text: str, start: int, end: int, label: str, shown: str) -> Span:
    """`shown` is the offsets as the file wrote them, so the message matches what the user sees."""
    if start >= end:
        raise _BadLine(f"entity {label} {shown}: start is not before end")
    if start < 0 or end > len(text):
        raise _BadLine(f"entity {label} {shown} is out of range for a text of {len(text)} characters")
    return Span(start, end, label)


def _cluener_spans(text: str, label: object) -> Iterator[Span]:
    shape = "'label' must be {TYPE: {mention: [[start, end], ...]}}"
    if not isinstance(label, dict):
        raise _BadLine(shape)
    for type_, mentions in label.items():
        if not isinstance(mentions, dict):
            raise _BadLine(f"{shape}; {type_!r} maps to {mentions!r}")
        for mention, offsets in mentions.items():
            if not isinstance(offsets, list):
                raise _BadLine(f"{shape}; mention {mention!r} maps to {offsets!r}")
            for pair in offsets:
                if not (isinstance(pair, list) and len(pair) == 2 and all(map(_is_int, pair))):
                    raise _BadLine(f"offsets of mention {mention!r} must be [start, end], got {pair!r}")
                span = _checked_span(text, pair[0], pair[1] + 1, type_, f"[{pair[0]}, {pair[1]}]")
                found = text[span.start : span.end]
                if found != mention:
                    raise _BadLine(
                        f"mention {mention!r} does not match text[{span.start}:{span.end}] {found!r}"
                    )
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
            raise _BadLine(f"entity must be {{start, end, type}} with integer offsets, got {entity!r}")
        start, end = entity["start"], entity["end"]
        yield _checked_span(text, start, end, entity["type"], f"[{start}, {end})")


def _parse_jsonl(line: str) -> Sentence:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise _BadLine(f"invalid JSON: {e.msg} at column {e.colno}") from None
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
            raise _BadLine(
                f"entities overlap: {a.label} [{a.start}, {a.end}) and {b.label} [{b.start}, {b.end})"
            )
    return Sentence(text, tuple(spans))


def _read_seg(source: _Source, entities_from_pos: bool) -> tuple[list[Sentence], bool]:
    return _read_by_line(source, _parse_seg), False


def _read_pos(source: _Source, entities_from_pos: bool) -> tuple[list[Sentence], bool]:
    return _read_by_line(source, _parse_pos_entities if entities_from_pos else _parse_pos), True


def _read_jsonl(source: _Source, entities_from_pos: bool) -> tuple[list[Sentence], bool]:
    return _read_by_line(source, _parse_jsonl), True


# ---------------------------------------------------------------- conll


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


_READERS: dict[str, Callable[[_Source, bool], tuple[list[Sentence], bool]]] = {
    "seg": _read_seg,
    "pos": _read_pos,
    "conll": _read_conll,
    "jsonl": _read_jsonl,
}


def read_corpus(
    path: str | Path,
    format: str | None = None,
    *,
    skip_bad: bool = False,
    entities_from_pos: bool = False,
) -> Corpus:
    """Read a corpus, detecting its format when `format` is None.

    Raises CorpusError naming the file and line of the first malformed line, unless `skip_bad`.
    `entities_from_pos` turns a pos corpus into nr/ns/nt entities (for NER training); the
    other formats already say what their spans are and ignore it.
    """
    source = _Source(str(path), skip_bad)
    format = format if format is not None else _detect(source)
    if format not in _READERS:
        raise InputError(f"unknown corpus format {format!r}; expected one of {', '.join(FORMATS)}")
    sentences, labelled = _READERS[format](source, entities_from_pos)
    return Corpus(sentences, format, source.skipped, labelled)


# ---------------------------------------------------------------- writing


def _unwritable(sentence: Sentence, problem: str) -> InputError:
    return InputError(f"cannot write {sentence.text!r}: {problem}")


def _check_no_whitespace(sentence: Sentence, format: str) -> None:
    """Whitespace separates tokens in seg, pos and conll, so it cannot be part of one."""
    if any(ch.isspace() for ch in sentence.text):
        raise _unwritable(sentence, f"{format} cannot hold whitespace inside a text")


def _tiling_words(sentence: Sentence, format: str) -> list[str]:
    bounds = [0] + [span.end for span in sentence.spans]
    if [span.start for span in sentence.spans] != bounds[:-1] or bounds[-1] != len(sentence.text):
        raise _unwritable(sentence, f"{format} needs words that tile the text")
    _check_no_whitespace(sentence, format)
    return sentence.words()


def _tag_label(sentence: Sentence, span: Span, forbidden: str = "") -> str:
    if not span.label or any(ch.isspace() or ch in forbidden for ch in span.label):
        raise _unwritable(sentence, f"label {span.label!r} cannot be written as a tag")
    return span.label


def _disjoint(sentence: Sentence) -> list[Span]:
    spans = sorted(sentence.spans, key=lambda s: (s.start, s.end))
    if any(b.start < a.end for a, b in pairwise(spans)):
        raise _unwritable(sentence, "its spans overlap")
    return spans


def _format_seg(sentence: Sentence, scheme: str) -> str:
    return "  ".join(_tiling_words(sentence, "seg")) + "\n"


def _format_pos(sentence: Sentence, scheme: str) -> str:
    words = _tiling_words(sentence, "pos")
    tags = [_tag_label(sentence, span, "/") for span in sentence.spans]
    return "  ".join(f"{word}/{tag}" for word, tag in zip(words, tags)) + "\n"


def _format_conll(sentence: Sentence, scheme: str) -> str:
    if sentence.spans and all(span.label is None for span in sentence.spans):
        _tiling_words(sentence, "conll")
        tags = spans_to_tags(len(sentence.text), sentence.spans)
    else:
        _check_no_whitespace(sentence, "conll")
        spans = _disjoint(sentence)
        for span in spans:
            _tag_label(sentence, span)
        rename = _FROM_INTERNAL[scheme]
        tags = [
            join_tag(rename.get(prefix, prefix), label)
            for prefix, label in map(split_tag, spans_to_tags(len(sentence.text), spans))
        ]
    return "".join(f"{char} {tag}\n" for char, tag in zip(sentence.text, tags)) + "\n"


def _format_jsonl(sentence: Sentence, scheme: str) -> str:
    entities = [
        {"start": span.start, "end": span.end, "type": _tag_label(sentence, span)}
        for span in _disjoint(sentence)
    ]
    return json.dumps({"text": sentence.text, "entities": entities}, ensure_ascii=False) + "\n"


_WRITERS: dict[str, Callable[[Sentence, str], str]] = {
    "seg": _format_seg,
    "pos": _format_pos,
    "conll": _format_conll,
    "jsonl": _format_jsonl,
}


def write_corpus(sentences: Iterable[Sentence], path: str | Path, format: str, scheme: str = "BIO") -> None:
    """Write sentences in `format`; `scheme` is the entity scheme of conll (BIO, BIOES or BMES).

    The file is replaced atomically, so a failure (an unwritable sentence, a full disk) leaves any
    previous file intact and never a half-written corpus. Raises InputError for a sentence the
    format cannot hold, e.g. entities written as seg.
    """
    if format not in _WRITERS:
        raise InputError(f"unknown corpus format {format!r}; expected one of {', '.join(FORMATS)}")
    if scheme not in _FROM_INTERNAL:
        raise InputError(f"unknown tag scheme {scheme!r}; expected one of {', '.join(_FROM_INTERNAL)}")
    render = _WRITERS[format]
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            for sentence in sentences:
                out.write(render(sentence, scheme))
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
