"""Specification of data/atoms.py: web and e-mail addresses are found whole, in ASCII or
full-width forms, without the punctuation that follows them, and never overlapping."""
from __future__ import annotations

import pytest

from data.atoms import atom_spans


def found(text: str) -> list[str]:
    return [text[a:b] for a, b in atom_spans(text)]


@pytest.mark.parametrize("text, addresses", [
    ("访问https://www.example.com/path?a=1&b=2查看详情", ["https://www.example.com/path?a=1&b=2"]),
    ("见www.people.com.cn.", ["www.people.com.cn"]),
    ("ＨＴＴＰ://ＥＸＡＭＰＬＥ.com/a_b，好", ["ＨＴＴＰ://ＥＸＡＭＰＬＥ.com/a_b"]),
    ("ｗｗｗ．ｐｅｏｐｌｅｄａｉｌｙ．ｃｏｍ．ｃｎ/nx", ["ｗｗｗ．ｐｅｏｐｌｅｄａｉｌｙ．ｃｏｍ．ｃｎ/nx"]),
    ("发邮件给zhang.san@example.com。或li@b.org", ["zhang.san@example.com", "li@b.org"]),
    ("(see http://user@host.com/x).", ["http://user@host.com/x"]),
])
def test_addresses_are_found_whole_and_without_the_punctuation_after_them(text: str, addresses: list[str]) -> None:
    assert found(text) == addresses


@pytest.mark.parametrize("text", ["@用户名 转发", "//注释", "wwwxyz", "今天天气很好", "a@b", "ftp:/x"])
def test_text_without_an_address_has_none(text: str) -> None:
    assert found(text) == []
