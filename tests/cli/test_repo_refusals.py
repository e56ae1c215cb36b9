"""Bad input and guardrails: exit 2, one line naming the flag and the allowed form, nothing written."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from abca_deploy.cli import main

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.fake_github import FakeGitHub
    from tests.support.repo_stack import ActionsEnv, RepoStack

CEDAR_OK = "permit(principal, action, resource);\n"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "bad.cedar").write_text("permit(principal, action resource);\n")
    (tmp_path / "big.cedar").write_text("// " + "x" * 70_000 + "\n" + CEDAR_OK)
    (tmp_path / "ok.cedar").write_text(CEDAR_OK)
    return tmp_path


BAD = [
    (["octo"], "repo: is not OWNER/REPO (got 'octo'); allowed: OWNER/REPO"),
    (["octo/app/x"], "repo: is not OWNER/REPO"),
    (["octo/app", "--max-turns", "0"], "--max-turns: is out of range (got '0'); allowed: integer 1-500."),
    (["octo/app", "--max-turns", "501"], "--max-turns: is out of range (got '501'); allowed: integer 1-500."),
    (["octo/app", "--max-turns", "ten"], "--max-turns: must be an integer (got 'ten')"),
    (["octo/app", "--max-budget-usd", "0"],
     "--max-budget-usd: is out of range (got '0'); allowed: number 0.01-100."),
    (["octo/app", "--max-budget-usd", "100.5"], "--max-budget-usd: is out of range"),
    (["octo/app", "--poll-interval-ms", "4999"], "--poll-interval-ms: is out of range (got '4999'); allowed: "
                                                 "integer 5000-300000."),
    (["octo/app", "--approval-gate-cap", "501"], "--approval-gate-cap: is out of range"),
    (["octo/app", "--egress-allowlist", "pypi.org,Bad_Domain.com"],
     "--egress-allowlist: has an invalid domain 'Bad_Domain.com'; allowed: lowercase domains"),
    (["octo/app", "--mcp-servers", "registry://skill/acme/review@1.0.0"],
     "--mcp-servers: has a 'skill' ref 'registry://skill/acme/review@1.0.0' where a 'mcp_server' ref "
     "belongs"),
    (["octo/app", "--skills", "registry://skill/acme/review@latest"],
     "--skills: has an unsupported version constraint 'latest'"),
    (["octo/app", "--cedar-policy-files", "{d}/bad.cedar"],
     "--cedar-policy-files: {d}/bad.cedar is not valid Cedar"),
    (["octo/app", "--cedar-policy-files", "{d}/ok.cedar", "--cedar-policy-files", "{d}/big.cedar"],
     f"--cedar-policy-files: total {len(CEDAR_OK) * 2 + 70_004} bytes, over the 65536-byte cap"),
    (["octo/app", "--cedar-policy-files", "{d}/none.cedar"],
     "--cedar-policy-files: cannot read {d}/none.cedar"),
    (["octo/app", "--model", "us.acme.unknown"], "--model: 'acme.unknown' is not granted"),
    (["octo/app", "--model", "anthropic.claude-opus-4-8"], "--model: is not an inference-profile id"),
    (["octo/app", "--model", "us.acme.x", "--allowed-models", "us.acme.x"],
     "--allowed-models: 'us.acme.x' must be a bare model id"),
    (["octo/app", "--compute-type", "fargate"],
     "--compute-type: is not a compute type (got 'fargate'); allowed: agentcore | ecs | lambda-microvm."),
    (["octo/app", "--runtime-arn", "arn:aws:lambda:us-east-1:1:function:x"],
     "--runtime-arn: is not an AgentCore"),
    (["octo/app", "--token-secret-arn", "abca/github-token/octo/app"],
     "--token-secret-arn: is not a Secrets Manager"),
    (["octo/app", "--token-secret-arn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbC123",
      "--github-token-env", "PAT"], "--github-token-env: cannot be combined with --token-secret-arn"),
    (["octo/app", "--build-command", " "], "--build-command: must not be empty"),
    (["octo/app", "--required-permission", "owner"], "invalid choice: 'owner'"),
    (["octo/app", "--max-repos", "0"], "--max-repos: Input should be greater than or equal to 1"),
    (["octo/app", "--github-api-url", "api.github.com"], "--github-api-url: is not an http(s) URL"),
]


@pytest.mark.parametrize(("args", "message"), BAD)
def test_bad_onboard_input(args: list[str], message: str, files: Path, repo_stack: RepoStack,
                           capsys: pytest.CaptureFixture[str]) -> None:
    argv = [a.replace("{d}", str(files)) for a in args]
    assert main(["repo", "onboard", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, lines
    assert message.replace("{d}", str(files)) in lines[0]
    assert repo_stack.items() == []
    assert repo_stack.secret_names() == []


@pytest.mark.parametrize(("args", "message"), [
    (["octo/app", "--unset", "max_turn"], "--unset: 'max_turn' is not an attribute that can be removed"),
    (["octo/app", "--unset", "max-turns", "--max-turns", "5"],
     "'max_turns' is both set (--max-turns) and unset"),
    (["octo/app", "--unset", "repo"], "--unset: 'repo' is not an attribute that can be removed"),
])
def test_bad_update_input(args: list[str], message: str, repo_stack: RepoStack,
                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["repo", "update", *args]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert message in lines[0]


def test_guardrail_allowed_owners(repo_stack: RepoStack, repo_actions: ActionsEnv) -> None:
    refused = repo_actions.run("repo", "onboard", "evil/app", "--allowed-owners", "octo,acme")
    assert refused.code == 2
    assert "--allowed-owners: evil/app belongs to 'evil', which is not an allowed owner" in refused.err
    assert repo_stack.items() == []
    assert repo_actions.run("repo", "onboard", "Octo/app", "--allowed-owners", "octo,acme").code == 0


def test_guardrail_max_repos(repo_stack: RepoStack, repo_actions: ActionsEnv) -> None:
    assert repo_actions.run("repo", "onboard", "octo/one", "--max-repos", "1").code == 0
    refused = repo_actions.run("repo", "onboard", "octo/two", "--max-repos", "1")
    assert refused.code == 2
    assert "--max-repos: 1 repositories are active and this would make 2, over the limit of 1" in refused.err
    assert [i["repo"]["S"] for i in repo_stack.items()] == ["octo/one"]
    rerun = repo_actions.run("repo", "onboard", "octo/one", "--max-repos", "1")
    assert rerun.code == 0  # a re-run adds nothing


@pytest.mark.parametrize(("role", "required", "code"), [
    ("write", "admin", 2), ("maintain", "maintain", 0), ("read", "write", 2), (None, "read", 2)])
def test_guardrail_actor_permission(repo_stack: RepoStack, repo_actions: ActionsEnv, fake_github: FakeGitHub,
                                    role: str | None, required: str, code: int) -> None:
    if role is None:
        del fake_github.roles[("octo/platform", "alice")]
    else:
        fake_github.roles[("octo/platform", "alice")] = role
    run = repo_actions.run("repo", "onboard", "octo/app", "--required-permission", required)
    assert run.code == code, run.err
    if code == 2:
        assert f"--required-permission: alice has '{role or 'none'}' on octo/platform, but '{required}' is " \
               "required" in run.err
        assert repo_stack.items() == []


def test_guardrail_actor_checks_a_rerun_triggerer_too(repo_stack: RepoStack, repo_actions: ActionsEnv,
                                                     fake_github: FakeGitHub,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TRIGGERING_ACTOR", "bob")
    fake_github.roles[("octo/platform", "bob")] = "triage"
    run = repo_actions.run("repo", "offboard", "octo/app")
    assert run.code == 2
    assert "bob has 'triage' on octo/platform" in run.err


def test_guardrail_actor_check_needs_a_platform_token(repo_stack: RepoStack, repo_actions: ActionsEnv,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    run = repo_actions.run("repo", "offboard", "octo/app")
    assert run.code == 2
    assert "--platform-token-env: GITHUB_TOKEN is empty" in run.err


def test_reads_need_no_guardrail(repo_stack: RepoStack, repo_actions: ActionsEnv,
                                 fake_github: FakeGitHub) -> None:
    fake_github.roles[("octo/platform", "alice")] = "read"
    assert repo_actions.run("repo", "list").code == 0
