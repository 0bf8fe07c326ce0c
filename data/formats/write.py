"""`write_corpus`: sentences rendered in any of the four formats, the file replaced atomically."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from itertools import pairwise
from pathlib import Path

from data.atomic import replacing
from data.corpus import Sentence, Span
from data.errors import InputError, quoted
from data.formats.source import FORMATS
from data.schemes import join_tag, spans_to_tags, split_tag

_FROM_INTERNAL: dict[str, dict[str, str]] = {
    "BIO": {"B": "B", "M": "I", "E": "I", "S": "B"},
    "BIOES": {"M": "I"},
    "BMES": {},
}


def _unwritable(sentence: Sentence, problem: str) -> InputError:
    return InputError(f"cannot write {quoted(sentence.text)}: {problem}")


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
        raise _unwritable(sentence, f"label {quoted(span.label)} cannot be written as a tag")
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
    with replacing(path, "w", encoding="utf-8", newline="\n") as out:
        for sentence in sentences:
            out.write(render(sentence, scheme))
