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
