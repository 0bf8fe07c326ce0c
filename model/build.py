"""Building the tagger a training run starts from: a fresh one sized for its corpus (its
embeddings from pretrained vectors if given), or a parent grown to cover the corpus.

Apart from the training loop because it is a question of sizes and vocabularies, answered
once before the first epoch, and the GPU bench builds taggers the same way without training.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import torch

from data.batches import bigram_strings
from data.corpus import Sentence
from data.errors import InputError
from data.schemes import tag_set
from data.text import fold
from data.vocab import Vocab
from model.config import ModelConfig, TrainConfig
from model.embeddings import Embeddings
from model.grow import transfer
from model.network import BiLSTMCRF
from model.tagger import Tagger

EXACT = "float32"  # taggers training loads score dev as training computes, on any CPU, so runs and resumes agree


def build_tagger(
    task: str, sentences: list[Sentence], cfg: TrainConfig, overrides: dict, parent: Tagger | None, labels: str = "keep",
    embeddings: Embeddings | None = None, taught: Sequence[Sentence] = (),
) -> Tagger:
    """A fresh tagger sized for `sentences` and `taught` (a teacher's, `model.teacher`; its
    embeddings started from `embeddings`), or `parent` grown to cover them. With
    `labels="replace"` the tag set is the corpus's alone; tags it shares with the parent by name
    still start from the parent's weights. The training words, against which OOV and unseen
    entities are counted, are the labelled sentences' alone, as the standard measures define them."""
    every = [*sentences, *taught]
    char_counts = Counter(ch for s in every for ch in fold(s.text))
    bigram_counts = Counter(b for s in every for pair in bigram_strings(s.text) for b in pair)
    chars = Vocab.from_counts(char_counts)
    bigrams = Vocab.from_counts(bigram_counts, cfg.min_bigram_count, cfg.max_bigrams)
    tags = tag_set({span.label for s in every for span in s.spans}, outside=task == "ner")
    words = {w for s in sentences for w in s.words()}  # ner: the entities, for unseen-entity recall
    if parent is not None:
        chars, bigrams = _grown(parent.chars, chars), _grown(parent.bigrams, bigrams)
        if labels == "keep":
            tags = parent.config.tags + [t for t in tags if t not in parent.config.tags]
        words |= parent.train_words
        base = parent.config.to_dict()
    else:
        base = {"task": task, "user_flags": task != "ner", **overrides, **_embedding_dims(embeddings, overrides)}
        base["user_words_mute_vectors"] = bool(base["user_flags"] and base.get("word_dim"))
        if embeddings is not None:
            embeddings.extend(chars, bigrams)
    base.update(tags=tags, char_vocab_size=len(chars), bigram_vocab_size=len(bigrams))
    network = BiLSTMCRF(ModelConfig.from_dict(base))
    if parent is not None:
        transfer(parent.network, parent.chars, parent.bigrams, network, chars, bigrams)
    elif embeddings is not None:
        embeddings.initialise(network.char_embed, chars, network.bigram_embed, bigrams)
        if network.config.word_dim:
            embeddings.initialise_words(network.word_vectors, network.word_weights)
    return Tagger(network, chars, bigrams, words, lexicon_words=parent.lexicon_words if parent else embeddings.words if network.config.word_dim else None)


def _embedding_dims(embeddings: Embeddings | None, overrides: dict) -> dict[str, int]:
    """Embedding sizes taken from pretrained vectors; a size asked for that differs is refused."""
    if embeddings is None:
        return {}
    dims = dict(zip(("char_dim", "bigram_dim"), embeddings.dims))
    for key, size in dims.items():
        if overrides.get(key, size) != size:
            raise InputError(f"--{key.replace('_', '-')} {overrides[key]} differs from the pretrained embeddings' {size}")
    words = {"word_dim": embeddings.word_vectors.shape[1], "word_vocab_size": len(embeddings.words)} if embeddings.words else {}
    return dims | words


def _grown(old: Vocab, new: Vocab) -> Vocab:
    grown = Vocab.from_list(old.tokens)
    grown.extend(new.tokens)
    return grown


def load_embeddings(path: Path | None, word_vectors: bool) -> Embeddings | None:
    """The pretrained vectors at `path` a new model starts from, with their word vectors only
    if asked for (`word_vectors`)."""
    if path is None:
        if word_vectors:
            raise InputError("--word-vectors takes the word vectors of --embeddings DIR; none was given")
        return None
    embeddings = Embeddings.load(path)
    if word_vectors and not embeddings.words:
        raise InputError(f"{path} holds no word vectors (make them with `zhtag pretrain --word-dim N`)")
    return embeddings if word_vectors else replace(embeddings, words=[], word_vectors=torch.empty(0, 0))
