"""Specification of the BMESO scheme (data/schemes.py): spans and tags convert both ways, BIO is
repaired as conlleval does, BIOES/BMES are renamed positionally, and `first_invalid` finds the
first tag that breaks the order."""
from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data.corpus import Span
from data.schemes import (
    allowed,
    detect_scheme,
    first_invalid,
    spans_to_tags,
    split_tag,
    tags_to_spans,
    to_internal,
)

LABELS = st.sampled_from([None, "PER", "LOC", "nr"])


@st.composite
def disjoint_spans(draw: st.DrawFn, tiling: bool = False) -> tuple[int, list[Span]]:
    """(length, spans) with spans sorted and disjoint; with `tiling` they cover every index."""
    sizes = draw(st.lists(st.integers(1, 6), max_size=8))
    spans, position = [], 0
    for size in sizes:
        if not tiling:
            position += draw(st.integers(0, 3))  # a gap of O
        spans.append(Span(position, position + size, draw(LABELS)))
        position += size
    length = position + (0 if tiling else draw(st.integers(0, 3)))
    return length, spans


@given(disjoint_spans())
def test_tags_to_spans_inverts_spans_to_tags(case: tuple[int, list[Span]]) -> None:
    length, spans = case
    tags = spans_to_tags(length, spans)
    assert len(tags) == length
    assert tags_to_spans(tags) == spans


@given(disjoint_spans(tiling=True))
def test_words_that_tile_a_text_round_trip_without_outside_tags(case: tuple[int, list[Span]]) -> None:
    length, spans = case
    tags = spans_to_tags(length, spans)
    assert "O" not in tags
    assert tags_to_spans(tags) == spans


@given(disjoint_spans())
def test_tags_of_any_spans_are_a_valid_sequence(case: tuple[int, list[Span]]) -> None:
    length, spans = case
    assert first_invalid(spans_to_tags(length, spans)) is None


def test_spans_to_tags_on_a_hand_example() -> None:
    spans = [Span(0, 3, "PER"), Span(4, 5, "LOC"), Span(5, 7)]
    assert spans_to_tags(8, spans) == ["B-PER", "M-PER", "E-PER", "O", "S-LOC", "B", "E", "O"]


@pytest.mark.parametrize(
    ("tags", "spans"),
    [
        (["M", "E"], [Span(0, 2)]),  # a span may open on M
        (["B-PER", "E-LOC"], [Span(0, 1, "PER"), Span(1, 2, "LOC")]),  # cut where the label changes
        (["B", "B", "E"], [Span(0, 1), Span(1, 3)]),
        (["B-PER", "M-PER"], [Span(0, 2, "PER")]),  # closed at the end of the sequence
        (["O", "E-LOC", "O"], [Span(1, 2, "LOC")]),
        ([], []),
    ],
)
def test_tags_to_spans_decodes_invalid_sequences_leniently(tags: list[str], spans: list[Span]) -> None:
    assert tags_to_spans(tags) == spans


def conlleval_chunks(tags: list[str]) -> list[Span]:
    """Reference chunker as conlleval reads BIO: B, or I of another type than the open chunk
    (or after O), starts a chunk; O or a chunk start ends the open one."""
    chunks: list[Span] = []
    start, kind = None, None
    for i, tag in enumerate([*tags, "O"]):
        prefix, label = split_tag(tag)
        starts = prefix == "B" or (prefix == "I" and (start is None or label != kind))
        if start is not None and (prefix == "O" or starts):
            chunks.append(Span(start, i, kind))
            start = None
        if starts:
            start, kind = i, label
    return chunks


BIO_TAGS = st.lists(st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]), max_size=12)


@given(BIO_TAGS)
def test_bio_is_read_as_conlleval_reads_it(tags: list[str]) -> None:
    internal = to_internal(tags, "BIO")
    assert len(internal) == len(tags)
    assert first_invalid(internal) is None
    assert tags_to_spans(internal) == conlleval_chunks(tags)


@pytest.mark.parametrize(
    ("bio", "bmeso"),
    [
        (["B-PER", "I-PER", "I-PER", "O"], ["B-PER", "M-PER", "E-PER", "O"]),
        (["B-PER", "B-PER"], ["S-PER", "S-PER"]),
        (["O", "I-LOC", "I-LOC"], ["O", "B-LOC", "E-LOC"]),  # I after O opens a span
        (["I-LOC"], ["S-LOC"]),  # I at the start opens a span
        (["B-PER", "I-LOC", "I-LOC"], ["S-PER", "B-LOC", "E-LOC"]),  # I of another type opens one
        (["B-LOC", "I-LOC", "B-LOC", "I-PER"], ["B-LOC", "E-LOC", "S-LOC", "S-PER"]),
    ],
)
def test_bio_to_internal_on_hand_examples(bio: list[str], bmeso: list[str]) -> None:
    assert to_internal(bio, "BIO") == bmeso


def test_bioes_renames_i_to_m() -> None:
    bioes = ["B-ORG", "I-ORG", "I-ORG", "E-ORG", "O", "S-PER", "B-LOC", "E-LOC"]
    assert to_internal(bioes, "BIOES") == ["B-ORG", "M-ORG", "M-ORG", "E-ORG", "O", "S-PER", "B-LOC", "E-LOC"]


def test_bmes_is_already_internal() -> None:
    bmes = ["B-NAME", "M-NAME", "E-NAME", "O", "S-ORG"]
    assert to_internal(bmes, "BMES") == bmes


def test_bioes_and_bmes_are_not_repaired_so_first_invalid_can_report_them() -> None:
    assert to_internal(["O", "I-PER", "E-PER"], "BIOES") == ["O", "M-PER", "E-PER"]
    assert first_invalid(to_internal(["O", "I-PER", "E-PER"], "BIOES")) == 1
    assert first_invalid(to_internal(["B-PER", "O"], "BMES")) == 1


@pytest.mark.parametrize(
    ("tags", "index"),
    [
        (["B", "E", "S"], None),
        (["B-PER", "M-PER", "M-PER", "E-PER", "O", "S-LOC"], None),
        ([], None),
        (["O"], None),
        (["M"], 0),  # cannot start
        (["E-PER"], 0),
        (["B", "S"], 1),  # B must be continued
        (["B-PER", "E-LOC"], 1),  # by the same label
        (["B-PER", "O"], 1),
        (["S", "M"], 1),
        (["O", "E-PER"], 1),
        (["B"], 0),  # cannot end
        (["S", "B-PER", "M-PER"], 2),
        (["M", "M", "M"], 0),  # the first problem only
    ],
)
def test_first_invalid_finds_the_first_tag_out_of_order(tags: list[str], index: int | None) -> None:
    assert first_invalid(tags) == index


@given(st.lists(st.sampled_from(["O", "B", "M", "E", "S", "B-X", "M-X", "E-X", "S-X"]), max_size=8))
def test_first_invalid_agrees_with_allowed_pairs(tags: list[str]) -> None:
    valid = (
        all(allowed(a, b) for a, b in pairwise(tags))
        and (not tags or (split_tag(tags[0])[0] in "BSO" and split_tag(tags[-1])[0] in "ESO"))
    )
    assert (first_invalid(tags) is None) == valid


@pytest.mark.parametrize(
    ("prefixes", "scheme"),
    [("BIO", "BIO"), ("BI", "BIO"), ("BIOES", "BIOES"), ("BIS", "BIOES"), ("BMES", "BMES"), ("BMEO", "BMES"), ("O", "BIO")],
)
def test_detect_scheme_from_the_prefixes_seen(prefixes: str, scheme: str) -> None:
    assert detect_scheme(prefixes) == scheme
