"""The sandbox's side of the repository API without Docker: ``sandbox token`` signs in as a seeded user, and
the gateway runs as the process ``sandbox up`` starts (``python -m abca_deploy.sandbox.gateway``), with the
handler configured by ``ABCA_*`` variables as a Lambda's would be."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

import jwt
import pytest
from tests.support.ports import free_port
from tests.support.repo_api import ensure_platform

from abca_deploy.cli import main
from abca_deploy.sandbox.state import ServiceRecord, State, save

if TYPE_CHECKING:
    from pathlib import Path


def test_token_prints_an_id_token_for_each_seeded_user(
    moto_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, pool, _ = ensure_platform()
    port = int(moto_env.rsplit(":", 1)[1])
    save(
        tmp_path / "s",
        State(
            instance="sb-t",
            services={"moto": ServiceRecord(port=port)},
            seed={"app_client_id": pool.app_client_id},
        ),
    )
    assert main(["sandbox", "token", "--state-dir", str(tmp_path / "s")]) == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["email"], claims["cognito:groups"], claims["token_use"]) == (
        "admin@example.com",
        ["RepoAdmin"],
        "id",
    )
    assert (
        main(
            [
                "sandbox",
                "token",
                "--state-dir",
                str(tmp_path / "s"),
                "--user",
                "participant",
                "--output",
                "json",
            ]
        )
        == 0
    )
    document = json.loads(capsys.readouterr().out)
    assert (document["username"], document["groups"]) == ("participant@example.com", [])
    assert "cognito:groups" not in jwt.decode(document["id_token"], options={"verify_signature": False})


def test_token_without_a_seeded_sandbox_says_how_to_get_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sandbox", "token", "--state-dir", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert "is not up and seeded" in err
    assert "abca-deploy sandbox up" in err


def test_the_gateway_process_serves_the_api_and_stops_on_sigterm(moto_env: str, tmp_path: Path) -> None:
    from abca_deploy.aws.cognito import unsigned
    from abca_deploy.sandbox.cognito import BY_NAME

    stack, pool, _ = ensure_platform()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    log = (tmp_path / "api.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "abca_deploy.sandbox.gateway",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--moto",
            moto_env,
            "--rate",
            "0",
        ],
        env={**env, "ABCA_ALLOWED_OWNERS": "octo"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_sandbox/health", timeout=2) as answer:
                    assert answer.status == 200
                    break
            except (urllib.error.URLError, OSError):
                assert time.monotonic() < deadline, (tmp_path / "api.log").read_text()
                time.sleep(0.2)
        admin = BY_NAME["admin"]
        token = unsigned("us-east-1").sign_in(pool.app_client_id, admin.username, admin.password).id_token
        request = urllib.request.Request(
            f"{base}/v1/repos",
            method="POST",
            data=b'{"repo": "octo/app"}',
            headers={"Authorization": token, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 201
            assert json.loads(answer.read())["data"]["repo"]["repo"] == "octo/app"
        assert stack.item("octo/app") is not None
        request = urllib.request.Request(
            f"{base}/v1/repos",
            method="POST",
            data=b'{"repo": "evil/app"}',
            headers={"Authorization": token, "Content-Type": "application/json"},
        )
        with pytest.raises(
            urllib.error.HTTPError
        ) as refused:  # guardrails from ABCA_* variables, as in Lambda
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 422
        assert "allowed-owners" in json.loads(refused.value.read())["error"]["message"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        log.close()
    logged = (tmp_path / "api.log").read_text()
    assert '"event":"listening"' in logged
    assert '"status":201' in logged
    assert token not in logged
