"""Carrying a trained network over to larger vocabularies or tag sets, for fine-tuning.

Rows are copied by token (character, bigram, tag), so a parent's knowledge survives however
the new corpus reorders or extends the vocabularies; new rows keep their fresh initialisation.
"""
from __future__ import annotations

import torch

from data.vocab import Vocab
from model.network import BiLSTMCRF


def _shared_rows(old: list[str], new: Vocab) -> tuple[torch.Tensor, torch.Tensor]:
    pairs = [(i, new.index[tok]) for i, tok in enumerate(old) if tok in new.index]
    src, dst = zip(*pairs) if pairs else ((), ())
    return torch.tensor(src, dtype=torch.long), torch.tensor(dst, dtype=torch.long)


@torch.no_grad()
def transfer(old: BiLSTMCRF, old_chars: Vocab, old_bigrams: Vocab, new: BiLSTMCRF, chars: Vocab, bigrams: Vocab) -> None:
    """Copy every weight of `old` that has a place in `new`."""
    src, dst = _shared_rows(old_chars.tokens, chars)
    new.char_embed.weight[dst] = old.char_embed.weight[src]
    src, dst = _shared_rows(old_bigrams.tokens, bigrams)
    new.bigram_embed.weight[dst] = old.bigram_embed.weight[src]
    new.lstm.load_state_dict(old.lstm.state_dict())
    if old.config.word_dim:  # the same config, so the same table
        new.word_vectors.copy_(old.word_vectors)
        new.word_weights.copy_(old.word_weights)
    src, dst = _shared_rows(old.config.tags, Vocab.from_list(new.config.tags))
    new.emit.weight[dst] = old.emit.weight[src]
    new.emit.bias[dst] = old.emit.bias[src]
    new.crf.start[dst] = old.crf.start[src]
    new.crf.end[dst] = old.crf.end[src]
    new.crf.transitions[dst.unsqueeze(1), dst.unsqueeze(0)] = old.crf.transitions[src.unsqueeze(1), src.unsqueeze(0)]
