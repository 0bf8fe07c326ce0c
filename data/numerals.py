"""Financial numerals (大写数字: 壹万贰仟元整), read as the ordinary numerals they stand for.

Cheques, invoices, contracts and court judgments write amounts with them so that no stroke can
be added; People's Daily never does, so the models read 叁万伍仟 as unknown characters and
tagged it a person's name. The model sees 三万五千, one number to every model, and every span
keeps the characters as written (the mapping is one character to one, as the traditional-script
one is).

伍, 陆, 拾 and 参 (參 once a traditional text is mapped) are also common characters of their own
(队伍, 大陆, 收拾, 参加, and surnames), and 万, 亿 and 零 are ordinary numerals already; two
numerals side by side can be a name (the singer 伍佰) or two words (大肆 | 万般). So a run of
these characters is mapped where it is followed by a unit of money (元, 圆, 角, 分) or 整 and
either holds a numeral that has no other use (壹, 贰, 叁, 肆, 柒, 捌, 玖, 佰, 仟) or is two
characters long or more (伍拾元, 叁元, 柒角); and, with no unit after it, where it holds such a
numeral and is at least three characters long (叁万伍仟), or is two financial numerals, the
first with no other use (叁拾, 壹佰). 大肆, 八佰伴, 伍佰, 肆万 (of 大肆万般) and 陆元 (a name)
stay as written.
"""
from __future__ import annotations

import re

_FINANCIAL = "壹贰貳叁參参肆伍陆陸柒捌玖拾佰仟"  # the financial numerals (参: 參 once traditional text is mapped)
_ORDINARY = str.maketrans(_FINANCIAL + "萬億", "一二二三三三四五六六七八九十百千" + "万亿")
_FINANCIAL_ONLY = "壹贰貳叁參肆柒捌玖佰仟"  # those with no other use
_NUMERAL = f"[{_FINANCIAL}萬万億亿零〇]"
_RUN = re.compile(f"({_NUMERAL}+)(?=[元圆角分整])|{_NUMERAL}{{2,}}")  # group 1: a run before a unit
_HINT = re.compile(f"[{_FINANCIAL_ONLY}]")


def ordinary_numerals(text: str) -> str:
    """`text`, same length, with each run of financial numerals written as ordinary ones."""
    return _RUN.sub(_mapped, text)


def _mapped(found: re.Match[str]) -> str:
    run = found.group()
    if found.group(1) is not None:  # before a unit of money
        financial = _HINT.search(run) or len(run) > 1
    else:
        financial = (len(run) > 2 and _HINT.search(run)) or (run[0] in _FINANCIAL_ONLY and run[1] in _FINANCIAL)
    return run.translate(_ORDINARY) if financial else run
