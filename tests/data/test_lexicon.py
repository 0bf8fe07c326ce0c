"""Specification of data/lexicon.py: per-character begins/inside/ends flags of lexicon words
found in a text; of data/dictfile.py: reading jieba-format dictionaries; and of
data/jiebadict.py: jieba's own, read without importing jieba."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.numpy import load as load_arrays
from safetensors.numpy import save as save_arrays

from data.errors import CorpusError
from data.dictfile import parse_dictionary, read_dictionary
from data.jiebadict import jieba_lexicon
from data.lexicon import MAX_WORD_LEN, Lexicon, cache_dir, marks, word_hashes
from data.text import codepoints


def features(lexicon: Lexicon, text: str) -> list[tuple[int, int, int]]:
    """The lexicon's begins/inside/ends flags of each character of `text`, as a model reads them."""
    return [tuple(row) for row in marks(len(text), *lexicon.hits(codepoints(text))).astype(int).tolist()]


def test_features_flag_where_words_begin_continue_and_end() -> None:
    lexicon = Lexicon(["北京", "北京大学", "大学", "学生"])
    assert features(lexicon, "北京大学生") == [
        (1, 0, 0),  # 北 begins 北京 and 北京大学
        (0, 1, 1),  # 京 ends 北京, is inside 北京大学
        (1, 1, 0),  # 大 begins 大学, is inside 北京大学
        (1, 0, 1),  # 学 begins 学生, ends 北京大学 and 大学
        (0, 0, 1),  # 生 ends 学生
    ]


def test_occurrences_name_each_word_by_the_hash_word_hashes_gives_it() -> None:
    words, text = ["北京", "北京大学", "大学", "学生", "中华人民共和国"], "北京大学生在中华人民共和国"
    by_hash = dict(zip(word_hashes(words).tolist(), words))
    starts, ends, hashes = Lexicon(words).occurrences(codepoints(text))
    found = sorted((s, e, by_hash[h]) for s, e, h in zip(starts.tolist(), ends.tolist(), hashes.tolist()))
    assert found == [(0, 2, "北京"), (0, 4, "北京大学"), (2, 4, "大学"), (3, 5, "学生"), (6, 13, "中华人民共和国")]
    assert len(set(by_hash)) == len(words)


def test_features_of_text_without_words_are_all_zero() -> None:
    assert features(Lexicon(["北京"]), "南京的天") == [(0, 0, 0)] * 4
    assert features(Lexicon(), "") == []


def test_words_are_found_even_when_a_shorter_prefix_is_not_a_word() -> None:
    assert features(Lexicon(["中华人民共和国"]), "中华人民共和国") == [(1, 0, 0)] + [(0, 1, 0)] * 5 + [(0, 0, 1)]


def test_single_characters_long_words_and_words_with_spaces_are_not_words() -> None:
    too_long = "一" * (MAX_WORD_LEN + 1)
    lexicon = Lexicon(["好", too_long, "北 京", "一" * MAX_WORD_LEN])
    assert lexicon.words == {"一" * MAX_WORD_LEN}
    flags = features(lexicon, "好" + "一" * MAX_WORD_LEN)
    assert flags[0] == (0, 0, 0)
    assert flags[1][0] == 1 and flags[-1][2] == 1


def test_exclusions_of_the_base_lexicon_itself_change_nothing() -> None:
    assert features(Lexicon(["北京"], excluded=["北京"]), "北京") == [(1, 0, 0), (0, 0, 1)]


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "dict.txt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text("abcd", min_size=2, max_size=5), max_size=40), st.text("abcde", max_size=30))
def test_every_occurrence_of_every_word_is_found_and_nothing_else(words: list[str], text: str) -> None:
    expected = sorted((i, j) for i in range(len(text)) for j in range(i + 2, len(text) + 1) if text[i:j] in set(words))
    assert Lexicon(words).matches(text) == expected


