"""Specification of corpus reading and writing: what each format yields, and how bad files fail."""
from __future__ import annotations

import json
import os
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.corpus import Sentence, Span, sentence_from_words
from data.errors import CorpusError, InputError
from data.formats import FORMATS, read_corpus, read_raw, write_corpus

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "corpora"


def write(tmp_path: Path, text: str | bytes, name: str = "corpus.txt") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def fails(path: Path, line: int, problem: str, format: str | None = None, **options: bool) -> None:
    """Reading `path` raises CorpusError naming the file, the line and the problem."""
    with pytest.raises(CorpusError) as caught:
        read_corpus(path, format, **options)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: " if line else f"{path}: ")
    assert problem in caught.value.problem


def entities(sentence: Sentence) -> list[tuple[str, str | None]]:
    return [(sentence.text[s.start : s.end], s.label) for s in sentence.spans]


# ---------------------------------------------------------------- detection and fixtures


@pytest.mark.parametrize(
    ("name", "format", "labelled", "count"),
    [
        ("tiny.seg.txt", "seg", False, 5),
        ("tiny.pos.txt", "pos", True, 6),
        ("tiny.bio", "conll", True, 4),
        ("tiny.bmes", "conll", True, 3),
        ("tiny.cws.bmes", "conll", False, 2),
        ("tiny_cluener.json", "jsonl", True, 4),
        ("tiny.jsonl", "jsonl", True, 3),
    ],
)
def test_format_is_detected_from_the_first_lines(name: str, format: str, labelled: bool, count: int) -> None:
    corpus = read_corpus(FIXTURES / name)
    assert (corpus.format, corpus.labelled, len(corpus.sentences), corpus.skipped) == (format, labelled, count, 0)


def test_one_odd_line_does_not_decide_the_format(tmp_path: Path) -> None:
    path = write(tmp_path, "我们 O\n去 O\n\n好 O\n的 O\n")
    fails(path, 1, "expected one character, got '我们'")
    path = write(tmp_path, "我 爱\n我们  喜欢  读书\n你们  去  哪儿\n")
    assert read_corpus(path).format == "seg"


@pytest.mark.parametrize("text", ["", "\n\n", " \n\u3000\n"])
@pytest.mark.parametrize("format", [None, *FORMATS])
def test_a_file_without_sentences_is_refused_by_name(tmp_path: Path, text: str, format: str | None) -> None:
    """Read as an empty corpus, an empty file was blamed on its format ("needs labelled spans")."""
    fails(write(tmp_path, text), 0, "no sentences: the file is empty or holds blank lines only", format)


@pytest.mark.parametrize(
    ("text", "format", "problem"),
    [("好 X\n\n行 Q\n", "conll", "all 2 malformed sentence(s) skipped"), ("好\n行\n", "pos", "all 2 malformed line(s) skipped")],
)
def test_a_file_whose_every_sentence_is_skipped_is_refused(tmp_path: Path, text: str, format: str, problem: str) -> None:
    fails(write(tmp_path, text), 0, f"no sentences: {problem}", format, skip_bad=True)


# ---------------------------------------------------------------- seg


def test_seg_splits_on_any_whitespace_including_ideographic_space(tmp_path: Path) -> None:
    path = write(tmp_path, "小猫\u3000在\u3000窗台  上\t睡觉\n\n\u3000\n")
    assert read_corpus(path, "seg").sentences == [sentence_from_words(["小猫", "在", "窗台", "上", "睡觉"])]


def test_seg_fixture_keeps_blank_lines_out() -> None:
    sentences = read_corpus(FIXTURES / "tiny.seg.txt").sentences
    assert sentences[2].words() == ["小猫", "在", "窗台", "上", "睡觉", "。"]
    assert all(span.label is None for s in sentences for span in s.spans)


