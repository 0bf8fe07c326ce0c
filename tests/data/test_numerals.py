"""Specification of data/numerals.py: an amount in financial numerals (壹万贰仟) reaches the model
as ordinary numerals, one character for one, and a character that only looks like one stays."""
from __future__ import annotations

import pytest

from data.numerals import ordinary_numerals


@pytest.mark.parametrize(("text", "seen"), [
    ("人民币叁万伍仟元整", "人民币三万五千元整"),
    ("壹仟贰佰伍拾元", "一千二百五十元"),
    ("金額參萬陸仟", "金額三万六千"),
    ("零壹元", "零一元"),
    ("伍拾万元整", "五十万元整"),  # no financial-only numeral, but two before a unit of money
    ("收到叁元整", "收到三元整"),
    ("年满叁拾岁", "年满三十岁"), ("壹佰人", "一百人"), ("贰仟", "二千"),  # two financial numerals, the first with no other use
    ("壹拾贰万叁仟肆佰伍拾陆元柒角捌分", "一十二万三千四百五十六元七角八分"),
])
def test_a_run_of_financial_numerals_is_read_as_the_ordinary_ones(text: str, seen: str) -> None:
    assert ordinary_numerals(text) == seen


@pytest.mark.parametrize("text", [
    "队伍", "大陆", "收拾", "大肆", "八佰伴", "参加", "伍拾",  # 伍拾 holds no numeral without another use
    "陆万", "叁", "", "hello 123", "一千二百", "陆元", "部分", "伍分钟", "收拾整齐",
    "歌手伍佰", "大肆万般",  # a name, two words: two numerals with no unit after them may be either
])
def test_characters_with_other_uses_stay_unless_a_run_holds_a_financial_only_numeral(text: str) -> None:
    assert ordinary_numerals(text) == text
