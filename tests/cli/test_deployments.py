"""Deploy records: `abca-deploy record` writes GitHub deployments; `changes --stack-name` diffs from them.

Against the fake GitHub API (tests/support/fake_github.py) and real git histories in ABCA's layout.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from abca_deploy.cli import main

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.abca_repo import Repo
    from tests.support.fake_github import FakeGitHub

PLATFORM = "octo/platform"
TOKEN, READ_ONLY = "ghs_writer", "ghs_reader"
STACK = "main-agentcore"
TOKEN_VALUE = "ghp_" + "Ab3d" * 9  # a token passed where its variable's name belongs: never echoed


@pytest.fixture
def github(fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> FakeGitHub:
    fake_github.add_repo(PLATFORM)
    fake_github.add_token(TOKEN, "github-actions[bot]", scopes=None, access={PLATFORM: "write"})
    fake_github.add_token(READ_ONLY, "github-actions[bot]", scopes=None, access={PLATFORM: "read"})
    monkeypatch.setenv("GITHUB_REPOSITORY", PLATFORM)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("ABCA_GITHUB_API_URL", fake_github.url)
    return fake_github


def changes(capsys: pytest.CaptureFixture[str], repo: Repo, base: str, head: str,
            *extra: str) -> tuple[dict[str, bool], str]:
    code = main(["changes", "--repo", str(repo.path), "--base", base, "--head", head, "--stack-name", STACK,
                 "--output", "json", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out), captured.err


def record(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(["record", *argv, "--output", "json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else None, captured.err


# -- record --
def test_record_writes_a_deployment_and_its_success_status(capsys: pytest.CaptureFixture[str],
                                                           github: FakeGitHub, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    sha = "a" * 40
    output = tmp_path / "output"
    for key, value in {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output), "GITHUB_SHA": sha,
                       "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "42"}.items():
        monkeypatch.setenv(key, value)
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/a@sha256:" + "b" * 64
    payload = {"runtime-version": "7", "image-uri": image,
               "status": "deployed", "previous-version": ""}
    code, doc, err = record(capsys, "runtime", "--stack-name", STACK, "--payload", json.dumps(payload),
                            "--description", "runtime version 7 " + "x" * 200)
    assert code == 0, err
    assert doc["environment"] == f"abca-runtime-{STACK}"
    assert github.environments(PLATFORM) == {f"abca-runtime-{STACK}": [(sha, ["success"])]}
    (created,) = [r for r in github.requests if r.method == "POST" and r.path.endswith("/deployments")]
    assert created.body["required_contexts"] == []  # no commit-status checks: the deploy already happened
    assert created.body["auto_merge"] is False
    assert created.body["payload"] == {"runtime-version": "7", "image-uri": payload["image-uri"],
                                       "status": "deployed", "lifecycle": "runtime", "stack_name": STACK}
    assert len(created.body["description"]) == 140
    (status,) = [r for r in github.requests if r.path.endswith("/statuses") and r.method == "POST"]
    assert status.body["target_url"] == f"https://github.com/{PLATFORM}/actions/runs/42"
    assert status.body["auto_inactive"] is True
    assert "environment<<" in output.read_text()


@pytest.mark.parametrize(("argv", "env", "fragment"), [
    (["--sha", "abc"], {}, "--sha: is not a full commit SHA"),
    (["--payload", "[1]"], {}, "--payload: is not a JSON object"),
    ([], {"GITHUB_TOKEN": ""}, "--platform-token-env: GITHUB_TOKEN is empty"),
    ([], {"GITHUB_REPOSITORY": ""}, "--platform-repository: no repository given"),
    ([], {"GITHUB_SHA": ""}, "--sha: no commit given"),
    (["--platform-token-env", TOKEN_VALUE], {},
     "--platform-token-env: looks like a token, not the name of an environment variable (the value is not "
     "shown)"),
    (["--platform-repository", "octo/" + "n" * 101], {},
     "--platform-repository: has a repository name of 101"),
])
def test_record_refuses_bad_input_with_exit_2(capsys: pytest.CaptureFixture[str], github: FakeGitHub,
                                              monkeypatch: pytest.MonkeyPatch, argv: list[str],
                                              env: dict[str, str], fragment: str) -> None:
    monkeypatch.setenv("GITHUB_SHA", "c" * 40)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, _, err = record(capsys, "infra", "--stack-name", STACK, *argv)
    assert code == 2
    assert fragment in err
    assert TOKEN_VALUE not in err
    assert github.deployments == {}


def test_record_with_a_read_only_token_fails_and_says_why(capsys: pytest.CaptureFixture[str],
                                                         github: FakeGitHub,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", READ_ONLY)
    code, _, err = record(capsys, "infra", "--stack-name", STACK, "--sha", "d" * 40)
    assert code == 1
    assert "answered 403" in err
    assert "Resource not accessible by integration" in err
    assert "d" * 40 not in json.dumps(github.deployments)


# -- changes diffs from the last successful deploy --
def test_a_failed_deploy_is_not_forgotten(capsys: pytest.CaptureFixture[str], github: FakeGitHub,
                                          abca_repo: Repo) -> None:
    deployed = abca_repo.head()
    github.add_deployment(PLATFORM, f"abca-runtime-{STACK}", deployed, "in_progress", "success")
    github.add_deployment(PLATFORM, f"abca-infra-{STACK}", deployed, "success")
    failed = abca_repo.commit({"agent/src/server.py": "v2"})
    github.add_deployment(PLATFORM, f"abca-runtime-{STACK}", failed, "in_progress", "failure")
    cancelled = abca_repo.commit({"agent/policies/deny.cedar": "v2"})
    github.add_deployment(PLATFORM, f"abca-runtime-{STACK}", cancelled, "in_progress")
    head = abca_repo.commit({"docs/guide.md": "v2"})
    # the push range (cancelled..head) touches only docs; the last successful runtime deploy is older
    result, err = changes(capsys, abca_repo, cancelled, head)
    assert result == {"runtime": True, "infra": False, "config": False}
    assert f"no successful deploy recorded for abca-config-{STACK} yet" in err
    assert f"3 file(s) changed between {deployed[:12]} (last deploy, abca-runtime-{STACK})" in err


def test_without_records_the_push_range_decides(capsys: pytest.CaptureFixture[str], github: FakeGitHub,
                                                abca_repo: Repo) -> None:
    base = abca_repo.commit({"agent/src/server.py": "v2"})
    head = abca_repo.commit({"docs/guide.md": "v2"})
    result, _ = changes(capsys, abca_repo, base, head)
    assert result == {"runtime": False, "infra": False, "config": False}
    assert [r.path.split("?")[1] for r in github.requests if "/deployments?" in r.path] == [
        f"environment=abca-{name}-{STACK}" for name in ("runtime", "infra", "config")]


def test_a_rerun_of_an_older_commit_does_not_deploy_over_a_newer_one(capsys: pytest.CaptureFixture[str],
                                                                     github: FakeGitHub,
                                                                     abca_repo: Repo) -> None:
    base = abca_repo.head()
    old = abca_repo.commit({"agent/src/server.py": "v2"})
    newer = abca_repo.commit({"agent/src/server.py": "v3"})
    github.add_deployment(PLATFORM, f"abca-runtime-{STACK}", newer, "success")
    result, err = changes(capsys, abca_repo, base, old)
    assert result["runtime"] is False
    assert f"{newer[:12]} (last deploy, abca-runtime-{STACK}) already contains {old[:12]}" in err


def test_a_record_at_the_push_base_is_still_newer_than_an_older_head(
    capsys: pytest.CaptureFixture[str], github: FakeGitHub, abca_repo: Repo,
) -> None:
    """runtime diffs from --base (no record), infra from its record at the same commit: only infra's is a
    deploy that already contains head, however the filters share the one git diff."""
    old = abca_repo.commit({"cdk/src/stacks/agent.ts": "v2"})
    newer = abca_repo.commit({"cdk/src/stacks/agent.ts": "v3"})
    github.add_deployment(PLATFORM, f"abca-infra-{STACK}", newer, "success")
    result, err = changes(capsys, abca_repo, newer, old)
    assert result == {"runtime": False, "infra": False, "config": False}
    assert f"{newer[:12]} (last deploy, abca-infra-{STACK}) already contains {old[:12]}" in err


def test_records_that_cannot_be_read_fall_back_to_the_push_range(capsys: pytest.CaptureFixture[str],
                                                                 github: FakeGitHub, abca_repo: Repo,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    base = abca_repo.commit({"agent/src/server.py": "v2"})
    head = abca_repo.commit({"cdk/src/stacks/agent.ts": "v2"})
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_revoked")
    result, err = changes(capsys, abca_repo, base, head)
    assert result == {"runtime": False, "infra": True, "config": False}
    assert "rejected the token" in err
    assert "Diffing every filter from --base instead" in err
    monkeypatch.setenv("GITHUB_TOKEN", "")
    result, err = changes(capsys, abca_repo, base, head)
    assert result == {"runtime": False, "infra": True, "config": False}
    assert "no token in GITHUB_TOKEN" in err


def test_record_then_gate_round_trip(capsys: pytest.CaptureFixture[str], github: FakeGitHub,
                                     abca_repo: Repo) -> None:
    first = abca_repo.head()
    assert record(capsys, "infra", "--stack-name", STACK, "--sha", first)[0] == 0
    head = abca_repo.commit({"cdk/test/agent.test.ts": "v2"})
    result, _ = changes(capsys, abca_repo, "0" * 40, head)
    # infra diffs from its record (a test-only change: nothing to deploy); the others have none: everything
    assert result == {"runtime": True, "infra": False, "config": True}


def test_the_newest_success_ends_the_reading(capsys: pytest.CaptureFixture[str], github: FakeGitHub,
                                             abca_repo: Repo) -> None:
    """A long history costs one page and one status read when the newest deploy succeeded."""
    for state in ("success", "failure", "success", "success"):
        github.add_deployment(PLATFORM, f"abca-runtime-{STACK}", abca_repo.head(), state)
    head = abca_repo.commit({"docs/guide.md": "v2"})
    changes(capsys, abca_repo, head, head)
    runtime_statuses = [r for r in github.requests if r.path.endswith("/statuses")]
    assert len(runtime_statuses) == 1