def test_a_utf8_bom_is_not_part_of_the_first_word(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeff今天  很好\n")
    assert read_corpus(path, "seg").sentences[0].words() == ["今天", "很好"]


# ---------------------------------------------------------------- pos


def test_pos_words_carry_their_tags() -> None:
    first = read_corpus(FIXTURES / "tiny.pos.txt").sentences[0]
    assert entities(first) == [("王", "nr"), ("小明", "nr"), ("在", "p"), ("杭州", "ns"), ("工作", "v"), ("。", "w")]


def test_pos_splits_on_the_last_slash(tmp_path: Path) -> None:
    path = write(tmp_path, "１/２/m  杯/q\n")
    assert entities(read_corpus(path, "pos").sentences[0]) == [("１/２", "m"), ("杯", "q")]


def test_entities_from_pos_merge_surname_and_given_name() -> None:
    corpus = read_corpus(FIXTURES / "tiny.pos.txt", entities_from_pos=True)
    assert corpus.labelled
    found = [entities(s) for s in corpus.sentences]
    assert found == [
        [("王小明", "PER"), ("杭州", "LOC")],
        [],
        [("李华", "PER"), ("张伟", "PER"), ("苏州", "LOC")],
        [("成都", "LOC")],
        [("东方", "LOC"), ("南湖", "LOC")],
        [("星光", "ORG")],
    ]
    assert corpus.sentences[1].text == "市气象台预报明天有小雨。"


def test_entities_from_pos_leaves_other_formats_as_they_are() -> None:
    assert read_corpus(FIXTURES / "tiny.bio", entities_from_pos=True) == read_corpus(FIXTURES / "tiny.bio")


@pytest.mark.parametrize(
    ("token", "problem"),
    [("工作", "token '工作' has no /TAG"), ("/v", "token '/v' has an empty word"), ("工作/", "token '工作/' has an empty tag")],
)
def test_bad_pos_tokens_name_their_line(tmp_path: Path, token: str, problem: str) -> None:
    path = write(tmp_path, f"他/r  来/v\n\n我/r  {token}  。/w\n")
    fails(path, 3, problem, "pos")


# ---------------------------------------------------------------- conll


def test_bio_file_yields_typed_entities() -> None:
    sentences = read_corpus(FIXTURES / "tiny.bio").sentences
    assert [entities(s) for s in sentences] == [
        [("王小明", "PER"), ("杭州", "LOC")],
        [],
        [("青山公司", "ORG"), ("成都", "LOC")],
        [("李华", "PER"), ("南京", "LOC")],
    ]


def test_bmes_file_without_final_blank_line_keeps_its_last_sentence() -> None:
    sentences = read_corpus(FIXTURES / "tiny.bmes").sentences
    assert entities(sentences[-1]) == [("汉族", "RACE"), ("中国国籍", "CONT")]
    assert entities(sentences[1]) == [("星光科技公司", "ORG"), ("经理", "TITLE")]


def test_plain_bmes_tags_are_words() -> None:
    corpus = read_corpus(FIXTURES / "tiny.cws.bmes")
    assert not corpus.labelled
    assert [s.words() for s in corpus.sentences] == [["我们", "去", "公园", "。"], ["天气", "很", "好", "。"]]


def test_bio_repairs_a_stray_inside_tag_as_conlleval_does(tmp_path: Path) -> None:
    path = write(tmp_path, "去 O\n杭 I-LOC\n州 I-LOC\n王 B-PER\n明 I-ORG\n")
    assert entities(read_corpus(path).sentences[0]) == [("杭州", "LOC"), ("王", "PER"), ("明", "ORG")]


def test_scheme_is_detected_once_for_the_whole_file(tmp_path: Path) -> None:
    # Alone, the first sentence reads as BIO; the M of the second makes the file BMES, where
    # `B-PER B-PER` is two unfinished names, not two one-character ones.
    path = write(tmp_path, "王 B-PER\n李 B-PER\n\n张 B-PER\n小 M-PER\n伟 E-PER\n")
    fails(path, 2, "tag 'B-PER' cannot follow 'B-PER' in BMES")


@pytest.mark.parametrize(
    ("lines", "line", "problem"),
    [
        ("杭 B-LOC\n州 O\n", 2, "tag 'O' cannot follow 'B-LOC' in BIOES"),
        ("杭 I-LOC\n州 E-LOC\n", 1, "tag 'I-LOC' cannot start a sentence in BIOES"),
        ("去 O\n杭 B-LOC\n", 2, "tag 'B-LOC' cannot end a sentence in BIOES"),
        ("杭 B-LOC\n州 E-ORG\n", 2, "tag 'E-ORG' cannot follow 'B-LOC' in BIOES"),
    ],
)
def test_bioes_order_errors_name_the_offending_tag(tmp_path: Path, lines: str, line: int, problem: str) -> None:
    path = write(tmp_path, "我 S-PER\n\n" + lines)
    fails(path, line + 2, problem)


def test_bmes_order_error_names_the_offending_tag(tmp_path: Path) -> None:
    path = write(tmp_path, "张 B-NAME\n伟 E-NAME\n\n中 B-CONT\n国 M-CONT\n， O\n")
    fails(path, 6, "tag 'O' cannot follow 'M-CONT' in BMES")


def test_segmentation_order_error(tmp_path: Path) -> None:
    path = write(tmp_path, "我 B\n们 E\n\n好 M\n")
    fails(path, 4, "tag 'M' cannot start a sentence in BMES", "conll")


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("北京 B-LOC", "expected one character, got '北京'"),
        ("北 B-LOC extra", "expected 2 fields 'char TAG', got 3"),
        ("北", "expected 2 fields 'char TAG', got 1"),
        ("北 X-PER", "unknown tag prefix 'X' in tag 'X-PER'"),
        ("北 Q", "unknown tag prefix 'Q' in tag 'Q'"),
        ("北 O-LOC", "tag 'O-LOC': O takes no type"),
        ("北 B-", "tag 'B-' has an empty type"),
        ("北 B", "tag 'B' has no type, but this file tags entities"),
    ],
)
def test_bad_conll_lines_name_their_line(tmp_path: Path, bad: str, problem: str) -> None:
    path = write(tmp_path, f"我 O\n\n去 O\n{bad}\n京 I-LOC\n")
    fails(path, 4, problem, "conll")


