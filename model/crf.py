"""Linear-chain CRF over BMESO tags with the scheme's forbidden transitions masked.

Masked scores are a large negative constant rather than -inf so that log-sum-exp stays finite
on padded steps; they are added in both training and Viterbi, so no invalid path is ever
decoded (its score is at least 1e4 below any valid one).
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from data.schemes import allowed, allowed_end, allowed_start

FORBIDDEN = -1e4
DENSE_TAGS = 16  # up to this many tags Viterbi scores every pair; beyond, only allowed ones


def _sparse_plan(tags: list[str]) -> dict[str, torch.Tensor] | None:
    """Index tensors that score only the allowed transitions, or None if the tag set has
    another shape. Under BMESO, a tag that opens a span (B, S, O) can follow exactly the tags
    that close one (E, S, O), and a tag that continues one (M-x, E-x) only B-x or M-x: with
    a hundred-odd POS tags that is a quarter of the pairs."""
    n = len(tags)
    sources = [[p for p in range(n) if allowed(tags[p], tags[q])] for q in range(n)]
    closers = [p for p in range(n) if allowed_end(tags[p])]
    opens = [q for q in range(n) if sources[q] == closers]
    pairs = [q for q in range(n) if q not in opens]
    if any(len(sources[q]) > 2 for q in pairs):
        return None
    pair_src = [(sources[q] + [0, 0])[:2] for q in pairs]
    return {
        "open_dst": torch.tensor(opens, dtype=torch.long),
        "close_src": torch.tensor(closers, dtype=torch.long),
        "pair_dst": torch.tensor(pairs, dtype=torch.long),
        "pair_src": torch.tensor(pair_src, dtype=torch.long).reshape(len(pairs), 2),  # (pairs, 2)
        "pair_pad": torch.tensor([[i >= len(sources[q]) for i in range(2)] for q in pairs], dtype=torch.bool).reshape(len(pairs), 2),
        "unpermute": torch.argsort(torch.tensor(opens + pairs, dtype=torch.long)),  # (n,) back to tag order
    }


class CRF(nn.Module):
    def __init__(self, tags: list[str]) -> None:
        super().__init__()
        n = len(tags)
        self.transitions = nn.Parameter(torch.zeros(n, n))  # (from, to)
        self.start = nn.Parameter(torch.zeros(n))
        self.end = nn.Parameter(torch.zeros(n))
        mask = torch.tensor([[0.0 if allowed(a, b) else FORBIDDEN for b in tags] for a in tags])
        self.register_buffer("trans_mask", mask, persistent=False)  # (n, n)
        self.register_buffer("start_mask", torch.tensor([0.0 if allowed_start(t) else FORBIDDEN for t in tags]), persistent=False)
        self.register_buffer("end_mask", torch.tensor([0.0 if allowed_end(t) else FORBIDDEN for t in tags]), persistent=False)
        plan = _sparse_plan(tags) if n > DENSE_TAGS else None
        self.sparse = plan is not None
        for key, value in (plan or {}).items():
            self.register_buffer(key, value, persistent=False)

    def _scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.transitions + self.trans_mask, self.start + self.start_mask, self.end + self.end_mask

    def log_likelihood(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Per-sentence log p(tags | emissions); emissions (batch, seq, n), tags/mask (batch, seq),
        every sentence at least one step long and left-aligned."""
        return self.path_score(emissions, tags, mask) - self.log_partition(emissions, mask)

    def path_score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(batch,) the score of each sentence's tag path: what Viterbi maximises."""
        trans, start, end = self._scores()
        maskf = mask.float()  # (batch, seq)
        emit = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (batch, seq)
        step = trans[tags[:, :-1], tags[:, 1:]]  # (batch, seq-1)
        last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)  # (batch,)
        return start[tags[:, 0]] + (emit * maskf).sum(1) + (step * maskf[:, 1:]).sum(1) + end[last]

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log Z per sentence by the forward algorithm; (batch,).

        Each step's log-sum-exp over previous tags is a matrix product in probability space
        (`_log_matmul_exp`): with a hundred-odd POS tags a (batch, n, n) broadcast per step
        would dominate training.
        """
        trans, start, end = self._scores()
        exp_trans = trans.exp()  # (n, n); forbidden transitions are exactly 0
        steps = emissions.unbind(1)  # seq x (batch, n); one unbind keeps backward linear in seq
        keep = mask.unsqueeze(2).unbind(1)  # seq x (batch, 1)
        alpha = deque(_alphas(steps, keep, exp_trans, start), maxlen=1).pop()  # (batch, n); the last alone: memory stays flat
        return torch.logsumexp(alpha + end, dim=1)  # (batch,)

    @torch.no_grad()
    def viterbi(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(batch, seq) best tag path of each sentence; steps past its end repeat its last tag.

        The forward pass keeps each step's scores, not its best previous tags: a maximum
        without its index is less than half the work, and with a hundred-odd POS tags that
        reduction is most of decoding. The trace back then finds the best previous tag of the
        path's tag only, by the same sums, in numpy on the host, where each step is a few
        thousand numbers and a torch call would cost more than the work."""
        trans, start, end = self._scores()
        best_score = self._best_score(trans)
        steps, keep = emissions.unbind(1), mask.unsqueeze(2).unbind(1)  # seq x (batch, n), seq x (batch, 1)
        score = start + steps[0]  # (batch, n)
        history = []  # the scores each step starts from
        for t in range(1, len(steps)):
            history.append(score)
            score = torch.where(keep[t], best_score(score) + steps[t], score)
        current = (score + end).argmax(1).cpu().numpy()  # (batch,) tag of each sentence's last step
        back = torch.stack(history).cpu().numpy() if history else None  # (seq-1, batch, n)
        into = self._into(trans).cpu().numpy()  # (n next, n previous)
        inside = mask.T.contiguous().cpu().numpy()  # (seq, batch)
        path = np.empty((len(steps), len(current)), dtype=np.int64)  # (seq, batch)
        path[-1] = current
        for t in range(len(steps) - 2, -1, -1):
            previous = (back[t] + np.take(into, current, axis=0)).argmax(1)  # (batch,) the first best, as torch's max takes
            current = np.where(inside[t + 1], previous, current)
            path[t] = current
        return torch.from_numpy(path.T.copy()).to(emissions.device)  # (batch, seq)

    def _into(self, trans: torch.Tensor) -> torch.Tensor:
        """(n next, n previous) transition scores the trace back compares: all of them where
        the forward pass weighs every pair, only the allowed ones where it weighs those."""
        return (trans.masked_fill(self.trans_mask < 0, float("-inf")) if self.sparse else trans).T

    def _best_score(self, trans: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """score (batch, n) -> (batch, n) best score of a path into each next tag."""
        if not self.sparse:
            return lambda score: (score.unsqueeze(2) + trans).amax(dim=1)
        opening = trans[self.close_src][:, self.open_dst].T.contiguous()  # (opens, closers): reduced along memory
        continuing = trans[self.pair_src, self.pair_dst[:, None]].masked_fill(self.pair_pad, 2 * FORBIDDEN)  # (pairs, 2)

        def step(score: torch.Tensor) -> torch.Tensor:
            best_open = (score[:, self.close_src].unsqueeze(1) + opening).amax(dim=2)  # (batch, opens)
            best_pair = (score[:, self.pair_src] + continuing).amax(dim=2)  # (batch, pairs)
            return torch.cat([best_open, best_pair], 1)[:, self.unpermute]  # (batch, n)

        return step

    @torch.no_grad()
    def span_log_probs(
        self, emissions: torch.Tensor, mask: torch.Tensor, tags: torch.Tensor, rows: torch.Tensor, starts: torch.Tensor, ends: torch.Tensor
    ) -> torch.Tensor:
        """(spans,) log P(tags[r, s:e] is the path there) for each span (rows[i], starts[i],
        ends[i]): the marginal probability of a decoded span under the CRF, by forward-backward.
        `tags` (batch, seq) holds each span's path; all spans are scored at once. In float64:
        alpha and beta grow with the sentence, and float32's rounding of them moved
        probabilities by up to 0.023."""
        trans, start, end = (scores.double() for scores in self._scores())
        emissions = emissions.double()  # (batch, seq, n)
        alpha, beta = self._forward_backward(emissions, mask, trans, start, end)  # (batch, seq, n) each
        log_z = torch.logsumexp(alpha[torch.arange(len(mask)), mask.sum(1) - 1] + end, dim=1)  # (batch,)
        step = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (batch, seq): emission of each path tag
        step[:, 1:] += trans[tags[:, :-1], tags[:, 1:]]  # and the transition into it
        path = step.cumsum(1)  # (batch, seq)
        last = ends - 1
        inside = path[rows, last] - path[rows, starts]  # (spans,) steps after the first, up to the last
        first, after = alpha[rows, starts, tags[rows, starts]], beta[rows, last, tags[rows, last]]  # (spans,) each
        return (first + inside + after - log_z[rows]).clamp(max=0.0)  # rounding must not make a probability exceed 1

    def _forward_backward(
        self, emissions: torch.Tensor, mask: torch.Tensor, trans: torch.Tensor, start: torch.Tensor, end: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """alpha[t, j]: log-sum of prefixes ending in j at t (emission at t included);
        beta[t, j]: log-sum of suffixes after j at t (end score included, emission at t not).
        Each step is a matrix product in probability space, as in `log_partition`."""
        exp_trans = trans.exp()  # (n, n); forbidden transitions are exactly 0
        steps, keep = emissions.unbind(1), mask.unsqueeze(2).unbind(1)  # seq x (batch, n), seq x (batch, 1)
        alphas = list(_alphas(steps, keep, exp_trans, start))  # seq x (batch, n)
        betas = [end.expand_as(alphas[0])]  # built backwards
        for t in range(len(steps) - 2, -1, -1):
            after = _log_matmul_exp(steps[t + 1] + betas[-1], exp_trans.T)  # (batch, n)
            betas.append(torch.where(keep[t + 1], after, end.expand_as(after)))
        return torch.stack(alphas, 1), torch.stack(betas[::-1], 1)


def _alphas(steps: Sequence[torch.Tensor], keep: Sequence[torch.Tensor], exp_trans: torch.Tensor, start: torch.Tensor) -> Iterator[torch.Tensor]:
    """(batch, n) alpha of each step, the forward algorithm's log-sum of the paths into each tag
    there; past a sentence's end (`keep` (batch, 1) false), its last. One recursion for log Z,
    which keeps only the last, and for the marginals, which keep them all."""
    alpha = start + steps[0]  # (batch, n)
    yield alpha
    for t in range(1, len(steps)):
        alpha = torch.where(keep[t], _log_matmul_exp(alpha, exp_trans) + steps[t], alpha)  # (batch, n)
        yield alpha


def _log_matmul_exp(scores: torch.Tensor, exp_trans: torch.Tensor) -> torch.Tensor:
    """(batch, n) log(exp(scores) @ exp_trans): the log-sum-exp over previous tags of every
    next tag, as a matrix product shifted by each row's maximum. Sums are floored at 1e-30
    (mass below e^-69 of the best path), which keeps forbidden-only states finite and their
    gradients zero, not NaN."""
    top = scores.max(dim=1, keepdim=True).values.detach()  # (batch, 1)
    return ((scores - top).exp() @ exp_trans).clamp_min(1e-30).log() + top  # (batch, n)
