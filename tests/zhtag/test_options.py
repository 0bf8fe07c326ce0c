"""Specification of zhtag/options.py: jieba's arguments that mean nothing here are ignored with
a warning when the answer keeps its shape, refused when it would not, silent at jieba's defaults."""
from __future__ import annotations

import warnings

import pytest

from data.errors import InputError
from zhtag.options import IgnoredArgumentWarning, check_jieba_options


def test_jiebas_defaults_pass_silently() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_jieba_options(cut_all=False, mode="default", HMM=True, use_paddle=False, freq=None)


def test_values_jieba_reads_as_its_defaults_pass_silently_too() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_jieba_options(cut_all=None, HMM="yes", use_paddle=0)


@pytest.mark.parametrize(("name", "value"), [("HMM", False), ("HMM", None), ("use_paddle", True), ("freq", 10)])
def test_knobs_of_jiebas_own_algorithm_are_ignored_with_a_warning(name: str, value: object) -> None:
    with pytest.warns(IgnoredArgumentWarning, match=rf"^{name}={value!r} is ignored: "):
        check_jieba_options(**{name: value})


@pytest.mark.parametrize(("name", "value"), [("cut_all", True), ("cut_all", 1), ("mode", "search")])
def test_asking_for_overlapping_words_is_refused(name: str, value: object) -> None:
    with pytest.raises(InputError, match=rf"^{name}={value!r} is refused: .*overlapping.*; leave {name} out$"):
        check_jieba_options(**{name: value})


def test_an_ignored_argument_warning_is_a_user_warning() -> None:
    assert issubclass(IgnoredArgumentWarning, UserWarning)
