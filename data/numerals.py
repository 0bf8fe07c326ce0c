"""Financial numerals (大写数字: 壹万贰仟元整), read as the ordinary numerals they stand for.

Cheques, invoices, contracts and court judgments write amounts with them so that no stroke can
be added; People's Daily never does, so the models read 叁万伍仟 as unknown characters and
tagged it a person's name. The model sees 三万五千, one number to every model, and every span
keeps the characters as written (the mapping is one character to one, as the traditional-script
one is).

伍, 陆, 拾 and 参 (參 once a traditional text is mapped) are also common characters of their own
(队伍, 大陆, 收拾, 参加, and surnames), and 万,
亿 and 零 are ordinary numerals already: a run of these is mapped only where it holds a numeral
that has no other use (壹, 贰, 叁, 肆, 柒, 捌, 玖, 佰, 仟) and is at least two characters long,
so 大肆 and 八佰伴 stay as written.
"""
from __future__ import annotations

import re

_ORDINARY = str.maketrans("壹贰貳叁參参肆伍陆陸柒捌玖拾佰仟萬億", "一二二三三三四五六六七八九十百千万亿")
_FINANCIAL_ONLY = "壹贰貳叁參肆柒捌玖佰仟"
_RUN = re.compile("[壹贰貳叁參参肆伍陆陸柒捌玖拾佰仟萬万億亿零〇]{2,}")  # 参: 參 as traditional text is mapped
_HINT = re.compile(f"[{_FINANCIAL_ONLY}]")


def ordinary_numerals(text: str) -> str:
    """`text`, same length, with each run of financial numerals written as ordinary ones."""
    if not _HINT.search(text):
        return text
    return _RUN.sub(lambda m: _mapped(m.group()), text)


def _mapped(run: str) -> str:
    return run.translate(_ORDINARY) if _HINT.search(run) else run
