"""Specification of zhtag/posseg.py: jieba.posseg's cut and lcut, (word, flag) pairs from the
default tagger's pos model."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

import zhtag
import zhtag.posseg as pseg
from zhtag.posseg import _whole_names

pytestmark = pytest.mark.usefixtures("default_tagger")


def test_the_public_names_are_pinned() -> None:
    assert pseg.__all__ == ["Pair", "cut", "lcut"]


def test_lcut_pairs_each_word_with_its_flag_as_jieba_does() -> None:
    pairs = pseg.lcut("我爱北京天安门")
    assert pairs == [("我", "r"), ("爱", "v"), ("北京", "ns"), ("天安门", "ns")]
    assert [f"{word}/{flag}" for word, flag in pairs] == [str(pair) for pair in pairs]
    assert (pairs[2].word, pairs[2].flag) == ("北京", "ns")


def test_cut_yields_the_pairs_of_lcut() -> None:
    assert isinstance(pseg.cut("我爱北京"), Iterator)
    assert list(pseg.cut("我爱北京")) == pseg.lcut("我爱北京")


def test_words_and_flags_are_those_of_the_pos_model_with_whitespace_flagged_x(default_tagger: zhtag.Tagger) -> None:
    text = " 我爱北京。\r\n好 "
    pairs = pseg.lcut(text)
    assert "".join(word for word, _ in pairs) == text
    assert [flag for word, flag in pairs if word.isspace()] == ["x", "x", "x"]
    assert [p for p in pairs if not p.word.isspace()] == [(t.text, t.tag) for t in default_tagger.pos(text)]  # no name to join


def test_a_persons_name_is_one_pair_as_in_jieba_where_the_pos_model_writes_surname_and_given_name_apart(
    default_tagger: zhtag.Tagger,
) -> None:
    text = "江泽民和李鹏会见了克林顿。"
    assert [(t.text, t.tag) for t in default_tagger.pos(text) if t.tag == "nr"] == [("江", "nr"), ("泽民", "nr"), ("李", "nr"), ("鹏", "nr"), ("克林顿", "nr")]
    assert [word for word, flag in pseg.lcut(text) if flag == "nr"] == ["江泽民", "李鹏", "克林顿"]
    assert "".join(word for word, _ in pseg.lcut(text)) == text


@pytest.mark.parametrize(("pairs", "joined"), [
    ([("布什", "nr"), ("江", "nr"), ("泽民", "nr")], ["布什", "江泽民"]),  # a whole name before a surname
    ([("老王", "nr"), ("张", "nr"), ("三", "nr")], ["老王", "张三"]),
    ([("林", "nr"), ("嵩", "nr"), ("周", "nr"), ("美林", "nr"), ("范", "nr"), ("双民", "nr")], ["林嵩", "周美林", "范双民"]),
    ([("欧阳", "nr"), ("修", "nr"), ("克林顿", "nr")], ["欧阳修", "克林顿"]),
    ([("王", "nr"), ("说", "v")], ["王", "说"]),
])
def test_a_surname_joins_only_the_given_name_after_it(pairs: list[tuple[str, str]], joined: list[str]) -> None:
    assert [pair.word for pair in _whole_names([pseg.Pair(*pair) for pair in pairs])] == joined


def test_user_words_reach_posseg() -> None:
    zhtag.add_word("酷云盘")
    assert "酷云盘" in [word for word, _ in pseg.lcut("我们用酷云盘存文件")]


def test_jieba_only_arguments_are_ignored_with_a_warning() -> None:
    with pytest.warns(zhtag.IgnoredArgumentWarning, match="HMM=False") as caught:
        pseg.lcut("我爱北京", HMM=False)
    assert caught[0].filename == __file__
    with pytest.warns(zhtag.IgnoredArgumentWarning, match="use_paddle=True"):
        pseg.cut("我爱北京", use_paddle=True)
