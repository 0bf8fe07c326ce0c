"""Bracket mending: an entity model's best path with an entity that holds one half of a
bracket pair (`熊焱）` of （记者熊焱）) is decoded again with the pair
held outside every entity or inside one. Only the CRF runs again: the emissions do not depend
on what is held.
"""
from __future__ import annotations

import numpy as np

from data.brackets import Brackets
from data.schemes import OUTSIDE
from model.constraints import INSIDE, SpanConstraints, clash
from model.crf import CRF, FORBIDDEN
from model.network import Decoded

BALANCE_ROUNDS = 8  # broken bracket pairs an entity model mends in a piece, one a round


def balanced(crf: CRF, decoded: Decoded, marks: list[Brackets], held: list[list[tuple[int, int, str]]], constraints: SpanConstraints) -> Decoded:
    """`decoded` with no entity holding one half of a bracket pair (`data.brackets`; a
    lone bracket is held outside every entity from the start, `SpanConstraints.forced`): a piece whose
    best path has one takes the better-scoring of the best paths that hold that pair
    outside every entity or inside one, then mends the next, up to BALANCE_ROUNDS."""
    inside = decoded.mask.cpu().numpy()  # (batch, width)
    tagged = inside & constraints.opens[decoded.tags.cpu().numpy()]  # (batch, width) where entities begin
    found = {row: marks[row] for row in np.flatnonzero(tagged.any(1)).tolist() if marks[row].pairs}
    tags, emissions, kept = decoded.tags.clone(), decoded.emissions.clone(), {row: held[row] for row in found}
    for _ in range(BALANCE_ROUNDS):
        path = tags.cpu().numpy()  # (batch, width)
        trials = [(row, kept[row] + option) for row, marks in found.items() for option in _mends(path[row], inside[row], marks, kept[row], constraints)]
        if not trials:
            break
        rows = [row for row, _ in trials]
        tried = decoded.emissions[rows].masked_fill(~constraints.allowed([spans for _, spans in trials], tags.shape[1]).to(tags.device), FORBIDDEN)
        paths = crf.viterbi(tried, decoded.mask[rows])  # (trials, width)
        score = crf.path_score(tried, paths, decoded.mask[rows]).tolist()  # (trials,)
        for row in dict.fromkeys(rows):
            best = max((k for k, r in enumerate(rows) if r == row), key=score.__getitem__)
            tags[row], emissions[row], kept[row] = paths[best], tried[best], trials[best][1]
    return Decoded(emissions, decoded.mask, tags)


def _mends(
    tags: np.ndarray, inside: np.ndarray, marks: Brackets, held: list[tuple[int, int, str]], constraints: SpanConstraints
) -> list[list[tuple[int, int, str]]]:
    """The ways to mend the first entity of a piece's path (tags and mask, (width,)) that
    breaks a bracket pair and can be mended without undoing a span already `held` (a force
    dictionary's word, an address, an earlier mend): the pair outside every entity, or
    inside one; none if no entity can."""
    starts, ends = np.flatnonzero(inside & constraints.opens[tags]), np.flatnonzero(inside & constraints.closes[tags]) + 1
    for opening, closing in filter(None, (marks.broken_by(s, e) for s, e in zip(starts.tolist(), ends.tolist()))):
        options = [[(opening, opening + 1, OUTSIDE), (closing, closing + 1, OUTSIDE)], [(opening, closing + 1, INSIDE)]]
        feasible = [option for option in options if not any(clash(span, other) for span in option for other in held)]
        if feasible:
            return feasible
    return []