def test_inside_tag_in_a_bmes_file_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "中 B-CONT\n国 M-CONT\n人 E-CONT\n\n北 B-LOC\n京 I-LOC\n")
    fails(path, 6, "tag prefix 'I' is not valid in BMES")


def test_skip_bad_drops_whole_conll_sentences(tmp_path: Path) -> None:
    path = write(tmp_path, "我 O\n\n北京 B-LOC\n京 X-LOC\n\n杭 B-LOC\n州 E-LOC\n\n杭 B-LOC\n州 O\n\n去 S-LOC\n")
    corpus = read_corpus(path, "conll", skip_bad=True)
    assert corpus.skipped == 2  # the two bad lines of one sentence count once; the BIOES order error once
    assert [s.text for s in corpus.sentences] == ["我", "杭州", "去"]
    assert corpus.skipped_text == "2 malformed sentence(s)"


def test_skipped_lines_are_counted_as_lines_outside_conll(tmp_path: Path) -> None:
    corpus = read_corpus(write(tmp_path, "他/r  来/v\n我\n你\n"), "pos", skip_bad=True)
    assert corpus.skipped_text == "2 malformed line(s)"


BIO_SENTENCE = "王 B-PER\n小 I-PER\n明 I-PER\n在 O\n杭 B-LOC\n州 I-LOC\n\n"  # 7 lines with its blank one


@pytest.mark.parametrize(("stray", "prefix"), [("E-LOC", "E"), ("S-LOC", "S"), ("M-PER", "M")])
def test_one_stray_tag_of_another_scheme_is_an_error_on_its_own_line(tmp_path: Path, stray: str, prefix: str) -> None:
    """The scheme is the one most sentences are valid in: one `E-` in a BIO file used to make
    it BIOES, and the error named the first correct BIO line that BIOES refuses."""
    sentences = [BIO_SENTENCE] * 10
    replaced = "小 I-PER" if prefix == "M" else "州 I-LOC"  # the second line of the sentence, or its sixth
    sentences[6] = BIO_SENTENCE.replace(replaced, f"{replaced[0]} {stray}")
    path = write(tmp_path, "".join(sentences))
    line = 6 * 7 + (2 if prefix == "M" else 6)
    fails(path, line, f"tag prefix '{prefix}' is not valid in BIO (9 of this file's 10 sentences read as BIO)")


