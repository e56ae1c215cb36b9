"""`abca-deploy sandbox env`: export lines a shell can eval, the same as JSON, and a warning when down."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from abca_deploy.cli import main
from abca_deploy.sandbox.state import ServiceRecord, State, save

if TYPE_CHECKING:
    from pathlib import Path

EXPECTED_KEYS = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL", "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE",
    "AWS_ENDPOINT_URL_ROUTE53RESOLVER",
    "ABCA_ECR_REGISTRY_ENDPOINT", "ABCA_PLATFORM", "ABCA_DEFAULT_BUILD_ARGS", "ABCA_SANDBOX_API_URL",
    "ABCA_APP_CLIENT_ID",
}
# Shell metacharacters, a quote and a command substitution: eval must neither run nor mangle them.
AWKWARD_BASE = "base image's $(touch pwned) `id` ; x"


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A recorded (but not running) sandbox on ports 6150-6153; no Docker Engine is consulted."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    directory = tmp_path / "state"
    services = {"moto": ServiceRecord(port=6150, pid=None), "registry": ServiceRecord(port=6151, pid=None),
                "emulator": ServiceRecord(port=6152, pid=None), "api": ServiceRecord(port=6153, pid=None)}
    save(directory, State(instance="sb-test", services=services, base_image=AWKWARD_BASE,
                          platform="linux/amd64", seed={"app_client_id": "sandboxappclient"}))
    return directory


def _env(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["sandbox", "env", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_env_lines_eval_in_bash_to_exactly_the_sandbox_settings(
        state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _env(["--state-dir", str(state_dir)], capsys)
    assert code == 0
    script = tmp_path / "env.sh"
    script.write_text(out, encoding="utf-8")
    dump = "import json, os; print(json.dumps(dict(os.environ)))"
    shown = subprocess.run(
        ["bash", "-c", 'cd "$1" && eval "$(cat env.sh)" && "$2" -c "$3"', "bash", str(tmp_path),
         sys.executable, dump],
        capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin", "AWS_PROFILE": "gone"})
    environ = json.loads(shown.stdout)
    assert {k: environ[k] for k in EXPECTED_KEYS} == {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:6150",
        "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL": "http://127.0.0.1:6152",
        "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE": "http://127.0.0.1:6152",
        "AWS_ENDPOINT_URL_ROUTE53RESOLVER": "http://127.0.0.1:6152",
        "ABCA_ECR_REGISTRY_ENDPOINT": "127.0.0.1:6151", "ABCA_PLATFORM": "linux/amd64",
        "ABCA_DEFAULT_BUILD_ARGS": f"BASE_IMAGE={AWKWARD_BASE}",
        "ABCA_SANDBOX_API_URL": "http://127.0.0.1:6153/v1/", "ABCA_APP_CLIENT_ID": "sandboxappclient",
    }
    assert "AWS_PROFILE" not in environ
    assert not (tmp_path / "pwned").exists()


def test_every_line_is_an_export_unset_or_comment(state_dir: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _env(["--state-dir", str(state_dir)], capsys)
    lines = out.splitlines()
    assert all(line.startswith(("export ", "unset ", "# ")) for line in lines)
    exported = [line.split("=", 1)[0].removeprefix("export ") for line in lines if line.startswith("export ")]
    assert sorted(exported) == sorted(EXPECTED_KEYS)
    assert "# AWS AgentCore runs linux/arm64 images only" in out


def test_json_form_holds_the_same_values(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _env(["--state-dir", str(state_dir), "--output", "json"], capsys)
    assert code == 0
    document = json.loads(out)
    assert set(document) == EXPECTED_KEYS
    assert document["AWS_ENDPOINT_URL_BEDROCK_AGENTCORE"] == "http://127.0.0.1:6152"
    assert document["ABCA_DEFAULT_BUILD_ARGS"] == f"BASE_IMAGE={AWKWARD_BASE}"


def test_not_up_warns_on_stderr_but_still_prints(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _env(["--state-dir", str(state_dir)], capsys)
    assert code == 0
    assert "warning: The sandbox is not up" in err
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:6150" in out


def test_without_state_the_configured_ports_are_printed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    monkeypatch.setenv("ABCA_EMULATOR_PORT", "7152")
    code, out, err = _env(["--state-dir", str(tmp_path / "none"), "--moto-port", "7150", "--output", "json"],
                          capsys)
    document = json.loads(out)
    assert code == 0
    assert document["AWS_ENDPOINT_URL"] == "http://127.0.0.1:7150"
    assert document["ABCA_ECR_REGISTRY_ENDPOINT"] == "127.0.0.1:5051"
    assert document["AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL"] == "http://127.0.0.1:7152"
    assert document["ABCA_PLATFORM"].startswith("linux/")
    assert "ABCA_DEFAULT_BUILD_ARGS" not in document  # unknown without an engine: not guessed
    assert "The sandbox is not up" in err
    assert not (tmp_path / "none").exists()


def test_default_base_image_needs_no_build_arg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    save(tmp_path / "s", State(instance="x", base_image="python:3.13-slim", platform="linux/arm64"))
    _, out, _ = _env(["--state-dir", str(tmp_path / "s"), "--output", "json"], capsys)
    document = json.loads(out)
    assert "ABCA_DEFAULT_BUILD_ARGS" not in document
    assert document["ABCA_PLATFORM"] == "linux/arm64"
