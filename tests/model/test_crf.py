"""Specification of the linear-chain CRF (model/crf.py), checked against brute force over every
tag path: the forward algorithm, Viterbi and the likelihood must agree with enumeration, padded
steps must change nothing, and no decoded path may break the BMESO order."""
from __future__ import annotations

import itertools

import pytest
import torch

from data.schemes import first_invalid, tag_set
from model.crf import CRF, DENSE_TAGS, FORBIDDEN

SEG_TAGS = ["B", "M", "E", "S"]
ENTITY_TAGS = ["O", "B-PER", "M-PER", "E-PER", "S-PER", "S-LOC"]
TAG_SETS = pytest.mark.parametrize("tags", [SEG_TAGS, ENTITY_TAGS], ids=["seg", "entity"])


def best_paths(crf: CRF, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
    """Viterbi's paths, each cut to its sentence's length."""
    return [row[:n] for row, n in zip(crf.viterbi(emissions, mask).tolist(), mask.sum(1).tolist())]


def random_crf(tags: list[str], seed: int) -> CRF:
    """A CRF with random (unmasked) parameters, in float64 so comparisons can be tight."""
    torch.manual_seed(seed)
    crf = CRF(tags).double()
    with torch.no_grad():
        for parameter in (crf.transitions, crf.start, crf.end):
            parameter.normal_(0.0, 1.0)
    return crf


def path_score(crf: CRF, emissions: torch.Tensor, path: tuple[int, ...]) -> float:
    """Score of one path of one sentence, with the same masked matrices the CRF uses."""
    trans, start, end = (t.detach() for t in crf._scores())
    score = start[path[0]] + end[path[-1]]
    score = score + sum(emissions[t, tag] for t, tag in enumerate(path))
    score = score + sum(trans[a, b] for a, b in itertools.pairwise(path))
    return float(score)


def all_paths(n_tags: int, length: int) -> list[tuple[int, ...]]:
    return list(itertools.product(range(n_tags), repeat=length))


def brute_log_z(crf: CRF, emissions: torch.Tensor) -> float:
    paths = all_paths(emissions.shape[1], emissions.shape[0])
    scores = torch.tensor([path_score(crf, emissions, p) for p in paths], dtype=torch.float64)
    return float(torch.logsumexp(scores, 0))


def brute_best(crf: CRF, emissions: torch.Tensor) -> list[int]:
    paths = all_paths(emissions.shape[1], emissions.shape[0])
    return list(max(paths, key=lambda p: path_score(crf, emissions, p)))


def padded_batch(lengths: list[int], n_tags: int, seed: int, scale: float = 2.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random emissions (padding included, so that it must be ignored) and the mask."""
    generator = torch.Generator().manual_seed(seed)
    emissions = scale * torch.randn(len(lengths), max(lengths), n_tags, generator=generator, dtype=torch.float64)
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    return emissions, mask


@TAG_SETS
@pytest.mark.parametrize("length", [1, 2, 3, 4])
def test_log_partition_equals_log_sum_exp_over_every_path(tags: list[str], length: int) -> None:
    crf = random_crf(tags, seed=length)
    emissions, mask = padded_batch([length], len(tags), seed=10 + length)
    expected = brute_log_z(crf, emissions[0])
    assert crf.log_partition(emissions, mask).item() == pytest.approx(expected, abs=1e-9)


@TAG_SETS
def test_log_partition_of_a_padded_batch_ignores_the_padding(tags: list[str]) -> None:
    lengths = [4, 1, 3, 2]
    crf = random_crf(tags, seed=1)
    emissions, mask = padded_batch(lengths, len(tags), seed=2)
    log_z = crf.log_partition(emissions, mask)
    for row, n in enumerate(lengths):
        assert log_z[row].item() == pytest.approx(brute_log_z(crf, emissions[row, :n]), abs=1e-9), f"row {row}"


@TAG_SETS
def test_forbidden_paths_add_nothing_to_the_partition(tags: list[str]) -> None:
    """Z over every path equals Z over the paths the scheme allows, to float precision."""
    crf = random_crf(tags, seed=3)
    emissions, mask = padded_batch([3], len(tags), seed=4)
    names = lambda p: [tags[i] for i in p]  # noqa: E731
    valid = [p for p in all_paths(len(tags), 3) if first_invalid(names(p)) is None]
    assert 0 < len(valid) < len(tags) ** 3
    valid_z = float(torch.logsumexp(torch.tensor([path_score(crf, emissions[0], p) for p in valid], dtype=torch.float64), 0))
    assert crf.log_partition(emissions, mask).item() == pytest.approx(valid_z, abs=1e-6)


@TAG_SETS
@pytest.mark.parametrize("length", [1, 2, 3, 4])
def test_viterbi_finds_the_highest_scoring_path(tags: list[str], length: int) -> None:
    crf = random_crf(tags, seed=20 + length)
    emissions, mask = padded_batch([length], len(tags), seed=30 + length)
    assert best_paths(crf, emissions, mask) == [brute_best(crf, emissions[0])]


@TAG_SETS
def test_viterbi_on_a_padded_batch_decodes_each_sentence_as_if_alone(tags: list[str]) -> None:
    lengths = [2, 4, 1, 3]
    crf = random_crf(tags, seed=5)
    emissions, mask = padded_batch(lengths, len(tags), seed=6)
    paths = best_paths(crf, emissions, mask)
    assert [len(p) for p in paths] == lengths
    for row, n in enumerate(lengths):
        assert paths[row] == brute_best(crf, emissions[row, :n]), f"row {row}"
        assert paths[row] == best_paths(crf, emissions[row : row + 1, :n], mask[row : row + 1, :n])[0]


@TAG_SETS
def test_log_likelihood_is_path_score_minus_log_partition(tags: list[str]) -> None:
    lengths = [3, 1, 4, 2]
    crf = random_crf(tags, seed=7)
    emissions, mask = padded_batch(lengths, len(tags), seed=8)
    generator = torch.Generator().manual_seed(9)
    gold = torch.randint(len(tags), (len(lengths), max(lengths)), generator=generator)  # padding tags too
    log_likelihood = crf.log_likelihood(emissions, gold, mask)
    for row, n in enumerate(lengths):
        path = tuple(gold[row, :n].tolist())
        expected = path_score(crf, emissions[row, :n], path) - brute_log_z(crf, emissions[row, :n])
        assert log_likelihood[row].item() == pytest.approx(expected, abs=1e-9), f"row {row}"


def test_likelihoods_of_every_path_sum_to_one() -> None:
    crf = random_crf(ENTITY_TAGS, seed=11)
    emissions, mask = padded_batch([3], len(ENTITY_TAGS), seed=12)
    paths = torch.tensor(all_paths(len(ENTITY_TAGS), 3))
    batch = emissions.expand(len(paths), -1, -1)
    total = torch.logsumexp(crf.log_likelihood(batch, paths, mask.expand(len(paths), -1)), 0)
    assert total.item() == pytest.approx(0.0, abs=1e-9)


def test_log_likelihood_has_gradients_for_every_parameter() -> None:
    crf = CRF(SEG_TAGS)
    emissions = torch.randn(2, 3, 4, requires_grad=True)
    mask = torch.tensor([[True, True, True], [True, True, False]])
    gold = torch.tensor([[0, 2, 3], [3, 3, 0]])
    crf.log_likelihood(emissions, gold, mask).sum().backward()
    for parameter in (emissions, crf.transitions, crf.start, crf.end):
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all()


def test_masks_are_not_parameters_nor_saved_state() -> None:
    """Checkpoints hold the learnt scores only; masks are rebuilt from the tag list."""
    crf = CRF(SEG_TAGS)
    assert set(crf.state_dict()) == {"transitions", "start", "end"}
    assert crf.trans_mask[SEG_TAGS.index("B"), SEG_TAGS.index("S")] == FORBIDDEN
    assert crf.trans_mask[SEG_TAGS.index("B"), SEG_TAGS.index("E")] == 0


@pytest.mark.parametrize(
    ("tags", "step", "favoured"),
    [
        (SEG_TAGS, 0, "M"),  # cannot start a sentence
        (SEG_TAGS, 0, "E"),
        (SEG_TAGS, 3, "B"),  # cannot end one
        (ENTITY_TAGS, 0, "M-PER"),
        (ENTITY_TAGS, 2, "M-PER"),  # only valid between B-PER and E-PER
        (ENTITY_TAGS, 3, "B-PER"),
    ],
)
def test_viterbi_never_decodes_a_forbidden_transition_however_strong_the_emission(
    tags: list[str], step: int, favoured: str
) -> None:
    emissions = torch.zeros(1, 4, len(tags))
    emissions[0, :, tags.index("S-LOC" if "S-LOC" in tags else "S")] = 5.0
    emissions[0, step, tags.index(favoured)] = 1000.0
    crf = CRF(tags)
    path = [tags[i] for i in best_paths(crf, emissions, torch.ones(1, 4, dtype=torch.bool))[0]]
    assert first_invalid(path) is None, path


@TAG_SETS
def test_viterbi_output_is_always_a_valid_bmeso_sequence(tags: list[str]) -> None:
    """Large random emissions and transitions, mixed lengths: every decoded path is valid."""
    crf = random_crf(tags, seed=13)
    with torch.no_grad():
        crf.transitions.mul_(20)
    lengths = [1, 2, 3, 5, 8, 13]
    for seed in range(20):
        emissions, mask = padded_batch(lengths, len(tags), seed=100 + seed, scale=200.0)
        for path in best_paths(crf, emissions, mask):
            names = [tags[i] for i in path]
            assert first_invalid(names) is None, names


def test_span_marginals_equal_brute_force_path_sums() -> None:
    torch.manual_seed(3)
    tags = ["O", "B-PER", "M-PER", "E-PER", "S-PER", "S-LOC"]
    crf = CRF(tags)
    for p in crf.parameters():
        torch.nn.init.normal_(p)
    emissions = torch.randn(2, 4, len(tags))
    mask = torch.tensor([[True, True, True, True], [True, True, True, False]])
    trans, start, end = crf._scores()
    spans = [[(1, [1, 3]), (0, [0])], [(0, [1, 2, 3]), (2, [5])]]

    def scored(b: int, s: int, path: list[int]) -> float:
        tags_of = torch.zeros(2, 4, dtype=torch.long)
        tags_of[b, s : s + len(path)] = torch.tensor(path)
        one = lambda v: torch.tensor([v])  # noqa: E731
        return float(crf.span_log_probs(emissions, mask, tags_of, one(b), one(s), one(s + len(path)))[0])

    got = [[scored(b, s, path) for s, path in sentence] for b, sentence in enumerate(spans)]
    for b, sentence in enumerate(spans):
        n = int(mask[b].sum())
        paths = list(itertools.product(range(len(tags)), repeat=n))
        scores = torch.stack([
            start[p[0]] + sum(emissions[b, t, p[t]] for t in range(n)) + sum(trans[p[t - 1], p[t]] for t in range(1, n)) + end[p[-1]]
            for p in paths
        ])
        log_z = torch.logsumexp(scores, 0)
        for (s, path), value in zip(sentence, got[b]):
            hits = [i for i, p in enumerate(paths) if list(p[s : s + len(path)]) == path]
            expected = torch.logsumexp(scores[hits], 0) - log_z
            assert value == pytest.approx(expected.item(), abs=1e-4)


MANY_TAGS = tag_set([f"L{i}" for i in range(6)], outside=True)  # 25 tags: Viterbi scores only allowed pairs


def test_many_tags_take_the_sparse_viterbi_and_it_finds_the_dense_one_s_paths() -> None:
    crf = random_crf(MANY_TAGS, seed=41)
    assert len(MANY_TAGS) > DENSE_TAGS and crf.sparse
    with torch.no_grad():
        crf.transitions.mul_(5)
    dense = random_crf(MANY_TAGS, seed=41)
    dense.load_state_dict(crf.state_dict())
    dense.sparse = False
    for seed in range(10):
        emissions, mask = padded_batch([1, 2, 5, 9, 3], len(MANY_TAGS), seed=200 + seed, scale=5.0)
        paths = best_paths(crf, emissions, mask)
        assert paths == best_paths(dense, emissions, mask)
        assert all(first_invalid([MANY_TAGS[i] for i in path]) is None for path in paths)


def test_a_tag_set_of_another_shape_keeps_the_dense_viterbi() -> None:
    odd = MANY_TAGS + ["X-ODD"]  # a prefix outside BMESO: it may precede an opening tag without closing a span
    assert not CRF(odd).sparse
    crf = random_crf(odd, seed=3)
    emissions, mask = padded_batch([4, 2], len(odd), seed=5)
    assert all(first_invalid([odd[i] for i in path]) is None for path in best_paths(crf, emissions, mask))


def test_span_marginals_of_a_long_float32_sentence_are_as_exact_as_in_float64() -> None:
    """A network emits float32; over 150 steps of large scores float32's rounding of the
    forward and backward sums moved probabilities in the third decimal."""
    torch.manual_seed(4)
    crf = CRF(ENTITY_TAGS)
    for p in crf.parameters():
        torch.nn.init.normal_(p)
    emissions = 8 * torch.randn(3, 150, len(ENTITY_TAGS))  # (batch, seq, n) float32
    mask = torch.ones(3, 150, dtype=torch.bool)
    tags = crf.viterbi(emissions, mask)
    rows, starts = torch.arange(3).repeat_interleave(30), torch.arange(0, 150, 5).repeat(3)
    ends = starts + 1
    got = crf.span_log_probs(emissions, mask, tags, rows, starts, ends).exp()
    exact = crf.double().span_log_probs(emissions.double(), mask, tags, rows, starts, ends).exp()
    assert torch.allclose(got, exact, rtol=0, atol=1e-9)
