"""`sandbox up --container-errors` and the emulator's `--container-errors` name the same forms and default."""

from __future__ import annotations

from typing import TYPE_CHECKING, get_args

import pytest

from abca_deploy.sandbox.emulator.__main__ import parse
from abca_deploy.sandbox.emulator.invoke import DEFAULT_ERROR_FORM, ERROR_FORMS
from abca_deploy.sandbox.settings import UpSettings
from abca_deploy.sandbox.stack import EMULATOR, REGISTRY, Sandbox
from abca_deploy.sandbox.state import ServiceRecord, State

if TYPE_CHECKING:
    from pathlib import Path


def test_the_sandbox_offers_exactly_the_emulators_forms_and_default() -> None:
    field = UpSettings.model_fields["container_errors"]
    assert get_args(field.annotation) == ERROR_FORMS
    assert field.default == DEFAULT_ERROR_FORM == "wrapped"
    assert parse(["--registry", "127.0.0.1:5000"]).container_errors == DEFAULT_ERROR_FORM


@pytest.mark.parametrize("form", ERROR_FORMS)
def test_up_starts_the_emulator_with_the_chosen_form(form: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ABCA_CONTAINER_ERRORS", raising=False)
    settings = UpSettings(state_dir=tmp_path, container_errors=form)
    sandbox = Sandbox(tmp_path, settings.ports(), None)
    sandbox.container_errors = settings.container_errors
    state = State(instance="x", services={REGISTRY: ServiceRecord(port=6601)})
    argv = sandbox._argv(EMULATOR, 6602, state)
    assert argv[argv.index("--container-errors") + 1] == form
    assert parse(argv[3:]).container_errors == form  # after `python -m abca_deploy.sandbox.emulator`


def test_the_emulator_reads_the_form_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ABCA_CONTAINER_ERRORS", "passthrough")
    assert parse(["--registry", "r:1"]).container_errors == "passthrough"
    assert parse(["--registry", "r:1", "--container-errors", "wrapped"]).container_errors == "wrapped"
    monkeypatch.setenv("ABCA_CONTAINER_ERRORS", "verbatim")
    with pytest.raises(SystemExit) as exited:
        parse(["--registry", "r:1"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "$ABCA_CONTAINER_ERRORS must be one of wrapped, passthrough, not 'verbatim'" in err