def test_skip_bad_drops_only_the_sentence_with_the_stray_tag(tmp_path: Path) -> None:
    path = write(tmp_path, BIO_SENTENCE * 5 + BIO_SENTENCE.replace("州 I-LOC", "州 E-LOC") + BIO_SENTENCE * 5)
    corpus = read_corpus(path, skip_bad=True)
    assert (corpus.skipped, len(corpus.sentences)) == (1, 10)
    assert all(entities(s) == [("王小明", "PER"), ("杭州", "LOC")] for s in corpus.sentences)


def test_one_typed_tag_in_a_segmentation_file_is_an_error_on_its_own_line(tmp_path: Path) -> None:
    path = write(tmp_path, "我 B\n们 E\n\n好 S\n\n北 B-LOC\n京 E-LOC\n\n去 S\n")
    fails(path, 6, "tag 'B-LOC' is not a plain B, M, E or S, but this file tags words (3 of this file's 4 sentences")
    corpus = read_corpus(path, skip_bad=True)
    assert (corpus.labelled, [s.words() for s in corpus.sentences]) == (False, [["我们"], ["好"], ["去"]])


def test_genuine_bioes_and_bmes_files_keep_their_scheme_when_their_tags_are_few(tmp_path: Path) -> None:
    """A BIOES or BMES sentence of short entities (`B-X E-X`, `S-X`) is valid in both, and one
    without entities in every scheme: the tags present decide (`M`: BMES)."""
    bioes = read_corpus(write(tmp_path, "王 B-PER\n明 E-PER\n来 O\n\n李 S-PER\n", "a.bioes")).sentences
    bmes = read_corpus(write(tmp_path, "王 B-PER\n小 M-PER\n明 E-PER\n\n李 S-PER\n", "b.bmes")).sentences
    assert [entities(s) for s in bioes] == [[("王明", "PER")], [("李", "PER")]]
    assert [entities(s) for s in bmes] == [[("王小明", "PER")], [("李", "PER")]]


@pytest.mark.parametrize("separator", [" ", "\t", "\u3000"])
def test_an_ideographic_space_is_a_character_like_any_other(tmp_path: Path, separator: str) -> None:
    """`split()` ate the ideographic space and refused the line as one field."""
    path = write(tmp_path, f"王 B-PER\n明 I-PER\n\u3000{separator}O\n来 O\n\n\u3000\n去 O\n")
    sentences = read_corpus(path, "conll").sentences
    assert [s.text for s in sentences] == ["王明\u3000来", "去"]  # alone on its line, it is a blank line
    assert entities(sentences[0]) == [("王明", "PER")]


@pytest.mark.parametrize("indent", [" ", "\t", " \t"])
def test_a_line_indented_by_spaces_or_tabs_reads_like_any_other(tmp_path: Path, indent: str) -> None:
    """Only a line led by whitespace is split with care for an ideographic space; spaces and tabs
    before the character are still separators."""
    path = write(tmp_path, f"{indent}王 B-PER\n明 I-PER\n{indent}来\tO\n")
    assert [entities(s) for s in read_corpus(path, "conll").sentences] == [[("王明", "PER")]]


# ---------------------------------------------------------------- jsonl


def test_cluener_offsets_are_end_inclusive() -> None:
    first = read_corpus(FIXTURES / "tiny_cluener.json").sentences[0]
    assert first.spans == (Span(0, 3, "name"), Span(4, 8, "company"), Span(10, 13, "position"))


