"""Segmentation and entity accuracy of zhtag beside jieba, THULAC and pkuseg, scored alike.

    python bench/accuracy.py TEST GOLD [--dict WORDS] [--ner CONLL] [--model cws] [--ner-model ner]
        [--train-words FILE] [--pkuseg-model DIR] [--lines N]

TEST is raw text, one sentence or paragraph a line; GOLD the same lines segmented, in any corpus
format `data.formats.read_corpus` reads (`seg` words separated by spaces, People's Daily `pos`,
BMES conll, ...). Blank lines are skipped in both, as the corpus readers skip them, so line i of
TEST must be sentence i of GOLD with its whitespace removed. `python bench/dev_split.py DIR`
writes the dev split the shipped models were tuned on as DIR/cws.raw.txt, DIR/cws.gold.txt and
DIR/ner.dev.bio.

Segmentation table: word precision, recall, F1 and OOV recall of zhtag (`--model`, default the
shipped `cws`), jieba (default, HMM on), jieba without HMM, THULAC (`seg_only=True`) and pkuseg
(its bundled default model, or `--pkuseg-model DIR`, e.g. one trained with pkuseg's own trainer),
each scored by zhtag's own scorer (`model.evaluate`) so the figures are comparable. Every
system's words are placed by character offsets in the line with its whitespace removed, so
whitespace, and how each system treats it, never counts. OOV is relative to `--train-words` (a
one-word-a-line list or any corpus; default: the zhtag model's own training words).
`--dict WORDS` (jieba format: `word [freq] [tag]` a line) goes to every system that takes a user
dictionary: zhtag `user_words`, jieba `load_userdict`, THULAC `user_dict`, pkuseg `user_dict`.

Entity table (`--ner CONLL`, a character and its BIO/BIOES/BMES tag a line): exact-span entity
P/R/F1, overall and per type, of zhtag's `--ner-model` (default the shipped `ner`) and of
entities read off POS tags: jieba.posseg (nr→PER, ns→LOC, nt→ORG) and THULAC (np→PER, ns→LOC,
ni→ORG); adjacent person tokens merge into one person, as the People's Daily gold does. No
user dictionary is used here: THULAC tags dictionary words `uw`, which would hide their type.
`unseen R` is the recall of the gold entities whose text is not an entity of the zhtag model's
training corpus (which its vocab.json keeps; `n/a` for a model stored before it did): text of
other years and domains is full of them.

A peer that is not importable gets a "not installed" row. `seconds` is tagging time with the
model loaded, for orientation only (bench/speed.py measures speed); `--lines N` scores the first
N lines only, for peers too slow on the whole file. Nothing is downloaded: pkuseg's package
bundles its default model, spacy-pkuseg's does not (give it `--pkuseg-model DIR`).
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from data.corpus import Sentence, Span
from data.dictfile import read_dictionary
from data.errors import ZhtagError
from data.formats import POS_ENTITIES, read_corpus
from data.lexicon import Lexicon
from data.script import SCRIPTS, Script, for_model
from model.evaluate import evaluate
from model.tagger import Tagger

THULAC_ENTITIES = {"np": "PER", "ns": "LOC", "ni": "ORG"}
PERSON = "PER"

# A loaded system: lines in, for each line its words (segmenters) or labelled entities
# (recognizers) as spans over the line with its whitespace removed.
System = Callable[[list[str]], list[list[Span]]]
Cut = Callable[[str], list[str]]  # a peer segmenter: text in, its words out (bench/speed.py times these)


class NotAvailable(Exception):
    """A peer that cannot run here: not installed, or no model for it that needs no download."""


class Misaligned(Exception):
    """A system's output that is not the input text cut into pieces (it changed characters)."""


def squeeze(text: str) -> tuple[str, list[int]]:
    """`text` without whitespace, and for each offset 0..len(text) of `text` the number of
    non-whitespace characters before it, which maps a span of `text` onto the squeezed text."""
    before = [0]
    for ch in text:
        before.append(before[-1] + (not ch.isspace()))
    return "".join(text.split()), before