def test_read_dictionary_takes_the_word_and_tag_of_every_jieba_line(tmp_path: Path) -> None:
    path = write(tmp_path, "北京大学 2053 nt\n云计算 5\n区块链\n\n  \n创新办 3 i\n台中 n\n")
    assert read_dictionary(path) == {"北京大学": "nt", "云计算": "", "区块链": "", "创新办": "i", "台中": "n"}


def test_a_lexicons_tagged_words_form_lexicons_by_tag_prefix() -> None:
    lexicon = Lexicon(["新凯城", "王小明", "云计算"], tags={"新凯城": "ns", "王小明": "nrfg", "云计算": ""})
    assert lexicon.tagged("ns").words == {"新凯城"} and lexicon.tagged("nr").words == {"王小明"}
    assert lexicon.tagged("nt").words == set()


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("北京 1 ns\n上海 多 ns\n", 2),  # three fields with a non-numeric frequency
        ("北京\n上海\n广州 1 ns extra\n", 3),  # four fields
    ],
)
def test_a_bad_dictionary_line_is_reported_with_its_number(tmp_path: Path, content: str, line: int) -> None:
    path = write(tmp_path, content)
    with pytest.raises(CorpusError) as caught:
        read_dictionary(path)
    assert caught.value.line == line
    assert caught.value.path == str(path)
    assert f":{line}:" in str(caught.value)


def test_a_dictionary_that_is_not_utf8_is_refused_at_its_first_bad_line(tmp_path: Path) -> None:
    path = write(tmp_path, "上海 1\n".encode() + "北京 1\n".encode("gbk"))
    with pytest.raises(CorpusError, match="UTF-8") as caught:
        read_dictionary(path)
    assert caught.value.line == 2


def test_dictionary_lines_parse_alike_as_text_or_as_utf8_bytes() -> None:
    lines = ["\ufeff北京大学 3 nt\n", "云计算\n", "\n"]
    assert parse_dictionary(lines, "<text>") == parse_dictionary([line.encode() for line in lines], "<bytes>") == {"北京大学": "nt", "云计算": ""}


def test_a_bad_dictionary_line_names_the_source_it_came_from() -> None:
    with pytest.raises(CorpusError, match=r"^my words:2: "):
        parse_dictionary(["北京\n", "北京 1 ns extra\n"], "my words")


def test_a_word_with_a_space_in_it_is_refused_rather_than_read_as_a_tag() -> None:
    with pytest.raises(CorpusError, match=r"^my words:2: '门' is not a tag"):
        parse_dictionary(["台积电 ORG\n", "天安 门\n"], "my words")


@pytest.mark.parametrize(("line", "problem"), [
    ("天安门 5 5", "'5' is not a tag"), ("北京\u200b市 ns", "holds an invisible separator"), ("北京\u200d市", "holds an invisible separator"),
])
def test_a_line_with_a_number_for_a_tag_or_a_word_no_text_can_match_is_refused(line: str, problem: str) -> None:
    with pytest.raises(CorpusError, match=f"^my words:1: .*{problem}"):
        parse_dictionary([line], "my words")


def test_a_word_holding_an_emoji_sequence_is_a_word_text_can_match() -> None:
    """The joiners and variation selector of ❤️ and 👨‍👩‍👧 separate only outside an emoji."""
    assert parse_dictionary(["爱心❤️ 3 n", "👨\u200d👩\u200d👧一家", "▶️播放"], "my words") == {"爱心❤️": "n", "👨\u200d👩\u200d👧一家": "", "▶️播放": ""}


def test_a_huge_bad_dictionary_line_is_quoted_in_part() -> None:
    quote = r"'ab x yzz*'… \(100,007 characters\)"
    with pytest.raises(CorpusError, match=rf"^my words:1: expected 'word \[freq\] \[tag\]', got {quote}$"):
        parse_dictionary(["ab x y" + "z" * 100_001], "my words")


