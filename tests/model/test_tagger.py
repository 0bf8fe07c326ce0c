"""Specification of model/tagger.py's reading of text: a user-perceived character of several
code points (an emoji sequence, a flag, a letter and its combining accent) is one character to
the model, so no span begins or ends inside it, while spans still tile every non-space
character and hold no whitespace; a web or e-mail address is one word, and each emoji is a
word of its own, a symbol, never part of an entity."""
from __future__ import annotations

import functools

import numpy as np
import pytest
import regex
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from data.errors import InputError
from data.graphemes import GraphemeViews
from data.atoms import PICTOGRAPHS
from data.lexicon import Lexicon
from data.text import SEPARATOR
from model.device import pick_device
from tests.model.test_batching import random_tagger

tagger = functools.cache(random_tagger)
JOINER_CHARS = "\u200c\u200d" + "".join(map(chr, range(0xFE00, 0xFE10)))  # data.text.JOINERS
PICTOGRAPHIC = regex.compile(rf"[\p{{Extended_Pictographic}}{PICTOGRAPHS}]")

TEXTS = [
    "我❤️你，👨‍👩‍👧一家去🇨🇳看国旗👍🏽好",
    "cafe\u0301很好e\u0301e\u0301e\u0301北京",
    "小猫🐱‍👤在窗台上睡觉 \u0301了",
    "今天天气很好",
]


def boundaries(text: str) -> set[int]:
    return {m.start() for m in regex.finditer(r"\X", text)} | {len(text)}


def read_whole(text: str) -> list[tuple[int, int]]:
    """The clusters the tagger keeps whole, as `data.graphemes` and `data.text` say: each holds
    no separator, but for the joiners of an emoji (👨‍👩, ❤️); joiners ending any other cluster
    stand apart."""
    spans = []
    for m in regex.finditer(r"\X", text):
        body = m.group().rstrip(JOINER_CHARS)
        end = m.end() if body and PICTOGRAPHIC.match(body[-1]) else m.start() + len(body)
        if end - m.start() > 1 and not SEPARATOR.search(text, m.start(), end) or PICTOGRAPHIC.match(text[m.start()]):
            spans.append((m.start(), end))
    return spans


def outside_separators(text: str) -> list[int]:
    """Every code point but the separators, which no span holds unless inside an emoji."""
    inside = {i for a, b in read_whole(text) for i in range(a, b)}
    return [i for i, ch in enumerate(text) if not SEPARATOR.fullmatch(ch) or i in inside]


def test_no_span_begins_or_ends_inside_a_cluster_and_the_spans_tile_the_text() -> None:
    for text, spans in zip(TEXTS, random_tagger().tag(TEXTS), strict=True):
        mark_after_space = {text.find(" \u0301") + 1} - {0}  # a cluster of its own to the tagger (data.graphemes)
        assert {s.start for s in spans} | {s.end for s in spans} <= boundaries(text) | mark_after_space
        covered = [i for s in spans for i in range(s.start, s.end)]
        assert covered == outside_separators(text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["我", "❤️", "👨\u200d👩", "🇨🇳", "e\u0301", " ", "\u0600 ", " \u0301", "好", "\u200d", "\ufe0f", "\u3164", "\u115f"]), max_size=10), st.text(max_size=10))
def test_spans_of_any_text_tile_its_non_space_characters_and_cut_no_cluster_without_space(parts: list[str], tail: str) -> None:
    text = "".join(parts) + tail
    spans = tagger().tag([text])[0]
    covered = [i for s in spans for i in range(s.start, s.end)]
    assert covered == outside_separators(text)
    assert not any(a < cut < b for a, b in read_whole(text) for s in spans for cut in (s.start, s.end))


