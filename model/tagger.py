"""The one tagger behind the CLI, the HTTP API and the Python API.

It owns the network with its vocabularies and lexicon, turns what the model reads of any text
(`data.graphemes`) into model-sized pieces (`data.text.split_text`), tags them in length-sorted
batches, and maps spans back to offsets in the exact input string.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from functools import partial

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from data.atoms import atom_spans, symbol_positions
from data.batches import Encoded, Encoder, length_batches
from data.brackets import NO_BRACKETS, Brackets, brackets
from data.corpus import Span
from data.errors import CheckpointError, InputError
from data.formats.pos import POS_ENTITIES
from data.graphemes import GraphemeViews, cluster_starts, read_at
from data.lexicon import Lexicon, jieba_lexicon
from data.schemes import OUTSIDE, split_tag  # OUTSIDE also labels a held span that must be no entity
from data.softlexicon import SoftLexicon
from data.text import codepoints, cut_between, same_cut, split_text
from data.vocab import Vocab
from model.config import ModelConfig
from model.crf import FORBIDDEN
from model.network import BiLSTMCRF, Decoded, check_weights
from model.spans import SpanArrays
from model.store import Checkpoint, Store

WEIGHTS, CONFIG, VOCAB = "weights.safetensors", "config.json", "vocab.json"
HALF_PRECISION = ("char_embed.weight", "bigram_embed.weight", "word_vectors")  # stored in float16 by `files(compact=True)`
PRECISIONS = ("auto", "float32", "bfloat16")
SYMBOL = "w"  # the PKU standard's tag for symbols and punctuation, which a POS model gives an emoji where it has it
INSIDE = " inside"  # labels a held span that lies inside one entity, which may reach beyond it (no type is named so)
BALANCE_ROUNDS = 8  # broken bracket pairs an entity model mends in a piece, one a round


def _held(user_words: Lexicon | None) -> Callable[[str], list[tuple[int, int]]]:
    """What a long run of text must not be cut inside: addresses and numbers, and the words a
    `force` dictionary keeps whole, which a cut would split into two."""
    if user_words is None or not user_words.force:
        return atom_spans
    return lambda run: sorted(atom_spans(run) + user_words.forced(run))


READ_AHEAD = 256  # code points a streamed piece reads past the point it may end at (or half what is left past `after`): longer than any word


def _words(lexicon: Lexicon | None, user_words: Lexicon | None, run: str) -> list[tuple[int, int]]:
    """The lexicon's and the user's words in a long run without punctuation: it is cut
    between them, not inside one (`data.text.split_text`)."""
    cps = codepoints(run)
    found = [words.hits(cps) for words in (lexicon, user_words) if words is not None]
    return [span for starts, ends in found for span in zip(starts.tolist(), ends.tolist())]


def _clash(span: tuple[int, int, str], other: tuple[int, int, str]) -> bool:
    """Whether two held spans overlap and hold their positions to different labels."""
    return span[0] < other[1] and other[0] < span[1] and not span[2] == other[2] == OUTSIDE


def pick_device(name: str = "auto") -> torch.device:
    """The torch device `name` means here; one this machine cannot run is refused now, in a
    line naming it, rather than by an assertion deep inside torch at the first batch."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise InputError(f"unknown device {name!r}: expected auto, cpu, cuda or cuda:N")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {name!r}: torch finds no CUDA GPU on this machine (use cpu or auto)")
    return device


