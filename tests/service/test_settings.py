"""The service's settings come from ZHTAG_* variables and flags and are checked before the
server starts: a bad value stops `zhtag serve` with one line and exit code 1."""
from __future__ import annotations

from pathlib import Path

import pytest

from service.cli import main
from service.settings import Settings, unknown_variables


@pytest.mark.parametrize("value", ["cws,ner", " cws , ner ", '["cws", "ner"]'])
def test_models_are_read_as_a_comma_list_or_json(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHTAG_MODELS", value)
    assert Settings().models == ["cws", "ner"]


def test_a_text_must_fit_a_batch() -> None:
    with pytest.raises(ValueError, match="max_text_chars"):
        Settings(max_text_chars=20_000, max_batch_chars=16_000)


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [("ZHTAG_MAX_TEXT_CHARS", "99999", "ZHTAG_MAX_TEXT_CHARS (99999)"), ("ZHTAG_PORT", "seventy", "ZHTAG_PORT"), ("ZHTAG_MODELS", "[not json", "ZHTAG_MODELS")],
)
def test_serve_refuses_a_bad_setting_in_one_line(
    variable: str, value: str, named: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["serve"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("zhtag: error: invalid settings") and named in err


@pytest.mark.parametrize(("variable", "value", "named"), [("ZHTAG_MODELS", "nosuch", "nosuch"), ("ZHTAG_DEVICE", "tpu", "tpu")])
def test_serve_refuses_a_model_or_device_it_cannot_use_in_one_line(
    variable: str, value: str, named: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    monkeypatch.setenv("ZHTAG_STORE", str(tmp_path))
    monkeypatch.setenv(variable, value)
    assert main(["serve"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("zhtag: error: ") and named in err


def test_a_variable_that_is_no_setting_is_named_with_the_setting_it_is_nearest() -> None:
    environ = {"ZHTAG_MAX_QUEU": "5", "ZHTAG_STORE": "/srv/store", "ZHTAG_MAX_QUEUE": "9", "ZHTAG_XYZZY": "1", "PATH": "/bin"}
    assert unknown_variables(environ) == [
        "ZHTAG_MAX_QUEU is no setting of zhtag's and is ignored; did you mean ZHTAG_MAX_QUEUE?",
        "ZHTAG_XYZZY is no setting of zhtag's and is ignored",
    ]


def test_the_readme_lists_every_setting_with_its_default_and_what_it_sets() -> None:
    """The README's table is the user's reference: a setting added or changed here must be there."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    shown = lambda default: "unset" if default is None else "none" if default == [] else ",".join(default) if isinstance(default, list) else str(default)  # noqa: E731
    for name, field in Settings.model_fields.items():
        assert f"| `ZHTAG_{name.upper()}` | {shown(field.default)} | {field.description} |" in readme, name
