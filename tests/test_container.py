"""The Dockerfile and docker-compose.yml agree with the code (no Docker engine here to run them)."""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from service.app import create_app
from service.cli import main
from service.settings import Settings

ROOT = Path(__file__).parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
API = COMPOSE["services"]["api"]


def instruction(name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in DOCKERFILE.splitlines() if line.startswith(name + " ")]


def docker_env() -> dict[str, str]:
    text = DOCKERFILE.replace("\\\n", " ")
    env_lines = [line.split(None, 1)[1] for line in text.splitlines() if line.startswith("ENV ")]
    return dict(pair.split("=", 1) for line in env_lines for pair in line.split())


def test_the_image_runs_the_serve_command_of_the_console_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert json.loads(instruction("CMD")[-1]) == ["zhtag", "serve"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["zhtag"] == "service.cli:main"
    with pytest.raises(SystemExit) as done:
        main(["serve", "--help"])
    assert done.value.code == 0 and "--port" in capsys.readouterr().out


def test_the_image_runs_as_a_non_root_user_on_a_slim_python_base() -> None:
    assert instruction("USER")[-1] not in ("root", "0")
    assert "ARG BASE=python:3.11-slim" in DOCKERFILE


def test_port_agrees_between_image_compose_and_settings() -> None:
    port = int(docker_env()["ZHTAG_PORT"])
    assert instruction("EXPOSE") == [str(port)]
    assert f"{port}:{port}" in API["ports"]
    assert int(API["environment"]["ZHTAG_PORT"]) == port == Settings().port


def test_the_named_volume_is_mounted_at_the_store_root() -> None:
    volume, mount = API["volumes"][0].split(":")
    assert volume in COMPOSE["volumes"]
    assert mount == API["environment"]["ZHTAG_STORE"] == docker_env()["ZHTAG_STORE"]


def test_the_healthcheck_asks_the_readiness_route() -> None:
    probe = " ".join(API["healthcheck"]["test"])
    path = re.search(r"127\.0\.0\.1:(\d+)(/\w+)", probe)
    assert path is not None and int(path.group(1)) == int(API["environment"]["ZHTAG_PORT"])
    assert path.group(2) == "/readyz" and "/readyz" in create_app(Settings(models=[])).openapi()["paths"]


def test_compose_configures_models_the_settings_accept() -> None:
    assert Settings(models=json.loads(API["environment"]["ZHTAG_MODELS"])).models == ["cws", "ner", "pos"]
