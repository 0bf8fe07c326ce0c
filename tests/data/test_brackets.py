"""Specification of data/brackets.py: the bracket and quotation-mark pairs of a text, matched
as nesting matches them, and the first pair a span holds one half of."""
from __future__ import annotations

import pytest

from data.brackets import brackets


def test_pairs_are_matched_as_they_nest() -> None:
    found = brackets("《中国学术期刊（光盘版）》电子杂志社")
    assert found.pairs == [(0, 12), (7, 11)] and found.lone == []


def test_a_bracket_without_its_partner_is_lone_and_a_closing_one_skips_unclosed_others() -> None:
    assert brackets("熊焱）报道").lone == [2]
    found = brackets("“甲（乙”丙）")
    assert found.pairs == [(0, 4)] and found.lone == [2, 6]


def test_ascii_quotes_pair_nothing() -> None:
    assert brackets('he said "hi" and \'bye\'') == brackets("")


@pytest.mark.parametrize(("span", "broken"), [
    ((0, 16), None),  # the whole name, both halves
    ((9, 16), (8, 11)),  # 北京）有限公司: the closing half alone
    ((9, 11), None),  # 北京, inside the pair
    ((12, 16), None),  # 有限公司, after it
])
def test_a_span_breaks_a_pair_when_it_holds_one_half(span: tuple[int, int], broken: tuple[int, int] | None) -> None:
    assert brackets("百度在线网络技术（北京）有限公司成立。").broken_by(*span) == broken


def test_an_apostrophe_between_latin_letters_is_no_quotation_mark() -> None:
    assert brackets("奥尼尔O’Neill和L’Oréal") == brackets("")
    assert brackets("‘北京’").pairs == [(0, 3)]
