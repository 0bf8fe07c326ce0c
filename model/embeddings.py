"""Character and bigram embeddings pretrained on raw text, to start a new model from.

A labelled corpus sees each rare character or bigram a few times at most; raw text (every
corpus's sentences, jieba's dictionary words) sees it more often and in more company. Skip-gram
vectors learnt there (gensim's Word2Vec) give those rows a useful start, which is the lever the
literature credits most for Bi-LSTM taggers. The vectors are stored as safetensors and JSON,
like checkpoints, so a file a user hands over is never unpickled.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from data.atomic import write_atomic
from data.batches import BOS, EOS
from data.errors import InputError
from data.jiebadict import jieba_frequencies, jieba_lexicon
from data.lexicon import Lexicon
from data.text import fold
from data.vocab import Vocab

VECTORS, TOKENS = "embeddings.safetensors", "embeddings.json"


@dataclass(frozen=True)
class Embeddings:
    chars: list[str]
    char_vectors: torch.Tensor  # (chars, char_dim)
    bigrams: list[str]
    bigram_vectors: torch.Tensor  # (bigrams, bigram_dim)
    words: list[str] = field(default_factory=list)  # lexicon words, for `train --word-vectors`
    word_vectors: torch.Tensor = field(default_factory=lambda: torch.empty(0, 0))  # (words, word_dim)

    @property
    def dims(self) -> tuple[int, int]:
        return self.char_vectors.shape[1], self.bigram_vectors.shape[1]

    def save(self, directory: Path) -> None:
        tensors = {"chars": self.char_vectors, "bigrams": self.bigram_vectors} | ({"words": self.word_vectors} if self.words else {})
        write_atomic(directory / VECTORS, save_tensors({k: v.contiguous() for k, v in tensors.items()}))
        tokens = {"chars": self.chars, "bigrams": self.bigrams} | ({"words": self.words} if self.words else {})
        write_atomic(directory / TOKENS, json.dumps(tokens, ensure_ascii=False).encode())

    @classmethod
    def load(cls, directory: Path) -> "Embeddings":
        """The embeddings `save` wrote; a missing, damaged or inconsistent file is refused by name."""
        try:
            tensors = load_tensors((directory / VECTORS).read_bytes())
            tokens = json.loads((directory / TOKENS).read_text(encoding="utf-8"))
        except FileNotFoundError as err:
            raise InputError(f"{err.filename}: no such embeddings file (make one with `zhtag pretrain`)") from None
        except (SafetensorError, ValueError) as err:
            raise InputError(f"{directory}: damaged embeddings: {err}") from None
        loaded = cls(*(part for kind in ("chars", "bigrams", "words") for part in (tokens.get(kind, []), tensors.get(kind, torch.empty(0, 0)))))
        for kind, names, vectors in (("chars", loaded.chars, loaded.char_vectors), ("bigrams", loaded.bigrams, loaded.bigram_vectors), ("words", loaded.words, loaded.word_vectors)):
            if vectors.dim() != 2 or vectors.shape[0] != len(names) or not vectors.is_floating_point():
                raise InputError(f"{directory / VECTORS}: {kind} holds {tuple(vectors.shape)} vectors for {len(names)} tokens")
        return loaded

    def extend(self, chars: Vocab, bigrams: Vocab) -> None:
        """Add the pretrained tokens to a new model's vocabularies, so that characters and
        bigrams the labelled corpus lacks still get their pretrained rows."""
        chars.extend(self.chars)
        bigrams.extend(self.bigrams)

    def initialise(self, char_embed: nn.Embedding, chars: Vocab, bigram_embed: nn.Embedding, bigrams: Vocab) -> int:
        """Copy the pretrained vectors into a network's embedding rows; returns how many rows."""
        return _copy(self.chars, self.char_vectors, char_embed, chars) + _copy(self.bigrams, self.bigram_vectors, bigram_embed, bigrams)

    @torch.no_grad()
    def initialise_words(self, vectors: torch.Tensor, weights: torch.Tensor) -> None:
        """Fill a network's word table (`BiLSTMCRF.word_vectors`, rows in `words` order) with
        the word vectors scaled to unit spread, as the trained embeddings start, and `weights`
        with each word's frequency in jieba's dictionary (1 where it has none)."""
        vectors.copy_(self.word_vectors / self.word_vectors.std().clamp_min(1e-12))
        frequency = jieba_frequencies()
        weights.copy_(torch.tensor([max(frequency.get(w, 1), 1) for w in self.words], dtype=weights.dtype))