@pytest.mark.parametrize("emoji", ["▶️", "©️", "™️", "‼️", "↔️", "🙂\u200d↔️", "👨\u200d👩\u200d👧", "❤️"])
def test_an_emoji_keeps_its_variation_selector_and_joiners_below_u_2600_too(emoji: str) -> None:
    text = f"好的{emoji}开始"
    spans = [text[s.start : s.end] for s in tagger().tag([text])[0]]
    assert "".join(spans) == text and any(emoji in span for span in spans)


@pytest.mark.parametrize("joiner", ["\u200d", "\u200c", "\ufe0f"])
@pytest.mark.parametrize(("task", "tag"), [("cws", "M"), ("ner", "M-PER")])
def test_a_joiner_left_after_a_name_separates_while_an_emoji_keeps_its_own(joiner: str, task: str, tag: str) -> None:
    """Made to join everything into one word or entity, the tagger still leaves out a ZWJ,
    ZWNJ or variation selector that follows a Han character (a stripped emoji's leftover)."""
    tagger = random_tagger(task=task)
    with torch.no_grad():
        tagger.network.emit.bias[tagger.config.tags.index(tag)] += 1000
    text = f"王小明{joiner}在👨\u200d👩{joiner}"
    spans = [text[s.start : s.end] for s in tagger.tag([text])[0]]
    assert spans == (["王小明", "在", f"👨\u200d👩{joiner}"] if task == "cws" else ["王小明", "在"])


LONG_URL = "https://e.com/?ids=" + ",".join(str(1000 + i) for i in range(200))  # longer than max_len: cut hard inside


