"""Training sentences from raw text, tagged by a teacher model.

Labelled text is scarce and raw text of the domain plentiful: a teacher (a stored or shipped
model, best a bigger one, such as `pos` for a `cws`) tags the raw text, and the new model
trains on those sentences beside the labelled ones. It learns the teacher's answers on words
its labelled corpus never shows. Raw pieces that share a run of `SHARED_RUN` characters with
a dev sentence, or that are a dev sentence (a short one shares no such run: a headline, a line
of verse), are left out, so that dev stays text the new model has not read.
"""
from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

from data.corpus import Sentence
from data.errors import InputError
from data.text import split_text
from model.config import ANSWERS
from model.parallel import map_chunks
from model.tagger import Tagger

SHARED_RUN = 10  # characters in common with a dev sentence that leave a raw piece out


def taught_sentences(teacher: Tagger, task: str, texts: Sequence[str], dev: Sequence[Sentence], max_len: int) -> tuple[list[Sentence], int]:
    """(sentences, left out): the pieces of `texts` (cut as tagging cuts them) as `teacher`
    tags them, shaped for `task` (a `pos` teacher's words, untagged, for `cws`), and how many
    pieces were left out for sharing a run with `dev` or being one of its sentences."""
    check_teacher(task, teacher.config.task, teacher.ref)
    runs = {s.text[i : i + SHARED_RUN] for s in dev for i in range(len(s.text) - SHARED_RUN + 1)}
    dev_texts = {s.text for s in dev}
    pieces = [piece for text in texts for _, piece in split_text(text, max_len)]
    shares_run = lambda p: any(p[i : i + SHARED_RUN] in runs for i in range(len(p) - SHARED_RUN + 1))  # noqa: E731
    kept = [p for p in pieces if p not in dev_texts and not shares_run(p)]
    tagged = chain.from_iterable(map_chunks(lambda chunk: teacher.tag(chunk, scores=False), kept, workers=1))  # one thread: training's torch threads stay as set
    sentences = [Sentence(piece, tuple(spans)) for piece, spans in zip(kept, tagged, strict=True)]
    return [s.unlabelled() for s in sentences] if task == "cws" else sentences, len(pieces) - len(kept)


def check_teacher(task: str, teacher_task: str, teacher_ref: str | None) -> None:
    """Refuse a teacher whose answers do not fit `task`: those models that could answer the
    task's request (`ANSWERS`), so a segmenter can learn a POS model's words."""
    allowed = ANSWERS["segment" if task == "cws" else task]
    if teacher_task not in allowed:
        raise InputError(f"the teacher {teacher_ref} is a {teacher_task} model; a {task} model learns from a {' or '.join(allowed)} model")
