"""The Bi-LSTM-CRF: character, bigram and lexicon features -> dropout -> bidirectional LSTM
over packed sequences -> linear emissions -> CRF. `ModelConfig` alone rebuilds it."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from data.batches import Batch, flag_width
from model.config import ModelConfig
from model.crf import CRF, FORBIDDEN


@dataclass(frozen=True)
class Decoded:
    emissions: torch.Tensor  # (batch, seq, tags)
    mask: torch.Tensor  # (batch, seq) bool
    tags: torch.Tensor  # (batch, seq) best tag ids; past a sentence's end, its last tag


class BiLSTMCRF(nn.Module):
    def __init__(self, config: ModelConfig, initialise_embeddings: bool = True) -> None:
        """Without `initialise_embeddings`, the embedding tables are left as allocated, for
        weights about to be loaded: drawing their 5.6M normals took 32 ms of every `cws` load."""
        super().__init__()
        self.config = config

        def table(rows: int, dim: int) -> nn.Embedding:
            return nn.Embedding(rows, dim, padding_idx=0, _weight=None if initialise_embeddings else torch.empty(rows, dim))

        self.char_embed = table(config.char_vocab_size, config.char_dim)
        self.bigram_embed = table(config.bigram_vocab_size, config.bigram_dim)
        flags = flag_width(config.user_flags, len(config.gazetteers), config.word_dim) if config.lexicon else 0
        if config.word_dim:  # read by the tagger's encoder, not trained: stored here so the checkpoint holds them
            self.register_buffer("word_vectors", torch.zeros(config.word_vocab_size, config.word_dim))  # (words, word_dim)
            self.register_buffer("word_weights", torch.zeros(config.word_vocab_size))  # (words,)
        width = config.char_dim + 2 * config.bigram_dim + flags
        self.dropout = nn.Dropout(config.dropout)
        between = config.dropout if config.layers > 1 else 0.0  # on each layer's outputs but the last, which `dropout` covers
        self.lstm = nn.LSTM(width, config.hidden, num_layers=config.layers, bidirectional=True, dropout=between)  # time-major: no transposes inside
        self.emit = nn.Linear(2 * config.hidden, len(config.tags))
        self.crf = CRF(config.tags)
        self._tagging_tables: tuple[torch.Tensor, torch.Tensor] | None = None  # embedding tables in tagging_dtype; see `tag_in`
        self._tagging_weights: dict[str, list[torch.Tensor]] = {}  # each direction's LSTM weights in tagging_dtype, by suffix

    @property
    def tagging_dtype(self) -> torch.dtype:
        """The LSTM's dtype when tagging on the CPU: its table copies' dtype, else float32."""
        return torch.float32 if self._tagging_tables is None else self._tagging_tables[0].dtype

    def tag_in(self, dtype: torch.dtype) -> None:
        """Tag on the CPU in `dtype` (see model.device.cpu_precision), with copies of the
        embedding tables in it: inputs are then gathered in that dtype rather than cast, a
        pass over the widest tensor saved. The LSTM's weights are copied in it too, once, not
        cast and padded at every call: 12 of the 18 torch calls a short text cost apart from
        the LSTM's own. Until the network trains again (`train`)."""
        if dtype == torch.float32:
            self._tagging_tables, self._tagging_weights = None, {}
            return
        self._tagging_tables = (self.char_embed.weight.detach().to(dtype), self.bigram_embed.weight.detach().to(dtype))
        suffixes = [f"l{layer}{reverse}" for layer in range(self.config.layers) for reverse in ("", "_reverse")]
        self._tagging_weights = {suffix: self._direction_weights(suffix, dtype) for suffix in suffixes}

    def _direction_weights(self, suffix: str, dtype: torch.dtype) -> list[torch.Tensor]:
        """One direction's weights for torch.lstm in `dtype`; the first layer's input weights
        padded with zero columns to `tagging_width`, as its inputs are."""
        weights = [getattr(self.lstm, f"{name}_{suffix}").detach().to(dtype) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        if suffix.startswith("l0"):
            weights[0] = nn.functional.pad(weights[0], (0, self.tagging_width - weights[0].shape[1]))  # (4*hidden, tagging_width)
        return weights

    def train(self, mode: bool = True) -> "BiLSTMCRF":
        """Training drops back to float32 tagging: the table copies would go stale."""
        if mode:
            self.tag_in(torch.float32)
        return super().train(mode)

    def emissions(self, batch: Batch) -> torch.Tensor:
        """(batch, seq, tags) emission scores, computed time-major as torch's LSTM runs.

        Tagging on the CPU in bfloat16 runs each direction on its own (`_by_direction`).
        Otherwise, in training too, sentences of unequal length are packed so the backward
        direction starts at each one's real end. The ids are packed, not the embedded features: padding is never
        embedded and the wide features are copied once. A batch of one length needs no packing
        (on CPU, backward through packed input is quadratic), and one already longest first
        (as the tagger sends them) needs no reordering."""
        ids = (batch.chars.T, batch.bigrams.transpose(0, 1), batch.lexicon.transpose(0, 1))  # (seq, batch, ...) each
        lengths, steps = batch.lengths, ids[0].shape[0]
        if not self.training and self.tagging_dtype != torch.float32:
            states = self._by_direction(ids, lengths)  # (seq, batch, 2*hidden)
        elif bool((lengths == steps).all()):
            states = self.lstm(self._inputs(*ids))[0]  # (seq, batch, 2*hidden)
        else:
            longest_first = bool((lengths[:-1] >= lengths[1:]).all())
            packed = [pack_padded_sequence(t, lengths, enforce_sorted=longest_first) for t in ids]  # data (chars, ...) each
            inputs = packed[0]._replace(data=self._inputs(*(p.data for p in packed)))  # data (chars, width)
            states = pad_packed_sequence(self.lstm(inputs)[0], total_length=steps)[0]  # (seq, batch, 2*hidden)
        return self.emit(self.dropout(states)).transpose(0, 1)  # (batch, seq, tags)

    def _by_direction(self, ids: tuple[torch.Tensor, ...], lengths: torch.Tensor) -> torch.Tensor:
        """(seq, batch, 2*hidden) float32 states of padded ids (seq, batch, ...), each direction
        run as its own call of torch's LSTM in `tagging_dtype` (bfloat16). On the CPU that is
        oneDNN's unidirectional kernel, which projects every step's input in one matmul and
        runs bfloat16 about twice as fast as float32, while its bidirectional kernel did not
        (docs/EXPERIMENTS.md). The backward direction reads each row reversed within its own
        length, so padding never reaches a real position, and its states are put back in
        reading order. Empty rows pad the batch to a multiple of 16 and zero columns the inputs
        to a multiple of 8: at many other row counts (51, 53, 57, ...) and at odd widths
        oneDNN's bfloat16 LSTM ran 2-4x slower."""
        rows = lengths.shape[0]
        extra = -rows % 16
        ids = tuple(nn.functional.pad(t, (0, 0) * (t.dim() - 2) + (0, extra)) for t in ids)  # (seq, batch+extra, ...) each
        lengths = nn.functional.pad(lengths, (0, extra))  # (batch+extra,)
        inputs = self._inputs(*ids, zero_columns=self.tagging_width - self.lstm.input_size, tables=self._tagging_tables)  # (seq, batch+extra, width+)
        steps, padded_rows = inputs.shape[:2]
        step = torch.arange(steps)[:, None]  # (seq, 1)
        flip = (torch.where(step < lengths, lengths - 1 - step, step) * padded_rows + torch.arange(padded_rows)).flatten()  # (seq*rows,)
        reverse = lambda x: x.flatten(0, 1).index_select(0, flip).view(steps, padded_rows, -1)  # noqa: E731
        for layer in range(self.config.layers):
            forward = self._direction(inputs, f"l{layer}")  # (seq, rows, hidden)
            backward = reverse(self._direction(reverse(inputs), f"l{layer}_reverse"))  # (seq, rows, hidden)
            inputs = torch.cat([forward, backward], dim=-1)  # (seq, rows, 2*hidden)
        return inputs[:, :rows].float()  # (seq, batch, 2*hidden)

    @property
    def tagging_width(self) -> int:
        """LSTM input columns when tagging by direction: the input padded to a multiple of 8."""
        return self.lstm.input_size + (-self.lstm.input_size % 8)

    def _direction(self, inputs: torch.Tensor, suffix: str) -> torch.Tensor:
        """(seq, batch, hidden) states of one direction of one layer, read front to back: with
        the copies `tag_in` made, or (the bench timing the LSTM alone in float32) made now."""
        weights = self._tagging_weights.get(suffix) or self._direction_weights(suffix, inputs.dtype)
        zeros = inputs.new_zeros(1, inputs.shape[1], self.config.hidden)  # (1, batch, hidden)
        return torch.lstm(inputs, (zeros, zeros), weights, True, 1, 0.0, False, False, False)[0]

    def _inputs(
        self, chars: torch.Tensor, bigrams: torch.Tensor, lexicon: torch.Tensor, zero_columns: int = 0, tables: tuple[torch.Tensor, ...] | None = None
    ) -> torch.Tensor:
        """(..., width + zero_columns) LSTM inputs of ids shaped (...), (..., 2) and lexicon
        flags (..., flags), then `zero_columns` zeros; from `tables` (character, bigram) and in
        their dtype if given, else from the trained embeddings."""
        if tables is None:
            parts = [self.char_embed(chars), self.bigram_embed(bigrams).flatten(-2)]  # (..., char_dim), (..., 2*bigram_dim)
        else:
            parts = [nn.functional.embedding(chars, tables[0]), nn.functional.embedding(bigrams, tables[1]).flatten(-2)]
        if self.config.lexicon:
            parts.append(lexicon.to(parts[0].dtype))
        if zero_columns:
            parts.append(parts[0].new_zeros(*chars.shape, zero_columns))  # (..., zero_columns)
        return self.dropout(torch.cat(parts, dim=-1))  # (..., width)

    def forward(self, batch: Batch) -> torch.Tensor:
        """The training loss, mean negative log-likelihood per character. It is `forward` so
        that DistributedDataParallel, which hooks the module's call, can wrap the network."""
        mask = batch.mask.to(batch.chars.device)  # (batch, seq)
        nll = -self.crf.log_likelihood(self.emissions(batch), batch.tags, mask)  # (batch,)
        return nll.sum() / mask.sum()

    @torch.no_grad()
    def decode(self, batch: Batch, allowed: torch.Tensor | None = None) -> Decoded:
        """Best tag paths, with the emissions and mask they came from (for span scores).
        `allowed` (batch, seq, tags) bool constrains the path: a tag it forbids at a position
        scores FORBIDDEN there, so Viterbi takes it only if nothing else is possible."""
        device = batch.chars.device
        mask = batch.mask.to(device)  # (batch, seq)
        with torch.autocast(device.type, enabled=device.type == "cuda"):  # half-precision LSTM on a GPU
            emissions = self.emissions(batch).float()  # (batch, seq, tags); the CRF scores in float32
        if allowed is not None:
            emissions = emissions.masked_fill(~allowed.to(device), FORBIDDEN)  # (batch, seq, tags)
        return Decoded(emissions, mask, self.crf.viterbi(emissions, mask))


def check_weights(config: ModelConfig, tensors: dict[str, torch.Tensor], may_be_half: tuple[str, ...] = ()) -> None:
    """Refuse weights that disagree with `config` before the network is built: a forged
    config.json could otherwise make it allocate any amount of memory, while the weights'
    sizes are bounded by their file. `load_state_dict` checks the rest, shape by shape. A
    NaN or infinity anywhere is refused too: it would fail every tagging call instead.
    Tensors named in `may_be_half` may be float16 (they are widened on loading)."""
    expected = {
        "char_embed.weight": (config.char_vocab_size, config.char_dim),
        "bigram_embed.weight": (config.bigram_vocab_size, config.bigram_dim),
        f"lstm.weight_hh_l{config.layers - 1}": (4 * config.hidden, config.hidden),
        "emit.weight": (len(config.tags), 2 * config.hidden),
    } | ({"word_vectors": (config.word_vocab_size, config.word_dim)} if config.word_dim else {})
    for name, shape in expected.items():
        found = tuple(tensors[name].shape) if name in tensors else None
        if found != shape:
            raise ValueError(f"config.json needs {name} of shape {shape}, the weights hold {found}")
    allowed = lambda name: (torch.float32, torch.float16) if name in may_be_half else (torch.float32,)  # noqa: E731
    wrong = sorted(name for name, tensor in tensors.items() if tensor.dtype not in allowed(name))
    if wrong:
        raise ValueError(f"weights must be float32 (embeddings may be float16), these are not: {', '.join(wrong)}")
    broken = sorted(name for name, tensor in tensors.items() if not tensor.sum(dtype=torch.float64).isfinite())  # one pass: no float32 sum overflows float64
    if broken:
        raise ValueError(f"weights hold NaN or infinite values (a diverged training?): {', '.join(broken)}")