def test_jsonl_keeps_the_text_exactly_and_sorts_spans(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '{"text": " 上海 今天", "entities": [{"start": 4, "end": 6, "type": "DATE"}, {"start": 1, "end": 3, "type": "LOC"}]}\n',
    )
    sentence = read_corpus(path).sentences[0]
    assert sentence.text == " 上海 今天"
    assert entities(sentence) == [("上海", "LOC"), ("今天", "DATE")]


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ('{"text": "你好"', "invalid JSON"),
        ('{"text": "你好", "entities": ' + "[" * 100_000 + "]" * 100_000 + "}", "JSON nested too deeply"),
        ('["你好"]', "expected a JSON object, got list"),
        ('{"label": {}}', "missing or non-string 'text'"),
        ('{"text": 3}', "missing or non-string 'text'"),
        ('{"text": "李华", "entities": [{"start": 0, "end": 3, "type": "PER"}]}', "'PER' [0, 3) is out of range for a text of 2"),
        ('{"text": "李华", "entities": [{"start": -1, "end": 1, "type": "PER"}]}', "'PER' [-1, 1) is out of range"),
        ('{"text": "李华", "entities": [{"start": 1, "end": 1, "type": "PER"}]}', "'PER' [1, 1): start is not before end"),
        ('{"text": "李华", "entities": [{"start": 0, "end": "2", "type": "PER"}]}', "integer offsets"),
        ('{"text": "李华", "label": {"name": {"李华": [[0, 2]]}}}', "'name' [0, 2] is out of range for a text of 2"),
        ('{"text": "李华", "label": {"name": {"李华": [[1, 0]]}}}', "'name' [1, 0]: start is not before end"),
        ('{"text": "我在杭州西湖", "label": {"scene": {"西湖": [[3, 4]]}}}', "mention '西湖' does not match text[3:5] '州西'"),
        ('{"text": "李华", "label": {"name": ["李华"]}}', "'label' must be"),
        (
            '{"text": "南京大学", "label": {"address": {"南京": [[0, 1]]}, "organization": {"南京大学": [[0, 3]]}}}',
            "entities overlap: 'address' [0, 2) and 'organization' [0, 4)",
        ),
    ],
)
def test_bad_jsonl_records_name_their_line(tmp_path: Path, record: str, problem: str) -> None:
    path = write(tmp_path, '{"text": "好"}\n\n' + record + "\n")
    fails(path, 3, problem, "jsonl")


def test_a_line_cut_short_is_reported_as_unterminated(tmp_path: Path) -> None:
    """Its newline, handed to the parser, read as an "Invalid control character at at column"."""
    path = write(tmp_path, '{"text": "好"}\n{"text": "今天天气\n{"text": "行"}\r\n')
    fails(path, 2, "invalid JSON: Unterminated string starting at column 10", "jsonl")
    path = write(tmp_path, '{"text": "好"}\r\n{"text": "好" "x"}\r\n')
    fails(path, 2, "invalid JSON: Expecting ',' delimiter at column 14", "jsonl")


def test_skip_bad_counts_skipped_lines(tmp_path: Path) -> None:
    path = write(tmp_path, '{"text": "好"}\n{"text": 1}\nnot json\n{"text": "行"}\n')
    corpus = read_corpus(path, "jsonl", skip_bad=True)
    assert (corpus.skipped, [s.text for s in corpus.sentences]) == (2, ["好", "行"])


# ---------------------------------------------------------------- errors of any format

HUGE = "字" * 100_000


@pytest.mark.parametrize(
    ("line", "format", "problem"),
    [
        (f"{HUGE} O", "conll", "expected one character, got '字字字"),
        (f"好 {HUGE}", "conll", "unknown tag prefix '字字字"),
        (f"我/r  {HUGE}", "pos", "token '字字字"),
        (json.dumps({"text": HUGE, "label": {"name": {f"{HUGE[1:]}x": [[0, 99_999]]}}}), "jsonl", "mention '字字字"),
        (json.dumps({"text": "好", "entities": [{"start": 0, "end": 1, "type": HUGE}] * 2}), "jsonl", "overlap: '字字字"),
    ],
    ids=["conll char", "conll tag", "pos token", "jsonl mention", "jsonl type"],
)
def test_a_huge_field_is_quoted_in_part_with_its_length(tmp_path: Path, line: str, format: str, problem: str) -> None:
    """A malformed line of megabytes made a one-line error of megabytes."""
    with pytest.raises(CorpusError) as caught:
        read_corpus(write(tmp_path, f"{line}\n"), format)
    assert problem in caught.value.problem
    assert "… (100,000 characters)" in caught.value.problem and len(caught.value.problem) < 250



