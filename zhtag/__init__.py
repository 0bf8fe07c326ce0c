"""zhtag for Python users: jieba's functions, answered by a neural tagger, and `Tagger` for
what jieba cannot do (entities, POS, batches, offsets, scores).

    >>> import zhtag
    >>> zhtag.lcut("我爱北京天安门")
    ['我', '爱', '北京', '天安门']
    >>> zhtag.Tagger.load("ner").ner("江泽民在北京会见了联合国秘书长")[0].type
    'PER'

A thin face over the `model.tagger.Tagger` that serves the CLI and the HTTP API. Importing it
loads no model and not torch: the first call does (see docs/API.md).
"""
from __future__ import annotations

import zhtag.own_packages  # noqa: F401  first: it checks that data, model and service are zhtag's
from data.errors import CheckpointError, CorpusError, InputError, ModelNotFound, ZhtagError
from zhtag import posseg
from zhtag.compat import add_word, cut, cut_for_search, del_word, lcut, lcut_for_search, load_userdict, setLogLevel, tokenize
from zhtag.compat import jieba_only
from zhtag.options import IgnoredArgumentWarning
from zhtag.results import Entity, PosToken, Token
from zhtag.tagger import Tagger


def __getattr__(name: str) -> object:
    """`zhtag.__version__`, read from the package metadata on first use (not at import); and
    for jieba's names that zhtag leaves out, an AttributeError saying why (`jieba_only`)."""
    if name == "__version__":
        from model.config import code_version

        return code_version()
    jieba_only(name)


__all__ = [
    "CheckpointError",
    "CorpusError",
    "Entity",
    "IgnoredArgumentWarning",
    "InputError",
    "ModelNotFound",
    "PosToken",
    "Tagger",
    "Token",
    "ZhtagError",
    "add_word",
    "cut",
    "cut_for_search",
    "del_word",
    "lcut",
    "lcut_for_search",
    "load_userdict",
    "setLogLevel",
    "posseg",
    "tokenize",
]
