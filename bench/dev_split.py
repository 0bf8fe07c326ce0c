"""Write the exact dev sets the shipped `cws` and `ner` models were tuned on, for bench/accuracy.py.

    python bench/dev_split.py OUT_DIR [--cws CORPUS] [--ner CORPUS] [--dev-ratio 0.05] [--seed 1]

The shipped models were trained with `zhtag train --task cws --train ../shared/data/cws/pd1998-01.pos.txt`
and `zhtag train --task ner --train ../shared/data/ner/msra-pd/train.bio` (see docs/MODELS.md), whose
dev sets were split off the pieces `model.corpora.load_sentences` cuts (at most `max_len` characters)
by the shuffle training drew its dev set with then (`shipped_split`: ratio 0.05, seed 1). The same
pieces are split the same way here, so the files hold exactly those sentences, in corpus order:

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
import random
import sys
from collections.abc import Callable
from pathlib import Path

from data.corpus import Sentence, Span
from data.formats import write_corpus
from model.config import ModelConfig
from model.corpora import load_sentences

REPO = Path(__file__).resolve().parent.parent
CWS_CORPUS = REPO.parent / "shared/data/cws/pd1998-01.pos.txt"
NER_CORPUS = REPO.parent / "shared/data/ner/msra-pd/train.bio"


def shipped_split(sentences: list[Sentence], ratio: float, seed: int) -> tuple[list[Sentence], list[Sentence]]:
    """(training side, dev side) as the shipped models' training split them: `ratio` of the
    sentences drawn by a shuffle seeded with `seed`. `zhtag train` now sets a sentence apart by
    its text's hash (`model.corpora.split_dev`), which a growing corpus or another seed cannot
    redraw; the shipped models' dev sets are this shuffle's, so it lives on here to rebuild them."""
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    dev = set(order[: max(1, int(len(sentences) * ratio))])
    return [s for i, s in enumerate(sentences) if i not in dev], [sentences[i] for i in sorted(dev)]


def shipped_sides(
    corpus: Path, task: str, ratio: float, seed: int, log: Callable[[str], None] = lambda line: None
) -> tuple[list[Sentence], list[Sentence]]:
    """The shipped model's training and dev sides of `corpus`; `max_len` is the model default,
    which the shipped models were trained with (their config.json says 150)."""
    return shipped_split(load_sentences(corpus, task, None, False, ModelConfig.max_len, log=log), ratio, seed)


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
    train, dev = shipped_sides(corpus, "pos", ratio, seed)
    gold, words = out / "names.gold.txt", out / "names.dict.txt"
    write_corpus([names_whole(s) for s in dev], gold, "seg")
    names = sorted({s.text[w.start : w.end] for s in map(names_whole, train) for w in s.spans if w.label == "nr" and w.end - w.start > 1})
    words.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
    return [gold, words]


def write_oov_dictionary(corpus: Path, ratio: float, seed: int, out: Path) -> Path:
    """The dev side's words that its training side never holds: what a user who knew every new
    word of the test would bring."""
    train, dev = shipped_sides(corpus, "cws", ratio, seed)
    words = lambda sentences: {s.text[w.start : w.end] for s in sentences for w in s.spans}  # noqa: E731
    path = out / "oov.dict.txt"
    path.write_text("".join(f"{word}\n" for word in sorted(words(dev) - words(train))), encoding="utf-8")
    return path


def write_traditional(sentences: list[Sentence], out: Path) -> list[Path]:
    """The dev side in traditional characters, converted word by word with OpenCC's s2t (so a
    conversion never crosses a word): the test of `--script auto` the README reports."""
    import opencc

    convert = opencc.OpenCC("s2t").convert
    lines = [[convert(s.text[w.start : w.end]) for w in s.spans] for s in sentences]
    raw, gold = out / "trad.raw.txt", out / "trad.gold.txt"
    raw.write_text("".join("".join(words) + "\n" for words in lines), encoding="utf-8")
    gold.write_text("".join(" ".join(words) + "\n" for words in lines), encoding="utf-8")
    return [raw, gold]


def write_raw(sentences: list[Sentence], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.writelines(s.text + "\n" for s in sentences)


def describe(name: str, sentences: list[Sentence], paths: list[Path]) -> str:
    chars = sum(len(s.text) for s in sentences)
    return f"{name} dev: {len(sentences)} sentences, {chars:,} chars -> {', '.join(map(str, paths))}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the dev splits the shipped cws and ner models were tuned on.")
    parser.add_argument("out_dir", type=Path, help="directory for the files (created; must be outside the repository)")
    parser.add_argument("--cws", type=Path, default=CWS_CORPUS, help="pd1998-01.pos.txt, the segmentation training corpus (default: %(default)s)")
    parser.add_argument("--ner", type=Path, default=NER_CORPUS, help="msra-pd's train.bio, the entity training corpus (default: %(default)s)")
    parser.add_argument("--dev-ratio", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for option, path in (("--cws", args.cws), ("--ner", args.ner)):
        if not path.is_file():
            parser.error(f"no corpus at {path}: give its path with {option} FILE")
    out = args.out_dir.resolve()
    if out.is_relative_to(REPO):
        sys.exit(f"error: {args.out_dir} is inside the repository; write corpora elsewhere, e.g. /tmp/zhtag-dev")
    out.mkdir(parents=True, exist_ok=True)

    warn = lambda line: print(line, file=sys.stderr)  # noqa: E731
    cws = shipped_sides(args.cws, "cws", args.dev_ratio, args.seed, warn)[1]
    raw, gold = out / "cws.raw.txt", out / "cws.gold.txt"
    write_raw(cws, raw)
    write_corpus(cws, gold, "seg")
    print(describe("cws", cws, [raw, gold]))

    print(f"traditional script -> {', '.join(map(str, write_traditional(cws, out)))}")
    print(f"out-of-vocabulary dictionary -> {write_oov_dictionary(args.cws, args.dev_ratio, args.seed, out)}")
    print(f"names-whole standard -> {', '.join(map(str, write_names_standard(args.cws, args.dev_ratio, args.seed, out)))}")

    ner = shipped_sides(args.ner, "ner", args.dev_ratio, args.seed, warn)[1]
    bio = out / "ner.dev.bio"
    write_corpus(ner, bio, "conll", "BIO")
    print(describe("ner", ner, [bio]))


if __name__ == "__main__":
    main()