def cpu_precision(name: str | None = None) -> torch.dtype:
    """The dtype tagging on the CPU runs the LSTM in: `name`, else `ZHTAG_PRECISION`, else
    auto. Auto is bfloat16 where oneDNN multiplies it natively (AVX-512 BF16 or AMX), which
    ran the LSTM faster and moved no shipped model's dev F1 by more than 0.01
    (docs/EXPERIMENTS.md); float32 elsewhere. float32 gives exactly what training computes."""
    name = name or os.environ.get("ZHTAG_PRECISION") or "auto"
    if name not in PRECISIONS:
        raise InputError(f"ZHTAG_PRECISION (or precision) must be one of {', '.join(PRECISIONS)}, not {name!r}")
    if name == "auto":
        name = "bfloat16" if torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported() else "float32"
    return getattr(torch, name)


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
        prefixes, labels = zip(*(split_tag(tag) for tag in self.config.tags))
        self._types = set(labels) - {None}  # entity types (ner), POS tags (pos), none (cws)
        self._span_tags = {  # type ("" for any) -> B/M/E -> (tags,) the tags a forced span may take there
            kind: {p: torch.tensor([q == p and kind in ("", label) for q, label in zip(prefixes, labels)]) for p in "BMES"} for kind in {"", *self._types}
        }
        if OUTSIDE in prefixes:  # an entity model holds addresses and emoji outside every entity
            outside = torch.tensor([q == OUTSIDE for q in prefixes])
            self._span_tags[OUTSIDE] = dict.fromkeys("BMES", outside)
            self._span_tags[""] = {p: tags | outside for p, tags in self._span_tags[""].items()}  # a word of no type: one entity or none, never cut
            within = {p: torch.tensor([q == p for q in prefixes]) for p in "BME"}
            self._span_tags[INSIDE] = {"B": within["B"] | within["M"], "M": within["M"], "E": within["M"] | within["E"], "S": within["M"]}
        self._symbol = OUTSIDE if OUTSIDE in prefixes else SYMBOL if SYMBOL in self._types else ""
        self._opens = np.array([p in "BS" for p in prefixes])  # (tags,): the tag begins a span
        self._closes = np.array([p in "ES" for p in prefixes])  # (tags,): the tag ends one

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
            "metrics.json": as_json(metrics or {}),
        }

    @property
    def device(self) -> torch.device:
        """Where the network runs."""
        return next(self.network.parameters()).device

    @property
    def types(self) -> set[str]:
        """The labels this model's spans carry: entity types (ner), POS tags (pos), none (cws)."""
        return self._types

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
        words = partial(_words, self._lexicon, user_words)
        at = same_cut(view, int(np.searchsorted(bounds, after)), int(np.searchsorted(bounds, before, "right")) - 1, self.config.max_len, _held(user_words), words)
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
            for offset, piece in split_text(text, self.config.max_len, _held(user_words[i]), partial(_words, self._lexicon, user_words[i]))
        ]
        owner = np.array([i for i, _, _ in pieces], dtype=np.int64)  # (pieces,) text of each piece
        offset = np.array([o for _, o, _ in pieces], dtype=np.int64)  # (pieces,) where it begins in its text
        words = [user_words[i] for i in owner.tolist()]
        encoded = self.encoder.encode([piece for _, _, piece in pieces], words)
        marks = [brackets(piece) if OUTSIDE in self._span_tags else NO_BRACKETS for _, _, piece in pieces]  # an entity model's alone
        forced = [self._forced(piece, lexicon, mark) for (_, _, piece), lexicon, mark in zip(pieces, words, marks)]
        found = [self._decode(encoded, index[::-1], forced, marks, scores) for index in length_batches(encoded.lengths.tolist(), batch_chars)]  # longest first
        piece, start, end, label = (np.concatenate([f[k] for f in found] or [np.empty(0, np.int64)]) for k in range(4))
        order = np.lexsort((start, piece))
        piece, start, end, label = piece[order], start[order], end[order], label[order]
        score = np.concatenate([f[4] for f in found])[order] if scores and found else None
        names = [split_tag(tag)[1] for tag in self.config.tags]
        text = owner[piece]
        start, end = (graphemes.offsets(text, at + offset[piece]) for at in (start, end))
        return SpanArrays(len(texts), text, start, end, label, names, score)

    def _decode(
        self, encoded: Encoded, index: list[int], forced: Sequence[list[tuple[int, int, str]]], marks: Sequence[Brackets], scores: bool
    ) -> tuple[np.ndarray, ...]:
        """(piece, start, end, tag, score) arrays of the spans found in the pieces `index`,
        offsets within each piece; with `scores`, each span's marginal probability under the CRF."""
        batch = encoded.batch(index).to(self.device)
        held = [forced[i] for i in index]
        decoded = self.network.decode(batch, self._allowed(held, batch.chars.shape[1]))
        if any(marks[i].pairs for i in index):
            decoded = self._balanced(decoded, [marks[i] for i in index], held)
        tags = decoded.tags.cpu().numpy()  # (batch, width)
        mask = decoded.mask.cpu().numpy()  # (batch, width)
        rows, starts = np.nonzero(mask & self._opens[tags])  # row-major: each row's spans in order
        _, ends = np.nonzero(mask & self._closes[tags])
        ends = ends + 1
        first = tags[rows, starts]
        score = np.empty(0)
        if scores:
            spans = [torch.from_numpy(a).to(decoded.tags.device) for a in (rows, starts, ends)]
            score = self.network.crf.span_log_probs(decoded.emissions, decoded.mask, decoded.tags, *spans).exp().cpu().numpy()
        return np.asarray(index)[rows], starts, ends, first, score

    def _balanced(self, decoded: Decoded, marks: list[Brackets], held: list[list[tuple[int, int, str]]]) -> Decoded:
        """`decoded` with no entity holding one half of a bracket pair (`data.brackets`; a
        lone bracket is held outside every entity from the start, `_forced`): a piece whose
        best path has one takes the better-scoring of the best paths that hold that pair
        outside every entity or inside one, then mends the next, up to BALANCE_ROUNDS. Only
        the CRF runs again: the emissions do not depend on what is held."""
        inside = decoded.mask.cpu().numpy()  # (batch, width)
        tagged = inside & self._opens[decoded.tags.cpu().numpy()]  # (batch, width) where entities begin
        found = {row: marks[row] for row in np.flatnonzero(tagged.any(1)).tolist() if marks[row].pairs}
        tags, emissions, kept = decoded.tags.clone(), decoded.emissions.clone(), {row: held[row] for row in found}
        for _ in range(BALANCE_ROUNDS):
            path = tags.cpu().numpy()  # (batch, width)
            trials = [(row, kept[row] + option) for row, marks in found.items() for option in self._mends(path[row], inside[row], marks, kept[row])]
            if not trials:
                break
            rows = [row for row, _ in trials]
            tried = decoded.emissions[rows].masked_fill(~self._allowed([spans for _, spans in trials], tags.shape[1]).to(tags.device), FORBIDDEN)
            paths = self.network.crf.viterbi(tried, decoded.mask[rows])  # (trials, width)
            score = self.network.crf.path_score(tried, paths, decoded.mask[rows]).tolist()  # (trials,)
            for row in dict.fromkeys(rows):
                best = max((k for k, r in enumerate(rows) if r == row), key=score.__getitem__)
                tags[row], emissions[row], kept[row] = paths[best], tried[best], trials[best][1]
        return Decoded(emissions, decoded.mask, tags)

    def _mends(
        self, tags: np.ndarray, inside: np.ndarray, marks: Brackets, held: list[tuple[int, int, str]]
    ) -> list[list[tuple[int, int, str]]]:
        """The ways to mend the first entity of a piece's path (tags and mask, (width,)) that
        breaks a bracket pair and can be mended without undoing a span already `held` (a force
        dictionary's word, an address, an earlier mend): the pair outside every entity, or
        inside one; none if no entity can."""
        starts, ends = np.flatnonzero(inside & self._opens[tags]), np.flatnonzero(inside & self._closes[tags]) + 1
        for opening, closing in filter(None, (marks.broken_by(s, e) for s, e in zip(starts.tolist(), ends.tolist()))):
            options = [[(opening, opening + 1, OUTSIDE), (closing, closing + 1, OUTSIDE)], [(opening, closing + 1, INSIDE)]]
            feasible = [option for option in options if not any(_clash(span, other) for span in option for other in held)]
            if feasible:
                return feasible
        return []

    def _forced(self, piece: str, user_words: Lexicon | None, marks: Brackets) -> list[tuple[int, int, str]]:
        """(start, end, label) of the spans held in `piece`. Web and e-mail addresses and
        numbers (`data.atoms`) are kept whole by segmentation and outside every entity by an
        entity model; each emoji and other symbol outside them and outside any dictionary word
        (`data.atoms.symbol_positions`) is a word of its own, tagged as a symbol where the model has the tag, and outside every
        entity; then the words of a `force` dictionary that overlap none of them, each held
        to its tag's label (`_forced_label`), else to one span of any label ("": for an entity
        model, one entity or none, so that no entity cuts the word). Last, each bracket of
        `marks` (an entity model's; `data.brackets`) without its partner in the piece outside
        every entity, but inside a forced word, which the user wrote as it is (`“解放军报`)."""
        ner = self.config.task == "ner"
        spans = atom_spans(piece)
        atoms = [(start, end, OUTSIDE if ner else "") for start, end in spans]
        atoms += [(at, at + 1, self._symbol) for at in self._lone_symbols(piece, spans, user_words)]
        words = self._forced_words(piece, user_words)
        held = atoms + [(start, end, label) for start, end, label in words if not any(start < e and s < end for s, e, _ in atoms)]
        lone = [(at, at + 1, OUTSIDE) for at in marks.lone]
        return held + [bracket for bracket in lone if not any(_clash(bracket, span) for span in held)]

    def _forced_words(self, piece: str, user_words: Lexicon | None) -> list[tuple[int, int, str]]:
        """(start, end, label) of a `force` dictionary's words in `piece`; none without one."""
        if user_words is None or not user_words.force:
            return []
        return [(start, end, self._forced_label(user_words.tags.get(piece[start:end], ""))) for start, end in user_words.forced(piece)]

    def _lone_symbols(self, piece: str, atoms: list[tuple[int, int]], user_words: Lexicon | None) -> list[int]:
        """Where `piece` holds a symbol held as a word of its own: outside the atoms, and
        outside every word of the lexicon's or the user's that holds it (C#, #话题#, @人民日报)."""
        found = [at for at in symbol_positions(piece) if not any(start <= at < end for start, end in atoms)]
        if not found:
            return found
        words = [(start, end) for start, end in _words(self._lexicon, user_words, piece) if end - start > 1]
        return [at for at in found if not any(start <= at < end for start, end in words)]

    def _forced_label(self, tag: str) -> str:
        """The label a forced word's dictionary tag holds it to: for an entity model, its
        entity type (see `_entity_type`), or outside every entity for the tag `O` (a user's
        veto: 哈哈哈 O); for a POS model, the tag itself where the model has it; else any ("")."""
        if self.config.task == "ner":
            return OUTSIDE if tag == OUTSIDE else self._entity_type(tag)
        return tag if tag in self._types else ""

    def _entity_type(self, tag: str) -> str:
        """The entity type a dictionary tag names for this model, "" for none: the type itself
        (for a model trained on its own labels) or jieba's nr, ns, nt (nrfg, nsf, ...) for PER,
        LOC, ORG."""
        named = tag if tag in self._types else next((label for prefix, label in POS_ENTITIES.items() if tag.startswith(prefix)), "")
        return named if named in self._types else ""

    def _allowed(self, forced: Sequence[list[tuple[int, int, str]]], width: int) -> torch.Tensor | None:
        """(batch, width, tags) tags each position may take so that every forced word is one
        span: B at its start, M inside, E at its end, or S where it is one position (an emoji),
        each of the word's label where it has one (the CRF's transitions do the rest)."""
        if not any(forced):
            return None
        allowed = torch.ones(len(forced), width, len(self.config.tags), dtype=torch.bool)  # (batch, width, tags)
        for row, words in enumerate(forced):
            for start, end, label in words:
                tags = self._span_tags[label]
                if end - start == 1:
                    allowed[row, start] = tags["S"]
                    continue
                allowed[row, start] = tags["B"]
                allowed[row, start + 1 : end - 1] = tags["M"]
                allowed[row, end - 1] = tags["E"]
        return allowed
