"""Dictionary features: for each character, whether it begins, continues or ends a word of
two or more characters found in a lexicon (jieba's dictionary plus any user dictionaries).

The tagger learns how far to trust the lexicon, so a user dictionary added at tagging time
nudges segmentation toward its words without retraining, and one that excludes a word of
jieba's dictionary nudges it away from that word.

Matching runs on arrays of code points, a whole chunk of texts at once: a Python loop over
every start and length was the slowest step of tagging. Each length k has a hash table of
the 64-bit rolling hashes of the words and word prefixes of that length; the positions whose
k-character prefix is in the table go on to length k+1, the rest stop, as in a trie walk.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as load_arrays
from safetensors.numpy import save as save_arrays

from data.atomic import write_atomic
from data.graphemes import readable
from data.hashtable import HashTable
from data.text import SEPARATOR, codepoints

MIN_WORD_LEN, MAX_WORD_LEN = 2, 12  # the lengths of the words a lexicon marks: one character is no word to keep whole
FEATURES = 3  # begins, inside, ends
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd, so the rolling hash loses no bits per step
WORD, PREFIX = np.uint8(1), np.uint8(2)  # a level's values: flags of a string of its length
_CACHE_FORMAT = 2  # bump when the tables or the hash change


def _by_length(words: Iterable[str]) -> list[str]:
    """The distinct words of MIN_WORD_LEN..MAX_WORD_LEN characters without a separator (text
    is cut at every one, so no piece holds a word that has one), shortest first."""
    ordered = sorted(set(words), key=len)
    lengths = np.fromiter(map(len, ordered), dtype=np.int64, count=len(ordered))  # (words,)
    lo, hi = np.searchsorted(lengths, [MIN_WORD_LEN, MAX_WORD_LEN + 1]).tolist()
    ordered = ordered[lo:hi]
    if SEPARATOR.search("".join(ordered)):  # one scan; a word with a space is rare
        ordered = [w for w in ordered if readable(w)]
    return ordered


def unusable(words: Iterable[str]) -> list[str]:
    """The words a lexicon leaves out for their length (`_by_length`), sorted."""
    return sorted(w for w in words if not MIN_WORD_LEN <= len(w) <= MAX_WORD_LEN)


def _prefix_hashes(ordered: list[str]) -> list[tuple[int, int, np.ndarray]]:
    """(length, k, (count,) hashes of the k-character prefixes) of each block of equally long
    words in `ordered` (sorted by length) and each k up to that length, hashed a length at a
    time: words sorted by length lie in one array as consecutive (count, length) blocks."""
    lengths = np.fromiter(map(len, ordered), dtype=np.int64, count=len(ordered))  # (words,)
    cps = codepoints("".join(ordered)).astype(np.uint64)  # (total chars,)
    out, offset = [], 0
    for length, count in enumerate(np.bincount(lengths).tolist() if len(lengths) else []):
        block = cps[offset : offset + count * length].reshape(count, length)  # (count, length)
        offset += count * length
        h = np.zeros(count, dtype=np.uint64)  # (count,)
        for k in range(1, length + 1):
            h = h * _MULTIPLIER + block[:, k - 1]
            out.append((length, k, h))
    return out


def word_hashes(words: list[str]) -> np.ndarray:
    """(words,) uint64 the hash `Lexicon.occurrences` gives each of `words`."""
    order = np.argsort(np.fromiter(map(len, words), dtype=np.int64, count=len(words)), kind="stable")  # (words,) shortest first
    whole = [h for length, k, h in _prefix_hashes([words[i] for i in order.tolist()]) if k == length]
    hashes = np.empty(len(words), dtype=np.uint64)
    hashes[order] = np.concatenate([np.empty(0, np.uint64), *whole])
    return hashes


def _levels(ordered: list[str]) -> list[HashTable]:
    """One table per length 0..MAX_WORD_LEN of the words `ordered` (`_by_length`): the hashes
    of the strings of that length that are words or prefixes of longer words, with their
    WORD | PREFIX flags."""
    found: list[list[np.ndarray]] = [[] for _ in range(MAX_WORD_LEN + 1)]
    begun: list[list[np.ndarray]] = [[] for _ in range(MAX_WORD_LEN + 1)]
    for length, k, h in _prefix_hashes(ordered):
        (found if k == length else begun)[k].append(h)
    levels = []
    for k in range(MAX_WORD_LEN + 1):
        hashes = np.concatenate([np.empty(0, np.uint64), *found[k], *begun[k]])  # (words and prefixes,)
        bits = np.repeat([WORD, PREFIX], [sum(map(len, found[k])), sum(map(len, begun[k]))]).astype(np.uint8)
        keys, inverse = np.unique(hashes, return_inverse=True)
        flags = np.zeros(len(keys), dtype=np.uint8)
        np.bitwise_or.at(flags, inverse, bits)  # a string can be a word and a prefix
        levels.append(HashTable.of(keys, flags))
    return levels


def marks(n: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(n, FEATURES) float32: 1 where a word [start, end) begins, lies strictly inside, ends."""
    out = np.zeros((n, FEATURES), dtype=np.float32)  # (n, 3)
    out[starts, 0] = 1
    out[ends - 1, 2] = 1
    depth = np.bincount(starts + 1, minlength=n + 1) - np.bincount(ends - 1, minlength=n + 1)  # (n+1,)
    out[:, 1] = np.cumsum(depth)[:n] > 0
    return out