def _copy(tokens: Sequence[str], vectors: torch.Tensor, embed: nn.Embedding, vocab: Vocab) -> int:
    """Rows of `tokens` in `vocab` get their vectors, rescaled to the spread of the rows that
    keep their random start, so neither kind dominates the LSTM's inputs."""
    found = [(vocab.index[t], i) for i, t in enumerate(tokens) if t in vocab.index]
    if not found:
        return 0
    rows, sources = (torch.tensor(column) for column in zip(*found))  # (found,) each
    with torch.no_grad():
        scale = embed.weight[2:].std() / vectors.std().clamp_min(1e-12)  # rows 0, 1: padding, unknown
        embed.weight[rows] = vectors[sources].to(embed.weight.dtype) * scale  # (found, dim)
    return len(found)


def pretrain(
    texts: Iterable[str], char_dim: int = 100, bigram_dim: int = 50, *, word_dim: int = 0, lexicon: Lexicon | None = None,
    epochs: int = 5, window: int = 5, min_count: int = 2, max_bigrams: int = 100_000, seed: int = 1, workers: int = 2,
) -> Embeddings:
    """Skip-gram vectors of the folded characters and bigrams of `texts`, in the forms the
    tagger looks them up in (`data.text.fold`, bigrams with sentence-boundary marks); with
    `word_dim`, also of the words of `lexicon` (jieba's by default) in `texts` as jieba
    segments them with that dictionary alone, unfolded as the lexicon matches them."""
    try:
        from gensim.models import Word2Vec
    except ImportError:
        raise InputError("pretraining embeddings needs gensim: pip install 'zhtag[pretrain]'") from None
    texts = [t for t in texts if t.strip()]
    folded = [fold(t) for t in texts]
    if not folded:
        raise InputError("no text to pretrain embeddings on")
    bigram_texts = [[padded[i : i + 2] for i in range(len(padded) - 1)] for padded in (BOS + t + EOS for t in folded)]
    common = {"window": window, "min_count": min_count, "sg": 1, "negative": 5, "epochs": epochs, "seed": seed, "workers": workers}
    char_model = Word2Vec([list(t) for t in folded], vector_size=char_dim, **common)
    bigram_model = Word2Vec(bigram_texts, vector_size=bigram_dim, max_final_vocab=max_bigrams, **common)
    embeddings = Embeddings(
        list(char_model.wv.index_to_key), torch.from_numpy(char_model.wv.vectors.copy()),
        list(bigram_model.wv.index_to_key), torch.from_numpy(bigram_model.wv.vectors.copy()),
    )
    if word_dim:
        words = _word_model(texts, lexicon or jieba_lexicon(), Word2Vec(vector_size=word_dim, **common))
        embeddings = replace(embeddings, words=words[0], word_vectors=words[1])
    return embeddings


def _word_model(texts: list[str], lexicon: Lexicon, model: Any) -> tuple[list[str], torch.Tensor]:
    """(words, (words, dim) vectors) of the lexicon's words that `model`, a gensim Word2Vec,
    learns from `texts` cut by jieba without its HMM, so every piece is a dictionary word
    or a single character; the single characters stay as context."""
    import jieba

    cutter = jieba.Tokenizer()
    quiet = logging.getLogger("jieba")  # its dictionary's loading says four lines on stderr, beside pretrain's own
    level, quiet.level = quiet.level, logging.WARNING
    try:
        sentences = [cutter.lcut(text, HMM=False) for text in texts]
    finally:
        quiet.setLevel(level)
    model.build_vocab(sentences)
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    keep = [i for i, word in enumerate(model.wv.index_to_key) if word in lexicon.words]
    return [model.wv.index_to_key[i] for i in keep], torch.from_numpy(model.wv.vectors[keep].copy())
