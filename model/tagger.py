"""The one tagger behind the CLI, the HTTP API and the Python API.

It owns the network with its vocabularies and lexicon, turns what the model reads of any text
(`data.graphemes`) into model-sized pieces (`data.text.split_text`), tags them in length-sorted
batches, and maps spans back to offsets in the exact input string. The spans each piece
must keep whole are `model.constraints`'s; mending an entity that holds half a bracket pair
is `model.mending`'s; the device and the CPU's precision are `model.device`'s.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import partial

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from data.atoms import atom_spans
from data.batches import Encoded, Encoder, length_batches
from data.brackets import Brackets
from data.corpus import Span
from data.errors import CheckpointError
from data.graphemes import GraphemeViews, cluster_starts, read_at
from data.jiebadict import jieba_lexicon
from data.lexicon import Lexicon
from data.schemes import split_tag
from data.softlexicon import SoftLexicon
from data.text import cut_between, same_cut, split_text
from data.vocab import Vocab
from model.config import ModelConfig
from model.constraints import SpanConstraints, dictionary_words, kept_whole
from model.device import cpu_precision, pick_device
from model.mending import balanced
from model.network import BiLSTMCRF, check_weights
from model.spans import SpanArrays
from model.store import METRICS, Checkpoint, Store

WEIGHTS, CONFIG, VOCAB = "weights.safetensors", "config.json", "vocab.json"
HALF_PRECISION = ("char_embed.weight", "bigram_embed.weight", "word_vectors")  # stored in float16 by `files(compact=True)`
READ_AHEAD = 256  # code points a streamed piece reads past the point it may end at (or half what is left past `after`): longer than any word


class Tagger:
    def __init__(
        self,
        network: BiLSTMCRF,
        chars: Vocab,
        bigrams: Vocab,
        train_words: set[str],
        ref: str | None = None,
        lexicon_words: list[str] | None = None,
    ) -> None:
        """`lexicon_words` name the rows of the network's `word_vectors`, where it has them."""
        self.network = network.eval()
        self.config: ModelConfig = network.config
        self.chars, self.bigrams, self.train_words, self.ref = chars, bigrams, train_words, ref
        self.lexicon_words = lexicon_words or []
        if len(self.lexicon_words) != self.config.word_vocab_size:
            raise ValueError(f"{len(self.lexicon_words)} lexicon words for {self.config.word_vocab_size} word vectors")
        lexicon, gazetteers = (jieba_lexicon(), {tag: jieba_lexicon(tag) for tag in self.config.gazetteers}) if self.config.lexicon else (None, {})
        soft = SoftLexicon(self.lexicon_words, network.word_vectors.cpu().float(), network.word_weights.cpu()) if self.config.word_dim and lexicon else None
        self.encoder = Encoder(chars, bigrams, lexicon, self.config.user_flags, gazetteers, soft, self.config.user_words_mute_vectors)
        self._lexicon = lexicon
        self._constraints = SpanConstraints(self.config, lexicon)

    @classmethod
    def load(cls, ref: str, store: Store | None = None, device: str = "cpu", precision: str | None = None) -> "Tagger":
        return cls.from_checkpoint((store or Store()).resolve(ref), device, precision)

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint, device: str = "cpu", precision: str | None = None) -> "Tagger":
        files = {name: checkpoint.read_bytes(name) for name in (WEIGHTS, CONFIG, VOCAB)}
        return cls.from_files(files, checkpoint.ref, device, precision)

    @classmethod
    def from_files(cls, files: Mapping[str, bytes], ref: str | None = None, device: str = "cpu", precision: str | None = None) -> "Tagger":
        """Rebuild from the files that `files()` wrote; nothing in them is executed. It tags
        on the CPU in `cpu_precision(precision)`; a tagger built for training's dev scores
        (`Tagger(network, ...)`) keeps float32."""
        dtype = cpu_precision(precision)
        try:
            config = ModelConfig.from_dict(json.loads(files[CONFIG]))
            vocab = json.loads(files[VOCAB])
            tensors = load_tensors(files[WEIGHTS])
            check_weights(config, tensors, HALF_PRECISION)
            chars, bigrams, words = Vocab.from_list(vocab["chars"]), Vocab.from_list(vocab["bigrams"]), set(vocab["words"])
            if (len(chars), len(bigrams)) != (config.char_vocab_size, config.bigram_vocab_size):
                raise ValueError(f"vocab.json lists {len(chars)} chars and {len(bigrams)} bigrams, config.json {config.char_vocab_size} and {config.bigram_vocab_size}")
            network = BiLSTMCRF(config, initialise_embeddings=False)
            network.load_state_dict(tensors)
            tagger = cls(network, chars, bigrams, words, ref, vocab.get("lexicon"))
        except (KeyError, TypeError, ValueError, RuntimeError, SafetensorError) as err:
            raise CheckpointError(f"{ref or 'checkpoint'} cannot be rebuilt: {err}") from None
        on = pick_device(device)
        network.to(on).tag_in(dtype if on.type == "cpu" else torch.float32)  # a GPU autocasts (BiLSTMCRF.decode)
        return tagger

    def files(self, metrics: dict | None = None, compact: bool = False) -> dict[str, bytes]:
        """The checkpoint files that rebuild this tagger (see `from_checkpoint`). `compact`
        stores the embedding tables, most of a model's bytes, in float16: half the size, for
        publishing. Training states keep float32, so a resumed run matches an uninterrupted one."""
        state = {k: v.detach().cpu().contiguous() for k, v in self.network.state_dict().items()}
        if compact:
            state.update({k: state[k].half() for k in HALF_PRECISION if k in state})
        vocab = {"chars": self.chars.tokens, "bigrams": self.bigrams.tokens, "words": sorted(self.train_words)} | ({"lexicon": self.lexicon_words} if self.lexicon_words else {})
        as_json = lambda obj: json.dumps(obj, ensure_ascii=False, indent=1).encode()  # noqa: E731
        return {
            WEIGHTS: save_tensors(state),
            CONFIG: as_json(self.config.to_dict()),
            VOCAB: as_json(vocab),
            METRICS: as_json(metrics or {}),
        }

    @property
    def device(self) -> torch.device:
        """The network's device, read from its parameters rather than kept apart, so that it
        stays right after a caller moves the network."""
        return next(self.network.parameters()).device

    @property
    def types(self) -> set[str]:
        """The labels this model's spans carry: entity types (ner), POS tags (pos), none (cws)."""
        return self._constraints.types

    @property
    def batch_chars(self) -> int:
        """Padded characters per network call that measured fastest on this device: 256,000 on
        an H100 (bench/gpu.sh); on 2 CPU cores about 1,024,000 / hidden, within 8,000 to
        32,000: 32,000 for the 2x32 `cws`, 8,000 for the 2x200 `ner` and `pos` (bench/paths.py)."""
        if self.device.type == "cuda":
            return 256_000
        return min(32_000, max(8_000, 1_024_000 // self.config.hidden))

    def cut_point(self, text: str, after: int, user_words: Lexicon | None = None, breaks: frozenset[str] = frozenset()) -> int:
        """Where a piece of a line too long to read at once may end (the CLI streams such
        lines): past `after`, and `READ_AHEAD` before the end, so that a word crossing the
        point lies wholly inside `text`. Where it can, at a point that makes the pieces tagged
        as the whole line is (`data.text.same_cut`), so the CLI answers as the Python API and
        HTTP do; else inside no character cluster (an emoji sequence, a letter and its
        accent), address or number, nor any of the lexicon's or the user's words, just after
        one of `breaks` where it can; else at the text's end. `text` is as the model reads it
        (traditional script mapped), so the lexicon finds its words."""
        bounds = np.append(cluster_starts(text), len(text))  # (clusters + 1,) the view's positions in the text
        before = len(text) - min(READ_AHEAD, (len(text) - after) // 2)
        view = read_at(text, bounds[:-1])
        words = partial(dictionary_words, self._lexicon, user_words)
        at = same_cut(view, int(np.searchsorted(bounds, after)), int(np.searchsorted(bounds, before, "right")) - 1, self.config.max_len, kept_whole(user_words), words)
        if at is not None:
            return int(bounds[at])
        joined = np.flatnonzero(np.diff(bounds) > 1)  # clusters of two or more code points
        spans = list(zip(bounds[joined].tolist(), bounds[joined + 1].tolist())) + atom_spans(text) + words(text)
        return cut_between(text, spans, after, before, breaks)

    def tag(self, texts: Sequence[str], user_words: Lexicon | None = None, batch_chars: int | None = None, scores: bool | None = None) -> list[list[Span]]:
        """Spans of each text, offsets into that exact text: words for cws/pos (labelled with
        their POS tag for pos), entities for ner. Whitespace and the invisible separators of
        `data.text.SEPARATOR` (a zero-width space) are never inside a span.
        `user_words` (a user dictionary) add to the lexicon features. Each span's `score` is
        its marginal probability under the CRF: by default for entities only, since for words
        it costs a forward-backward pass that segmentation's hot path does without."""
        return self.tag_each(texts, [user_words] * len(texts), batch_chars, scores)

    def tag_each(
        self, texts: Sequence[str], user_words: Sequence[Lexicon | None], batch_chars: int | None = None, scores: bool | None = None
    ) -> list[list[Span]]:
        """`tag` with a user dictionary per text, so requests that bring different
        dictionaries can still share one batch."""
        return self.span_arrays(texts, user_words, batch_chars, scores).lists()

    def span_arrays(
        self, texts: Sequence[str], user_words: Sequence[Lexicon | None], batch_chars: int | None = None, scores: bool | None = None
    ) -> SpanArrays:
        """`tag_each`'s spans as arrays (see `model.spans`). `batch_chars` (padded characters
        per network call) defaults to what measured fastest on the network's device."""
        scores = self.config.task == "ner" if scores is None else scores
        batch_chars = batch_chars or self.batch_chars
        graphemes = GraphemeViews(texts)
        pieces = [
            (i, offset, piece)
            for i, text in enumerate(graphemes.views)
            for offset, piece in split_text(text, self.config.max_len, kept_whole(user_words[i]), partial(dictionary_words, self._lexicon, user_words[i]))
        ]
        owner = np.array([i for i, _, _ in pieces], dtype=np.int64)  # (pieces,) text of each piece
        offset = np.array([o for _, o, _ in pieces], dtype=np.int64)  # (pieces,) where it begins in its text
        words = [user_words[i] for i in owner.tolist()]
        encoded = self.encoder.encode([piece for _, _, piece in pieces], words)
        marks = [self._constraints.brackets(piece) for _, _, piece in pieces]
        forced = [self._constraints.forced(piece, lexicon, mark) for (_, _, piece), lexicon, mark in zip(pieces, words, marks)]
        found = [self._decode(encoded, index[::-1], forced, marks, scores) for index in length_batches(encoded.lengths.tolist(), batch_chars)]  # longest first
        piece, start, end, label = (np.concatenate([f[k] for f in found] or [np.empty(0, np.int64)]) for k in range(4))  # (spans,) each
        order = np.lexsort((start, piece))  # (spans,) by piece, then by start
        piece, start, end, label = piece[order], start[order], end[order], label[order]  # (spans,) each: offsets in the piece, tag id
        score = np.concatenate([f[4] for f in found])[order] if scores and found else None  # (spans,)
        names = [split_tag(tag)[1] for tag in self.config.tags]  # (tags,) the label each tag id names
        text = owner[piece]  # (spans,) the text of each span
        start, end = (graphemes.offsets(text, at + offset[piece]) for at in (start, end))  # (spans,) each: offsets in the exact text
        return SpanArrays(len(texts), text, start, end, label, names, score)

    def _decode(
        self, encoded: Encoded, index: list[int], forced: Sequence[list[tuple[int, int, str]]], marks: Sequence[Brackets], scores: bool
    ) -> tuple[np.ndarray, ...]:
        """(piece, start, end, tag, score) arrays of the spans found in the pieces `index`,
        offsets within each piece; with `scores`, each span's marginal probability under the CRF."""
        batch = encoded.batch(index).to(self.device)
        held = [forced[i] for i in index]
        decoded = self.network.decode(batch, self._constraints.allowed(held, batch.chars.shape[1]))
        if any(marks[i].pairs for i in index):
            decoded = balanced(self.network.crf, decoded, [marks[i] for i in index], held, self._constraints)
        tags = decoded.tags.cpu().numpy()  # (batch, width)
        mask = decoded.mask.cpu().numpy()  # (batch, width)
        rows, starts = np.nonzero(mask & self._constraints.opens[tags])  # (spans,) each, row-major: each row's spans in order
        _, ends = np.nonzero(mask & self._constraints.closes[tags])  # (spans,)
        ends = ends + 1  # (spans,) exclusive
        first = tags[rows, starts]  # (spans,) the tag each span begins with
        score = np.empty(0)  # (spans,) where scored
        if scores:
            spans = [torch.from_numpy(a).to(decoded.tags.device) for a in (rows, starts, ends)]  # (spans,) each
            score = self.network.crf.span_log_probs(decoded.emissions, decoded.mask, decoded.tags, *spans).exp().cpu().numpy()  # (spans,)
        return np.asarray(index)[rows], starts, ends, first, score