@pytest.mark.parametrize("text", [
    *("".join(f"{sentence}{i}" for i in range(60)) for sentence in ["今天天气很好，我们去北京天安门看升旗。", "没有标点的长句子我们去北京", "短句。\u200b很长的一句话没有标点符号"]),
    "我们今天去北京" * 170 + LONG_URL + "我们今天去北京" * 15,
], ids=["punctuated", "unpunctuated", "separated", "long-address"])
def test_a_text_cut_at_its_cut_point_is_tagged_as_the_whole_text(text: str) -> None:
    """The CLI streams a long line in pieces: each piece ends where the tagger's own cutting
    of the line into model-sized pieces would cut it, so the answers are the whole line's."""
    cut = tagger().cut_point(text, len(text) // 2)
    whole, first, rest = tagger().tag([text, text[:cut], text[cut:]])
    assert len(text) // 2 < cut < len(text) and cut > 0
    assert [(s.start, s.end, s.label) for s in whole] == [(s.start, s.end, s.label) for s in first] + [(s.start + cut, s.end + cut, s.label) for s in rest]


def test_a_text_is_tagged_as_its_view_with_offsets_moved_back_to_the_text() -> None:
    tagger, views = random_tagger(), GraphemeViews(TEXTS)
    for i, (spans, of_view) in enumerate(zip(tagger.tag(TEXTS), tagger.tag(views.views), strict=True)):
        moved = [views.offsets(np.array([i, i]), np.array([s.start, s.end])).tolist() for s in of_view]
        assert [(s.start, s.end, s.label) for s in spans] == [(a, b, s.label) for (a, b), s in zip(moved, of_view)]


def test_a_web_or_e_mail_address_is_one_word_even_where_a_forced_dictionary_word_lies_inside_it() -> None:
    text = "请访问https://www.example.com/a?b=1或写信给zhang.san@example.com。"
    urls = ["https://www.example.com/a?b=1", "zhang.san@example.com"]
    tagger = random_tagger()
    for words in (None, Lexicon(["example", "请访问"], force=True)):
        spans = tagger.tag([text], words)[0]
        assert set(urls) <= {text[s.start : s.end] for s in spans}
    assert "请访问" in {text[s.start : s.end] for s in tagger.tag([text], words)[0]}, "a dictionary word outside them is still forced"


def test_an_entity_model_finds_no_entity_inside_an_address() -> None:
    """Made to call every character a one-character PER, it still leaves the addresses alone."""
    text = "请访问https://www.example.com/a?b=1或写信给zhang.san@example.com。"
    tagger = random_tagger(task="ner")
    with torch.no_grad():
        tagger.network.emit.bias[tagger.config.tags.index("S-PER")] += 1000
    entities = tagger.tag([text])[0]
    addresses = [(text.index(url), text.index(url) + len(url)) for url in ("https://www.example.com/a?b=1", "zhang.san@example.com")]
    assert any(text[e.start : e.end] == "请" for e in entities), "everything else is an entity"
    assert not any(e.start < end and start < e.end for e in entities for start, end in addresses)


EMOJI = "好的👍🏽❤️谢谢，我爱🇨🇳北京🎉👨‍👩‍👧一家，张三@李四¥99"
EMOJI_WORDS = ["👍🏽", "❤️", "🇨🇳", "🎉", "👨‍👩‍👧", "@", "¥"]


@pytest.mark.parametrize("task", ["cws", "pos"])
def test_each_emoji_and_symbol_is_a_word_of_its_own_tagged_as_a_symbol(task: str) -> None:
    """Made to join every character into a name, the tagger still cuts each emoji and symbol out alone."""
    tagger = random_tagger(task=task)
    with torch.no_grad():
        tagger.network.emit.bias[tagger.config.tags.index("M-nr" if task == "pos" else "M")] += 1000
    spans = tagger.tag([EMOJI])[0]
    words = {EMOJI[s.start : s.end]: s.label for s in spans}
    assert len(spans) > len(EMOJI_WORDS), "the text around them is still one word"
    assert {word: words.get(word) for word in EMOJI_WORDS} == dict.fromkeys(EMOJI_WORDS, "w" if task == "pos" else None)


def test_a_pos_model_holds_a_forced_word_to_its_dictionary_tag_where_it_has_the_tag() -> None:
    tagger = random_tagger(task="pos")
    text = "我们今天去北京公园"
    with torch.no_grad():
        tagger.network.emit.bias[tagger.config.tags.index("B-nr")] += 1000  # everything else a name
    words = Lexicon(["北京公园", "今天"], force=True, tags={"北京公园": "w", "今天": "xyz"})
    found = {text[s.start : s.end]: s.label for s in tagger.tag([text], words)[0]}
    assert found["北京公园"] == "w" and found["今天"] == "nr", "a tag the model lacks holds the word whole, any tag"


def test_a_dictionary_word_that_holds_a_symbol_is_not_cut_at_it() -> None:
    """Made to join every character, the tagger cuts # out of `C#` unless a word holds it; a
    `force` dictionary then keeps C# and @人民日报 whole."""
    tagger = random_tagger()
    with torch.no_grad():
        tagger.network.emit.bias[tagger.config.tags.index("M")] += 1000
    text = "我用C#写，找@人民日报"
    plain = [text[s.start : s.end] for s in tagger.tag([text])[0]]
    forced = [text[s.start : s.end] for s in tagger.tag([text], Lexicon(["C#", "@人民日报"], force=True))[0]]
    assert "#" in plain and "@" in plain and {"C#", "@人民日报"} <= set(forced)


def test_an_entity_model_finds_no_entity_in_an_emoji_or_symbol() -> None:
    tagger = random_tagger(task="ner")
    with torch.no_grad():
        tagger.network.emit.bias[tagger.config.tags.index("S-PER")] += 1000
    entities = tagger.tag([EMOJI])[0]
    assert {EMOJI[e.start : e.end] for e in entities} == {ch for ch in "好的谢谢，我爱北京一家张三李四9"}


@pytest.mark.parametrize(("name", "problem"), [("tpu", "unknown device 'tpu'"), ("cuda:x", "unknown device")])
def test_a_device_torch_does_not_know_is_an_input_error_naming_it(name: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        pick_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_on_a_machine_without_a_gpu_is_an_input_error_not_a_torch_assertion() -> None:
    with pytest.raises(InputError, match="no CUDA GPU"):
        pick_device("cuda")
