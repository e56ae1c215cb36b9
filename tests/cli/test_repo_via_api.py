"""``abca-deploy repo login`` and ``repo ... --api-url``: the participant's path, through the real ``main()``
(and once as a separate process with no AWS credentials at all) against the API served over HTTP."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from abca_deploy.cli import main

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.support.repo_api import RepoApi

ADMIN, PARTICIPANT = "admin@example.com", "participant@example.com"


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Sessions go to a test directory, never the real ~/.config."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _login(
    api: RepoApi,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    username: str = ADMIN,
    password: str = "Sandbox-Admin-1!",
) -> tuple[int, str, str]:
    monkeypatch.setenv("ABCA_PASSWORD", password)
    return _run(
        capsys,
        "repo",
        "login",
        "--api-url",
        api.url,
        "--app-client-id",
        api.pool.app_client_id,
        "--username",
        username,
    )


def test_login_then_onboard_show_list_update_offboard(
    repo_api: RepoApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, config_home: Path
) -> None:
    code, out, err = _login(repo_api, capsys, monkeypatch)
    assert code == 0, err
    assert out.startswith(f"Signed in to {repo_api.url.rstrip('/')} as {ADMIN} (ID token valid until ")
    sessions = config_home / "abca-deploy" / "sessions.json"
    assert stat.S_IMODE(sessions.stat().st_mode) == 0o600
    assert "Sandbox-Admin-1!" not in sessions.read_text()

    api = ["--api-url", repo_api.url]
    code, out, err = _run(
        capsys, "repo", "onboard", "octo/app", "--max-turns", "5", "--build-command", "make", *api
    )
    assert code == 0, err
    assert out.splitlines()[0] == "octo/app: created"
    assert "  max_turns: 5" in out
    assert repo_api.stack.item("octo/app")["max_turns"] == {"N": "5"}  # type: ignore[index]

    code, out, _ = _run(capsys, "repo", "show", "octo/app", *api, "--output", "json")
    assert (code, json.loads(out)["repo"]["build_command"]) == (0, "make")
    code, out, _ = _run(capsys, "repo", "list", *api)
    assert code == 0
    assert out.splitlines()[1].split()[:2] == ["octo/app", "active"]

    code, out, _ = _run(
        capsys, "repo", "update", "octo/app", "--unset", "build_command", "--max-turns", "6", *api
    )
    assert code == 0
    assert "  max_turns: 5 -> 6" in out
    assert "  build_command: make -> (unset)" in out
    assert "build_command" not in repo_api.stack.item("octo/app")  # type: ignore[operator]

    code, out, _ = _run(capsys, "repo", "offboard", "octo/app", *api, "--output", "json")
    assert (code, json.loads(out)["repo"]["status"]) == (0, "removed")


def test_refusals_come_back_as_one_line_and_exit_2(
    api_server: Callable[..., RepoApi], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = api_server(max_repos=1)
    api.onboard("octo/first")
    assert _login(api, capsys, monkeypatch, PARTICIPANT, "Sandbox-Participant-1!")[0] == 0
    code, out, err = _run(capsys, "repo", "onboard", "octo/app", "--api-url", api.url)
    assert (code, out) == (2, "")
    assert err.strip().startswith("error: Changing repositories requires membership in the RepoAdmin group.")
    assert len(err.strip().splitlines()) == 1

    assert _login(api, capsys, monkeypatch)[0] == 0
    code, _, err = _run(capsys, "repo", "onboard", "octo/second", "--api-url", api.url)
    assert code == 2
    assert "Refused by the max-repos guardrail: 1 repositories are active" in err
    code, _, err = _run(capsys, "repo", "update", "octo/nowhere", "--max-turns", "3", "--api-url", api.url)
    assert code == 2
    assert "octo/nowhere is not onboarded." in err
    assert api.stack.item("octo/second") is None


def test_sign_in_problems_say_what_to_do(
    repo_api: RepoApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _run(capsys, "repo", "show", "octo/app", "--api-url", repo_api.url)
    assert code == 2
    assert f"Not signed in to {repo_api.url.rstrip('/')}." in err
    assert "abca-deploy repo login --api-url" in err
    code, _, err = _login(repo_api, capsys, monkeypatch, password="wrong-Password-1!")
    assert code == 2
    assert "Cognito refused the sign-in: Incorrect username or password." in err
    assert "wrong-Password-1!" not in err
    monkeypatch.delenv("ABCA_PASSWORD")
    code, _, err = _run(
        capsys,
        "repo",
        "login",
        "--api-url",
        repo_api.url,
        "--app-client-id",
        repo_api.pool.app_client_id,
        "--username",
        ADMIN,
    )
    assert code == 2
    assert "--password-env: ABCA_PASSWORD is not set, and there is no terminal to ask on." in err
    code, _, err = _run(capsys, "repo", "list", "--api-key-env", "KEY")
    assert code == 2
    assert "--api-key-env: is used only with --api-url" in err


def test_an_expiring_session_is_refreshed(
    repo_api: RepoApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, config_home: Path
) -> None:
    assert _login(repo_api, capsys, monkeypatch)[0] == 0
    path = config_home / "abca-deploy" / "sessions.json"
    sessions = json.loads(path.read_text())
    (entry,) = sessions.values()
    entry["expires_at"] = time.time() + 60  # inside the five-minute margin
    old_token = entry["id_token"]
    path.write_text(json.dumps(sessions))
    time.sleep(1.1)  # a new token has a new iat
    assert _run(capsys, "repo", "list", "--api-url", repo_api.url)[0] == 0
    (refreshed,) = json.loads(path.read_text()).values()
    assert refreshed["id_token"] != old_token
    assert refreshed["expires_at"] > time.time() + 3000


def test_an_api_key_from_the_environment(
    repo_api: RepoApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, key = repo_api.key("repos:read", "repos:manage")
    monkeypatch.setenv("REPOS_KEY", key)
    code, out, err = _run(
        capsys,
        "repo",
        "onboard",
        "octo/app",
        "--api-url",
        repo_api.url,
        "--api-key-env",
        "REPOS_KEY",
        "--dry-run",
    )
    assert code == 0, err
    assert out.splitlines()[0] == "octo/app: would create"
    assert repo_api.stack.item("octo/app") is None
    monkeypatch.setenv("REPOS_KEY", "")
    code, _, err = _run(capsys, "repo", "list", "--api-url", repo_api.url, "--api-key-env", "REPOS_KEY")
    assert code == 2
    assert "--api-key-env: the environment variable REPOS_KEY is not set or empty." in err


def test_a_participant_without_aws_credentials_onboards_a_fork(
    repo_api: RepoApi, moto_env: str, tmp_path: Path
) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "AWS_ENDPOINT_URL": moto_env,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "ABCA_PASSWORD": "Sandbox-Admin-1!",
        "ABCA_API_URL": repo_api.url,
    }
    assert not any(name.startswith("AWS_ACCESS") or name == "AWS_SECRET_ACCESS_KEY" for name in env)

    def cli(*argv: str, **override: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "abca_deploy", *argv],
            env={**env, **override},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    login = cli("repo", "login", "--app-client-id", repo_api.pool.app_client_id, "--username", ADMIN)
    assert login.returncode == 0, login.stderr
    onboard = cli("repo", "onboard", "participant/fork", "--max-turns", "20")
    assert onboard.returncode == 0, onboard.stderr
    assert onboard.stdout.startswith("participant/fork: created")
    item = repo_api.stack.item("participant/fork")
    assert item is not None
    assert item["max_turns"] == {"N": "20"}
    direct = cli("repo", "show", "participant/fork", ABCA_API_URL="")  # DynamoDB directly: needs credentials
    assert direct.returncode == 2
    assert "No AWS credentials were found" in direct.stderr


def test_settings_the_api_applies_itself_are_ignored_with_a_warning(
    repo_api: RepoApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _login(repo_api, capsys, monkeypatch)
    assert code == 0, err
    code, out, err = _run(capsys, "repo", "onboard", "octo/guarded", "--api-url", repo_api.url, "--dry-run",
                          "--allowed-models", "anthropic.claude-sonnet-4-6", "--max-repos", "1")
    assert code == 0, err
    for flag in ("--allowed-models", "--max-repos"):
        assert f"{flag} is ignored with --api-url: the API applies its own configuration." in err
    assert "--dry-run is ignored" not in err
    assert out.splitlines()[0] == "octo/guarded: would create"
