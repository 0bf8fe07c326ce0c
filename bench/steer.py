"""How often a user dictionary's tag steers an entity model: 8 made-up names in 5 contexts, each
name given to the model tagged nr, ns and nt in turn, in `prefer` and `force` mode.

    python bench/steer.py [--model REF]

A hit is the name found whole as the type its tag names (nr PER, ns LOC, nt ORG). `force`
holds the name to that type on the Viterbi path, so it should hit all 120; `prefer` shows how
much the model weighs the tag against the context (a model that ignored it would hit about a
third: the context favours one type per sentence).
"""
from __future__ import annotations

import argparse

from data.lexicon import Lexicon
from model.tagger import Tagger

NAMES = ["克鲁兹达", "萨玛拉提", "莫里坎", "阿布雷塔", "图兰卡", "维斯卡洛", "贝纳里昂", "索尔塔维"]
CONTEXTS = ["他在{}工作了三年。", "{}发布了新的报告。", "我们昨天去了{}。", "记者从{}获悉，情况已经好转。", "{}的代表出席了会议。"]
TYPES = {"nr": "PER", "ns": "LOC", "nt": "ORG"}


def hits(tagger: Tagger, force: bool) -> int:
    found = 0
    for tag, label in TYPES.items():
        for name in NAMES:
            words = Lexicon({name: tag}, force=force, tags={name: tag})
            texts = [context.format(name) for context in CONTEXTS]
            for text, spans in zip(texts, tagger.tag(texts, words), strict=True):
                start = text.index(name)
                found += any((s.start, s.end, s.label) == (start, start + len(name), label) for s in spans)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="ner")
    tagger = Tagger.load(parser.parse_args().model)
    total = len(TYPES) * len(NAMES) * len(CONTEXTS)
    for force in (False, True):
        print(f"{tagger.ref}  {'force ' if force else 'prefer'}  {hits(tagger, force)} of {total} names found as their tag's type")


if __name__ == "__main__":
    main()
