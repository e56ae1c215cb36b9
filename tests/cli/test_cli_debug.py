"""--debug and RUNNER_DEBUG=1 add a traceback and never change an exit code; signals give 130 and 143."""

from __future__ import annotations

import signal
import sys
import types

import pytest

from abca_deploy import cli
from abca_deploy.errors import DriftDetected, OperationFailed, UserError
from abca_deploy.settings import Command, CommandSettings

RAISED = {"usage": UserError("bad input"), "failed": OperationFailed("it broke"),
          "drift": DriftDetected("drifted")}


class Settings(CommandSettings):
    """A test command's settings."""

    what: str = "usage"


def run(settings: Settings, reporter: object) -> int:
    if settings.what in RAISED:
        raise RAISED[settings.what]
    signal.raise_signal(getattr(signal, settings.what))  # as `kill` would, while the command runs
    return 0


@pytest.fixture(autouse=True)
def fake_command(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("abca_test_command")
    module.COMMAND = Command(Settings, run, "a test command")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "abca_test_command", module)
    monkeypatch.setitem(cli.COMMANDS, "fake",
                        ("A test command.", {"": ("abca_test_command:COMMAND", "Test.")}))


@pytest.mark.parametrize(("what", "code"), [("usage", 2), ("failed", 1), ("drift", 3)])
@pytest.mark.parametrize("debug", ["none", "flag", "runner"])
def test_debug_never_changes_the_exit_code(what: str, code: int, debug: str, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    if debug == "runner":
        monkeypatch.setenv("RUNNER_DEBUG", "1")
    argv = (["--debug"] if debug == "flag" else []) + ["fake", "--what", what]
    assert cli.main(argv) == code
    err = capsys.readouterr().err
    assert ("Traceback (most recent call last)" in err) == (debug != "none")
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1


@pytest.mark.parametrize(("what", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_is_reported_with_its_exit_code(what: str, code: int,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["fake", "--what", what]) == code
    assert f"error: Interrupted by {what}." in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored


def test_a_real_publish_input_error_stays_2_with_debug(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--debug", "runtime", "publish", "--runtime-id", "no"]) == 2
    assert "--runtime-id: is not an AgentCore runtime id" in capsys.readouterr().err
