"""The CLI's streaming line reader: input lines in bounded pieces, so that a line of any length
(a 100 MB line on stdin) is tagged in bounded memory, and the output lines rejoined so that a
filter's one-line-in, one-line-out holds.

Invariants: the pieces of a line, joined, are the line without its ending; a piece never ends
inside a UTF-8 sequence (the incremental decoder carries it over); invalid UTF-8 is reported
with its 1-based line number, and every line before it is still yielded (`until_bad`).
"""
from __future__ import annotations

import codecs
import sys
from collections.abc import Callable, Iterator
from typing import NamedTuple

from data.errors import InputError
from data.text import CLAUSE_END, SENTENCE_END, WHITESPACE


class Piece(NamedTuple):
    text: str
    ends_line: bool  # False: the rest of its line follows in the next piece


PIECE_BYTES = 150_000  # a longer line is read and tagged in pieces, so memory stays bounded
BREAKS = SENTENCE_END | CLAUSE_END | WHITESPACE  # a long line's pieces end after one of these where they can


def read_pieces(source: str, whole_lines: bool, cut: Callable[[str], int]) -> Iterator[Piece]:
    """Input lines without their line endings, a line longer than PIECE_BYTES in pieces that
    end where `cut` says (or refused, with `whole_lines`). Invalid UTF-8 is reported with its
    line number; a leading byte-order mark is dropped."""
    handle = sys.stdin.buffer if source == "-" else open(source, "rb")
    decoder, carry, lineno = codecs.getincrementaldecoder("utf-8-sig")(), "", 1  # a leading BOM is a signature, not text, as for corpora
    with handle:
        while raw := handle.readline(PIECE_BYTES):
            ends = raw.endswith(b"\n") or len(raw) < PIECE_BYTES  # short without a newline: the file's last line
            text = carry + _decode(decoder, raw, ends, source, lineno)
            if ends:
                yield Piece(text.rstrip("\r\n"), True)
                carry, lineno = "", lineno + 1
                continue
            if whole_lines:
                raise InputError(f"{source}:{lineno}: line longer than {PIECE_BYTES:,} bytes; zhtag ner takes lines up to that (segment and pos stream longer ones)")
            end = cut(text)
            yield Piece(text[:end], False)
            carry = text[end:]
        rest = carry + _decode(decoder, b"", True, source, lineno)
        if rest:
            yield Piece(rest, True)


def _decode(decoder: codecs.IncrementalDecoder, raw: bytes, final: bool, source: str, lineno: int) -> str:
    """`raw` decoded, bytes of a character it cuts kept for the next call unless `final`;
    invalid UTF-8 is an error naming its line."""
    try:
        return decoder.decode(raw, final=final)
    except UnicodeDecodeError:
        raise InputError(f"{source}:{lineno}: not valid UTF-8") from None


def until_bad(pieces: Iterator[Piece], problems: list[InputError]) -> Iterator[Piece]:
    """The pieces before the first bad line, whose error lands in `problems`: so the output
    holds every line before it, as a filter's does, however the lines were chunked."""
    try:
        yield from pieces
    except InputError as err:
        problems.append(err)


def rejoined(output: str, pieces: list[Piece]) -> str:
    """One output line per input line again: the lines of a line's pieces joined by a space."""
    if all(piece.ends_line for piece in pieces):
        return output
    parts = output.split("\n")[: len(pieces)]
    return "".join(part + ("\n" if piece.ends_line else " " if part else "") for part, piece in zip(parts, pieces))
