"""The one tagger behind the CLI, the HTTP API and the Python API.

It owns the network with its vocabularies and lexicon, turns any text into model-sized pieces
(`data.text.split_text`), tags them in length-sorted batches, and maps spans back to offsets
in the exact input string.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from data.batches import Encoder, Features, collate, length_batches
from data.corpus import Span
from data.errors import CheckpointError
from data.lexicon import Lexicon, jieba_lexicon
from data.schemes import split_tag, tags_to_spans
from data.text import split_text
from data.vocab import Vocab
from model.config import ModelConfig
from model.network import BiLSTMCRF, Decoded
from model.store import Checkpoint, Store

WEIGHTS, CONFIG, VOCAB = "weights.safetensors", "config.json", "vocab.json"


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


class Tagger:
    def __init__(
        self,
        network: BiLSTMCRF,
        chars: Vocab,
        bigrams: Vocab,
        train_words: set[str],
        ref: str | None = None,
    ) -> None:
        self.network = network.eval()
        self.config: ModelConfig = network.config
        self.chars, self.bigrams, self.train_words, self.ref = chars, bigrams, train_words, ref
        self.encoder = Encoder(chars, bigrams, jieba_lexicon() if self.config.lexicon else None)
        prefixes = [split_tag(tag)[0] for tag in self.config.tags]
        self._word_tags = {p: torch.tensor([q == p for q in prefixes]) for p in "BME"}  # (tags,) each

    @classmethod
    def load(cls, ref: str, store: Store | None = None, device: str = "cpu") -> "Tagger":
        return cls.from_checkpoint((store or Store()).resolve(ref), device)

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint, device: str = "cpu") -> "Tagger":
        files = {name: checkpoint.read_bytes(name) for name in (WEIGHTS, CONFIG, VOCAB)}
        return cls.from_files(files, checkpoint.ref, device)

    @classmethod
    def from_files(cls, files: Mapping[str, bytes], ref: str | None = None, device: str = "cpu") -> "Tagger":
        """Rebuild from the files that `files()` wrote; nothing in them is executed."""
        try:
            config = ModelConfig.from_dict(json.loads(files[CONFIG]))
            vocab = json.loads(files[VOCAB])
            network = BiLSTMCRF(config)
            network.load_state_dict(load_tensors(files[WEIGHTS]))
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            raise CheckpointError(f"{ref or 'checkpoint'} cannot be rebuilt: {err}") from None
        network.to(pick_device(device))
        return cls(network, Vocab.from_list(vocab["chars"]), Vocab.from_list(vocab["bigrams"]), set(vocab["words"]), ref)

    def files(self, metrics: dict | None = None) -> dict[str, bytes]:
        """The checkpoint files that rebuild this tagger (see `from_checkpoint`)."""
        state = {k: v.detach().cpu().contiguous() for k, v in self.network.state_dict().items()}
        vocab = {"chars": self.chars.tokens, "bigrams": self.bigrams.tokens, "words": sorted(self.train_words)}
        as_json = lambda obj: json.dumps(obj, ensure_ascii=False, indent=1).encode()  # noqa: E731
        return {
            WEIGHTS: save_tensors(state),
            CONFIG: as_json(self.config.to_dict()),
            VOCAB: as_json(vocab),
            "metrics.json": as_json(metrics or {}),
        }

    def tag(self, texts: Sequence[str], user_words: Lexicon | None = None, batch_chars: int = 6000) -> list[list[Span]]:
        """Spans of each text, offsets into that exact text: words for cws/pos (labelled with
        their POS tag for pos), entities for ner. Whitespace is never inside a span.
        `user_words` (a user dictionary) add to the lexicon features."""
        return self.tag_each(texts, [user_words] * len(texts), batch_chars)

    def tag_each(self, texts: Sequence[str], user_words: Sequence[Lexicon | None], batch_chars: int = 6000) -> list[list[Span]]:
        """`tag` with a user dictionary per text, so requests that bring different
        dictionaries can still share one batch."""
        pieces = [
            (i, offset, piece)
            for i, text in enumerate(texts)
            for offset, piece in split_text(text, self.config.max_len)
        ]
        encoded = [self.encoder.encode(piece, user_words[i]) for i, _, piece in pieces]
        forced = [self._forced(piece, user_words[i]) for i, _, piece in pieces]
        found = self._predict(encoded, [offset for _, offset, _ in pieces], forced, batch_chars)
        results: list[list[Span]] = [[] for _ in texts]
        for (i, _, _), spans in zip(pieces, found):
            results[i].extend(spans)
        return results

    def _forced(self, piece: str, user_words: Lexicon | None) -> list[tuple[int, int]]:
        """Words a `force` dictionary keeps whole in `piece` (segmentation tasks only)."""
        if user_words is None or not user_words.force or self.config.task == "ner":
            return []
        return user_words.forced(piece)

    def _allowed(self, forced: Sequence[list[tuple[int, int]]], width: int) -> torch.Tensor | None:
        """(batch, width, tags) tags each position may take so that every forced word is one
        word: B at its start, M inside, E at its end (the CRF's transitions do the rest)."""
        if not any(forced):
            return None
        allowed = torch.ones(len(forced), width, len(self.config.tags), dtype=torch.bool)  # (batch, width, tags)
        for row, words in enumerate(forced):
            for start, end in words:
                allowed[row, start] = self._word_tags["B"]
                allowed[row, start + 1 : end - 1] = self._word_tags["M"]
                allowed[row, end - 1] = self._word_tags["E"]
        return allowed

    def _predict(
        self, encoded: Sequence[Features], offsets: Sequence[int], forced: Sequence[list[tuple[int, int]]], batch_chars: int
    ) -> list[list[Span]]:
        """Spans of encoded pieces, shifted by each piece's offset in its text, computed in
        length-sorted batches; entities carry their marginal probability under the CRF."""
        device = next(self.network.parameters()).device
        tag_names = self.config.tags
        out: list[list[Span]] = [[] for _ in encoded]
        for index in length_batches([len(f.chars) for f in encoded], batch_chars):
            batch = collate([encoded[i] for i in index]).to(device)
            decoded = self.network.decode(batch, self._allowed([forced[i] for i in index], batch.chars.shape[1]))
            spans = [tags_to_spans([tag_names[t] for t in path], offsets[i]) for i, path in zip(index, decoded.paths)]
            if self.config.task == "ner":
                spans = self._with_scores(decoded, spans, [offsets[i] for i in index])
            for i, piece_spans in zip(index, spans):
                out[i] = piece_spans
        return out

    def _with_scores(self, decoded: Decoded, spans: list[list[Span]], offsets: list[int]) -> list[list[Span]]:
        wanted = [
            [(s.start - offset, path[s.start - offset : s.end - offset]) for s in row]
            for row, path, offset in zip(spans, decoded.paths, offsets)
        ]
        log_probs = self.network.crf.span_log_probs(decoded.emissions, decoded.mask, wanted)
        return [
            [Span(s.start, s.end, s.label, round(math.exp(lp), 4)) for s, lp in zip(row, scores)]
            for row, scores in zip(spans, log_probs)
        ]
