"""The default models shipped in the package: present, intact, small, and working offline."""
from __future__ import annotations

from pathlib import Path

import pytest

from data.lexicon import Lexicon
from model.store import Store
from model.tagger import Tagger

SHIPPED = Path(__file__).parents[2] / "model" / "shipped"
MAX_BYTES = 30 * 1024 * 1024  # ner with its 83k-word vector table is 27.7 MB; float32 tables would make it 45


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return Store(root=tmp_path_factory.mktemp("empty-user-store"))


@pytest.mark.parametrize("name, task", [("cws", "cws"), ("ner", "ner"), ("pos", "pos")])
def test_each_default_model_ships_verified_and_under_30_mb(store: Store, name: str, task: str) -> None:
    checkpoint = store.resolve(name)
    assert Path(checkpoint.location).is_relative_to(SHIPPED)
    assert sum(f.stat().st_size for f in Path(checkpoint.location).iterdir()) <= MAX_BYTES
    assert checkpoint.read_json("config.json")["task"] == task


def test_the_cws_model_segments_a_plain_sentence(store: Store) -> None:
    text = "我爱北京天安门"
    spans = Tagger.load("cws", store).tag([text])[0]
    assert [text[s.start : s.end] for s in spans] == ["我", "爱", "北京", "天安门"]


def test_the_cws_model_keeps_accented_latin_words_and_emoji_sequences_whole(store: Store) -> None:
    text = "我喜欢Pokémon和café，Zürich很美👍🏽👨‍👩‍👧"
    spans = Tagger.load("cws", store).tag([text])[0]
    assert {"Pokémon", "café", "Zürich", "👍🏽", "👨‍👩‍👧"} <= {text[s.start : s.end] for s in spans}


def test_the_ner_model_finds_people_places_and_organisations(store: Store) -> None:
    text = "江泽民在北京会见了联合国秘书长。"
    spans = Tagger.load("ner", store).tag([text])[0]
    assert {(text[s.start : s.end], s.label) for s in spans} == {("江泽民", "PER"), ("北京", "LOC"), ("联合国", "ORG")}


def test_a_user_dictionary_word_tagged_as_a_place_is_weighed_as_one_and_forced_to_be_one(store: Store) -> None:
    text, name = "他在克鲁兹达工作了三年。", "克鲁兹达"  # a made-up name the model takes for a person's
    tagger = Tagger.load("ner", store)
    found = lambda words: {(text[s.start : s.end], s.label, s.score) for s in tagger.tag([text], words)[0]}  # noqa: E731
    [(_, alone, score)] = found(None)
    untagged = lambda force: {(text, label) for text, label, _ in found(Lexicon([name], force=force))}  # noqa: E731
    assert alone == "PER" and untagged(False) == untagged(True) == {(name, "PER")}, "an untagged word says nothing of its kind"
    [(_, weighed, weighed_score)] = found(Lexicon([name], tags={name: "ns"}))
    assert weighed == "LOC" or weighed_score < score, "prefer: the place flag is weighed against the context"
    for tag, label in [("ns", "LOC"), ("nt", "ORG"), ("LOC", "LOC")]:
        assert found(Lexicon([name], tags={name: tag}, force=True)) == {(name, label, 1.0)}, "force: the Viterbi path is held to the type"


def test_force_holds_no_entity_to_a_type_where_its_word_crosses_another(store: Store) -> None:
    text = "他在克鲁兹达工作了三年。"
    tagger = Tagger.load("ner", store)
    crossing = Lexicon(["克鲁兹达", "达工"], tags={"克鲁兹达": "ns"}, force=True)
    assert tagger.tag([text], crossing) == tagger.tag([text], Lexicon(["克鲁兹达", "达工"], tags={"克鲁兹达": "ns"}))


def test_force_keeps_a_word_of_no_entity_type_whole_or_outside_and_a_word_tagged_o_outside(store: Store) -> None:
    """The user said what these words are: no entity may cut 小红书 (the model finds the
    person 小红 in it), and 哈哈哈 tagged O is no person (the model takes it for one)."""
    tagger = Tagger.load("ner", store)
    found = lambda text, words=None: {text[s.start : s.end] for s in tagger.tag([text], words)[0]}  # noqa: E731
    app, laugh = "小红书上有人推荐了这家店。", "哈哈哈，今天老板请客吃饭！"
    assert found(app) == {"小红"} and found(laugh) == {"哈哈哈"}
    for tag in ("", "nz"):
        assert found(app, Lexicon(["小红书"], tags={"小红书": tag}, force=True)) in (set(), {"小红书"})
    assert found(laugh, Lexicon(["哈哈哈"], tags={"哈哈哈": "O"}, force=True)) == set()
    assert found(laugh, Lexicon(["哈哈哈"], tags={"哈哈哈": "O"})) == {"哈哈哈"}, "prefer: a veto is not a feature"


def test_no_entity_holds_one_half_of_a_bracket_pair(store: Store) -> None:
    """Read a character's context at a time, the model tagged 北京）有限公司 and 熊焱）; msra-pd
    holds 2 such entities in 54,439. The Viterbi path is held to whole pairs, the better of
    the pair outside every entity or inside one."""
    texts = ["百度在线网络技术（北京）有限公司成立。", "据美国之音（记者熊焱）报道。", "中国学术期刊（光盘版）》电子杂志社"]
    found = Tagger.load("ner", store).tag(texts)
    assert [[text[s.start : s.end] for s in spans] for text, spans in zip(texts, found)] == [
        ["百度在线网络技术（北京）有限公司"], ["美国", "熊焱"], ["中国学术期刊（光盘版）", "电子杂志社"],
    ]


def test_a_forced_dictionary_word_holding_half_a_bracket_pair_is_kept_as_the_user_wrote_it(store: Store) -> None:
    """The user's word wins: mending the pair around it would make an entity neither theirs
    nor the model's (`（记者熊焱）` as a person, scored 1.0)."""
    tagger = Tagger.load("ner", store)
    text = "据美国之音（记者熊焱）报道。"
    (found,) = tagger.tag([text], Lexicon(["（记者熊"], tags={"（记者熊": "nr"}, force=True))
    assert [(text[s.start : s.end], s.label) for s in found if s.label == "PER"] == [("（记者熊", "PER")]


@pytest.mark.parametrize(("text", "word", "tag"), [("他在“解放军报发表文章。", "“解放军报", "nt"), ("奥尼尔O’Neill访问北京。", "O’Neill", "nr")])
def test_a_forced_word_holding_a_lone_bracket_or_an_apostrophe_is_kept(store: Store, text: str, word: str, tag: str) -> None:
    (found,) = Tagger.load("ner", store).tag([text], Lexicon([word], tags={word: tag}, force=True))
    assert word in [text[s.start : s.end] for s in found]


def test_a_bracket_whose_partner_is_not_in_the_text_is_in_no_entity(store: Store) -> None:
    text = "熊焱）王勇）李明）赵刚）孙丽）周涛）吴峰）郑洁）冯军）陈静）褚卫）卫东）蒋华）韩梅）"
    (found,) = Tagger.load("ner", store).tag([text])
    assert found and not any("）" in text[s.start : s.end] for s in found)


def test_the_pos_model_tags_every_word(store: Store) -> None:
    text = "我爱北京天安门"
    spans = Tagger.load("pos", store).tag([text])[0]
    assert "".join(text[s.start : s.end] for s in spans) == text
    assert all(s.label for s in spans)
