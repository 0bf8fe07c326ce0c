"""Named dictionaries on disk: checked before they replace anything, read back as lexicons
rebuilt only when their file changes, and named safely."""
from __future__ import annotations

from pathlib import Path

import pytest

from data.errors import CorpusError, InputError
from service.dictionaries import Dictionaries, DictionaryNotFound


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
