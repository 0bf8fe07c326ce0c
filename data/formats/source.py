"""A corpus file as read: its lines decoded one by one, the skip_bad policy, and its format guessed."""
from __future__ import annotations

import codecs
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice

from data.corpus import Sentence
from data.errors import CorpusError

FORMATS = ("seg", "pos", "conll", "jsonl")
_DETECT_SAMPLE = 5  # non-empty lines voted on, so that one odd line cannot decide the format


class _BadLine(Exception):
    """A malformed line; `line` is set only where the problem is found after the line was read."""

    def __init__(self, problem: str, line: int = 0) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


@dataclass
class _Source:
    """The file being read and the policy for its bad lines, shared by every reader."""

    path: str  # as the caller wrote it, so messages name the file the way the user did
    skip_bad: bool
    skipped: int = 0

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """(line number, bytes) of each line, without its BOM or line ending: handed to a parser,
        the newline of a line cut short reads as part of its text (to JSON, a control character)."""
        try:
            handle = open(self.path, "rb")
        except FileNotFoundError:
            raise CorpusError(self.path, 0, "file not found") from None
        except OSError as e:
            raise CorpusError(self.path, 0, f"cannot open file: {e.strerror}") from None
        with handle:
            for lineno, raw in enumerate(handle, 1):
                raw = raw.rstrip(b"\r\n")
                yield lineno, raw.removeprefix(codecs.BOM_UTF8) if lineno == 1 else raw

    def reject(self, line: int, problem: str) -> None:
        if not self.skip_bad:
            raise CorpusError(self.path, line, problem)
        self.skipped += 1


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _BadLine(f"invalid UTF-8 at byte {e.start + 1}") from None


def _read_by_line(source: _Source, parse: Callable[[str], Sentence]) -> list[Sentence]:
    sentences = []
    for lineno, raw in source.lines():
        try:
            line = _decode(raw)
            if line.strip():
                sentences.append(parse(line))
        except _BadLine as e:
            source.reject(lineno, e.problem)
    return sentences


def _is_pos_token(token: str) -> bool:
    word, slash, tag = token.rpartition("/")
    return bool(slash and word and tag)


def _line_format(line: str) -> str:
    fields = line.split()
    if line.lstrip().startswith("{"):
        return "jsonl"
    if len(fields) == 2 and len(fields[0]) == 1:
        return "conll"
    if all(map(_is_pos_token, fields)):
        return "pos"
    return "seg"


def _detect(source: _Source) -> str:
    """The format most of the first non-empty lines look like (ties: the first line's)."""
    texts = (raw.decode("utf-8", "replace") for _, raw in source.lines())
    votes = Counter(map(_line_format, islice((t for t in texts if t.strip()), _DETECT_SAMPLE)))
    return votes.most_common(1)[0][0] if votes else "seg"
