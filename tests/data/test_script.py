"""Specification of data/script.py: traditional input reaches the model as simplified
characters, one for one, so offsets into the original text still hold; user dictionaries match
text in either script."""
from __future__ import annotations

import pytest

from data.script import for_model, user_lexicon


def test_traditional_text_is_mapped_character_by_character() -> None:
    texts = ["這是一個測試，我們說漢語。", "臺灣的經濟發展"]
    mapped = for_model(texts)
    assert mapped == ["这是一个测试，我们说汉语。", "台湾的经济发展"]
    assert [len(m) for m in mapped] == [len(t) for t in texts]


def test_hong_kong_forms_are_mapped_too() -> None:
    assert for_model(["保衞香港，裏面"], "traditional") == ["保卫香港，里面"]


def test_auto_maps_the_traditional_only_forms_of_a_mostly_simplified_text_and_no_other() -> None:
    text = "今天我们去参观了位于台北市的臺灣大學的图书馆和博物馆以及周边的公园和商店，乾隆年间建的"
    assert for_model([text]) == [text.replace("臺灣大學", "台湾大学")], "under a tenth of its Han characters are traditional: 乾 stays"


def test_auto_leaves_simplified_text_alone_even_with_a_character_both_scripts_use() -> None:
    texts = ["乾隆皇帝下江南", "这是一个测试", "", "hello 123"]
    assert for_model(texts) == texts


def test_the_script_can_be_given_instead_of_detected() -> None:
    assert for_model(["乾隆皇帝"], "traditional") == ["干隆皇帝"]  # told so, every mapped character maps
    assert for_model(["我們說漢語"], "simplified") == ["我們說漢語"]
    assert for_model(["我說"], "auto") == ["我说"]


@pytest.mark.parametrize("word", ["酷雲盤", "酷云盘"])
def test_a_user_word_in_either_script_matches_text_in_either_as_the_model_sees_it(word: str) -> None:
    words = user_lexicon([word], tags={word: "ns"})
    for text in ("我們用酷雲盤存儲", "我们用酷云盘存储"):
        (seen,) = for_model([text], "auto")
        assert words.matches(seen) == [(3, 6)], (word, text)
        assert words.tags[seen[3:6]] == "ns"


def test_financial_numerals_are_read_as_ordinary_ones_in_either_script() -> None:
    assert for_model(["金額參萬伍仟元", "金额叁万伍仟元"], "auto") == ["金额三万五千元", "金额三万五千元"]
    assert for_model(["叁万伍仟"], "simplified") == ["三万五千"]


def test_a_user_word_holding_financial_numerals_matches_the_text_as_the_model_sees_it() -> None:
    words = user_lexicon(["壹万元"])
    (seen,) = for_model(["共计壹万元整"])
    assert words.matches(seen) == [(2, 5)]
