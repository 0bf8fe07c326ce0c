"""What `zhtag.Tagger` answers: frozen records with offsets into the exact input string, so
`text[t.start:t.end] == t.text` always holds and results can be cached, hashed and shared
between threads."""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from data.corpus import Span


@dataclass(frozen=True, repr=False)
class Token:
    """One word of a segmentation."""

    text: str
    start: int
    end: int  # exclusive, a Python str index
    score: float | None = field(default=None, kw_only=True)  # asked for with scores=True: the CRF's marginal probability

    @classmethod
    def of(cls, text: str, span: Span) -> Token:
        return cls(text[span.start : span.end], span.start, span.end, score=span.score)

    def __repr__(self) -> str:
        """The dataclass form, with `score` only when it was asked for."""
        shown = (f"{f.name}={getattr(self, f.name)!r}" for f in sorted(fields(self), key=lambda f: f.kw_only) if f.name != "score" or self.score is not None)
        return f"{type(self).__name__}({', '.join(shown)})"


@dataclass(frozen=True, repr=False)
class PosToken(Token):
    """A word with its part of speech, from the People's Daily (PKU) tag set the pos model learnt."""

    tag: str

    @classmethod
    def of(cls, text: str, span: Span) -> PosToken:
        return cls(text[span.start : span.end], span.start, span.end, span.label or "", score=span.score)


@dataclass(frozen=True)
class Entity:
    """A named entity: type PER, LOC or ORG for the shipped model, with `score`, the
    probability the CRF gives this exact span and type (its marginal), to rank or threshold by."""

    text: str
    type: str
    start: int
    end: int
    score: float

    @classmethod
    def of(cls, text: str, span: Span) -> Entity:
        return cls(text[span.start : span.end], span.label or "", span.start, span.end, span.score or 0.0)
