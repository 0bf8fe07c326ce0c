"""Specification: a sentence's tags never depend on what it is batched with. Padding, packing
and length-sorted batches must give every sentence exactly the tags it gets alone."""
from __future__ import annotations

import pytest
import torch

from data.batches import Encoder
from data.lexicon import Lexicon
from data.schemes import tag_set
from data.vocab import Vocab
from model.config import ModelConfig
from model.network import BiLSTMCRF, Decoded
from model.tagger import Tagger

TAGS = ["B", "E", "M", "S"]
TEXTS = [
    "我们一起去公园散步吧。",
    "好",
    "今天天气很好",
    "小猫在窗台上睡觉。他买了三本新书，明天早上八点出发。",
    "北京大学",
    "ＡＢＣ公司１９９８年成立",
]


def random_tagger(lexicon: str | None = None, max_len: int = 150, task: str = "cws") -> Tagger:
    """A randomly initialised tagger (of PER entities for `task="ner"`, of the tags nr and w
    for `task="pos"`) whose emissions are
    large enough to vary from character to character, so that equal outputs are not the
    trivial all-one-tag kind."""
    torch.manual_seed(0)
    chars = Vocab(sorted({ch for text in TEXTS for ch in text}))
    bigrams = Vocab([text[i : i + 2] for text in TEXTS for i in range(len(text) - 1)])
    config = ModelConfig(
        task=task, tags={"cws": TAGS, "ner": tag_set(["PER"], True), "pos": tag_set(["nr", "w"], False)}[task], char_vocab_size=len(chars), bigram_vocab_size=len(bigrams),
        char_dim=8, bigram_dim=4, hidden=8, lexicon=lexicon, max_len=max_len,
    )
    network = BiLSTMCRF(config)
    with torch.no_grad():
        network.emit.weight.mul_(20)
    return Tagger(network, chars, bigrams, set())


def cut_paths(decoded: Decoded) -> list[list[int]]:
    return [row[:n] for row, n in zip(decoded.tags.tolist(), decoded.mask.sum(1).tolist())]


def test_network_tags_a_sentence_in_a_padded_batch_as_it_tags_it_alone() -> None:
    tagger = random_tagger()
    network = tagger.network
    assert not network.training
    encoded = Encoder(tagger.chars, tagger.bigrams, Lexicon(["北京", "公园", "散步"])).encode(TEXTS)
    batch = encoded.batch(range(len(TEXTS)))
    together = cut_paths(network.decode(batch))
    emissions = network.emissions(batch)
    for row, text in enumerate(TEXTS):
        alone_batch = encoded.batch([row])
        assert together[row] == cut_paths(network.decode(alone_batch))[0], text
        torch.testing.assert_close(emissions[row, : len(text)], network.emissions(alone_batch)[0], atol=1e-5, rtol=1e-5)
    assert len({t for path in together for t in path}) > 1, "degenerate network: every tag the same"


def test_batch_order_does_not_change_any_sentence_tags() -> None:
    tagger = random_tagger()
    encoded = tagger.encoder.encode(TEXTS)
    forward = cut_paths(tagger.network.decode(encoded.batch(range(len(TEXTS)))))
    backward = cut_paths(tagger.network.decode(encoded.batch(range(len(TEXTS))[::-1])))
    assert forward == backward[::-1]


@pytest.mark.parametrize("lexicon", [None, "jieba"])
@pytest.mark.parametrize("batch_chars", [6000, 40, 1])
def test_tagger_gives_each_text_the_spans_it_gets_alone(lexicon: str | None, batch_chars: int) -> None:
    tagger = random_tagger(lexicon)
    together = tagger.tag(TEXTS, batch_chars=batch_chars)
    assert together == [tagger.tag([text])[0] for text in TEXTS]
    assert together == tagger.tag(TEXTS[::-1], batch_chars=batch_chars)[::-1]


def test_tagger_batches_pieces_of_long_and_spaced_texts_like_single_texts() -> None:
    """Texts split at whitespace and at max_len give the same spans in any company, and the
    spans index the exact input without covering whitespace."""
    tagger = random_tagger(max_len=6)
    texts = ["我们 一起去公园散步吧。今天天气很好", "  好  ", "", "小猫在窗台上睡觉，他买了三本新书", "北京\u3000大学"]
    together = tagger.tag(texts, batch_chars=20)
    for text, spans in zip(texts, together, strict=True):
        assert spans == tagger.tag([text])[0]
        covered = [i for s in spans for i in range(s.start, s.end)]
        assert covered == sorted(set(covered)), "spans overlap"
        assert covered == [i for i, ch in enumerate(text) if not ch.isspace()], "words must tile the non-space text"


def test_texts_with_different_user_dictionaries_in_one_call_get_what_each_gets_alone(trained_cws) -> None:
    tagger = trained_cws.tagger
    words = Lexicon(["天气很好", "公园散步"])
    texts = ["今天天气很好", "我们去公园散步", "今天天气很好"]
    together = tagger.tag_each(texts, [words, None, None])
    assert together == [tagger.tag([texts[0]], words)[0], tagger.tag([texts[1]])[0], tagger.tag([texts[2]])[0]]
