"""Specification of zhtag/compat.py: jieba's module-level functions, same names, arguments
and shapes, answered by the default tagger."""
from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.text import SEPARATOR
import zhtag
from zhtag.compat import JIEBA_ONLY, tiles
from zhtag.posseg import JIEBA_POSSEG_ONLY

pytestmark = pytest.mark.usefixtures("default_tagger")

TEXT = "  我爱北京天安门。\r\n\t他说：“Python 3.11 真好” "


def test_cut_yields_words_and_lcut_lists_them() -> None:
    assert isinstance(zhtag.cut("我爱北京天安门"), Iterator)
    assert list(zhtag.cut("我爱北京天安门")) == zhtag.lcut("我爱北京天安门") == ["我", "爱", "北京", "天安门"]


def test_whitespace_comes_back_as_in_jieba_so_words_concatenate_to_the_input() -> None:
    words = zhtag.lcut(TEXT)
    assert "".join(words) == TEXT
    assert words[:2] == [" ", " "] and "\r\n" in words and "\t" in words


ODD = st.sampled_from(["\u3000", "\u200b", "\u0301", "😀", "\x00", "\ud800", "\ufeff", "\r", "\n", "\x1c", "中", "Ａ", " ", "\u200d", "\ufe0f", "\u3164", "\u115f", "\u1160", "가"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=30), st.text(ODD, max_size=30)))
def test_words_of_any_text_concatenate_to_it(text: str) -> None:
    assert "".join(zhtag.lcut(text)) == text
    assert all(text[start:end] == word for word, start, end in zhtag.tokenize(text))


@pytest.mark.parametrize("text", ["\u115f가", "a\u3164\u0301b", "中\u3164\u200d国", "가\u1160나", "\u200c\u0300好"])
def test_a_separator_that_unicode_joins_to_the_next_character_drops_nothing(text: str) -> None:
    """Hangul fillers and the characters after them share a grapheme cluster: the cluster is
    read code point by code point, so the filler separates and its neighbour stays a word."""
    words = zhtag.lcut(text)
    assert "".join(words) == text and not any(len(w) > 1 and SEPARATOR.search(w) for w in words)


def test_cut_and_tokenize_tag_a_long_text_a_part_at_a_time_with_the_words_of_the_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """A document read whole streams as jieba's does: the first words come after one part is
    tagged, and the parts, cut after line breaks, give the words of the whole."""
    text = "我爱北京天安门。\r\n他说：“真好”\n\n" * 4 + "最后一行"
    tagged: list[str] = []
    segment = zhtag.compat.default.segment
    monkeypatch.setattr(zhtag.compat, "CHUNK_CHARS", 20)
    monkeypatch.setattr(zhtag.compat.default, "segment", lambda part: tagged.append(part) or segment(part))
    words = zhtag.cut(text)
    assert next(words) == "我" and tagged == [text[:text.index("\n", 20) + 1]]
    rest = list(words)
    assert len(tagged) > 2 and "".join(tagged) == text, "the parts tile the text"
    whole = [text[start:end] for start, end in tiles(text, segment(text))]
    assert ["我", *rest] == whole == zhtag.lcut(text)
    assert [word for word, _, _ in zhtag.tokenize(text)] == zhtag.lcut(text)
    assert all(text[start:end] == word for word, start, end in zhtag.tokenize(text))


def test_tokenize_gives_each_word_with_its_offsets(default_tagger: zhtag.Tagger) -> None:
    tokens = list(zhtag.tokenize(TEXT))
    assert [word for word, _, _ in tokens] == zhtag.lcut(TEXT)
    assert all(TEXT[start:end] == word for word, start, end in tokens)
    assert [start for _, start, _ in tokens] == [0] + [end for _, _, end in tokens[:-1]]
    assert [(t.text, t.start, t.end) for t in default_tagger.segment(TEXT)] == [t for t in tokens if not t[0].isspace()]


