"""Write the exact dev sets the shipped `cws` and `ner` models were tuned on, for bench/accuracy.py.

    python bench/dev_split.py OUT_DIR [--cws CORPUS] [--ner CORPUS] [--dev-ratio 0.05] [--seed 1]

The shipped models were trained with `zhtag train --task cws --train ../shared/data/cws/pd1998-01.pos.txt`
and `zhtag train --task ner --train ../shared/data/ner/msra-pd/train.bio` (see docs/MODELS.md), whose
dev sets are split off by `model.train.load_sentences` (pieces of at most `max_len` characters)
and `model.train.split_dev` (ratio 0.05, seed 1). The same two functions are called here with the
same arguments, so the files hold exactly those sentences, in corpus order:

    OUT_DIR/cws.raw.txt    one dev sentence a line, unsegmented (TEST for bench/accuracy.py)
    OUT_DIR/cws.gold.txt   the same lines, words separated by spaces (GOLD)
    OUT_DIR/ner.dev.bio    the ner dev sentences, a character and its BIO tag a line (--ner)

and, to measure how far a user dictionary moves the output towards another segmentation
standard, that standard made from this one by keeping each person's name whole (PKU splits
江/nr 泽民/nr; MSR-style standards write 江泽民):

    OUT_DIR/oov.dict.txt   the cws dev words the training side never holds, a word a line (the
                           user dictionary of README's OOV figures: --dict)

    OUT_DIR/names.gold.txt the cws dev lines segmented with whole names (GOLD)
    OUT_DIR/names.dict.txt the whole names of the *training* side of the split, a word a line
                           (the dictionary a user of that standard would bring: --dict)

Each line printed gives a split's sentence and character counts; they match the `dev` entry of
the shipped model's metrics.json. OUT_DIR must lie outside the repository: corpora never enter it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from data.corpus import Sentence, Span
from data.formats import write_corpus
from model.config import ModelConfig
from model.train import load_sentences, split_dev

REPO = Path(__file__).resolve().parent.parent
CWS_CORPUS = REPO.parent / "shared/data/cws/pd1998-01.pos.txt"
NER_CORPUS = REPO.parent / "shared/data/ner/msra-pd/train.bio"


def dev_sentences(corpus: Path, task: str, ratio: float, seed: int) -> list[Sentence]:
    """The dev side of the split `zhtag train` makes when given no --dev file; `max_len` is the
    model default, which the shipped models were trained with (their config.json says 150)."""
    sentences = load_sentences(corpus, task, None, False, ModelConfig.max_len, log=lambda line: print(line, file=sys.stderr))
    return split_dev(sentences, ratio, seed)[1]


def names_whole(sentence: Sentence) -> Sentence:
    """`sentence` with every run of adjacent person-name words (nr) merged into one word."""
    merged: list[Span] = []
    for span in sentence.spans:
        if merged and span.label == merged[-1].label == "nr" and merged[-1].end == span.start:
            merged[-1] = Span(merged[-1].start, span.end, "nr")
        else:
            merged.append(span)
    return Sentence(sentence.text, tuple(merged))


def write_names_standard(corpus: Path, ratio: float, seed: int, out: Path) -> list[Path]:
    train, dev = split_dev(load_sentences(corpus, "pos", None, False, ModelConfig.max_len, log=lambda line: None), ratio, seed)
    gold, words = out / "names.gold.txt", out / "names.dict.txt"
    write_corpus([names_whole(s) for s in dev], gold, "seg")
    names = sorted({s.text[w.start : w.end] for s in map(names_whole, train) for w in s.spans if w.label == "nr" and w.end - w.start > 1})
    words.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
    return [gold, words]


def write_oov_dictionary(corpus: Path, ratio: float, seed: int, out: Path) -> Path:
    """The dev side's words that its training side never holds: what a user who knew every new
    word of the test would bring."""
    train, dev = split_dev(load_sentences(corpus, "cws", None, False, ModelConfig.max_len, log=lambda line: None), ratio, seed)
    words = lambda sentences: {s.text[w.start : w.end] for s in sentences for w in s.spans}  # noqa: E731
    path = out / "oov.dict.txt"
    path.write_text("".join(f"{word}\n" for word in sorted(words(dev) - words(train))), encoding="utf-8")
    return path


def write_raw(sentences: list[Sentence], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.writelines(s.text + "\n" for s in sentences)


def describe(name: str, sentences: list[Sentence], paths: list[Path]) -> str:
    chars = sum(len(s.text) for s in sentences)
    return f"{name} dev: {len(sentences)} sentences, {chars:,} chars -> {', '.join(map(str, paths))}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the dev splits the shipped cws and ner models were tuned on.")
    parser.add_argument("out_dir", type=Path, help="directory for the files (created; must be outside the repository)")
    parser.add_argument("--cws", type=Path, default=CWS_CORPUS, help="segmentation training corpus")
    parser.add_argument("--ner", type=Path, default=NER_CORPUS, help="entity training corpus")
    parser.add_argument("--dev-ratio", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    out = args.out_dir.resolve()
    if out.is_relative_to(REPO):
        sys.exit(f"error: {args.out_dir} is inside the repository; write corpora elsewhere, e.g. /tmp/zhtag-dev")
    out.mkdir(parents=True, exist_ok=True)

    cws = dev_sentences(args.cws, "cws", args.dev_ratio, args.seed)
    raw, gold = out / "cws.raw.txt", out / "cws.gold.txt"
    write_raw(cws, raw)
    write_corpus(cws, gold, "seg")
    print(describe("cws", cws, [raw, gold]))

    print(f"out-of-vocabulary dictionary -> {write_oov_dictionary(args.cws, args.dev_ratio, args.seed, out)}")
    print(f"names-whole standard -> {', '.join(map(str, write_names_standard(args.cws, args.dev_ratio, args.seed, out)))}")

    ner = dev_sentences(args.ner, "ner", args.dev_ratio, args.seed)
    bio = out / "ner.dev.bio"
    write_corpus(ner, bio, "conll", "BIO")
    print(describe("ner", ner, [bio]))


if __name__ == "__main__":
    main()