def offset_spans(text: str, spans: Iterable[Span]) -> list[Span]:
    """Spans over `text` moved onto `text` without whitespace; whitespace-only spans vanish."""
    _, before = squeeze(text)
    moved = (Span(before[s.start], before[s.end], s.label) for s in spans)
    return [s for s in moved if s.end > s.start]


def word_spans(text: str, words: Iterable[str], labels: Sequence[str | None] | None = None) -> list[Span]:
    """Spans over `text` without whitespace of a system's consecutive words (whitespace in and
    between words ignored: peers drop, keep or merge spaces each their own way), labelled with
    `labels` where given. Raises Misaligned where a word is not the next piece of the text."""
    squeezed, _ = squeeze(text)
    words = list(words)
    spans, pos = [], 0
    for word, label in zip(words, labels if labels is not None else [None] * len(words), strict=True):
        piece = "".join(word.split())
        if not piece:
            continue
        if not squeezed.startswith(piece, pos):
            raise Misaligned(f"word {word!r} at character {pos} of {text[:40]!r}...")
        spans.append(Span(pos, pos + len(piece), label))
        pos += len(piece)
    if pos != len(squeezed):
        raise Misaligned(f"words cover {pos} of {len(squeezed)} characters of {text[:40]!r}...")
    return spans


def entities(text: str, tagged: Sequence[tuple[str, str]], mapping: dict[str, str]) -> list[Span]:
    """Entities from POS-tagged words: mapped tags become types, adjacent persons merge
    (People's Daily, and the gold derived from it, write a surname and given name apart)."""
    found: list[Span] = []
    for span in word_spans(text, [w for w, _ in tagged], [mapping.get(t) for _, t in tagged]):
        if span.label == PERSON and found and found[-1].label == PERSON and found[-1].end == span.start:
            found[-1] = Span(found[-1].start, span.end, PERSON)
        elif span.label is not None:
            found.append(span)
    return found


def read_lines(path: Path, limit: int | None) -> list[str]:
    """Non-blank lines without their line ending, the first `limit` of them."""
    with path.open(encoding="utf-8-sig") as handle:
        lines = [line.rstrip("\r\n") for line in handle if line.strip()]
    return lines[:limit]


def read_gold(path: Path, limit: int | None) -> list[Sentence]:
    return read_corpus(path).sentences[:limit]


def train_words(path: Path) -> set[str]:
    """Words of a one-word-a-line list (read as a `seg` corpus of one-word sentences) or a corpus."""
    return {word for sentence in read_corpus(path).sentences for word in sentence.words()}


def quiet_stdout() -> contextlib.AbstractContextManager:
    """THULAC prints "Model loaded succeed" on stdout, which carries the tables."""
    return contextlib.redirect_stdout(sys.stderr)


# Segmenters: each factory loads its peer (time not counted) or raises NotAvailable.


def zhtag_system(tagger: Tagger, user_words: Lexicon | None, script: Script = "auto") -> System:
    """Any zhtag model: words for cws/pos, entities for ner; traditional lines tagged as the
    CLI, HTTP and Python APIs tag them (`data.script.for_model`)."""
    return lambda lines: [offset_spans(line, spans) for line, spans in zip(lines, tagger.tag(for_model(lines, script), user_words))]


def jieba_cut(hmm: bool, dictionary: Path | None = None) -> Cut:
    """A jieba Tokenizer of its own, so the user dictionary reaches no other jieba user."""
    try:
        import jieba
    except ImportError:
        raise NotAvailable("not installed") from None
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    if dictionary is not None:
        tokenizer.load_userdict(str(dictionary))
    return lambda text: list(tokenizer.cut(text, HMM=hmm))


def thulac_cut(dictionary: Path | None = None) -> Cut:
    try:
        import thulac
    except ImportError:
        raise NotAvailable("not installed") from None
    with quiet_stdout():
        segmenter = thulac.thulac(seg_only=True, user_dict=str(dictionary) if dictionary else None)
    return lambda text: [w for w, _ in segmenter.cut(text)]


