"""Specification of data/atoms.py: web and e-mail addresses, and numbers with a decimal point,
thousands separators, or digits joined by dots or hyphens, are found whole, in ASCII or full-width forms, without the
punctuation that follows them, and never overlapping; every emoji is found."""
from __future__ import annotations

import pytest
import regex

from data.atoms import PICTOGRAPHS, atom_spans, symbol_positions


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


@pytest.mark.parametrize("text, numbers", [
    ("圆周率是3.14159265，人口为12,345,678人。", ["3.14159265", "12,345,678"]),
    ("增长１２．３％，达到１．５万亿元", ["１２．３％", "１．５万亿"]),  # as People's Daily writes them: one word with ％, 万, 亿
    ("价格在０．４－０．６元之间", ["０．４－０．６"]),
    ("，3.5，", ["3.5"]),
])
def test_numbers_are_found_whole_with_what_the_standard_writes_with_them(text: str, numbers: list[str]) -> None:
    assert found(text) == numbers


@pytest.mark.parametrize("text, numbers", [
    ("日期：１９９７．８．１２", ["１９９７．８．１２"]),  # one word in People's Daily
    ("IP地址192.168.1.1无法访问", ["192.168.1.1"]),
    ("会议定于2024-03-05召开，电话010-12345678", ["2024-03-05", "010-12345678"]),  # cut at a hyphen, "-03" reads as minus three
    ("手机号138-1234-5678，第3-5页，1.5-2米，2-3.5米", ["138-1234-5678", "3-5", "1.5-2", "2-3.5"]),
])
def test_digits_joined_by_dots_or_hyphens_are_one_number(text: str, numbers: list[str]) -> None:
    assert found(text) == numbers


@pytest.mark.parametrize("text", [
    "a" * 20_000, "www" + "a" * 20_000, "我" + "a" * 20_000 + "@", "a@" + "b" * 20_000, "a@" + "b.1" * 7_000,
])
def test_long_runs_of_letters_beside_an_at_sign_or_ww_hold_no_address(text: str) -> None:
    """Inputs on which unbounded address parts once took time quadratic in the run's length."""
    assert found(text) == []


@pytest.mark.parametrize("text, numbers", [
    ("９１７．０２９１４．０６１５１０．１８", []),
    ("６．６７３．５８１．０９", []),
    ("山西１．３０．９０．５", []),  # １．３ ０．９ ０．５ in the gold
    ("３９２１·１４－０·５６", []),  # the middle dot is People's Daily's decimal point too
])
def test_figures_run_together_as_in_a_table_are_no_one_number(text: str, numbers: list[str]) -> None:
    """People's Daily's raw text joins a table's figures without spaces; the gold writes each alone.
    Held whole, 40 lines of the month lost 109 gold words."""
    assert found(text) == numbers


@pytest.mark.parametrize("text", ["版本v1.2.3发布", "１，２，３", "1,2345", "iPhone15售价5999元", "2024年11月29日", "比分2:1"])
def test_versions_lists_and_plain_integers_are_no_numbers_to_hold(text: str) -> None:
    assert found(text) == []


def test_every_pictograph_and_regional_indicator_beyond_the_cjk_blocks_is_an_emoji() -> None:
    """Unicode's Extended_Pictographic property, from the `regex` package: the copyright sign,
    arrows and the CJK signs below U+2600 stay ordinary characters."""
    pictographic = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}]")
    wanted = [chr(c) for c in range(0x2600, 0x110000) if pictographic.match(chr(c)) and not 0x2E80 <= c < 0xA000]
    text = "".join(wanted)
    assert symbol_positions(text) == list(range(len(text)))
    assert regex.fullmatch(f"[{PICTOGRAPHS}]+", text)


def test_symbols_are_words_of_their_own_but_those_people_s_daily_writes_inside_words() -> None:
    text = "张三@李四，#话题#，¥99，●要点，30℃，二○○二年，１∶１１，××同志，±５，C+。、“”《》（）"
    assert [text[at] for at in symbol_positions(text)] == ["@", "#", "#", "¥", "●", "℃"]
