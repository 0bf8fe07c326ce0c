"""Specification of data/text.py: `split_text` cuts any input into model-sized pieces whose
offsets index the exact input and which never hold whitespace; `fold` maps characters to the
feature form without changing the length, on a string or on its code points alike."""
from __future__ import annotations

import re

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from data.text import SEPARATOR, codepoints, fold, fold_char, fold_codepoints, split_text

CHARS = st.sampled_from(list("我们去公园今天很好。！？；，、：,.!?;…abcXYZ019１２ＡＢ ") + [" ", "\t", "\n", "\u3000", "\xa0", "\r"])
TEXTS = st.one_of(st.text(CHARS, max_size=80), st.text(max_size=40))


def check_pieces(text: str, max_len: int) -> list[tuple[int, str]]:
    pieces = list(split_text(text, max_len))
    for offset, piece in pieces:
        assert text[offset : offset + len(piece)] == piece
        assert 0 < len(piece) <= max_len
        assert not SEPARATOR.search(piece), piece
    assert "".join(piece for _, piece in pieces) == SEPARATOR.sub("", text)
    ends = [offset + len(piece) for offset, piece in pieces]
    assert all(end <= nxt for end, (nxt, _) in zip(ends, pieces[1:])), "pieces are in order and disjoint"
    return pieces


@given(TEXTS, st.integers(1, 12))
def test_split_text_pieces_map_back_to_the_exact_input(text: str, max_len: int) -> None:
    check_pieces(text, max_len)


def test_split_text_cuts_after_sentence_punctuation_first() -> None:
    assert list(split_text("你好。世界你好", 5)) == [(0, "你好。"), (3, "世界你好")]


def test_split_text_cuts_after_clause_punctuation_when_no_sentence_ends() -> None:
    assert list(split_text("你好，世界你好", 5)) == [(0, "你好，"), (3, "世界你好")]
    assert list(split_text("你，好。世界你好", 6)) == [(0, "你，好。"), (4, "世界你好")]
    assert list(split_text("你。好世界你好", 5)) == [(0, "你。"), (2, "好世界你好")]


def test_split_text_cuts_hard_at_max_len_without_punctuation() -> None:
    assert list(split_text("一二三四五六七", 3)) == [(0, "一二三"), (3, "四五六"), (6, "七")]


def test_split_text_cuts_before_a_web_address_rather_than_at_its_punctuation() -> None:
    url = "https://example.com/a?b=1,c:2"
    text = "我们" * 60 + "请看" + url + "，好的" + "天气" * 50
    pieces = check_pieces(text, 150)
    assert any(piece.startswith(url) for _, piece in pieces)


def test_split_text_cuts_an_address_longer_than_max_len_hard() -> None:
    text = "https://example.com/" + "a" * 200 + "?x=1"
    assert [(offset, len(piece)) for offset, piece in split_text(text, 150)] == [(0, 150), (150, 74)]


def test_a_run_without_punctuation_is_cut_between_the_words_found_in_it_not_hard() -> None:
    text = "天安门北京" * 5
    words = lambda run: [m.span() for m in re.finditer("天安门|北京", run)]  # noqa: E731
    assert [(offset, len(piece)) for offset, piece in split_text(text, 12, words=words)] == [(0, 10), (10, 10), (20, 5)]
    assert [(offset, len(piece)) for offset, piece in split_text(text, 12)] == [(0, 12), (12, 12), (24, 1)]


def test_a_hangul_filler_separates_and_is_no_letter() -> None:
    assert list(split_text("hello\u3164world", 150)) == [(0, "hello"), (6, "world")]


def test_a_run_inside_one_long_word_is_cut_hard_at_max_len() -> None:
    text = "天" * 30
    assert [len(piece) for _, piece in split_text(text, 12, words=lambda run: [(0, len(run))])] == [12, 12, 6]


def test_split_text_separates_at_any_whitespace() -> None:
    text = " 今天\u3000天气\t很好\n。 "
    assert list(split_text(text, 150)) == [(1, "今天"), (4, "天气"), (7, "很好"), (10, "。")]


def test_split_text_separates_at_invisible_format_characters_as_at_whitespace() -> None:
    text = "\ufeff王小明\u200b在\u2060北京\u200f工作\u202a。\u00ad好"  # and so do U+3164 and the other Hangul fillers
    assert list(split_text(text, 150)) == [(1, "王小明"), (5, "在"), (7, "北京"), (10, "工作"), (13, "。"), (15, "好")]


def test_split_text_of_empty_or_blank_input_has_no_pieces() -> None:
    assert list(split_text("", 5)) == []
    assert list(split_text(" \u3000\n\t", 5)) == []


def test_a_one_million_character_line_splits_into_pieces_that_map_back() -> None:
    line = (("我们今天去公园散步，天气很好。" * 20 + "长" * 500 + "！") * 1300)[:1_000_000]
    pieces = check_pieces(line, 150)
    assert sum(len(p) for _, p in pieces) == 1_000_000
    assert max(len(p) for _, p in pieces) == 150  # the runs of 长 are cut hard


@given(st.text())
def test_fold_keeps_the_length(text: str) -> None:
    assert len(fold(text)) == len(text)


@given(TEXTS)
def test_fold_of_code_points_is_fold_of_the_text(text: str) -> None:
    assert np.array_equal(fold_codepoints(codepoints(text)), codepoints(fold(text)))


def test_fold_maps_digits_and_letters_of_both_widths() -> None:
    assert fold("１９９８年2024年") == "0000年0000年"
    assert fold("ＡＢｃ公司abcXYZ") == "aaa公司aaaaaa"


def test_fold_reads_brackets_and_quotes_as_the_ones_people_s_daily_writes() -> None:
    assert fold("「石墨烯」【新品】〔注〕｛a｝[1]«x»") == "“石墨烯”(新品)(注)(a)(0)“a”"
    assert fold("“”‘’《》『』〈〉（）") == "“”‘’《》『』〈〉()"  # the corpus's own


def test_fold_turns_full_width_punctuation_half_width_and_keeps_the_rest() -> None:
    assert fold("！，？（）") == "!,?()"
    assert fold("中文\u3000。、…") == "中文\u3000。、…"
    assert fold_char("٣") == "٣"


def test_fold_reads_accented_latin_and_other_alphabets_letters_as_latin_letters_and_han_and_signs_as_themselves() -> None:
    assert fold("café Pokémon Běijīng Zürich Æß") == "aaaa aaaaaaa aaaaaaa aaaaaa aa"
    assert fold("Москва αβγ 서울 こんにちは カタカナ שלום ㅋㅋ") == "aaaaaa aaa aa aaaaa aaaa aaaa aa"
    assert fold("×÷・ー北京。") == "×÷・ー北京。"  # signs, the middle dot and the long-vowel mark of transliterated names, Han
