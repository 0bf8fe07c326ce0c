"""User dictionaries change the shipped segmenter's answer without retraining: in `prefer` mode
as lexicon features the model weighs, in `force` mode by constraining the Viterbi path so a
dictionary word is one word wherever it cuts no other; offsets stay exact."""
from __future__ import annotations

import pytest

from data.lexicon import Lexicon
from model.store import Store
from model.tagger import Tagger


@pytest.fixture(scope="module")
def cws(tmp_path_factory: pytest.TempPathFactory) -> Tagger:
    return Tagger.load("cws", Store(root=tmp_path_factory.mktemp("empty-user-store")))


def words(tagger: Tagger, text: str, user: Lexicon | None = None) -> list[str]:
    spans = tagger.tag([text], user)[0]
    assert "".join(text[s.start : s.end] for s in spans) == "".join(text.split())
    return [text[s.start : s.end] for s in spans]


@pytest.mark.parametrize("force", [False, True])
def test_a_made_up_word_is_split_without_the_dictionary_and_whole_with_it(cws: Tagger, force: bool) -> None:
    text = "他是拼多多的员工"
    assert "拼多多" not in words(cws, text)
    assert "拼多多" in words(cws, text, Lexicon(["拼多多"], force=force))


def test_force_keeps_a_word_whole_that_prefer_only_nudges(cws: Tagger) -> None:
    text = "中国人民银行发布通知"
    assert "国人民" not in words(cws, text, Lexicon(["国人民"]))  # it cuts across 中国 and 人民, which the context backs
    assert words(cws, text, Lexicon(["国人民"], force=True))[:2] == ["中", "国人民"]


def test_force_keeps_neither_of_two_words_that_cross(cws: Tagger) -> None:
    text = "研究生命的起源"
    assert words(cws, text, Lexicon(["研究生", "生命"], force=True)) == words(cws, text)


def test_forced_words_keep_exact_offsets_in_text_with_spaces(cws: Tagger) -> None:
    text = "  酷云盘 和 酷云盘存储\n"
    spans = cws.tag([text], Lexicon(["酷云盘"], force=True))[0]
    assert [(s.start, s.end) for s in spans if text[s.start : s.end] == "酷云盘"] == [(2, 5), (8, 11)]


def test_a_forced_word_across_the_point_where_a_long_line_is_cut_stays_whole(cws: Tagger) -> None:
    """A run longer than the model's pieces, with no punctuation, is cut hard; never inside a
    word the dictionary forces."""
    text = "天" * (cws.config.max_len - 2) + "酷云盘存储" + "天" * 20
    assert "酷云盘" in words(cws, text, Lexicon(["酷云盘"], force=True))


def test_a_long_run_without_punctuation_is_cut_between_the_lexicons_words(cws: Tagger) -> None:
    """Speech transcripts and chat run on without punctuation: the cut every `max_len`
    characters falls between jieba's words rather than inside one (北 | 京 before)."""
    assert set(words(cws, "我爱北京天安门" * 100)) == {"我", "爱", "北京", "天安门"}