def test_invalid_utf8_is_reported_on_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "今天  很好\n明天".encode() + b"\xff" + "  下雨\n".encode())
    fails(path, 2, "invalid UTF-8 at byte 7", "seg")
    corpus = read_corpus(path, "seg", skip_bad=True)
    assert (corpus.skipped, len(corpus.sentences)) == (1, 1)


def test_invalid_utf8_in_conll_drops_its_sentence(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xe6\x88\x91 O\n\n\xff O\n\xe5\xa5\xbd O\n")
    fails(path, 3, "invalid UTF-8", "conll")
    assert read_corpus(path, "conll", skip_bad=True).skipped == 1


def test_raw_text_is_its_non_blank_lines_as_written(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeff今天 很好\r\n\n  \n明天下雨。\n".encode())
    assert read_raw(path) == ["今天 很好", "明天下雨。"]


def test_invalid_utf8_in_raw_text_is_reported_on_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "今天很好\n明天".encode() + b"\xff\n" + "好\n".encode())
    with pytest.raises(CorpusError, match=r":2: invalid UTF-8"):
        read_raw(path)
    assert read_raw(path, skip_bad=True) == ["今天很好", "好"]


def test_a_missing_file_is_reported_as_line_zero_and_named_alone(tmp_path: Path) -> None:
    fails(tmp_path / "absent.txt", 0, "file not found")
    fails(tmp_path / "absent.txt", 0, "file not found", "conll")


def test_unknown_format_is_refused() -> None:
    with pytest.raises(InputError, match="unknown corpus format 'xml'"):
        read_corpus(FIXTURES / "tiny.seg.txt", "xml")


# ---------------------------------------------------------------- writing and round trips

HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)


@st.composite
def tiled(draw: st.DrawFn, labels: st.SearchStrategy[str | None]) -> Sentence:
    """A random Chinese text cut into pieces, each piece labelled by `labels` (None: unlabelled)."""
    text = draw(st.text(HAN, min_size=1, max_size=20))
    cuts = sorted(draw(st.sets(st.integers(1, len(text) - 1), max_size=8)) | {0, len(text)}) if len(text) > 1 else [0, 1]
    return Sentence(text, tuple(Span(a, b, draw(labels)) for a, b in pairwise(cuts)))


@st.composite
def with_entities(draw: st.DrawFn) -> Sentence:
    """Random entities: the pieces of a tiling that drew a type; adjacent entities of one type too."""
    pieces = draw(tiled(st.sampled_from([None, "PER", "LOC", "ORG"])))
    return Sentence(pieces.text, tuple(s for s in pieces.spans if s.label is not None))


ENTITY_CORPORA = st.lists(with_entities(), min_size=1, max_size=4)
WORD_CORPORA = st.lists(tiled(st.none()), min_size=1, max_size=4)
POS_CORPORA = st.lists(tiled(st.sampled_from(["n", "v", "nr", "w"])), min_size=1, max_size=4)


def round_trip(sentences: list[Sentence], path: Path, format: str, scheme: str = "BIO") -> list[Sentence]:
    write_corpus(sentences, path, format, scheme)
    return read_corpus(path, format).sentences


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("scheme", ["BIO", "BIOES", "BMES"])
@FAST
@given(sentences=ENTITY_CORPORA)
def test_conll_round_trip_in_every_scheme(tmp_path: Path, scheme: str, sentences: list[Sentence]) -> None:
    assert round_trip(sentences, tmp_path / "c.conll", "conll", scheme) == sentences


@FAST
@given(sentences=ENTITY_CORPORA)
def test_jsonl_round_trip(tmp_path: Path, sentences: list[Sentence]) -> None:
    assert round_trip(sentences, tmp_path / "c.jsonl", "jsonl") == sentences


@FAST
@given(sentences=WORD_CORPORA)
def test_word_round_trip_in_seg_and_conll(tmp_path: Path, sentences: list[Sentence]) -> None:
    assert round_trip(sentences, tmp_path / "c.seg", "seg") == sentences
    assert round_trip(sentences, tmp_path / "c.conll", "conll") == sentences


