"""Specification of zhtag/dictionary.py: a user dictionary that many threads may change while
others tag, read by the models as one immutable lexicon snapshot per call."""
from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from data.errors import CorpusError, InputError
from zhtag.dictionary import UserDictionary


def test_an_empty_dictionary_gives_no_lexicon() -> None:
    assert UserDictionary().lexicon() is None


def test_added_words_are_words_and_removed_ones_are_excluded() -> None:
    words = UserDictionary()
    words.add(["飞桨框架", "云计算"])
    words.remove("云计算")
    words.remove("鸟巢")
    lexicon = words.lexicon()
    assert lexicon is not None
    assert lexicon.words == {"飞桨框架"} and lexicon.excluded == {"云计算", "鸟巢"}


def test_adding_a_removed_word_takes_it_off_the_excluded_words() -> None:
    words = UserDictionary()
    words.remove("鸟巢")
    words.add(["鸟巢"])
    lexicon = words.lexicon()
    assert lexicon is not None and lexicon.words == {"鸟巢"} and not lexicon.excluded


def test_a_word_added_again_without_a_tag_keeps_its_tag_as_in_jieba() -> None:
    words = UserDictionary()
    words.add(["克鲁兹达"], {"克鲁兹达": "ns"})
    words.add(["克鲁兹达"], {"克鲁兹达": ""})
    lexicon = words.lexicon()
    assert lexicon is not None and lexicon.tags == {"克鲁兹达": "ns"}


def test_removing_a_word_in_either_script_removes_the_word_added_in_the_other() -> None:
    words = UserDictionary()
    words.add(["酷雲盤", "云计算"])
    words.remove("酷云盘")
    lexicon = words.lexicon()
    assert lexicon is not None and lexicon.words == {"云计算"}


def test_a_snapshot_never_changes_after_it_is_taken() -> None:
    words = UserDictionary()
    words.add(["飞桨框架"])
    snapshot = words.lexicon()
    words.add(["云计算"])
    assert snapshot is not None and snapshot.words == {"飞桨框架"}
    assert words.lexicon() is words.lexicon()  # rebuilt once per change, not per call


def test_changes_from_many_threads_all_land() -> None:
    words = UserDictionary()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: words.add([f"词{i:03d}"]), range(200)))
    lexicon = words.lexicon()
    assert lexicon is not None and len(lexicon.words) == 200


@pytest.mark.parametrize("word", ["", "北 京", 42, None])
def test_a_word_must_be_a_str_without_whitespace(word: object) -> None:
    with pytest.raises(InputError, match="non-empty str without whitespace"):
        UserDictionary().add([word])  # type: ignore[list-item]


def write(tmp_path: Path) -> Path:
    path = tmp_path / "words.txt"
    path.write_text("飞桨框架 3 nz\n云计算\n", encoding="utf-8")
    return path


def test_a_dictionary_loads_from_a_path_or_a_text_or_binary_file(tmp_path: Path) -> None:
    path = write(tmp_path)
    with open(path, encoding="utf-8") as text, open(path, "rb") as binary:
        for source in (path, str(path), text, binary, io.StringIO(path.read_text(encoding="utf-8"))):
            words = UserDictionary()
            words.load(source)
            lexicon = words.lexicon()
            assert lexicon is not None and lexicon.words == {"飞桨框架", "云计算"}


def test_a_bad_line_of_an_open_file_is_reported_with_the_files_name(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("飞桨框架\n北京\u200b市 3 n\n", encoding="utf-8")
    with open(path, "rb") as handle, pytest.raises(CorpusError) as caught:
        UserDictionary().load(handle)
    assert (caught.value.path, caught.value.line) == (str(path), 2)


def test_a_missing_dictionary_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="cannot read dictionary"):
        UserDictionary().load(tmp_path / "absent.txt")
