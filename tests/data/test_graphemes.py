"""Specification of data/graphemes.py: the model reads each user-perceived character (extended
grapheme cluster) as its first code point, and offsets in that view map back to the cluster
starts of the exact text. Text made only of code points in `SINGLE`'s ranges, nearly all
Chinese text, is read as it is."""
from __future__ import annotations

import numpy as np
import regex
from hypothesis import given
from hypothesis import strategies as st

from data.atoms import PICTOGRAPHS
from data.graphemes import SINGLE, GraphemeViews, cluster_starts
from data.text import BREAKS_CLUSTER

JOINER_CHARS = "\u200c\u200d" + "".join(map(chr, range(0xFE00, 0xFE10)))  # data.text.JOINERS
EMOJI = regex.compile(rf"[\p{{Extended_Pictographic}}{PICTOGRAPHS}]")

JOINING = regex.compile(r"[\p{GCB=Extend}\p{GCB=SpacingMark}\p{GCB=ZWJ}\p{GCB=Regional_Indicator}\p{GCB=Prepend}\p{GCB=L}\p{GCB=V}\p{GCB=T}\p{GCB=LV}\p{GCB=LVT}]")
CLUSTERS = ["我", "❤️", "▶️", "©️", "🙂\u200d↔️", "👨‍👩‍👧", "🇨🇳", "🇺", "👍🏽", "é", "e\u0301", "\u0301", "한", "\u1100\u1161", "स्ते", "ｶﾞ", " ", "\u3000", "a", "。", "\u0600", "\u200d", "©", "\u200c", "\ufe0f", "\u3164", "\u115f", "\u1160"]


def single_ranges() -> list[range]:
    bounds = regex.findall(r"(.)-(.)", SINGLE, flags=regex.DOTALL)
    return [range(ord(low), ord(high) + 1) for low, high in bounds]


def test_no_code_point_of_the_single_ranges_joins_a_cluster_or_is_joined_to_one() -> None:
    """The fast path's premise, against Unicode's Grapheme_Cluster_Break property: none of
    these code points continues a cluster, begins one that takes the next (Prepend), or is a
    Hangul jamo or syllable that conjoins."""
    assert all(JOINING.match(ch) for ch in "\u0301\u200d\ufe0f\U0001F1E8\U0001F3FD\u3099\u1100\uac00")
    joining = [hex(code) for block in single_ranges() for code in block if JOINING.match(chr(code))]
    assert sum(map(len, single_ranges())) > 28_000 and joining == []


def test_text_of_single_code_point_characters_is_read_as_it_is() -> None:
    texts = ["我们去公园，ＡＢＣ１２３。", "", "  \t", "café"]
    views = GraphemeViews(texts)
    assert views.views == texts
    offsets = np.array([0, 3, 5])
    assert views.offsets(np.array([0, 1, 3]), offsets) is offsets


def test_each_cluster_is_read_as_its_first_code_point_and_maps_back_to_where_it_begins() -> None:
    text = "我❤️你👨‍👩‍👧一家🇨🇳e\u0301"
    views = GraphemeViews(["好", text])
    assert views.views == ["好", "我❤你👨一家🇨e"]
    starts = views.offsets(np.full(8, 1), np.arange(8))
    assert starts.tolist() == [0, 1, 3, 4, 9, 10, 11, 13]
    assert starts[-1] + len("e\u0301") == len(text)  # the view's end maps to the text's end


def test_a_mark_after_whitespace_stays_apart_so_it_is_never_dropped_with_the_space() -> None:
    assert cluster_starts("好 \u0301了").tolist() == [0, 1, 2, 3]
    assert GraphemeViews(["好 \u0301了"]).views == ["好 \u0301了"]


def whole_text_starts(text: str) -> list[int]:
    """Cluster starts by `\\X` over the whole text; a cluster holding a separator is split
    into its code points, and so are the joiners that end a cluster with no emoji before them."""
    starts: list[int] = []
    for m in regex.finditer(r"\X", text):
        cluster = m.group()
        body = cluster.rstrip(JOINER_CHARS)
        loose = 0 if body and EMOJI.match(body[-1]) else len(cluster) - len(body)
        apart = BREAKS_CLUSTER.search(cluster) or cluster[0] in JOINER_CHARS
        starts.extend(range(m.start(), m.end()) if apart else [m.start(), *range(m.end() - loose, m.end())])
    return starts


@given(st.lists(st.lists(st.sampled_from(CLUSTERS), max_size=8).map("".join), max_size=4), st.text(max_size=12))
def test_views_of_any_texts_map_back_to_each_texts_clusters(texts: list[str], tail: str) -> None:
    texts = [*texts, tail]
    views = GraphemeViews(texts)
    for i, text in enumerate(texts):
        starts = whole_text_starts(text)
        assert views.views[i] == "".join(text[s] for s in starts)
        mapped = views.offsets(np.full(len(starts) + 1, i), np.arange(len(starts) + 1)).tolist()
        assert mapped == [*starts, len(text)]


@given(st.lists(st.sampled_from(CLUSTERS), max_size=12), st.text(max_size=12))
def test_cutting_only_around_the_joining_runs_finds_every_cluster(clusters: list[str], tail: str) -> None:
    text = "".join(clusters) + tail
    assert cluster_starts(text).tolist() == whole_text_starts(text)