def pkuseg_cut(model_dir: Path | None = None, words: list[str] | None = None) -> Cut:
    """pkuseg, or spacy-pkuseg (same API) with `model_dir`: its package bundles no model and
    would download one. The user dictionary goes as a word list, since pkuseg reads a file's
    lines as tab-separated and a jieba file is space-separated."""
    try:
        import pkuseg
    except ImportError:
        try:
            import spacy_pkuseg as pkuseg
        except ImportError:
            raise NotAvailable("not installed") from None
        if model_dir is None:
            raise NotAvailable("spacy-pkuseg bundles no model; pass --pkuseg-model DIR") from None
    if model_dir is not None and not model_dir.is_dir():
        raise NotAvailable(f"--pkuseg-model {model_dir} is not a directory")
    segmenter = pkuseg.pkuseg(model_name=str(model_dir) if model_dir else "default", user_dict=words or "default")
    return segmenter.cut


def segmenter(cut: Cut) -> System:
    """A peer's words of each line as spans, for the scorer."""
    return lambda lines: [word_spans(line, cut(line)) for line in lines]


# Entity recognizers from POS taggers (zhtag's is `zhtag_system` with an ner model).


def jieba_recognizer() -> System:
    try:
        import jieba
        import jieba.posseg
    except ImportError:
        raise NotAvailable("not installed") from None
    jieba.setLogLevel(logging.WARNING)
    tagger = jieba.posseg.POSTokenizer(jieba.Tokenizer())
    tagger.tokenizer.initialize()
    return lambda texts: [entities(t, [(p.word, p.flag) for p in tagger.cut(t)], POS_ENTITIES) for t in texts]


def thulac_recognizer() -> System:
    try:
        import thulac
    except ImportError:
        raise NotAvailable("not installed") from None
    with quiet_stdout():
        tagger = thulac.thulac()
    return lambda texts: [entities(t, [(w, tag) for w, tag in tagger.cut(t)], THULAC_ENTITIES) for t in texts]


def run(load: Callable[[], System], inputs: list[str]) -> tuple[list[list[Span]] | str, float]:
    """A system's spans on `inputs` and its tagging seconds, or why it has none (a table row
    says so rather than the whole bench stopping for one peer)."""
    try:
        system = load()
    except NotAvailable as err:
        return str(err), 0.0
    start = time.perf_counter()
    try:
        spans = system(inputs)
    except Misaligned as err:
        return f"output does not match the input: {err}", 0.0
    return spans, time.perf_counter() - start


def cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def segmentation_table(args: argparse.Namespace) -> None:
    lines, gold = read_lines(args.test, args.lines), read_gold(args.gold, args.lines)
    if len(lines) != len(gold):
        sys.exit(f"error: {args.test} has {len(lines)} non-blank lines, {args.gold} {len(gold)} sentences")
    for number, (line, sentence) in enumerate(zip(lines, gold), 1):
        if squeeze(line)[0] != sentence.text:
            sys.exit(f"error: non-blank line {number} of {args.test} is not sentence {number} of {args.gold} without whitespace")
    tagger = Tagger.load(args.model)
    words = list(read_dictionary(args.dict)) if args.dict else None
    vocabulary = train_words(args.train_words) if args.train_words else tagger.train_words
    systems: list[tuple[str, Callable[[], System]]] = [
        (f"zhtag ({tagger.ref})", lambda: zhtag_system(tagger, Lexicon(words) if words else None, args.script)),
        *([(f"zhtag ({tagger.ref}), force mode", lambda: zhtag_system(tagger, Lexicon(words, force=True), args.script))] if words else []),
        ("jieba (HMM)", lambda: segmenter(jieba_cut(True, args.dict))),
        ("jieba (no HMM)", lambda: segmenter(jieba_cut(False, args.dict))),
        ("THULAC (seg_only)", lambda: segmenter(thulac_cut(args.dict))),
        (f"pkuseg ({args.pkuseg_model or 'default'})", lambda: segmenter(pkuseg_cut(args.pkuseg_model, words))),
    ]
    gold_words = sum(len(s.spans) for s in gold)
    oov_rate = evaluate("cws", gold, [[] for _ in gold], vocabulary)["oov_rate"]
    source = args.train_words or f"{tagger.ref}'s training words"
    print(f"\nSegmentation: {len(gold)} lines, {sum(len(s.text) for s in gold):,} chars, {gold_words:,} gold words, "
          f"OOV rate {oov_rate:.2f}% (vocabulary: {source}, {len(vocabulary):,} words); "
          f"user dictionary: {args.dict or 'none'}\n")
    print("| system | P | R | F1 | OOV R | seconds |")
    print("|---|---|---|---|---|---|")
    for name, load in systems:
        spans, seconds = run(load, lines)
        if isinstance(spans, str):
            print(f"| {name} | {spans} | | | | |", flush=True)
            continue
        scores = evaluate("cws", gold, spans, vocabulary)
        print(f"| {name} | {scores['precision']:.2f} | {scores['recall']:.2f} | **{scores['f1']:.2f}** "
              f"| {cell(scores['oov_recall'])} | {seconds:.2f} |", flush=True)


