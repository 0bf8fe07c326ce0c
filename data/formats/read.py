"""`read_corpus`: a file, in a format given or detected, read into a `Corpus`; `read_raw`: a
file of raw text, a text a line."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from data.corpus import Sentence
from data.errors import CorpusError, InputError
from data.formats.conll import _read_conll
from data.formats.jsonl import _read_jsonl
from data.formats.pos import _read_pos
from data.formats.seg import _read_seg
from data.formats.source import FORMATS, _detect, _read_by_line, _Source


@dataclass
class Corpus:
    sentences: list[Sentence]
    format: str
    skipped: int  # bad lines (conll: bad sentences) dropped under skip_bad
    labelled: bool

    @property
    def skipped_text(self) -> str:
        """`skipped` with what it counts, for a message: conll drops a bad line's whole sentence."""
        return f"{self.skipped:,} malformed {'sentence' if self.format == 'conll' else 'line'}(s)"


_READERS: dict[str, Callable[[_Source, bool], tuple[list[Sentence], bool]]] = {
    "seg": _read_seg,
    "pos": _read_pos,
    "conll": _read_conll,
    "jsonl": _read_jsonl,
}


def read_corpus(
    path: str | Path,
    format: str | None = None,
    *,
    skip_bad: bool = False,
    entities_from_pos: bool = False,
) -> Corpus:
    """Read a corpus, detecting its format when `format` is None.

    Raises CorpusError naming the file and line of the first malformed line, unless `skip_bad`,
    and naming the file when it holds no sentence: an empty file is read as unlabelled
    segmentation, so a caller's check for labels would otherwise blame its format.
    `entities_from_pos` turns a pos corpus into nr/ns/nt entities (for NER training); the
    other formats already say what their spans are and ignore it.
    """
    source = _Source(str(path), skip_bad)
    format = format if format is not None else _detect(source)
    if format not in _READERS:
        raise InputError(f"unknown corpus format {format!r}; expected one of {', '.join(FORMATS)}")
    sentences, labelled = _READERS[format](source, entities_from_pos)
    corpus = Corpus(sentences, format, source.skipped, labelled)
    if not corpus.sentences:
        left = f"all {corpus.skipped_text} skipped" if corpus.skipped else "the file is empty or holds blank lines only"
        raise CorpusError(path, 0, f"no sentences: {left}")
    return corpus


def detect_format(path: str | Path) -> str:
    """The format `read_corpus` reads `path` in when given none, from the file's first lines."""
    return _detect(_Source(str(path), skip_bad=False))


def read_raw(path: str | Path, *, skip_bad: bool = False) -> list[str]:
    """The non-blank lines of a raw text file, without their line endings: text for a model to
    tag, such as a teacher's (`model.teacher`). Invalid UTF-8 is reported on its line, or
    skipped with `skip_bad`, as in a corpus."""
    return [sentence.text for sentence in _read_by_line(_Source(str(path), skip_bad), lambda line: Sentence(line, ()))]
