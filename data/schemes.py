"""Tag schemes: the one internal scheme (BMESO), conversion from BIO/BIOES/BMES, and the
transitions each allows.

Internally every task is tagged BMESO: `B`/`M`/`E`/`S` open, continue, close, or fill a
span, with `-LABEL` appended when spans are labelled (POS tags, entity types), and `O` outside
any span (entities only; words tile the text so never need it). The CRF masks every transition
that `allowed` refuses, so a decoded sequence always converts back to spans.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Literal

from data.corpus import Span
from data.errors import quoted

Scheme = Literal["BIO", "BIOES", "BMES"]
OUTSIDE = "O"


@lru_cache(maxsize=4096)
def split_tag(tag: str) -> tuple[str, str | None]:
    """`B-PER` -> (`B`, `PER`); `B` -> (`B`, None); `O` -> (`O`, None)."""
    prefix, _, label = tag.partition("-")
    return prefix, (label or None)


def join_tag(prefix: str, label: str | None) -> str:
    return prefix if label is None else f"{prefix}-{label}"


def tag_set(labels: Iterable[str | None], outside: bool) -> list[str]:
    """Every BMESO tag for `labels`, so a model can output any span length for any label
    even when its corpus lacked, say, a three-character word."""
    tags = [join_tag(prefix, label) for label in sorted(labels, key=str) for prefix in "BMES"]
    return [OUTSIDE, *tags] if outside else tags


def spans_to_tags(length: int, spans: Iterable[Span]) -> list[str]:
    """Internal BMESO tags for a text of `length` characters."""
    tags = [OUTSIDE] * length
    for span in spans:
        if span.end - span.start == 1:
            tags[span.start] = join_tag("S", span.label)
            continue
        tags[span.start] = join_tag("B", span.label)
        for i in range(span.start + 1, span.end - 1):
            tags[i] = join_tag("M", span.label)
        tags[span.end - 1] = join_tag("E", span.label)
    return tags


def tags_to_spans(tags: Sequence[str], offset: int = 0) -> list[Span]:
    """Spans of a BMESO sequence, shifted by `offset`; lenient, so any sequence (even an
    invalid one) decodes.

    A span is closed at `E`/`S`, or cut short where the next tag cannot continue it.
    """
    spans: list[Span] = []
    start: int | None = None
    label: str | None = None
    for i, tag in enumerate(tags, offset):
        prefix, lab = split_tag(tag)
        if start is not None and not (prefix in ("M", "E") and lab == label):
            spans.append(Span(start, i, label))
            start = None
        if prefix in ("B", "M") and start is None:
            start, label = i, lab
        elif prefix in ("E", "S") and start is None:
            spans.append(Span(i, i + 1, lab))
        elif prefix == "E":
            spans.append(Span(start, i + 1, label))
            start = None
    if start is not None:
        spans.append(Span(start, offset + len(tags), label))
    return spans


def allowed(prev: str, tag: str) -> bool:
    """Whether BMESO tag `tag` may follow `prev`."""
    p_prefix, p_label = split_tag(prev)
    prefix, label = split_tag(tag)
    if p_prefix in ("B", "M"):
        return prefix in ("M", "E") and label == p_label
    return prefix in ("B", "S", OUTSIDE)


def allowed_start(tag: str) -> bool:
    return split_tag(tag)[0] in ("B", "S", OUTSIDE)


def allowed_end(tag: str) -> bool:
    return split_tag(tag)[0] in ("E", "S", OUTSIDE)


def detect_scheme(prefixes: Iterable[str]) -> Scheme:
    """The scheme a set of tag prefixes (without `O`) names: the most specific one they fit.
    It only breaks ties: a file's scheme is the one most of its sentences are valid in
    (`data.formats.conll`), since one stray `M` or `E` must not recast a BIO file."""
    seen = set(prefixes) - {OUTSIDE}
    if "M" in seen:
        return "BMES"
    if seen & {"E", "S"}:
        return "BIOES"
    return "BIO"


SCHEMES: tuple[Scheme, ...] = ("BIO", "BIOES", "BMES")
VALID_PREFIXES: dict[str, frozenset[str]] = {
    "BIO": frozenset("BIO"),
    "BIOES": frozenset("BIOES"),
    "BMES": frozenset("BMESO"),
}


_BIO_POSITION = {(True, True): "B", (True, False): "S", (False, True): "M", (False, False): "E"}  # (opens, continues)


def to_internal(tags: Sequence[str], scheme: Scheme) -> list[str]:
    """Rewrite external tags as BMESO.

    BIO follows conlleval: an `I-X` that does not continue an `X` span starts one. BIOES and
    BMES tags are already positional, so `I` is simply renamed `M`; validity is checked by the
    caller with `first_invalid`.
    """
    if scheme != "BIO":
        return [join_tag("M" if p == "I" else p, lab) for p, lab in map(split_tag, tags)]
    out: list[str] = []
    continued = False  # whether the previous tag's span goes on into this one
    for i, tag in enumerate(tags):
        prefix, label = split_tag(tag)
        if prefix == OUTSIDE:
            out.append(OUTSIDE)
            continued = False
            continue
        nxt_prefix, nxt_label = split_tag(tags[i + 1]) if i + 1 < len(tags) else (OUTSIDE, None)
        continues = nxt_prefix == "I" and nxt_label == label
        opens = prefix == "B" or not continued
        out.append(join_tag(_BIO_POSITION[opens, continues], label))
        continued = continues
    return out


def first_invalid(tags: Sequence[str]) -> int | None:
    """Index of the first tag that breaks BMESO order, or None if the sequence is valid."""
    for i, tag in enumerate(tags):
        ok = allowed_start(tag) if i == 0 else allowed(tags[i - 1], tag)
        if not ok:
            return i
    if tags and not allowed_end(tags[-1]):
        return len(tags) - 1
    return None


def order_problem(tags: Sequence[str], scheme: Scheme) -> tuple[int, str] | None:
    """The index of the first tag of external `tags` (prefixes valid in `scheme`) out of the
    order `scheme` allows, and why; None when there is none, as always in BIO, which
    `to_internal` repairs."""
    if scheme == "BIO":
        return None
    internal = to_internal(tags, scheme)
    i = first_invalid(internal)
    if i is None:
        return None
    if i == 0 and not allowed_start(internal[0]):
        return i, f"tag {quoted(tags[0])} cannot start a sentence in {scheme}"
    if i > 0 and not allowed(internal[i - 1], internal[i]):
        return i, f"tag {quoted(tags[i])} cannot follow {quoted(tags[i - 1])} in {scheme}"
    return i, f"tag {quoted(tags[i])} cannot end a sentence in {scheme}"