def entity_table(args: argparse.Namespace) -> None:
    gold = read_gold(args.ner, args.lines)
    texts = [s.text for s in gold]
    types = sorted({span.label for s in gold for span in s.spans if span.label})
    tagger = Tagger.load(args.ner_model)
    systems: list[tuple[str, Callable[[], System]]] = [
        (f"zhtag ({tagger.ref})", lambda: zhtag_system(tagger, None)),
        ("jieba.posseg (nr/ns/nt)", jieba_recognizer),
        ("THULAC (np/ns/ni)", thulac_recognizer),
    ]
    counts = ", ".join(f"{t} {sum(span.label == t for s in gold for span in s.spans):,}" for t in types)
    seen = tagger.train_words  # the entities of the zhtag model's training corpus; none stored by models trained before they were
    print(f"\nEntities: {len(gold)} sentences, {sum(map(len, texts)):,} chars, gold entities {counts}\n")
    print("| system | P | R | F1 | " + " | ".join(f"{t} F1" for t in types) + " | unseen R | seconds |")
    print("|---" * (len(types) + 6) + "|")
    unseen_rate = None  # the same for every system
    for name, load in systems:
        spans, seconds = run(load, texts)
        if isinstance(spans, str):
            print(f"| {name} | {spans} |" + " |" * (len(types) + 4), flush=True)
            continue
        scores = evaluate("ner", gold, spans, seen)
        unseen_rate = scores.get("unseen_rate")
        per_type = " | ".join(cell(scores["per_type_f1"].get(t)) for t in types)
        print(f"| {name} | {scores['precision']:.2f} | {scores['recall']:.2f} | **{scores['f1']:.2f}** "
              f"| {per_type} | {cell(scores.get('unseen_recall'))} | {seconds:.2f} |", flush=True)
    print(f"\nunseen R: recall of the {cell(unseen_rate)}% of gold entities whose text is no entity of {tagger.ref}'s training corpus")


def main() -> None:
    parser = argparse.ArgumentParser(description="Segmentation and entity accuracy of zhtag and its peers, one scorer for all.")
    parser.add_argument("test", type=Path, help="raw text, one sentence a line")
    parser.add_argument("gold", type=Path, help="the same lines segmented (any zhtag corpus format)")
    parser.add_argument("--dict", type=Path, help="user dictionary (jieba format) for every segmenter that takes one")
    parser.add_argument("--ner", type=Path, help="conll entity file (BIO/BIOES/BMES) for the entity table")
    parser.add_argument("--model", default="cws", help="zhtag segmentation model (REF)")
    parser.add_argument("--ner-model", default="ner", help="zhtag entity model (REF)")
    parser.add_argument("--train-words", type=Path, help="OOV vocabulary: a one-word-a-line list or a corpus")
    parser.add_argument("--pkuseg-model", type=Path, help="pkuseg model directory instead of its bundled default")
    parser.add_argument("--script", choices=SCRIPTS, default="auto", help="zhtag's handling of traditional script (as --script of the CLI)")
    parser.add_argument("--lines", type=int, help="score only the first N lines (and N entity sentences)")
    args = parser.parse_args()
    if args.lines is not None and args.lines < 1:
        sys.exit("error: --lines must be positive")
    try:
        segmentation_table(args)
        if args.ner:
            entity_table(args)
    except ZhtagError as err:
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    main()
