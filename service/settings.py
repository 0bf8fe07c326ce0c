"""The service's one configuration class, read from `ZHTAG_*` environment variables."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHTAG_")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    models: list[str] = ["cws", "ner", "pos"]  # loaded at start, so a bad one fails at once
    device: str = "auto"
    max_batch_chars: int = Field(16_000, ge=1, description="characters merged into one tagger call")
    max_wait_ms: float = Field(5.0, ge=0, description="longest a batch waits for more requests")
    max_queue: int = Field(512, ge=1, description="queued requests beyond which callers get 429")
