"""Request and response bodies. Input limits live here as `Field` constraints, so FastAPI
refuses oversize input with a 422 naming the field before any tagging starts."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from data.errors import CorpusError
from data.dictfile import parse_dictionary
from data.script import Script
from model.store import REF_PATTERN

MAX_TEXTS = 256  # per-text length is `Settings.max_text_chars`, checked in the route
MAX_USER_WORDS = 10_000


class TagRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelled option is refused, not silently left at its default

    texts: list[str] = Field(..., min_length=1, max_length=MAX_TEXTS)
    model: str | None = Field(None, max_length=80, pattern=rf"^{REF_PATTERN}$", description="model reference, e.g. 'cws' or 'cws@2'")
    user_dict: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=MAX_USER_WORDS,
        description="extra words for the lexicon features, each a jieba dictionary line: 'word', 'word tag' or 'word freq tag'; "
        "in force mode the tag holds the word to it (pos: a POS tag; ner: nr, ns, nt or an entity type)",
    )
    dictionary: str | None = Field(None, max_length=64, description="a named dictionary (PUT /v1/dictionaries/{name}) to use with user_dict")
    user_dict_mode: Literal["prefer", "force"] = Field(
        "prefer",
        description="prefer: the model weighs user_dict and dictionary; force: their words are kept whole where they cut no other "
        "(ner: their words tagged nr, ns, nt or an entity type are held to that entity)",
    )
    min_score: float = Field(0.0, ge=0.0, le=1.0, description="entities only: leave out those the model gives a lower probability")
    scores: StrictBool = Field(False, description="segment and pos: give each token its score (entities always have one)")
    script: Script = Field(
        "auto", description="traditional texts are tagged through a character-by-character mapping to simplified; auto: detected per text"
    )

    @field_validator("user_dict")
    @classmethod
    def _dictionary_lines(cls, lines: list[str]) -> list[str]:
        """Each item is a jieba dictionary line holding a word; the first bad one is named."""
        blank = next((i for i, line in enumerate(lines) if not line.split()), len(lines))
        try:
            parse_dictionary(lines[:blank], "user_dict")
        except CorpusError as err:
            raise ValueError(f"user_dict[{err.line - 1}]: {err.problem}") from None
        if blank < len(lines):
            raise ValueError(f"user_dict[{blank}] holds no word")
        return lines

    @property
    def user_words(self) -> dict[str, str]:
        """The request's own dictionary, word -> tag ("" for none)."""
        return parse_dictionary(self.user_dict, "user_dict")

    @field_validator("texts")
    @classmethod
    def _encodable(cls, texts: list[str]) -> list[str]:
        """JSON escapes can carry lone surrogates, which no answer could encode as UTF-8."""
        for i, text in enumerate(texts):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as err:
                raise ValueError(f"texts[{i}] holds a lone surrogate at offset {err.start}") from None
        return texts


class ModelRef(BaseModel):
    name: str
    version: int


OFFSET = "an offset into the request's text in Unicode code points (as Python indexes str), not UTF-16 units: a JavaScript client counts an emoji as two"


class Token(BaseModel):
    text: str
    start: int = Field(..., description=f"where it begins: {OFFSET}")
    end: int = Field(..., description=f"where it ends, exclusive: {OFFSET}")
    score: float | None = Field(None, ge=0, le=1, description="with scores: the word's (pos: word and tag's) marginal probability under the CRF")


class TaggedToken(Token):
    tag: str


class Entity(BaseModel):
    text: str
    type: str
    start: int = Field(..., description=f"where it begins: {OFFSET}")
    end: int = Field(..., description=f"where it ends, exclusive: {OFFSET}")
    score: float = Field(..., ge=0, le=1, description="the entity's marginal probability under the CRF")


class Tokens(BaseModel):
    tokens: list[Token]


class TaggedTokens(BaseModel):
    tokens: list[TaggedToken]


class Entities(BaseModel):
    entities: list[Entity]


class SegmentResponse(BaseModel):
    model: ModelRef
    results: list[Tokens]


class PosResponse(BaseModel):
    model: ModelRef
    results: list[TaggedTokens]


class NerResponse(BaseModel):
    model: ModelRef
    results: list[Entities]


class ActivateRequest(BaseModel):
    version: int = Field(..., ge=1)


class ErrorBody(BaseModel):
    """Every error's body: `error` names its kind (`InputError`, `ValidationError`, `QueueFull`,
    the reason phrase of a framework error such as `NotFound`), `detail` says what is wrong: a
    string, or for `ValidationError` one problem per bad field (`loc`, `msg`, `type`)."""

    error: str
    detail: str | list[dict]
    file: str | None = Field(None, description="CorpusError: the corpus")
    line: int | None = Field(None, description="CorpusError: its 1-based line")
    problem: str | None = Field(None, description="CorpusError: what is wrong with the line")


ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorBody, "description": why}
    for status, why in {
        400: "a body that cannot be read (not UTF-8, compressed, cut off)",
        401: "an admin route without the right bearer token",
        403: "admin routes disabled, or a corpus path outside ZHTAG_CORPORA",
        404: "no such model, version, job or dictionary",
        409: "the store refuses the change (a damaged version, nothing to roll back to)",
        413: "a body over the size limit",
        415: "a JSON body sent under another content type (curl -d without -H 'content-type: application/json')",
        422: "bad input: each bad field, or a malformed corpus's file and line",
        429: "the queue is full; retry after Retry-After seconds",
        503: "models still loading, or jobs unavailable; retry after Retry-After seconds",
        504: "not answered within request_timeout_ms",
    }.items()
}