def test_a_missing_dictionary_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="cannot read"):
        read_dictionary(tmp_path / "absent.txt")


def test_a_byte_order_mark_is_not_part_of_the_first_word(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeff北京大学 3 nt\n云计算\n".encode("utf-8"))
    assert list(read_dictionary(path)) == ["北京大学", "云计算"]


def test_forced_words_are_those_that_cross_no_other_and_lie_inside_none() -> None:
    lexicon = Lexicon(["北京", "北京大学", "研究生", "生命", "大学生"], force=True)
    assert lexicon.forced("北京大学") == [(0, 4)]  # 北京 lies inside it
    assert lexicon.forced("研究生命") == []  # 研究生 and 生命 cross
    assert lexicon.forced("在北京，大学生") == [(1, 3), (4, 7)]


def cached(path: Path) -> Lexicon:
    return Lexicon.cached(path, lambda: read_dictionary(path))


def test_a_cached_lexicon_matches_what_its_words_match(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHTAG_CACHE", str(tmp_path / "cache"))
    path = write(tmp_path, "北京 3\n北京大学\n大学生 2 n\n".encode())
    built, loaded = cached(path), cached(path)
    assert len(list(cache_dir().iterdir())) == 1, "the first call stores the tables"
    text = "在北京大学生活"
    assert features(built, text) == features(loaded, text) == features(Lexicon(["北京", "北京大学", "大学生"]), text)
    assert loaded.words == {"北京", "北京大学", "大学生"}, "words are read when asked for"


def full_tables(stored: bytes) -> bytes:
    """The stored tables with every slot marked taken, so a probe for a missing word would never end."""
    arrays = load_arrays(stored)
    return save_arrays({name: np.ones_like(a) if name.startswith("flags") else a for name, a in arrays.items()})


@pytest.mark.parametrize("damage", [lambda stored: b"\xff" * 64, full_tables], ids=["garbage", "full tables"])
def test_a_damaged_cache_is_rebuilt_not_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Callable[[bytes], bytes]) -> None:
    monkeypatch.setenv("ZHTAG_CACHE", str(tmp_path / "cache"))
    path = write(tmp_path, "北京\n".encode())
    cached(path)
    (stored,) = cache_dir().iterdir()
    stored.write_bytes(damage(stored.read_bytes()))
    assert features(cached(path), "北北京") == [(0, 0, 0), (1, 0, 0), (0, 0, 1)], "北北 is looked up and missed"
    assert features(cached(path), "北北京") == [(0, 0, 0), (1, 0, 0), (0, 0, 1)], "and stored again"


def test_a_changed_dictionary_is_not_served_from_the_old_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHTAG_CACHE", str(tmp_path / "cache"))
    path = write(tmp_path, "北京\n".encode())
    cached(path)
    path.write_text("北京\n上海\n", encoding="utf-8")
    assert features(cached(path), "上海") == [(1, 0, 0), (0, 0, 1)]


def test_an_unwritable_cache_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("ZHTAG_CACHE", str(blocker / "cache"))  # a directory that cannot be made
    assert features(cached(write(tmp_path, "北京\n".encode())), "北京") == [(1, 0, 0), (0, 0, 1)]


def test_a_jieba_gazetteer_holds_the_words_of_its_part_of_speech_only() -> None:
    places, names = jieba_lexicon("ns"), jieba_lexicon("nr")
    assert places.matches("他在北京学习") == [(2, 4)], "北京 is a place; 学习 (v) is no name"
    assert "北京" not in names.words and "学习" not in places.words
    assert len(jieba_lexicon().words) > len(names.words) > len(places.words) > 0


def test_jiebas_lexicon_is_read_without_importing_jieba() -> None:
    """Importing jieba loads its HMM tables, time every `zhtag segment` would pay at start."""
    script = "import sys; from data.jiebadict import jieba_lexicon; assert jieba_lexicon().matches('北京'); print('jieba' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=Path(__file__).parents[2], timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
