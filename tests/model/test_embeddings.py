"""Specification of pretrained embeddings (model/embeddings.py): skip-gram vectors of the
characters and bigrams the tagger looks up, stored as safetensors and JSON, refused by name
when damaged, and the start of a new model's embedding rows and vocabularies."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save as save_tensors

from data.batches import BOS, EOS
from data.errors import InputError
from data.formats import read_corpus
from data.lexicon import Lexicon
from model.embeddings import VECTORS, Embeddings, pretrain
from model.tagger import Tagger
from model.config import TrainConfig
from model.train import Trainer, TrainOptions, train

QUIET = {"log": lambda line: None}
TEXTS = ["我爱北京天安门", "北京是中国的首都", "２０２６年我在北京", "天安门在北京"] * 5


@pytest.fixture(scope="module")
def small() -> Embeddings:
    return pretrain(TEXTS, char_dim=6, bigram_dim=4, epochs=2, min_count=1, workers=1)


def test_vectors_cover_the_folded_characters_and_bigrams_the_tagger_looks_up(small: Embeddings) -> None:
    assert small.dims == (6, 4)
    assert {"北", "京", "0"} <= set(small.chars) and "２" not in small.chars
    assert {"北京", BOS + "我", "门" + EOS} <= set(small.bigrams)
    assert small.char_vectors.shape == (len(small.chars), 6)
    assert small.bigram_vectors.shape == (len(small.bigrams), 4)


def test_word_vectors_are_learnt_for_the_lexicons_words_in_the_text() -> None:
    lexicon = Lexicon(["北京", "天安门", "首都", "上海"])
    words = pretrain(TEXTS, char_dim=6, bigram_dim=4, word_dim=5, lexicon=lexicon, epochs=2, min_count=1, workers=1)
    assert set(words.words) == {"天安门", "北京", "首都"}, "上海 is not in the text; 我, 是 are no lexicon words"
    assert words.word_vectors.shape == (3, 5)
    assert not small_has_words(pretrain(TEXTS, char_dim=6, bigram_dim=4, epochs=1, min_count=1, workers=1))


def small_has_words(embeddings: Embeddings) -> bool:
    return bool(embeddings.words) or embeddings.word_vectors.numel() > 0


def test_no_text_is_refused() -> None:
    with pytest.raises(InputError, match="no text"):
        pretrain(["", "  "])


def test_saved_embeddings_load_back_unchanged(small: Embeddings, tmp_path: Path) -> None:
    small.save(tmp_path)
    loaded = Embeddings.load(tmp_path)
    assert loaded.chars == small.chars and loaded.bigrams == small.bigrams
    assert torch.equal(loaded.char_vectors, small.char_vectors) and torch.equal(loaded.bigram_vectors, small.bigram_vectors)
    assert not small_has_words(loaded)
    with_words = replace(small, words=["北京"], word_vectors=torch.ones(1, 3))
    with_words.save(tmp_path)
    loaded = Embeddings.load(tmp_path)
    assert loaded.words == ["北京"] and torch.equal(loaded.word_vectors, torch.ones(1, 3))


def test_damaged_or_inconsistent_files_are_refused_by_name(small: Embeddings, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such embeddings file"):
        Embeddings.load(tmp_path)
    small.save(tmp_path)
    (tmp_path / VECTORS).write_bytes(b"\xff" * 8 + b"{}")
    with pytest.raises(InputError, match="damaged embeddings"):
        Embeddings.load(tmp_path)
    (tmp_path / VECTORS).write_bytes(save_tensors({"chars": torch.zeros(2, 6), "bigrams": small.bigram_vectors}))
    with pytest.raises(InputError, match=r"chars holds \(2, 6\) vectors for \d+ tokens"):
        Embeddings.load(tmp_path)
    (tmp_path / VECTORS).write_bytes(save_tensors({"chars": small.char_vectors, "bigrams": small.bigram_vectors, "words": torch.zeros(2, 3)}))
    with pytest.raises(InputError, match=r"words holds \(2, 3\) vectors for 0 tokens"):
        Embeddings.load(tmp_path)


def test_a_new_model_starts_from_the_pretrained_rows(small: Embeddings, tmp_path: Path, tiny_options, make_store) -> None:
    small.save(tmp_path / "emb")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("我 爱 北京\n北京 是 首都\n我 爱 天安门\n", encoding="utf-8")
    store = make_store()
    options = tiny_options("cws", corpus, embeddings=tmp_path / "emb", model_overrides={"char_dim": 6, "bigram_dim": 4})
    result = train(options, store, **QUIET)
    tagger = Tagger.load(result.ref, store)
    assert "中" in tagger.chars.index, "a character only the raw text has gets a row"
    rows = tagger.network.char_embed.weight
    for ch in ("北", "中"):
        pretrained = small.char_vectors[small.chars.index(ch)]
        assert torch.cosine_similarity(rows[tagger.chars[ch]], pretrained, dim=0) > 0.99
    assert result.metrics["embeddings"]["sha256"]


def test_embedding_sizes_come_from_the_vectors_and_a_different_size_is_refused(small: Embeddings, tmp_path: Path, tiny_options, make_store) -> None:
    small.save(tmp_path / "emb")
    options = tiny_options("cws", Path(__file__).parent.parent / "fixtures/corpora/tiny.seg.txt", embeddings=tmp_path / "emb")
    with pytest.raises(InputError, match="--char-dim 8 differs from the pretrained embeddings' 6"):
        train(options, make_store(), **QUIET)


def test_word_vectors_feed_a_new_model_and_travel_with_its_checkpoint(small: Embeddings, tmp_path: Path, tiny_options, make_store) -> None:
    words = ["北京", "首都", "天安门"]
    replace(small, words=words, word_vectors=torch.randn(3, 5)).save(tmp_path / "emb")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("我 爱 北京\n北京 是 首都\n我 爱 天安门\n", encoding="utf-8")
    store = make_store()
    options = tiny_options("cws", corpus, embeddings=tmp_path / "emb", word_vectors=True, model_overrides={"char_dim": 6, "bigram_dim": 4})
    tagger = Tagger.load(train(options, store, **QUIET).ref, store)
    assert (tagger.config.word_dim, tagger.lexicon_words) == (5, words)
    assert tagger.network.lstm.input_size == 6 + 2 * 4 + tagger.encoder.width, "the pooled vectors are LSTM inputs"
    features = tagger.encoder.encode(["我爱北京"]).lexicon[:, -15:]  # (rows, 3 sets x 5)
    assert features[2, :5].any() and features[3, 10:].any() and not features[:2].any(), "北 begins 北京, 京 ends it"
    assert tagger.tag(["我爱北京"]) == Tagger.from_files(tagger.files(compact=True)).tag(["我爱北京"])
    options = tiny_options("cws", corpus, parent=tagger.ref)
    child = Tagger.load(train(options, store, **QUIET).ref, store)
    assert child.lexicon_words == words and torch.equal(child.network.word_vectors, tagger.network.word_vectors), "fine-tuning keeps the table"


def test_training_mutes_the_word_vectors_under_each_epochs_user_words_and_gives_the_last_ones_back(
    small: Embeddings, tmp_path: Path, tiny_options, make_store
) -> None:
    replace(small, words=["北京", "首都", "天安门"], word_vectors=torch.randn(3, 5)).save(tmp_path / "emb")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("我 爱 北京\n北京 是 首都\n我 爱 天安门\n" * 20, encoding="utf-8")
    store = make_store()
    options = tiny_options("cws", corpus, embeddings=tmp_path / "emb", word_vectors=True, model_overrides={"char_dim": 6, "bigram_dim": 4})
    tagger = Tagger.load(train(options, store, **QUIET).ref, store)
    assert tagger.config.user_words_mute_vectors, "a new model with word vectors and user flags is trained to be muted"
    trainer = Trainer(tagger, read_corpus(corpus).sentences, TrainConfig(), torch.device("cpu"))
    lexicon, columns = trainer.encoded.lexicon, tagger.encoder
    original = lexicon[:, columns.soft_columns].copy()
    for seed in (1, 2):
        trainer._sample_user_words(np.random.default_rng(seed))
        users = lexicon[:, columns.user_columns].any(axis=1)
        vectors = lexicon[:, columns.soft_columns]
        assert users.any() and not vectors[users].any(), "no vectors where this epoch's user words lie"
        assert np.array_equal(vectors[~users], original[~users]), "all others as encoded, last epoch's muted rows too"


def test_word_vectors_need_embeddings_that_hold_them(small: Embeddings, tmp_path: Path, tiny_options, make_store) -> None:
    small.save(tmp_path / "emb")
    corpus = Path(__file__).parent.parent / "fixtures/corpora/tiny.seg.txt"
    with pytest.raises(InputError, match="none was given"):
        train(tiny_options("cws", corpus, word_vectors=True), make_store(), **QUIET)
    with pytest.raises(InputError, match="holds no word vectors"):
        train(tiny_options("cws", corpus, embeddings=tmp_path / "emb", word_vectors=True), make_store(), **QUIET)


def test_fine_tuning_keeps_the_parents_embeddings(trained_cws, small: Embeddings, tmp_path: Path) -> None:
    small.save(tmp_path / "emb")
    options = TrainOptions(task="cws", train=trained_cws.corpus, parent=trained_cws.ref, embeddings=tmp_path / "emb", device="cpu")
    with pytest.raises(InputError, match="keeps its embeddings"):
        train(options, trained_cws.store, **QUIET)  # refused before anything is written

