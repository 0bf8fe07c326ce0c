"""Specification of how corpus messages quote what they found (data/errors.py: quoted)."""
from __future__ import annotations

from data.errors import QUOTE_LIMIT, quoted


def test_a_short_field_is_quoted_whole_as_its_repr() -> None:
    assert quoted("北京 B-LOC") == "'北京 B-LOC'"
    assert quoted("字" * QUOTE_LIMIT) == repr("字" * QUOTE_LIMIT)
    assert quoted({"李华": [[0, 2]]}) == "{'李华': [[0, 2]]}"
    assert quoted(None) == "None"


def test_a_long_field_is_cut_with_an_ellipsis_and_its_length() -> None:
    assert quoted("字" * 1_000_000) == f"{'字' * QUOTE_LIMIT!r}… (1,000,000 characters)"
    assert quoted(list(range(1000))) == f"{str(list(range(1000)))[:QUOTE_LIMIT]}… (4,890 characters)"
