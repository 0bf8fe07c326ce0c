"""Scores by the field's conventions: SIGHAN bakeoff word P/R/F1 with OOV recall for
segmentation, conlleval exact-span micro P/R/F1 with per-type F1 and unseen-entity recall for
entities, and the F1 of (word, tag) pairs for POS."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from data.corpus import Sentence, Span


def prf(correct: int, predicted: int, gold: int) -> dict[str, float]:
    p = correct / predicted if predicted else 0.0
    r = correct / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(100 * p, 2), "recall": round(100 * r, 2), "f1": round(100 * f, 2)}


def _count(gold: Iterable[set], pred: Iterable[set]) -> tuple[int, int, int]:
    correct = predicted = total = 0
    for g, p in zip(gold, pred, strict=True):
        correct, predicted, total = correct + len(g & p), predicted + len(p), total + len(g)
    return correct, predicted, total


def _unlabelled(spans: Iterable[Span]) -> set[tuple[int, int]]:
    return {(s.start, s.end) for s in spans}


def _labelled(spans: Iterable[Span]) -> set[tuple[int, int, str | None]]:
    return {(s.start, s.end, s.label) for s in spans}


def segmentation_scores(gold: Sequence[Sentence], pred: Sequence[Sequence[Span]], train_words: set[str]) -> dict:
    scores = prf(*_count((_unlabelled(s.spans) for s in gold), (_unlabelled(p) for p in pred)))
    scores["oov_recall"], scores["oov_rate"] = _unseen(gold, pred, train_words, _unlabelled)
    return scores


def _unseen(gold: Sequence[Sentence], pred: Sequence[Sequence[Span]], seen: set[str], key: Callable[[Iterable[Span]], set]) -> tuple[float | None, float]:
    """(recall, share in %) of the gold spans whose text is not in `seen`, a span found when
    `key` makes the same of it as of a predicted one."""
    hit = total = 0
    for sentence, spans in zip(gold, pred):
        predicted = key(spans)
        unseen = [span for span in sentence.spans if sentence.text[span.start : span.end] not in seen]
        total, hit = total + len(unseen), hit + len(key(unseen) & predicted)
    return (round(100 * hit / total, 2) if total else None), round(100 * total / max(1, sum(len(s.spans) for s in gold)), 2)


def entity_scores(gold: Sequence[Sentence], pred: Sequence[Sequence[Span]], train_entities: set[str] | None = None) -> dict:
    """With `train_entities` (the texts of the training corpus's entities), also the recall of
    entities never seen in training, and their share: text of other years is full of them."""
    scores = prf(*_count((_labelled(s.spans) for s in gold), (_labelled(p) for p in pred)))
    labels = sorted({s.label for g in gold for s in g.spans} | {s.label for p in pred for s in p}, key=str)
    scores["per_type_f1"] = {label: _type_f1(gold, pred, label) for label in labels}
    if train_entities:
        scores["unseen_recall"], scores["unseen_rate"] = _unseen(gold, pred, train_entities, _labelled)
    return scores


def _type_f1(gold: Sequence[Sentence], pred: Sequence[Sequence[Span]], label: str | None) -> float:
    def only(spans: Iterable[Span]) -> set:
        return {x for x in _labelled(spans) if x[2] == label}

    return prf(*_count((only(g.spans) for g in gold), (only(p) for p in pred)))["f1"]


def pos_scores(gold: Sequence[Sentence], pred: Sequence[Sequence[Span]], train_words: set[str]) -> dict:
    scores = prf(*_count((_labelled(s.spans) for s in gold), (_labelled(p) for p in pred)))
    scores["segmentation"] = segmentation_scores(gold, pred, train_words)
    return scores


def evaluate(task: str, gold: Sequence[Sentence], pred: Sequence[Sequence[Span]], train_words: set[str]) -> dict:
    """Scores of `pred` against `gold` for `task`, plus the sentence and character counts."""
    if task == "cws":
        scores = segmentation_scores(gold, pred, train_words)
    elif task == "pos":
        scores = pos_scores(gold, pred, train_words)
    else:
        scores = entity_scores(gold, pred, train_words)
    scores["sentences"] = len(gold)
    scores["chars"] = sum(len(s.text) for s in gold)
    return scores