def test_an_empty_text_has_no_words() -> None:
    assert zhtag.lcut("") == [] and list(zhtag.tokenize("")) == []


def test_jiebas_default_arguments_are_accepted_silently() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert zhtag.lcut("我爱北京", cut_all=False, HMM=True, use_paddle=False) == ["我", "爱", "北京"]
        assert list(zhtag.tokenize("我爱北京", mode="default", HMM=True))


def test_arguments_of_jiebas_algorithm_are_ignored_with_a_warning_at_the_callers_line() -> None:
    with pytest.warns(zhtag.IgnoredArgumentWarning, match="HMM=False") as caught:
        assert zhtag.lcut("我爱北京", HMM=False) == ["我", "爱", "北京"]
    assert caught[0].filename == __file__
    with pytest.warns(zhtag.IgnoredArgumentWarning, match="use_paddle=True"):
        list(zhtag.cut("我爱北京", use_paddle=True))
    with pytest.warns(zhtag.IgnoredArgumentWarning, match="HMM=False"):
        list(zhtag.tokenize("我爱北京", HMM=False))


def test_overlapping_modes_are_refused_at_the_call() -> None:
    with pytest.raises(zhtag.InputError, match="cut_all=True"):
        zhtag.cut("我爱北京", cut_all=True)
    with pytest.raises(zhtag.InputError, match="cut_all=True"):
        zhtag.lcut("我爱北京", cut_all=True)
    with pytest.raises(zhtag.InputError, match="mode='search'"):
        zhtag.tokenize("我爱北京", mode="search")


def test_bytes_are_refused_as_in_jiebas_tokenize() -> None:
    with pytest.raises(zhtag.InputError, match="got bytes"):
        zhtag.lcut("我爱北京".encode())  # type: ignore[arg-type]


@pytest.mark.parametrize("function", [zhtag.lcut, zhtag.cut, zhtag.tokenize, zhtag.posseg.lcut])
def test_a_list_is_refused_by_the_functions_that_take_one_sentence(function: Callable[..., object]) -> None:
    with pytest.raises(zhtag.InputError, match="sentence must be a str, got list"):
        function(["我爱北京"])


def test_set_log_level_sets_zhtags_loggers_as_jiebas_sets_its_own() -> None:
    zhtag.setLogLevel(logging.WARNING)
    assert logging.getLogger("zhtag").level == logging.WARNING
    zhtag.setLogLevel(logging.NOTSET)


@pytest.mark.parametrize("source", [123, None])
def test_load_userdict_of_neither_a_path_nor_a_file_is_refused(source: object) -> None:
    with pytest.raises(zhtag.InputError, match="a dictionary is a path, an open file or its lines"):
        zhtag.load_userdict(source)  # type: ignore[arg-type]


def test_add_word_and_del_word_change_the_default_dictionary() -> None:
    text = "我们用飞桨框架训练"
    before = zhtag.lcut(text)
    with pytest.warns(zhtag.IgnoredArgumentWarning) as caught:
        zhtag.add_word("飞桨框架", freq=100, tag="nz")
    assert [str(w.message).split()[0] for w in caught] == ["freq=100"]
    assert zhtag.lcut(text) == ["我们", "用", "飞桨框架", "训练"]
    zhtag.del_word("飞桨框架")
    assert zhtag.lcut(text) == before


@pytest.mark.parametrize("tag", [123, "bad tag", "1n", "门"])
def test_a_tag_that_is_not_a_tag_is_refused(tag: object) -> None:
    with pytest.raises(zhtag.InputError, match="a tag must be a jieba POS tag"):
        zhtag.add_word("飞桨框架", tag=tag)  # type: ignore[arg-type]


@pytest.mark.parametrize("function", ["cut_for_search", "lcut_for_search"])
def test_jiebas_search_functions_exist_and_refuse_as_search_mode_does(function: str) -> None:
    with pytest.raises(zhtag.InputError, match=f"^{function} is refused: jieba's search mode adds overlapping sub-words.*; use {function[:-11]}$"):
        getattr(zhtag, function)("我爱北京天安门")


