"""Specification of teacher-tagged raw text (model/teacher.py, `zhtag train --raw --teacher`):
the teacher's words or labels become training sentences shaped for the task, pieces that share
a run of characters with dev, or are a dev sentence, are left out, a teacher of the wrong task
is refused, and a run records where its extra sentences came from."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from data.corpus import sentence_from_words
from data.errors import InputError
from data.formats import read_corpus
from model.config import TrainConfig
from model.store import Store
from model.tagger import Tagger
from model.teacher import SHARED_RUN, taught_sentences
from model.train import train

CORPORA = Path(__file__).resolve().parent.parent / "fixtures" / "corpora"
QUIET = {"log": lambda line: None}
RAW = ["熊猫在动物园里吃竹子。", "今天 天气很好", "他们一起去公园散步了。"]


def test_a_teachers_words_tile_each_raw_piece_and_whitespace_ends_a_piece(trained_cws) -> None:
    sentences, left_out = taught_sentences(trained_cws.tagger, "cws", RAW, [], max_len=150)
    assert left_out == 0
    assert [s.text for s in sentences] == ["熊猫在动物园里吃竹子。", "今天", "天气很好", "他们一起去公园散步了。"]
    for sentence in sentences:
        assert "".join(sentence.words()) == sentence.text
        assert all(span.label is None for span in sentence.spans)


def test_a_pos_teacher_teaches_a_segmenter_its_words_without_their_tags(tmp_path, tiny_options, make_store) -> None:
    store = make_store()
    teacher = Tagger.load(train(tiny_options("pos", CORPORA / "tiny.pos.txt"), store, **QUIET).ref, store)
    sentences, _ = taught_sentences(teacher, "cws", RAW, [], max_len=150)
    as_pos, _ = taught_sentences(teacher, "pos", RAW, [], max_len=150)
    assert [[(s.start, s.end) for s in t.spans] for t in sentences] == [[(s.start, s.end) for s in t.spans] for t in as_pos]
    assert all(span.label is None for t in sentences for span in t.spans)
    assert all(span.label for t in as_pos for span in t.spans)


def test_raw_pieces_sharing_a_run_of_characters_with_dev_are_left_out(trained_cws) -> None:
    dev = [sentence_from_words(["我们", "一起", "去", "公园", "散步", "吧", "。"])]
    near = "他们一起去公园散步了。"  # shares 们一起去公园散步 with dev: 8 characters
    copied = "昨天我们一起去公园散步吧。"  # holds the whole dev sentence, 11 characters
    sentences, left_out = taught_sentences(trained_cws.tagger, "cws", [near, copied], dev, max_len=150)
    assert len("们一起去公园散步") < SHARED_RUN <= len(dev[0].text)
    assert [s.text for s in sentences] == [near] and left_out == 1


def test_a_raw_piece_that_is_a_dev_sentence_too_short_to_share_a_run_is_left_out(trained_cws) -> None:
    """Headlines and lines of verse are short: a verbatim copy of one in the raw text would
    teach the dev sentence itself."""
    dev = [sentence_from_words(["可", "感到", "惆怅", "和", "孤独"])]
    longer = "我们可感到惆怅和孤独"  # holds the dev sentence, yet is another sentence
    sentences, left_out = taught_sentences(trained_cws.tagger, "cws", ["可感到惆怅和孤独", longer], dev, max_len=150)
    assert len(dev[0].text) < SHARED_RUN
    assert [s.text for s in sentences] == [longer] and left_out == 1


@pytest.mark.parametrize("task", ["ner", "pos"])
def test_a_teacher_of_another_task_is_refused(task, trained_cws) -> None:
    with pytest.raises(InputError, match=f"a {task} model learns from a {task} model"):
        taught_sentences(trained_cws.tagger, task, RAW, [], max_len=150)


def test_training_with_raw_text_adds_the_teachers_sentences_and_records_them(trained_cws, tmp_path, tiny_options) -> None:
    shutil.copytree(trained_cws.store.root, tmp_path / "store")
    store = Store(root=tmp_path / "store", shipped=tmp_path / "none")
    raw = tmp_path / "raw.txt"
    raw.write_text("\n".join(RAW) + "\n\n", encoding="utf-8")
    lines: list[str] = []
    options = tiny_options("cws", trained_cws.corpus, raw=raw, teacher=trained_cws.ref, name="student", train_config=TrainConfig(epochs=1, batch_chars=500))
    result = train(options, store, log=lines.append)
    recorded = json.loads(store.resolve(result.ref).read_bytes("metrics.json"))["raw"]
    assert recorded["teacher"] == trained_cws.ref and recorded["sentences"] == 4 and recorded["chars"] == sum(len(t.replace(" ", "")) for t in RAW)
    assert any("4 pieces" in line and f"tagged by {trained_cws.ref}" in line for line in lines)
    student = Tagger.load(result.ref, store)
    assert "熊" in student.chars.tokens  # a character only the raw text holds
    corpus_words = {w for s in read_corpus(trained_cws.corpus).sentences for w in s.words()}
    raw_only = {w for s in taught_sentences(trained_cws.tagger, "cws", RAW, [], 150)[0] for w in s.words()} - corpus_words
    assert raw_only and not raw_only & student.train_words  # OOV stays relative to the labelled corpus


@pytest.mark.parametrize("given", [{"raw": Path("raw.txt")}, {"teacher": "cws"}])
def test_raw_text_and_a_teacher_go_together(given, trained_cws, tiny_options) -> None:
    with pytest.raises(InputError, match="go together"):
        train(tiny_options("cws", trained_cws.corpus, **given), trained_cws.store, **QUIET)


