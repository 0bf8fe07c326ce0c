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


def test_the_image_installs_under_the_constraints_file_it_copies() -> None:
    assert "constraints.txt" in next(line for line in DOCKERFILE.splitlines() if line.startswith("COPY pyproject.toml"))
    assert "-c constraints.txt" in next(line for line in DOCKERFILE.splitlines() if line.startswith("RUN pip install"))


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


def scale_service(name: str) -> dict:
    service = COMPOSE["services"][name]
    assert service.get("profiles") == ["scale"], f"{name} belongs to the scale profile only"
    return service


def test_the_scale_profile_shares_one_object_store_and_one_working_volume() -> None:
    replica, trainer = scale_service("replica"), scale_service("trainer")
    assert replica["environment"]["ZHTAG_STORE"] == trainer["environment"]["ZHTAG_STORE"]
    assert replica["environment"]["ZHTAG_STORE"].startswith("s3://")
    assert replica["volumes"] == trainer["volumes"] and replica["volumes"][0].endswith(":" + replica["environment"]["ZHTAG_WORKDIR"])
    options = json.loads(replica["environment"]["ZHTAG_STORE_OPTIONS"])
    assert options["endpoint_url"].startswith("http://s3:") and "s3" in COMPOSE["services"]


def test_in_the_scale_profile_only_the_trainer_runs_jobs() -> None:
    settings = lambda name: Settings(**{k[6:].lower(): v for k, v in scale_service(name)["environment"].items()  # noqa: E731
                                        if k.startswith("ZHTAG_") and k[6:].lower() in Settings.model_fields})
    assert settings("replica").max_running_jobs == 0
    assert settings("trainer").max_running_jobs >= 1


def test_the_load_balancer_spreads_requests_over_the_replicas() -> None:
    config = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    lb = scale_service("lb")
    assert any(v.startswith("./deploy/nginx.conf:") for v in lb["volumes"])
    assert re.search(rf"server replica:{Settings().port} resolve;", config) and "proxy_pass http://replicas;" in config


def test_the_load_balancer_passes_tagging_but_never_training_on_to_another_replica() -> None:
    """A replica still warming answers 503; a tagging request may be sent again, a job may not."""
    config = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    tagging = re.search(r"location ~ \^/v1/\(segment\|pos\|ner\)\$ \{(.*?)\}", config, re.S)
    assert tagging and "http_503 non_idempotent;" in tagging.group(1)
    assert "non_idempotent" not in config.split("location / {", 1)[1]