def test_an_unknown_tokenize_mode_is_refused_naming_the_one_mode() -> None:
    with pytest.raises(zhtag.InputError, match="mode='default'"):
        list(zhtag.tokenize("我爱北京", mode="foo"))


def test_del_word_takes_a_word_out_of_jiebas_dictionary() -> None:
    assert "支付宝" in zhtag.lcut("我用支付宝付款")
    zhtag.del_word("支付宝")
    assert "支付宝" not in zhtag.lcut("我用支付宝付款")


def test_load_userdict_takes_a_files_lines_as_jieba_does() -> None:
    zhtag.load_userdict(["飞桨框架 3 nz", "云计算"])
    assert "飞桨框架" in zhtag.lcut("我们用飞桨框架训练")
    zhtag.del_word("飞桨框架")
    zhtag.del_word("云计算")


def test_load_userdict_takes_a_path_or_a_binary_file_as_jieba_does(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("飞桨框架 3 nz\n", encoding="utf-8")
    zhtag.load_userdict(str(path))
    assert "飞桨框架" in zhtag.lcut("我们用飞桨框架训练")
    zhtag.del_word("飞桨框架")
    zhtag.load_userdict(io.BytesIO("飞桨框架\n".encode()))
    assert "飞桨框架" in zhtag.lcut("我们用飞桨框架训练")


def test_load_userdict_skips_a_word_with_a_space_with_a_warning_and_loads_the_rest(tmp_path: Path) -> None:
    """jieba's own test dictionary holds `Edu Trust认证 2000`: a word with a space, which no
    text zhtag cuts at whitespace could match. The CLI refuses such a file; jieba's function
    loads the rest, as jieba does."""
    path = tmp_path / "words.txt"
    path.write_text("Edu Trust认证 2000\n飞桨框架 3 nz\nEdu Trust认证\n", encoding="utf-8")
    with pytest.warns(zhtag.IgnoredArgumentWarning) as caught:
        zhtag.load_userdict(str(path))
    assert [str(w.message).split(": a word")[0] for w in caught] == [f"{path}:1: skipped 'Edu Trust认证 2000'", f"{path}:3: skipped 'Edu Trust认证'"]
    assert "飞桨框架" in zhtag.lcut("我们用飞桨框架训练")
    zhtag.del_word("飞桨框架")


def test_a_skipped_dictionary_line_is_warned_of_at_the_callers_line_whichever_way_it_was_loaded(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("Edu Trust认证 2000\n", encoding="utf-8")
    for load in (lambda: zhtag.load_userdict(str(path)), lambda: zhtag.Tagger().load_userdict(path.open(encoding="utf-8"))):
        with pytest.warns(zhtag.IgnoredArgumentWarning) as caught:
            load()
        assert [w.filename for w in caught if w.category is zhtag.IgnoredArgumentWarning] == [__file__]


@pytest.mark.parametrize("name", sorted(JIEBA_ONLY))
def test_jieba_names_zhtag_leaves_out_say_why_and_what_to_use_instead(name: str) -> None:
    with pytest.raises(AttributeError, match=f"zhtag has no jieba.{name}: ."):
        getattr(zhtag, name)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        zhtag.no_such_name  # noqa: B018


@pytest.mark.parametrize("name", sorted(JIEBA_POSSEG_ONLY))
def test_jieba_posseg_names_zhtag_leaves_out_say_why(name: str) -> None:
    with pytest.raises(AttributeError, match=f"zhtag.posseg has no jieba.posseg.{name}: ."):
        getattr(zhtag.posseg, name)


def test_the_version_is_the_installed_packages() -> None:
    from importlib.metadata import version

    assert zhtag.__version__ == version("zhtag")
