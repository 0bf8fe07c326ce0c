"""Specification of zhtag.Tagger: segmentation, POS and entities for one text or many, typed
results with exact offsets, a user dictionary, models loaded on first use, safe across threads."""
from __future__ import annotations

import copy
import gc
import pickle
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import zhtag
from model.store import Store
from model.tagger import Tagger as Model
from zhtag import Entity, PosToken, Token
from zhtag.dictionary import UserDictionary

TEXTS = [
    "我爱北京天安门",
    "江泽民在北京会见了联合国秘书长。",
    "  他说：“2024年，ＧＤＰ增长了5%。” \r\n 😀 新的一年 ",
    "迈向充满希望的新世纪——一九九八年新年讲话，" * 12,  # longer than one model piece
    "",
]
TASKS = ["segment", "pos", "ner"]


def run(tagger: zhtag.Tagger, task: str, texts: Any) -> Any:
    return getattr(tagger, task)(texts)


def test_segment_gives_the_words_of_a_text(tagger: zhtag.Tagger) -> None:
    assert tagger.segment("我爱北京天安门") == [Token("我", 0, 1), Token("爱", 1, 2), Token("北京", 2, 4), Token("天安门", 4, 7)]


def test_pos_gives_each_word_its_part_of_speech(tagger: zhtag.Tagger) -> None:
    assert [(t.text, t.tag) for t in tagger.pos("我爱北京天安门")] == [("我", "r"), ("爱", "v"), ("北京", "ns"), ("天安门", "ns")]


def test_ner_gives_entities_with_type_offsets_and_probability(tagger: zhtag.Tagger) -> None:
    entities = tagger.ner("江泽民在北京会见了联合国秘书长。")
    assert [(e.text, e.type, e.start, e.end) for e in entities] == [("江泽民", "PER", 0, 3), ("北京", "LOC", 4, 6), ("联合国", "ORG", 9, 12)]
    assert all(0.5 < e.score <= 1.0 for e in entities)


@pytest.mark.parametrize("task", TASKS)
def test_offsets_index_the_exact_input(tagger: zhtag.Tagger, task: str) -> None:
    for text, found in zip(TEXTS, run(tagger, task, TEXTS), strict=True):
        assert all(text[r.start : r.end] == r.text for r in found)
        assert all(a.end <= b.start for a, b in zip(found, found[1:]))


@pytest.mark.parametrize("task", ["segment", "pos"])
def test_words_cover_everything_but_whitespace(tagger: zhtag.Tagger, task: str) -> None:
    for text, words in zip(TEXTS, run(tagger, task, TEXTS), strict=True):
        assert "".join(w.text for w in words) == "".join(text.split())
        assert not any(ch.isspace() for w in words for ch in w.text)


@pytest.mark.parametrize("task", TASKS)
def test_a_str_gives_one_result_and_a_list_one_result_per_text(tagger: zhtag.Tagger, task: str) -> None:
    assert run(tagger, task, [TEXTS[0]]) == [run(tagger, task, TEXTS[0])]
    assert run(tagger, task, (text for text in TEXTS[:2])) == run(tagger, task, TEXTS[:2])
    assert run(tagger, task, []) == []
    assert run(tagger, task, "") == []


@pytest.mark.parametrize("task", TASKS)
def test_a_batch_gives_the_answers_of_one_text_at_a_time(tagger: zhtag.Tagger, task: str) -> None:
    assert run(tagger, task, TEXTS) == [run(tagger, task, text) for text in TEXTS]


@pytest.mark.parametrize("texts", [b"\xe6\x88\x91", 42, ["我", None]])
def test_texts_that_are_not_str_are_refused(tagger: zhtag.Tagger, texts: Any) -> None:
    with pytest.raises(zhtag.InputError, match="must be a str"):
        tagger.segment(texts)