def cache_dir() -> Path:
    """Where zhtag keeps what it can rebuild: $ZHTAG_CACHE, else $XDG_CACHE_HOME/zhtag, else ~/.cache/zhtag."""
    if os.environ.get("ZHTAG_CACHE"):
        return Path(os.environ["ZHTAG_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zhtag"


def _level_arrays(levels: list[HashTable]) -> dict[str, np.ndarray]:
    return {name: array for k, level in enumerate(levels) for name, array in ((f"keys{k}", level.keys), (f"flags{k}", level.values))}


def _load_levels(path: Path) -> list[HashTable] | None:
    """The levels saved at `path`, or None where the file is missing or not what `_level_arrays` wrote."""
    try:
        arrays = load_arrays(path.read_bytes())
        levels = [HashTable(arrays[f"keys{k}"], arrays[f"flags{k}"]) for k in range(MAX_WORD_LEN + 1)]
    except (OSError, KeyError, ValueError, SafetensorError):
        return None
    return levels if all(level.well_formed and level.values.dtype == np.uint8 for level in levels) else None


class Lexicon:
    """A set of words matched in texts by their hashes, a length at a time.

    `excluded` words only matter in a user dictionary: they are not matched in the lexicon it
    extends, which is how a caller takes a word out of jieba's dictionary (jieba's `del_word`)."""

    def __init__(self, words: Iterable[str] = (), excluded: Iterable[str] = (), force: bool = False, tags: Mapping[str, str] | None = None) -> None:
        """`force`: as a user dictionary, its words are kept whole where they do not cut one
        another (see `forced`), instead of only being weighed as features. `tags`: the
        part-of-speech tags of some words (a dictionary's third field), which put them in the
        gazetteers of a model that has them (see `tagged`)."""
        self.excluded, self.force, self.tags = frozenset(excluded), force, {w: t for w, t in (tags or {}).items() if t}
        self._tagged: dict[str, Lexicon] = {}
        ordered = _by_length(words)
        self._words: set[str] | None = set(ordered)
        self._read: Callable[[], Iterable[str]] = lambda: ()
        self._use(_levels(ordered))
        self._excluded = _levels(_by_length(self.excluded))

    def _use(self, levels: list[HashTable]) -> None:
        self._levels = levels
        self._begins = np.zeros(0x110000, dtype=bool)  # (code points,): the character begins a word
        self._begins[levels[1].members.astype(np.int64)] = True

    @property
    def words(self) -> set[str]:
        if self._words is None:
            self._words = set(_by_length(self._read()))
        return self._words

    @classmethod
    def cached(cls, source: Path, read: Callable[[], Iterable[str]], part: str = "") -> "Lexicon":
        """The lexicon of the dictionary file `source`, whose words `read` returns (`part`
        names which of them, where `read` takes only some). Its match tables are kept in the
        user's cache, keyed by the file's path, size and modification time and `part`, so a
        process starts without reading 350k words; `words` reads them only if asked. A cache
        that cannot be read or written is rebuilt or skipped, never fatal."""
        stat = source.stat()
        key = hashlib.sha256(f"{_CACHE_FORMAT}:{source.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{part}".encode()).hexdigest()[:20]
        path = cache_dir() / f"lexicon-{key}.safetensors"
        levels = _load_levels(path)
        if levels is None:
            lexicon = cls(read())
            try:
                write_atomic(path, save_arrays(_level_arrays(lexicon._levels)))
            except OSError:
                pass
            return lexicon
        lexicon = cls()
        lexicon._words, lexicon._read = None, read
        lexicon._use(levels)
        return lexicon

    def tagged(self, prefix: str) -> "Lexicon":
        """The words whose tag begins with `prefix` (ns: places), as a lexicon of their own."""
        if prefix not in self._tagged:
            self._tagged[prefix] = Lexicon(w for w, t in self.tags.items() if t.startswith(prefix))
        return self._tagged[prefix]

    def hits(self, cps: np.ndarray, excluded: "Lexicon | None" = None) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of every occurrence of a word in the code points `cps`, except the
        words `excluded` excludes. Whitespace is in no word, so texts joined by whitespace
        match as if apart."""
        return self.occurrences(cps, excluded)[:2]

    def occurrences(self, cps: np.ndarray, excluded: "Lexicon | None" = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`hits`, with each occurrence's word as its hash (see `word_hashes`)."""
        pos = np.flatnonzero(self._begins[cps])  # (m,) positions where a word may begin
        h = cps[pos].astype(np.uint64)  # (m,) hashes of the one-character prefixes
        starts, ends, hashes = [np.empty(0, np.int64)], [np.empty(0, np.int64)], [np.empty(0, np.uint64)]
        for k in range(2, MAX_WORD_LEN + 1):
            inside = pos + k <= len(cps)
            pos, h = pos[inside], h[inside]
            h = h * _MULTIPLIER + cps[pos + k - 1].astype(np.uint64)  # (m,) hashes of the k-character strings
            found = self._levels[k].find(h)  # (m,) WORD | PREFIX flags
            word, prefix = (found & WORD) != 0, (found & PREFIX) != 0
            if excluded is not None:
                word &= (excluded._excluded[k].find(h) & WORD) == 0
            starts.append(pos[word])
            ends.append(pos[word] + k)
            hashes.append(h[word])
            pos, h = pos[prefix], h[prefix]
            if not len(pos):
                break
        return np.concatenate(starts), np.concatenate(ends), np.concatenate(hashes)

    def flags(self, cps: np.ndarray) -> np.ndarray:
        """(n, FEATURES) float32 begins/inside/ends flags of the code points `cps`. A user
        dictionary is matched apart and its flags combined by `data.batches.Encoder`: merged
        here, it would copy jieba's 350k words for every request that brings one."""
        return marks(len(cps), *self.hits(cps))

    def matches(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every occurrence of a word in `text`, in order."""
        starts, ends = self.hits(codepoints(text))
        return sorted(zip(starts.tolist(), ends.tolist()))

    def forced(self, text: str) -> list[tuple[int, int]]:
        """The occurrences to keep whole: those that cross no other occurrence and lie inside
        no longer one. Keeping 北京大学 whole cuts nothing inside it; keeping either of two
        crossing words would cut the other, so neither is forced."""
        found = self.matches(text)

        def crosses(a: tuple[int, int], b: tuple[int, int]) -> bool:
            return a[0] < b[0] < a[1] < b[1] or b[0] < a[0] < b[1] < a[1]

        def inside(a: tuple[int, int], b: tuple[int, int]) -> bool:
            return a != b and b[0] <= a[0] and a[1] <= b[1]

        return [m for m in found if not any(crosses(m, o) or inside(m, o) for o in found)]
