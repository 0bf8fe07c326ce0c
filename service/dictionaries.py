"""Named user dictionaries managed over HTTP, kept as jieba-format files under the store root
(`<root>/dictionaries/<name>.txt`), so every worker and every restart sees the same ones.

A dictionary is checked line by line before it replaces anything, and written the way the
model store writes (`write_atomic`), so a reader sees the old dictionary or the new one. The
matching `Lexicon` is built once per file version (name, modification time) and shared by
every request that names the dictionary.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from data.errors import InputError, ZhtagError
from data.lexicon import Lexicon, parse_dictionary
from data.atomic import write_atomic
from data.script import user_lexicon
from model.store import DICTIONARIES, NAME


class DictionaryNotFound(ZhtagError):
    """No dictionary has that name."""


@contextmanager
def _found(name: str) -> Iterator[None]:
    """A file of dictionary `name` that is not there is a DictionaryNotFound (a 404)."""
    try:
        yield
    except FileNotFoundError:
        raise DictionaryNotFound(f"no dictionary {name!r}") from None


class Dictionaries:
    def __init__(self, root: Path) -> None:
        self.dir = root / DICTIONARIES
        self._cache: dict[tuple[str, bool], tuple[int, Lexicon]] = {}
        self._lock = threading.Lock()

    def put(self, name: str, content: bytes) -> int:
        """Store (or replace) dictionary `name`; returns its word count. A malformed line is a
        CorpusError naming it, and then nothing is replaced."""
        words = parse_dictionary(content.splitlines(), f"dictionary {name}")
        write_atomic(self._path(name), content)
        return len(words)

    def content(self, name: str) -> bytes:
        """Dictionary `name` as it was stored."""
        with _found(name):
            return self._path(name).read_bytes()

    def lexicon(self, name: str, force: bool = False) -> Lexicon:
        """The words of dictionary `name`, built once per version of its file."""
        path = self._path(name)
        with _found(name):
            version = path.stat().st_mtime_ns
        with self._lock:
            cached = self._cache.get((name, force))
            if cached is None or cached[0] != version:
                words = parse_dictionary(path.read_bytes().splitlines(), f"dictionary {name}")
                cached = self._cache[(name, force)] = (version, user_lexicon(words, force=force, tags=words))
        return cached[1]

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.dir.glob("*.txt")) if self.dir.is_dir() else []

    def delete(self, name: str) -> None:
        with _found(name):
            self._path(name).unlink()

    def _path(self, name: str) -> Path:
        if not NAME.fullmatch(name):
            raise InputError(f"bad dictionary name {name!r}: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        return self.dir / f"{name}.txt"
