"""Scores by the field's conventions: SIGHAN bakeoff word P/R/F1 with OOV recall for
segmentation, conlleval exact-span micro P/R/F1 with per-type F1 and unseen-entity recall for
entities, and the F1 of (word, tag) pairs for POS. Also what training and `zhtag eval` report
around them: a tagger's dev scores, and gold labels a tagger never learned."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from data.corpus import Sentence, Span

if TYPE_CHECKING:
    from model.tagger import Tagger


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


def dev_scores(tagger: Tagger, dev: list[Sentence]) -> dict[str, Any]:
    """`tagger`'s scores on `dev`, in eval mode: what training's early stopping and the
    promotion gate compare."""
    tagger.network.eval()
    return evaluate(tagger.config.task, dev, tagger.tag([s.text for s in dev]), tagger.train_words)


def labels_of(sentences: Iterable[Sentence]) -> set[str]:
    """The labels the sentences' spans carry: entity types, POS tags, none for segmentation."""
    return {span.label for s in sentences for span in s.spans if span.label is not None}


def unlearned_labels(gold: set[str], tagger: Tagger, gold_name: str, model: str) -> str | None:
    """Why scores on `gold_name` (whose labels are `gold`) understate `tagger`: the labels it
    never learned count as missed. `model` names it as the subject of a verb ("ner@1 tags")."""
    unknown = gold - tagger.types
    if not unknown:
        return None
    kind = "entity types" if tagger.config.task == "ner" else "POS tags"
    known = ", ".join(sorted(tagger.types))
    return f"the {gold_name}'s {kind} {', '.join(sorted(unknown))} are not among those {model} ({known}): they count as missed"
