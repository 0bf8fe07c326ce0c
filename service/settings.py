"""The service's one configuration class, from `ZHTAG_*` environment variables (and the flags
of `zhtag serve`), checked when the service starts."""
from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from model.config import TASKS
from model.device import PRECISIONS


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHTAG_")

    host: str = Field("127.0.0.1", description="address to listen on (zhtag serve --host); 0.0.0.0 for every interface")
    port: int = Field(8000, ge=1, le=65535, description="port to listen on (zhtag serve --port)")
    workers: int = Field(1, ge=1, le=64, description="server processes, each with its own models (zhtag serve --workers)")
    models: Annotated[list[str], NoDecode] = Field(  # by default the shipped models, one per task and named for it
        list(TASKS), description="models loaded and warmed at start, which /readyz waits for (comma-separated); any other is loaded on its first request"
    )
    device: str = Field("auto", description="cpu, cuda, cuda:N; auto: a GPU where there is one")
    precision: Literal[PRECISIONS] = Field("auto", description="the LSTM's dtype on the CPU; auto: bfloat16 where the CPU multiplies it natively; float32: exactly what training computes")
    threads: int | None = Field(None, ge=1, le=256, description="torch threads per worker; unset: cores / workers, less one for the event loop")
    max_batch_chars: int = Field(16_000, ge=1, description="characters merged into one tagger call")
    max_wait_ms: float = Field(5.0, ge=0, le=10_000, description="longest a batch waits for more requests")
    max_queue: int = Field(512, ge=1, description="queued requests beyond which callers get 429")
    max_text_chars: int = Field(10_000, ge=1, description="longest text one request may send")
    max_body_bytes: int = Field(4_000_000, ge=1, description="largest request body; larger is 413")
    request_timeout_ms: float = Field(30_000, gt=0, description="a request not answered by then gets 504 and is dropped")
    body_timeout_s: float = Field(30.0, gt=0, le=3600, description="a request body not received whole by then gets 408: a client trickling its body holds no connection longer")
    shutdown_timeout_s: int = Field(20, ge=1, le=3600, description="after SIGTERM, connections still open by then are closed, so a slow client cannot hold the shutdown")
    max_connections: int | None = Field(None, ge=1, description="connections and requests at once beyond which new ones get 503 (uvicorn's limit_concurrency); unset: no limit")
    max_pinned_versions: int = Field(2, ge=0, le=64, description="versions that requests name by @N, besides the active ones and those ZHTAG_MODELS names, kept loaded at once; the least recently used is unloaded")
    max_cached_dictionaries: int = Field(16, ge=1, le=4096, description="named dictionaries kept read into lexicons; the least recently used is read again when next used")
    watch_interval_s: float = Field(2.0, gt=0, le=3600, description="how often the store is checked for newly activated versions")
    corpora: Path | None = Field(None, description="directory training jobs may name corpora in by path; unset = uploads only")
    max_upload_bytes: int = Field(256 * 2**20, ge=1, description="largest request body of POST /v1/train and PUT /v1/dictionaries/{name}")
    max_running_jobs: int = Field(1, ge=0, le=64, description="training jobs run at once across the servers sharing a job table; 0: this server queues jobs and leaves running them to another (a trainer)")
    job_threads: int = Field(1, ge=1, le=256, description="torch threads of each training job's process")
    cors_origins: Annotated[list[str], NoDecode] = Field([], description="browser origins allowed to call the API; none by default")
    admin_token: SecretStr | None = Field(None, description="bearer token for mutating endpoints; unset = they answer 403")

    @field_validator("models", "cors_origins", mode="before")
    @classmethod
    def _model_list(cls, value: object) -> object:
        """A list variable may be JSON or, as people write it in a shell, `cws,ner`."""
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [ref.strip() for ref in text.split(",") if ref.strip()]
        return value

    @field_validator("admin_token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        """An empty ZHTAG_ADMIN_TOKEN (compose's default) must close admin endpoints, not
        open them to an empty bearer."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("admin_token")
    @classmethod
    def _token_fits_a_header(cls, value: SecretStr | None) -> SecretStr | None:
        """HTTP headers carry Latin-1 bytes, and clients send UTF-8: a token beyond printable
        ASCII could never be matched, so the admin would be shut out without a word."""
        if value is not None and not re.fullmatch(r"[!-~]+", value.get_secret_value()):
            raise ValueError("must be printable ASCII without spaces, as an HTTP header carries it")
        return value

    @property
    def torch_threads(self) -> int:
        """On a 2-core machine one worker tags fastest with one torch thread: the second core
        is the event loop's, which parses and answers requests while a batch computes."""
        return self.threads or max(1, (os.cpu_count() or 1) // self.workers - 1)

    @model_validator(mode="after")
    def _text_fits_a_batch(self) -> Self:
        if self.max_text_chars > self.max_batch_chars:
            raise ValueError(
                f"ZHTAG_MAX_TEXT_CHARS ({self.max_text_chars}) must not exceed ZHTAG_MAX_BATCH_CHARS ({self.max_batch_chars}): "
                "a text must fit in one batch"
            )
        return self


READ_ELSEWHERE = frozenset({"ZHTAG_STORE", "ZHTAG_STORE_OPTIONS", "ZHTAG_WORKDIR", "ZHTAG_CACHE"})  # model.store, model.objectroot, data.lexicon


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A line for each ZHTAG_* variable that no part of zhtag reads, with the setting it is
    nearest to: pydantic-settings ignores them, so `ZHTAG_MAX_QUEU=5` would pass unnoticed."""
    known = {f"ZHTAG_{name.upper()}" for name in Settings.model_fields} | READ_ELSEWHERE
    lines = []
    for name in sorted(n for n in environ if n.startswith("ZHTAG_") and n not in known):
        near = difflib.get_close_matches(name.removeprefix("ZHTAG_"), sorted(k.removeprefix("ZHTAG_") for k in known), n=1)  # the shared prefix would make every name look near
        lines.append(f"{name} is no setting of zhtag's and is ignored" + (f"; did you mean ZHTAG_{near[0]}?" if near else ""))
    return lines
