"""Specification of model/evaluate.py on examples small enough to score by hand: SIGHAN word
P/R/F1 with OOV recall, conlleval exact-span entity P/R/F1 with per-type F1 and the recall of
entities unseen in training, and POS pairs."""
from __future__ import annotations

import pytest

from data.corpus import Sentence, Span, sentence_from_words
from model.evaluate import entity_scores, evaluate, pos_scores, prf, segmentation_scores


def spans(*bounds: tuple[int, int] | tuple[int, int, str]) -> list[Span]:
    return [Span(*b) for b in bounds]


# Gold 我们|去|公园|散步 and 天气|很|好; predicted 我们|去公|园|散步 and 天气|很好.
SEG_GOLD = [sentence_from_words(["我们", "去", "公园", "散步"]), sentence_from_words(["天气", "很", "好"])]
SEG_PRED = [spans((0, 2), (2, 4), (4, 5), (5, 7)), spans((0, 2), (2, 4))]
SEG_TRAIN_WORDS = {"我们", "去", "天气", "很", "好"}  # 公园 and 散步 are out of vocabulary


def test_prf_rounds_percentages_and_survives_zero_counts() -> None:
    assert prf(1, 3, 2) == {"precision": 33.33, "recall": 50.0, "f1": 40.0}
    assert prf(0, 0, 0) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert prf(0, 4, 0)["f1"] == 0.0


def test_segmentation_scores_count_exactly_matching_words() -> None:
    # correct: 我们, 散步, 天气 = 3 of 6 predicted and 7 gold words
    scores = segmentation_scores(SEG_GOLD, SEG_PRED, SEG_TRAIN_WORDS)
    assert scores["precision"] == 50.0
    assert scores["recall"] == 42.86  # 3/7
    assert scores["f1"] == 46.15  # 2 * 1/2 * 3/7 / (1/2 + 3/7) = 6/13


def test_oov_recall_is_the_recall_of_gold_words_unseen_in_training() -> None:
    # OOV gold words: 公园 (split, missed) and 散步 (found)
    scores = segmentation_scores(SEG_GOLD, SEG_PRED, SEG_TRAIN_WORDS)
    assert scores["oov_recall"] == 50.0
    assert scores["oov_rate"] == 28.57  # 2 of 7 gold words


def test_oov_recall_is_none_without_oov_words() -> None:
    scores = segmentation_scores(SEG_GOLD, SEG_PRED, SEG_TRAIN_WORDS | {"公园", "散步"})
    assert scores["oov_recall"] is None
    assert scores["oov_rate"] == 0.0


def test_segmentation_ignores_labels_on_predicted_words() -> None:
    labelled = [[Span(s.start, s.end, "n") for s in p] for p in SEG_PRED]
    assert segmentation_scores(SEG_GOLD, labelled, SEG_TRAIN_WORDS) == segmentation_scores(
        SEG_GOLD, SEG_PRED, SEG_TRAIN_WORDS
    )


def test_perfect_segmentation_scores_one_hundred() -> None:
    scores = segmentation_scores(SEG_GOLD, [list(s.spans) for s in SEG_GOLD], set())
    assert (scores["precision"], scores["recall"], scores["f1"], scores["oov_recall"]) == (100.0, 100.0, 100.0, 100.0)


ENT_GOLD = [
    Sentence("张三去北京市玩了一天", tuple(spans((0, 2, "PER"), (3, 5, "LOC")))),
    Sentence("青山公司的李四", tuple(spans((0, 4, "ORG"), (5, 7, "PER")))),
]
ENT_PRED = [
    spans((0, 2, "PER"), (3, 6, "LOC"), (7, 9, "ORG")),  # right, wrong end, spurious
    spans((0, 4, "ORG"), (5, 7, "LOC")),  # right, wrong type
]


def test_entity_scores_need_exact_bounds_and_type() -> None:
    # correct: PER(0,2) and ORG(0,4) = 2 of 5 predicted, 4 gold
    scores = entity_scores(ENT_GOLD, ENT_PRED)
    assert (scores["precision"], scores["recall"], scores["f1"]) == (40.0, 50.0, 44.44)


def test_entity_per_type_f1_scores_each_type_alone() -> None:
    # PER: 1 correct of 1 predicted, 2 gold -> 66.67; LOC: 0 of 2 -> 0; ORG: 1 of 2 predicted, 1 gold -> 66.67
    assert entity_scores(ENT_GOLD, ENT_PRED)["per_type_f1"] == {"LOC": 0.0, "ORG": 66.67, "PER": 66.67}


def test_a_type_only_predicted_still_gets_a_per_type_score() -> None:
    gold = [Sentence("李四", (Span(0, 2, "PER"),))]
    scores = entity_scores(gold, [[Span(0, 2, "ORG")]])
    assert scores["per_type_f1"] == {"ORG": 0.0, "PER": 0.0}
    assert scores["f1"] == 0.0


def test_no_entities_predicted_scores_zero() -> None:
    scores = entity_scores(ENT_GOLD, [[], []])
    assert (scores["precision"], scores["recall"], scores["f1"]) == (0.0, 0.0, 0.0)


def test_unseen_entity_recall_is_the_recall_of_gold_entities_whose_text_training_never_had() -> None:
    # unseen 北京 (found with a wrong end) and 李四 (found as LOC): 0 of 2; then unseen 张三 and 青山公司, both found
    assert {k: entity_scores(ENT_GOLD, ENT_PRED, {"张三", "青山公司"})[k] for k in ("unseen_recall", "unseen_rate")} == {"unseen_recall": 0.0, "unseen_rate": 50.0}
    assert entity_scores(ENT_GOLD, ENT_PRED, {"北京", "李四"})["unseen_recall"] == 100.0
    assert "unseen_recall" not in entity_scores(ENT_GOLD, ENT_PRED), "without training entities nothing is unseen to speak of"


POS_GOLD = [sentence_from_words(["我们", "去", "公园"], ["r", "v", "n"])]
POS_PRED = [spans((0, 2, "r"), (2, 3, "p"), (3, 5, "n"))]


def test_pos_scores_count_word_and_tag_pairs() -> None:
    scores = pos_scores(POS_GOLD, POS_PRED, {"我们", "去", "公园"})
    assert (scores["precision"], scores["recall"], scores["f1"]) == (66.67, 66.67, 66.67)
    assert scores["segmentation"]["f1"] == 100.0  # the words themselves are all right


def test_pos_pair_with_wrong_bounds_is_wrong_even_with_the_right_tag() -> None:
    pred = [spans((0, 3, "r"), (3, 5, "n"))]
    scores = pos_scores(POS_GOLD, pred, set())
    assert (scores["precision"], scores["recall"]) == (50.0, 33.33)


@pytest.mark.parametrize(
    ("task", "gold", "pred", "f1"),
    [("cws", SEG_GOLD, SEG_PRED, 46.15), ("ner", ENT_GOLD, ENT_PRED, 44.44), ("pos", POS_GOLD, POS_PRED, 66.67)],
)
def test_evaluate_scores_by_the_tasks_convention_and_counts_the_test_set(task, gold, pred, f1) -> None:
    scores = evaluate(task, gold, pred, SEG_TRAIN_WORDS)
    assert scores["f1"] == f1
    assert scores["sentences"] == len(gold)
    assert scores["chars"] == sum(len(s.text) for s in gold)


def test_evaluate_requires_one_prediction_per_sentence() -> None:
    with pytest.raises(ValueError):
        evaluate("ner", ENT_GOLD, ENT_PRED[:1], set())
