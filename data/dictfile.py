"""The grammar of jieba-format dictionary files, `word [freq] [tag]` a line: what zhtag reads
of them and the lines it refuses, in one place for the CLI, the HTTP API, the Python API and
jieba's own dictionary alike.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from data.errors import CorpusError, quoted
from data.graphemes import readable

Spaced = Callable[[int, str], None]  # told (line number, line) of a line zhtag cannot read but jieba can: a word with a space


def read_dictionary(path: str | Path, spaced: Spaced | None = None) -> dict[str, str]:
    """Words of a jieba-format dictionary file (`word [freq] [tag]` a line), each with its tag
    ("" where it has none)."""
    try:
        with open(path, "rb") as handle:
            return parse_dictionary(handle, path, spaced)
    except OSError as err:
        raise CorpusError(path, 0, f"cannot read dictionary: {err.strerror}") from None


DICTIONARY_TAG = re.compile(r"[A-Za-z][\w.-]*", re.ASCII)  # jieba's tags (n, nr, eng), entity types (PER, company)


def parse_dictionary(lines: Iterable[str | bytes], source: str | Path, spaced: Spaced | None = None) -> dict[str, str]:
    """Words of jieba-format dictionary lines, text or UTF-8 bytes (jieba's `load_userdict`
    reads files opened in binary mode), each with its tag ("" where it has none; a later line
    of the same word wins, as in jieba); `source` names them in errors. jieba also reads a
    line of more fields as a word with spaces (`Edu Trust认证 2000`), which no text zhtag cuts
    could match: such a line is an error, or, given `spaced`, told to it and skipped."""
    words: dict[str, str] = {}
    for lineno, line in enumerate(lines, 1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as err:
                raise CorpusError(source, lineno, f"not UTF-8: {err}") from None
        if not isinstance(line, str):
            raise CorpusError(source, lineno, f"expected a line of text, got {type(line).__name__}")
        fields = line.removeprefix("\ufeff").split()
        problem = _field_problem(fields, line)
        if problem and spaced is not None:  # a line jieba reads as a word with spaces
            spaced(lineno, line.strip())
            continue
        if problem:
            raise CorpusError(source, lineno, problem)
        if fields and not readable(fields[0]):
            problem = "holds an invisible separator (a zero-width space, a control character): no text could match it"
            raise CorpusError(source, lineno, f"{quoted(fields[0])} {problem}")
        if fields:
            words[fields[0]] = _tag(fields)
    return words


def _tag(fields: list[str]) -> str:
    """The tag of a dictionary line's fields: the third, or a second that is no frequency."""
    return fields[2] if len(fields) == 3 else fields[1] if len(fields) == 2 and not fields[1].isdigit() else ""


def _field_problem(fields: list[str], line: str) -> str | None:
    """What is wrong with a dictionary line's fields (`word [freq] [tag]`), or None."""
    if len(fields) > 3 or (len(fields) == 3 and not fields[1].isdigit()):
        return f"expected 'word [freq] [tag]', got {quoted(line.strip())}"
    tag = _tag(fields)
    if tag and not DICTIONARY_TAG.fullmatch(tag):
        return f"{quoted(tag)} is not a tag (Latin letters, then letters, digits, '_', '.' or '-'): a word holds no space"
    return None