@FAST
@given(sentences=POS_CORPORA)
def test_pos_round_trip(tmp_path: Path, sentences: list[Sentence]) -> None:
    assert round_trip(sentences, tmp_path / "c.pos", "pos") == sentences


@pytest.mark.parametrize("name", ["tiny.seg.txt", "tiny.pos.txt", "tiny.bio", "tiny.bmes", "tiny.cws.bmes", "tiny_cluener.json"])
def test_fixture_round_trip(tmp_path: Path, name: str) -> None:
    corpus = read_corpus(FIXTURES / name)
    assert round_trip(corpus.sentences, tmp_path / "out", corpus.format, "BMES") == corpus.sentences


def test_written_formats_look_as_documented(tmp_path: Path) -> None:
    words = sentence_from_words(["王", "小明", "来", "了"], ["nr", "nr", "v", "y"])
    names = Sentence("王小明来了", (Span(0, 3, "PER"),))
    write_corpus([words], tmp_path / "a", "seg")
    write_corpus([words], tmp_path / "b", "pos")
    write_corpus([Sentence(words.text, tuple(Span(s.start, s.end) for s in words.spans))], tmp_path / "c", "conll")
    write_corpus([names], tmp_path / "d", "jsonl")
    assert (tmp_path / "a").read_text(encoding="utf-8") == "王  小明  来  了\n"
    assert (tmp_path / "b").read_text(encoding="utf-8") == "王/nr  小明/nr  来/v  了/y\n"
    assert (tmp_path / "c").read_text(encoding="utf-8") == "王 S\n小 B\n明 E\n来 S\n了 S\n\n"
    assert (tmp_path / "d").read_text(encoding="utf-8") == (
        '{"text": "王小明来了", "entities": [{"start": 0, "end": 3, "type": "PER"}]}\n'
    )


@pytest.mark.parametrize(
    ("scheme", "tags"),
    [
        ("BIO", "B-PER I-PER I-PER B-PER O B-LOC I-LOC"),
        ("BIOES", "B-PER I-PER E-PER S-PER O B-LOC E-LOC"),
        ("BMES", "B-PER M-PER E-PER S-PER O B-LOC E-LOC"),
    ],
)
def test_conll_is_written_in_the_requested_scheme(tmp_path: Path, scheme: str, tags: str) -> None:
    sentence = Sentence("王小明李来上海", (Span(0, 3, "PER"), Span(3, 4, "PER"), Span(5, 7, "LOC")))
    write_corpus([sentence], tmp_path / "c", "conll", scheme)
    lines = (tmp_path / "c").read_text(encoding="utf-8").splitlines()
    assert lines == [f"{char} {tag}" for char, tag in zip(sentence.text, tags.split())] + [""]


@pytest.mark.parametrize(
    ("sentence", "format", "problem"),
    [
        (Sentence("王小明来了", (Span(0, 3, "PER"),)), "seg", "seg needs words that tile the text"),
        (sentence_from_words(["上海", " ", "晴"]), "seg", "seg cannot hold whitespace"),
        (sentence_from_words(["上海", "晴"]), "pos", "label None cannot be written as a tag"),
        (sentence_from_words(["上海", "晴"], ["n/s", "a"]), "pos", "label 'n/s' cannot be written"),
        (Sentence("南京大学", (Span(0, 2, "LOC"), Span(0, 4, "ORG"))), "conll", "its spans overlap"),
        (Sentence("南京大学", (Span(0, 2, None),)), "conll", "conll needs words that tile the text"),
    ],
)
def test_writing_what_a_format_cannot_hold_is_refused(sentence: Sentence, format: str, problem: str, tmp_path: Path) -> None:
    path = write(tmp_path, "旧的  内容\n")
    with pytest.raises(InputError, match=problem):
        write_corpus([sentence_from_words(["好"], ["a"]), sentence], path, format)
    assert path.read_text(encoding="utf-8") == "旧的  内容\n"  # the old file survives a failed write
    assert os.listdir(tmp_path) == ["corpus.txt"]  # and no temporary file is left behind


def test_unknown_scheme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown tag scheme 'IOB2'"):
        write_corpus([], tmp_path / "x", "conll", "IOB2")
