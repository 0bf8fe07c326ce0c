"""Named user dictionaries managed over HTTP, kept as jieba-format files under the store root
(`<root>/dictionaries/<name>.txt`), so every worker and every restart sees the same ones.

A dictionary is checked line by line before it replaces anything, and written the way the
model store writes (`write_atomic`), so a reader sees the old dictionary or the new one. The
matching `Lexicon` is built once per file version (name, modification time) and shared by
every request that names the dictionary; only the dictionaries used last are kept built, so
memory does not grow with every dictionary ever named.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from data.errors import InputError
from data.dictfile import parse_dictionary
from data.lexicon import Lexicon
from data.atomic import write_atomic
from data.script import user_lexicon
from model.store import DICTIONARIES, NAME
from service.errors import DictionaryNotFound
from service.settings import Settings

MAX_CACHED = Settings.model_fields["max_cached_dictionaries"].default


@contextmanager
def _found(name: str) -> Iterator[None]:
    """A file of dictionary `name` that is not there is a DictionaryNotFound (a 404)."""
    try:
        yield
    except FileNotFoundError:
        raise DictionaryNotFound(f"no dictionary {name!r}") from None


class Dictionaries:
    def __init__(self, root: Path, max_cached: int = MAX_CACHED) -> None:
        self.dir = root / DICTIONARIES
        self.max_cached = max_cached
        self._cache: OrderedDict[str, tuple[int, dict[bool, Lexicon]]] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    def put(self, name: str, content: bytes) -> int:
        """Store (or replace) dictionary `name`; returns its word count. A malformed line is a
        CorpusError naming it, and then nothing is replaced. The old lexicon is dropped at once:
        a replacement within the file system's clock tick would otherwise look unchanged."""
        words = parse_dictionary(content.splitlines(), f"dictionary {name}")
        write_atomic(self._path(name), content)
        self._forget(name)
        return len(words)

    def content(self, name: str) -> bytes:
        """Dictionary `name` as it was stored."""
        with _found(name):
            return self._path(name).read_bytes()

    def lexicon(self, name: str, force: bool = False) -> Lexicon:
        """The words of dictionary `name`, built once per version of its file and kept while it
        is among the `max_cached` dictionaries used last. One whose file is gone (deleted by
        another worker) is dropped here too."""
        path = self._path(name)
        with self._lock, _found(name):
            cached, lexicons = self._cache.pop(name, (None, {}))
            version = path.stat().st_mtime_ns
            if cached != version:
                lexicons = {}
            if force not in lexicons:
                words = parse_dictionary(path.read_bytes().splitlines(), f"dictionary {name}")
                lexicons[force] = user_lexicon(words, force=force, tags=words)
            self._cache[name] = (version, lexicons)
            while len(self._cache) > self.max_cached:
                self._cache.popitem(last=False)
        return lexicons[force]

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.dir.glob("*.txt")) if self.dir.is_dir() else []

    def delete(self, name: str) -> None:
        with _found(name):
            self._path(name).unlink()
        self._forget(name)

    def _forget(self, name: str) -> None:
        with self._lock:
            self._cache.pop(name, None)

    def _path(self, name: str) -> Path:
        if not NAME.fullmatch(name):
            raise InputError(f"bad dictionary name {name!r}: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        return self.dir / f"{name}.txt"