def test_results_are_frozen_values() -> None:
    token = PosToken("北京", 2, 4, "ns")
    assert isinstance(token, Token) and hash(token) == hash(PosToken("北京", 2, 4, "ns"))
    with pytest.raises(AttributeError):
        token.tag = "n"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        Entity("北京", "LOC", 0, 2, 0.9).score = 1.0  # type: ignore[misc]


# The user dictionary. Its words reach the model as flags of their own, which it follows unless
# the context argues against them: measured with the shipped cws model, 飞桨框架 comes out whole
# once added, while 小米汽车 stays 小米 汽车. Taking 支付宝 out of jieba's dictionary splits it, as in jieba.

def words(tagger: zhtag.Tagger, text: str) -> list[str]:
    return [t.text for t in tagger.segment(text)]


def test_an_added_word_is_kept_whole_and_deleting_it_restores_the_old_answer(tagger: zhtag.Tagger) -> None:
    text = "我们用飞桨框架训练"
    before = words(tagger, text)
    assert "飞桨框架" not in before
    tagger.add_word("飞桨框架")
    assert words(tagger, text) == ["我们", "用", "飞桨框架", "训练"]
    tagger.del_word("飞桨框架")
    assert words(tagger, text) == before


def test_an_added_word_is_weighed_against_the_context_rather_than_forced(tagger: zhtag.Tagger) -> None:
    tagger.add_word("国人民")  # cuts across 中国 and 人民
    assert words(tagger, "中国人民银行发布通知")[:3] == ["中国", "人民", "银行"]


def test_in_force_mode_an_added_word_is_kept_whole(tagger: zhtag.Tagger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tagger, "_words", UserDictionary(force=True))
    tagger.add_word("国人民")
    assert words(tagger, "中国人民银行发布通知")[:3] == ["中", "国人民", "银行"]


