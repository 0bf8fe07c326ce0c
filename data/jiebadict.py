"""jieba's own dictionary, shipped inside the jieba package: the lexicon every model with
lexicon features reads, its gazetteers by tag, and the word frequencies that weigh pretrained
word vectors. Found and read without importing jieba.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from data.dictfile import read_dictionary
from data.lexicon import Lexicon


@lru_cache(maxsize=None)
def jieba_lexicon(tag: str = "") -> Lexicon:
    """jieba's shipped dictionary, loaded once per process; with `tag`, only its words whose
    part-of-speech tag begins with it: a gazetteer, such as nr (persons' names, 79k words),
    ns (places, 18k) or nt (organisations, 5k)."""
    path = _jieba_dictionary_path()
    return Lexicon.cached(path, lambda: [w for w, t in _jieba_dictionary().items() if t.startswith(tag)], part=tag)


def jieba_tags() -> set[str]:
    """The part-of-speech tags jieba's dictionary gives its words (nr, ns, nt, n, v, ...)."""
    return set(_jieba_dictionary().values())


@lru_cache(maxsize=1)
def jieba_frequencies() -> dict[str, int]:
    """jieba's dictionary, word -> frequency (its second field), as `data.softlexicon` weighs words."""
    with open(_jieba_dictionary_path(), encoding="utf-8") as handle:
        return {fields[0]: int(fields[1]) for fields in map(str.split, handle) if len(fields) >= 2 and fields[1].isdigit()}


def _jieba_dictionary_path() -> Path:
    """Found without importing jieba, whose HMM tables take 22 ms to import at every start."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("jieba is not installed: its dictionary feeds the lexicon features", name="jieba")
    return Path(spec.origin).parent / "dict.txt"


@lru_cache(maxsize=1)
def _jieba_dictionary() -> dict[str, str]:
    """jieba's dictionary, word -> tag, read once however many lexicons a process builds from
    it; only when their cached tables are missing."""
    return read_dictionary(_jieba_dictionary_path())
