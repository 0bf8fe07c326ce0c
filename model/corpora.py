"""Reading and checking a training run's corpora, and setting its dev set apart.

The training loop, the HTTP route that checks an upload before queueing a job, `zhtag eval`
and the benches all read corpora through these functions, so a file refused at submission
is the file training would refuse, and every dev split is drawn alike. Kept apart from the
training loop so that those callers need not import it.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from data.corpus import Sentence, model_pieces
from data.errors import InputError
from data.formats import read_corpus
from model.config import TASKS
from model.trainstate import sha256_file

CORPUS_KINDS = {  # what each task learns from, as a refusal names it
    "cws": "a segmented corpus (seg, pos, or conll with B/M/E/S tags)",
    "pos": "words with their tags (pos: word/TAG tokens)",
    "ner": "typed entities (conll BIO/BIOES/BMES, jsonl, or pos, whose nr/ns/nt words are read as entities)",
}
RAW_TEACHER = ("--raw FILE", "--teacher REF")  # how `check_raw_teacher` names the two by default: the CLI's options


def load_sentences(
    path: Path, task: str, fmt: str | None, skip_bad: bool, max_len: int, log: Callable[[str], None] = print
) -> list[Sentence]:
    """Sentences of `path` shaped for `task`, cut into model-sized pieces."""
    return [piece for s in sentences_for(path, task, fmt, skip_bad, log) for piece in model_pieces(s, max_len)]


def sentences_for(path: Path, task: str, fmt: str | None = None, skip_bad: bool = False, log: Callable[[str], None] = print) -> list[Sentence]:
    """Sentences of `path`, checked to be of the kind `task` learns from and is scored on:
    a model scored on the wrong kind of corpus prints a figure that looks real."""
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    corpus = read_corpus(path, fmt, skip_bad=skip_bad, entities_from_pos=task == "ner")
    if corpus.skipped:
        log(f"{path}: skipped {corpus.skipped_text}")
    if task in ("cws", "pos") and not all(_tiles(s) for s in corpus.sentences):
        raise InputError(f"{path}: task {task} needs {CORPUS_KINDS[task]}, got {corpus.format} entities")
    if task in ("pos", "ner") and not corpus.labelled:
        raise InputError(f"{path}: task {task} needs {CORPUS_KINDS[task]}, and the {corpus.format} corpus holds no labels")
    if task == "ner" and not any(s.spans for s in corpus.sentences):
        raise InputError(f"{path}: no entity in {len(corpus.sentences)} sentences: an entity model learns nothing from it, and scores nothing on it")
    return [s.unlabelled() for s in corpus.sentences] if task == "cws" else corpus.sentences


def _tiles(sentence: Sentence) -> bool:
    return sum(s.end - s.start for s in sentence.spans) == len(sentence.text)


def check_splittable(sentences: Sequence[Sentence]) -> None:
    """Refuse a training corpus too small to split a dev set off (one given alone): copies of a
    sentence fall on one side, so it takes two different sentences."""
    texts = len({s.text for s in sentences})
    if texts < 2:
        raise InputError(f"need at least 2 different sentences to split off a dev set, got {texts}; give a dev corpus as well")


def check_raw_teacher(raw_given: bool, teacher_given: bool, names: tuple[str, str] = RAW_TEACHER) -> None:
    """Refuse raw text without a teacher, or a teacher without raw text: either alone would be
    ignored, and the run would not be the one asked for. `names` are the two as the caller
    knows them (the CLI's options by default)."""
    if raw_given != teacher_given:
        raise InputError(f"{names[0]} and {names[1]} go together: the teacher tags the raw text")


def check_dev_ratio(ratio: float) -> None:
    if not 0 < ratio < 1:
        raise InputError(f"--dev-ratio must be between 0 and 1, got {ratio}")


def split_dev(sentences: list[Sentence], ratio: float) -> tuple[list[Sentence], list[Sentence]]:
    """(training side, dev side), each in corpus order. A sentence's side depends on its text
    alone: it is dev when its text's hash (`_dev_key`) falls below `ratio`. So a sentence stays
    on its side as the corpus grows and whatever the seed, and the promotion gate, which compares
    only versions whose dev sets were drawn alike (`dev_split`), never scores the active version
    on dev sentences it trained on; copies of a sentence share a side, so none leaks dev into
    training. Each side holds at least one text: the lowest key goes to dev, the highest to
    training, whatever the ratio."""
    check_dev_ratio(ratio)
    check_splittable(sentences)
    keys = [_dev_key(s.text) for s in sentences]
    lowest, highest = min(keys), max(keys)
    dev = [key == lowest or (key < ratio and key != highest) for key in keys]
    return [s for s, d in zip(sentences, dev) if not d], [s for s, d in zip(sentences, dev) if d]


def _dev_key(text: str) -> float:
    """Where `text` falls in [0, 1): a hash that is the same in every process and on every
    machine (Python's `hash` of a str is salted per process)."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def dev_split(dev: Path | None, ratio: float) -> dict[str, Any]:
    """How a run's dev set is drawn: the share `ratio` of the training corpus `split_dev` sets
    apart, or the contents of the file `dev`. The gate compares two versions only where it is
    the same (a version tuned on another split may have trained on this run's dev sentences)."""
    return {"file": sha256_file(dev)} if dev else {"ratio": ratio}


def check_dev_sentences_apart(train: list[Sentence], dev: list[Sentence], name: str) -> None:
    """Refuse a dev corpus half or more of whose text is training sentences: a copy of the
    training file with a line added passes `check_dev_apart`, and its scores would be of text
    the model trained on. Each distinct sentence counts once, by its length, so the headings,
    sign-offs (（完）) and date lines real corpora share and repeat do not tip it. `name` is
    the dev corpus as the caller knows it (`--dev FILE`)."""
    seen = {sentence.text for sentence in train}
    texts = {sentence.text for sentence in dev}
    shared, total = sum(len(t) for t in texts if t in seen), sum(map(len, texts))
    if total and 2 * shared >= total:
        raise InputError(f"{shared / total:.0%} of the text of {name} is training sentences ({sum(t in seen for t in texts)} of its "
                         f"{len(texts)} distinct sentences): dev must be mostly sentences the model does not train on; "
                         "take them out of one file or the other")


def check_dev_apart(train: Path, dev: Path | None, names: tuple[str, str] | None = None) -> None:
    """Refuse a dev corpus that is the training corpus (the same file, or a copy of it): every
    dev score, and the promotion gate's, would be of sentences the model trained on. `names`
    are the two as the caller knows them (the CLI's options by default)."""
    if dev is None or not (train.is_file() and dev.is_file()) or sha256_file(dev) != sha256_file(train):
        return
    train_name, dev_name = names or (f"--train {train}", f"--dev {dev}")
    raise InputError(f"{dev_name} holds the same text as {train_name}: dev must be sentences the model does not train on")