def test_in_force_mode_a_word_holding_an_emoji_sequence_is_kept_whole(tagger: zhtag.Tagger, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tagger reads 爱心❤️ as 爱心❤ (one position a cluster); the dictionary holds that form too."""
    monkeypatch.setattr(tagger, "_words", UserDictionary(force=True))
    tagger.add_word("爱心❤️")
    tagger.add_word("👍🏽点赞")
    assert {"爱心❤️", "👍🏽点赞"} <= set(words(tagger, "我的爱心❤️送给你，👍🏽点赞了"))


def test_an_unknown_dictionary_mode_is_refused() -> None:
    with pytest.raises(zhtag.InputError, match="dict_mode"):
        zhtag.Tagger(dict_mode="always")  # type: ignore[arg-type]
    with pytest.raises(zhtag.InputError, match="script"):
        zhtag.Tagger(script="cyrillic")  # type: ignore[arg-type]


def test_traditional_text_is_tagged_as_simplified_and_answered_in_its_own_characters(tagger: zhtag.Tagger) -> None:
    traditional, simplified = "我們在臺灣學習漢語。", "我们在台湾学习汉语。"
    words = [t.text for t in tagger.segment(traditional)]
    assert "".join(words) == traditional
    assert [len(w) for w in words] == [len(t.text) for t in tagger.segment(simplified)]


def test_an_amount_in_financial_numerals_is_tagged_as_the_ordinary_numerals_it_stands_for(tagger: zhtag.Tagger) -> None:
    """People's Daily never writes 叁万伍仟: read as written, it was a person's name."""
    financial, ordinary = "合同金额为人民币叁万伍仟元整，由张三支付。", "合同金额为人民币三万五千元整，由张三支付。"
    assert [(t.start, t.end, t.tag) for t in tagger.pos(financial)] == [(t.start, t.end, t.tag) for t in tagger.pos(ordinary)]
    assert [(e.start, e.end, e.type) for e in tagger.ner(financial)] == [(e.start, e.end, e.type) for e in tagger.ner(ordinary)]
    assert "叁万伍仟" in [t.text for t in tagger.segment(financial)]


def test_deleting_a_word_of_jiebas_dictionary_splits_it_until_it_is_added_again(tagger: zhtag.Tagger) -> None:
    text = "我用支付宝付款"
    assert "支付宝" in words(tagger, text)
    tagger.del_word("支付宝")
    assert "支付宝" not in words(tagger, text)
    tagger.add_word("支付宝")
    assert "支付宝" in words(tagger, text)


def test_user_words_reach_the_pos_model_too(tagger: zhtag.Tagger) -> None:
    assert "酷云盘" not in [t.text for t in tagger.pos("我们用酷云盘存文件")]
    tagger.add_word("酷云盘")
    assert "酷云盘" in [t.text for t in tagger.pos("我们用酷云盘存文件")]


def test_a_user_dictionary_file_adds_its_words(tagger: zhtag.Tagger, tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("飞桨框架 3 nz\n", encoding="utf-8")
    tagger.load_userdict(path)
    assert "飞桨框架" in words(tagger, "我们用飞桨框架训练")


def test_a_bad_user_dictionary_line_names_its_file_and_line(tagger: zhtag.Tagger, tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("飞桨框架\n北京\u200b市 3 n\n", encoding="utf-8")
    with pytest.raises(zhtag.CorpusError, match=rf"^{re.escape(str(path))}:2: "):
        tagger.load_userdict(str(path))


# Loading.

def test_load_loads_the_named_model_now_and_the_other_tasks_on_first_use(empty_store: Path) -> None:
    tagger = zhtag.Tagger.load("ner@1", device="cpu")
    assert repr(tagger) == "zhtag.Tagger(cws=cws (not loaded), ner=ner@1, pos=pos (not loaded), device='cpu')"
    assert tagger.segment("我爱北京") and "cws=cws@1" in repr(tagger)


def test_load_takes_one_model_per_task(empty_store: Path) -> None:
    assert "cws=cws@1, ner=ner@1" in repr(zhtag.Tagger.load(["cws", "ner"], device="cpu"))
    with pytest.raises(zhtag.InputError, match="both cws models"):
        zhtag.Tagger.load(["cws", "cws@1"], device="cpu")


def test_a_reference_to_nothing_fails_at_load(empty_store: Path) -> None:
    with pytest.raises(zhtag.ModelNotFound, match="nothing"):
        zhtag.Tagger.load("nothing")


@pytest.mark.parametrize(("ref", "problem"), [(None, "ref must be a model reference"), ([], "ref must be a model reference"), ("cws@0", "malformed model reference")])
def test_a_ref_that_is_no_reference_is_bad_input(empty_store: Path, ref: object, problem: str) -> None:
    with pytest.raises(zhtag.InputError, match=problem):
        zhtag.Tagger.load(ref)  # type: ignore[arg-type]


@pytest.mark.parametrize("enabled", [True, False])
def test_the_garbage_collector_is_paused_while_a_model_loads_then_left_as_it_was(
    empty_store: Path, monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    seen, load = [], Model.load
    monkeypatch.setattr(Model, "load", staticmethod(lambda *args, **kwargs: (seen.append(gc.isenabled()), load(*args, **kwargs))[1]))
    (gc.enable if enabled else gc.disable)()
    try:
        zhtag.Tagger.load("cws", device="cpu")
        assert seen == [False] and gc.isenabled() == enabled
    finally:
        gc.enable()


def test_models_of_another_store_serve_their_own_task(trained_cws: Any) -> None:
    tagger = zhtag.Tagger.load(trained_cws.ref, device="cpu", store=trained_cws.store.root)
    assert "".join(t.text for t in tagger.segment("我爱北京")) == "我爱北京"


def test_a_default_name_holding_a_model_of_another_task_is_refused(trained_cws: Any, tmp_path: Path) -> None:
    Store(root=tmp_path, shipped=tmp_path / "none").save("ner", trained_cws.tagger.files())
    with pytest.raises(zhtag.CheckpointError, match="is a cws model"):
        zhtag.Tagger(device="cpu", store=tmp_path).ner("我爱北京")


# Threads.

def test_concurrent_callers_get_the_answers_of_sequential_calls(tagger: zhtag.Tagger) -> None:
    calls = [(task, text) for task in TASKS for text in TEXTS]
    expected = [run(tagger, task, text) for task, text in calls]
    with ThreadPoolExecutor(max_workers=16) as pool:
        got = [pool.submit(run, tagger, task, text) for _ in range(4) for task, text in calls]
        assert [future.result() for future in got] == expected * 4


def test_threads_racing_to_the_first_call_load_the_model_once(empty_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str] = []
    original: Callable[..., Model] = Model.load.__func__  # type: ignore[attr-defined]

    def counted(cls: type[Model], ref: str, *args: Any, **kwargs: Any) -> Model:
        loads.append(ref)
        return original(cls, ref, *args, **kwargs)

    monkeypatch.setattr(Model, "load", classmethod(counted))
    tagger, start = zhtag.Tagger(device="cpu"), threading.Barrier(8)

    def first_call() -> list[Token]:
        start.wait()
        return tagger.segment("我爱北京天安门")

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = [future.result() for future in [pool.submit(first_call) for _ in range(8)]]
    assert loads == ["cws"]
    assert all(answer == answers[0] for answer in answers)


def test_words_carry_their_probability_only_when_asked(tagger: zhtag.Tagger) -> None:
    assert all(t.score is None for t in tagger.segment("我爱北京天安门"))
    scored = tagger.segment("我爱北京天安门", scores=True)
    assert [t.text for t in scored] == [t.text for t in tagger.segment("我爱北京天安门")]
    assert all(0.0 <= t.score <= 1.0 for t in scored + tagger.pos("我爱北京天安门", scores=True))


@pytest.mark.parametrize("send", [pickle.dumps, copy.copy, copy.deepcopy, lambda tagger: pickle.dumps(tagger.segment)], ids=["pickle", "copy", "deepcopy", "method"])
def test_a_tagger_is_not_sent_to_another_process_or_copied_and_the_refusal_says_what_to_do(tagger: zhtag.Tagger, send: Callable) -> None:
    """A copy would share the user dictionary; a pickle would carry loaded models and a lock."""
    with pytest.raises(TypeError, match=r"^a zhtag.Tagger cannot be pickled or copied: make one in each worker process"):
        send(tagger)


FORKED_POOL = """
import multiprocessing, sys, zhtag
sys.path[:0] = {path!r}
zhtag.lcut("我爱北京天安门")  # torch has run its thread pool in the parent
with multiprocessing.get_context("fork").Pool(2) as pool:
    print(pool.map(zhtag.lcut, ["迈向充满希望的新世纪"] * 4)[0])
"""


def test_a_pool_forked_after_tagging_in_the_parent_tags_in_its_workers() -> None:
    """Forked workers inherit torch's thread pool but not its threads; they used to hang."""
    script = FORKED_POOL.format(path=[str(Path(__file__).parents[2])])
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(zhtag.lcut("迈向充满希望的新世纪"))


def test_a_long_list_is_tagged_a_part_at_a_time_with_the_answers_of_one_text_at_a_time(tagger: zhtag.Tagger, monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory follows the part, not the list: a million short texts in one call held every
    piece's features at once. A part is at least the network's batch (32,000 characters)."""
    texts = [f"第{i:05}号文件已经送达{'北京上海广州'[i % 3 * 2:][:2]}市政府" for i in range(2500)]
    parts: list[int] = []
    tag = Model.tag
    monkeypatch.setattr("model.parallel.CHUNK_CHARS", 20)
    monkeypatch.setattr(Model, "tag", lambda self, batch, *args, **kwargs: parts.append(sum(map(len, batch))) or tag(self, batch, *args, **kwargs))
    words = tagger.segment(texts)
    assert len(parts) == 2 and sum(parts) == sum(map(len, texts)) and parts[0] <= 32_000 + len(texts[0])
    assert words[::97] == [tagger.segment(text) for text in texts[::97]]
