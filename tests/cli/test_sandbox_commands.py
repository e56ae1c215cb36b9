"""`abca-deploy sandbox up | down | status`: behaviour that needs no running sandbox."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from abca_deploy.cli import main
from abca_deploy.sandbox.state import ServiceRecord, State, save

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def no_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """DOCKER_HOST pointing at a socket nothing listens on."""
    host = f"unix://{tmp_path}/dead-docker.sock"
    monkeypatch.setenv("DOCKER_HOST", host)
    return host


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_up_without_docker_says_how_to_get_one_and_starts_nothing(
        no_docker: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state_dir = tmp_path / "state"
    code, out, err = _run(["sandbox", "up", "--state-dir", str(state_dir)], capsys)
    assert code == 1
    assert out == ""
    assert f"No Docker Engine is reachable ({no_docker}" in err
    assert "apt-get install -y docker.io docker-registry" in err
    assert "scripts/bootstrap" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not state_dir.exists()


def test_up_without_docker_json_reports_the_failure(
        no_docker: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["sandbox", "up", "--state-dir", str(tmp_path / "s"), "--output", "json"], capsys)
    document = json.loads(out)
    assert code == 1
    assert document["status"] == "failed"
    assert document["error"]["title"] == "No Docker Engine"


def test_status_when_down_lists_every_service_and_exits_1(
        no_docker: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["sandbox", "status", "--state-dir", str(tmp_path / "never")], capsys)
    assert code == 1
    assert "Sandbox is down" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split()[:1] in
            (["moto"], ["registry"], ["emulator"])}
    assert rows == {"moto": ["moto", "down", "-", "http://127.0.0.1:5050"],
                    "registry": ["registry", "down", "-", "127.0.0.1:5051"],
                    "emulator": ["emulator", "down", "-", "http://127.0.0.1:5052"]}
    assert not (tmp_path / "never").exists()


def test_status_json_reports_recorded_but_dead_services(
        no_docker: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # pid 2**22+1 is above Linux's pid_max: it can never be a live process.
    save(tmp_path / "s", State(instance="x", services={"moto": ServiceRecord(port=6250, pid=2**22 + 1)}))
    code, out, _ = _run(["sandbox", "status", "--state-dir", str(tmp_path / "s"), "--output", "json"], capsys)
    document = json.loads(out)
    assert code == 1
    assert document["status"] == "down"
    moto = next(s for s in document["services"] if s["name"] == "moto")
    assert moto == {"name": "moto", "up": False, "address": "http://127.0.0.1:6250", "pid": 2**22 + 1,
                    "container_id": None, "log": None}


def test_down_when_nothing_runs_is_a_quiet_success(
        no_docker: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save(tmp_path / "s", State(instance="x", services={"moto": ServiceRecord(port=6250, pid=2**22 + 1)}))
    (tmp_path / "s" / "moto.log").write_text("old log\n", encoding="utf-8")
    code, out, err = _run(["sandbox", "down", "--state-dir", str(tmp_path / "s")], capsys)
    assert code == 0
    assert "Nothing was running." in out
    assert "containers (if any) were not removed" in err
    assert not (tmp_path / "s").exists()
    code, out, _ = _run(["sandbox", "down", "--state-dir", str(tmp_path / "s")], capsys)
    assert code == 0
    assert "Nothing was running." in out


def test_down_never_deletes_files_it_did_not_write(
        no_docker: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save(tmp_path / "s", State(instance="x"))
    (tmp_path / "s" / "notes.txt").write_text("mine\n", encoding="utf-8")
    code, _, err = _run(["sandbox", "down", "--state-dir", str(tmp_path / "s")], capsys)
    assert code == 0
    assert (tmp_path / "s" / "notes.txt").read_text(encoding="utf-8") == "mine\n"
    assert not (tmp_path / "s" / "state.json").exists()
    assert "holds files the sandbox did not write (notes.txt)" in err


@pytest.mark.parametrize(("argv", "expected"), [
    (["--moto-port", "0"], "--moto-port: Input should be greater than or equal to 1 (got '0'); "
                           "allowed: integer 1-65535."),
    (["--emulator-port", "70000"], "--emulator-port: Input should be less than or equal to 65535"),
    (["--registry-port", "http"], "--registry-port: Input should be a valid integer"),
    (["--registry-port", "5050"], "--registry-port: must differ from --moto-port (got '5050')"),
    (["--moto-port", "6000", "--emulator-port", "6000"], "--emulator-port: must differ from --moto-port"),
    (["--wait-timeout", "5"], "--wait-timeout: Input should be greater than or equal to 10"),
    (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
])
def test_up_flag_errors_are_one_line_exit_2(
        argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["sandbox", "up", "--state-dir", str(tmp_path / "s"), *argv], capsys)
    assert code == 2
    assert out == ""
    assert expected in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()


def test_port_from_environment_is_validated_like_the_flag(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ABCA_MOTO_PORT", "-1")
    code, _, err = _run(["sandbox", "status", "--state-dir", str(tmp_path)], capsys)
    assert code == 2
    assert "--moto-port: Input should be greater than or equal to 1" in err


def test_state_dir_that_is_a_file_is_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    code, _, err = _run(["sandbox", "down", "--state-dir", str(tmp_path / "file")], capsys)
    assert code == 2
    assert "--state-dir: exists and is not a directory" in err
    assert (tmp_path / "file").read_text(encoding="utf-8") == "x"


def test_state_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_docker: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ABCA_STATE_DIR", str(tmp_path / "from-env"))
    code, out, _ = _run(["sandbox", "status", "--output", "json"], capsys)
    assert code == 1
    assert json.loads(out)["state_dir"] == str(tmp_path / "from-env")
