"""Named dictionaries on disk: checked before they replace anything, read back as lexicons
rebuilt only when their file changes, kept built only while used lately, and named safely."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from data.errors import CorpusError, InputError
from service.dictionaries import Dictionaries
from service.errors import DictionaryNotFound


@pytest.fixture
def dictionaries(tmp_path: Path) -> Dictionaries:
    return Dictionaries(tmp_path)


def test_a_stored_dictionary_reads_back_as_a_lexicon(dictionaries: Dictionaries) -> None:
    assert dictionaries.put("brands", "酷云盘 10 nz\n飞桨框架\n".encode()) == 2
    assert dictionaries.lexicon("brands").words == {"酷云盘", "飞桨框架"}
    assert dictionaries.lexicon("brands").tags == {"酷云盘": "nz"}, "tags feed the gazetteers of models that have them"
    assert dictionaries.lexicon("brands", force=True).force
    assert dictionaries.names() == ["brands"]


def test_a_malformed_dictionary_names_its_line_and_replaces_nothing(dictionaries: Dictionaries) -> None:
    dictionaries.put("brands", "酷云盘\n".encode())
    with pytest.raises(CorpusError, match="dictionary brands:2"):
        dictionaries.put("brands", "飞桨框架\n飞桨 x y z\n".encode())
    assert dictionaries.lexicon("brands").words == {"酷云盘"}


def test_a_replaced_dictionary_is_read_anew(dictionaries: Dictionaries) -> None:
    dictionaries.put("brands", "酷云盘\n".encode())
    first = dictionaries.lexicon("brands")
    assert dictionaries.lexicon("brands") is first
    dictionaries.put("brands", "飞桨框架\n".encode())
    assert dictionaries.lexicon("brands").words == {"飞桨框架"}


@pytest.mark.parametrize("name", ["../escape", "a/b", "", "x" * 65, ".hidden"])
def test_names_cannot_leave_the_dictionary_folder(dictionaries: Dictionaries, name: str) -> None:
    with pytest.raises(InputError, match="bad dictionary name"):
        dictionaries.put(name, b"word\n")


def test_an_unknown_or_deleted_dictionary_is_named(dictionaries: Dictionaries) -> None:
    dictionaries.put("brands", "酷云盘\n".encode())
    dictionaries.delete("brands")
    with pytest.raises(DictionaryNotFound, match="brands"):
        dictionaries.lexicon("brands")


def _restore_with_mtime(dictionaries: Dictionaries, name: str, content: bytes, mtime_ns: int) -> None:
    """Write a dictionary's file behind the cache's back with a given modification time: as a
    replacement within one tick of a coarse file system clock looks."""
    path = dictionaries.dir / f"{name}.txt"
    path.write_bytes(content)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_a_deleted_dictionary_is_forgotten_so_one_stored_again_under_its_name_is_read_anew(dictionaries: Dictionaries) -> None:
    dictionaries.put("brands", "酷云盘\n".encode())
    mtime = (dictionaries.dir / "brands.txt").stat().st_mtime_ns
    dictionaries.lexicon("brands")
    dictionaries.delete("brands")
    _restore_with_mtime(dictionaries, "brands", "飞桨框架\n".encode(), mtime)
    assert dictionaries.lexicon("brands").words == {"飞桨框架"}


def test_a_replaced_dictionary_is_read_anew_even_when_its_file_time_did_not_change(dictionaries: Dictionaries) -> None:
    dictionaries.put("brands", "酷云盘\n".encode())
    mtime = (dictionaries.dir / "brands.txt").stat().st_mtime_ns
    dictionaries.lexicon("brands", force=True)
    dictionaries.put("brands", "飞桨框架\n".encode())
    os.utime(dictionaries.dir / "brands.txt", ns=(mtime, mtime))
    assert dictionaries.lexicon("brands", force=True).words == {"飞桨框架"}


def test_only_the_dictionaries_used_last_are_kept_built(tmp_path: Path) -> None:
    dictionaries = Dictionaries(tmp_path, max_cached=2)
    for name in ("a", "b", "c"):
        dictionaries.put(name, f"{name}词语\n".encode())
    a, b = dictionaries.lexicon("a"), dictionaries.lexicon("b")
    a_forced = dictionaries.lexicon("a", force=True)  # both modes of one dictionary count once
    dictionaries.lexicon("c")  # b is now the least recently used
    assert dictionaries.lexicon("a") is a and dictionaries.lexicon("a", force=True) is a_forced
    assert dictionaries.lexicon("b") is not b and dictionaries.lexicon("b").words == b.words


def test_a_dictionary_deleted_by_another_worker_is_dropped_when_next_named(dictionaries: Dictionaries) -> None:
    dictionaries.put("brands", "酷云盘\n".encode())
    mtime = (dictionaries.dir / "brands.txt").stat().st_mtime_ns
    dictionaries.lexicon("brands")
    (dictionaries.dir / "brands.txt").unlink()
    with pytest.raises(DictionaryNotFound):
        dictionaries.lexicon("brands")
    _restore_with_mtime(dictionaries, "brands", "飞桨框架\n".encode(), mtime)
    assert dictionaries.lexicon("brands").words == {"飞桨框架"}
