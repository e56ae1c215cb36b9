"""Bad input and guardrails: exit 2, one line naming the flag and the allowed form, nothing written."""

from __future__ import annotations

import os
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
    (tmp_path / "big.cedar").write_text("// " + "x" * 40_000 + "\n" + CEDAR_OK)
    (tmp_path / "huge.cedar").write_text("// " + "x" * 70_000 + "\n" + CEDAR_OK)
    (tmp_path / "two.cedar").write_text(CEDAR_OK + CEDAR_OK)
    os.mkfifo(tmp_path / "fifo.cedar")
    (tmp_path / "ok.cedar").write_text(CEDAR_OK)
    return tmp_path


BAD = [
    (["octo"], "repo: is not OWNER/REPO (got 'octo'); allowed: OWNER/REPO"),
    (["octo/app/x"], "repo: is not OWNER/REPO"),
    (["octo/app", "--max-turns", "0"], "--max-turns: is out of range (got '0'); allowed: integer 1-500."),
    (["octo/app", "--max-turns", "501"], "--max-turns: is out of range (got '501'); allowed: integer 1-500."),
    (["octo/app", "--max-turns", "ten"], "--max-turns: must be an integer in plain digits (got 'ten')"),
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
    (["octo/app", "--cedar-policy-files", "{d}/big.cedar", "--cedar-policy-files", "{d}/big.cedar"],
     f"--cedar-policy-files: total {(len(CEDAR_OK) + 40_004) * 2} bytes, over the 65536-byte cap"),
    (["octo/app", "--cedar-policy-files", "{d}/two.cedar"],
     "--cedar-policy-files: {d}/two.cedar holds 2 policies; ABCA annotates each entry as one rule"),
    (["octo/app", "--cedar-policy-files", "{d}/none.cedar"],
     "--cedar-policy-files: cannot read {d}/none.cedar"),
    (["octo/app", "--model", "us.acme.unknown"],
     "--model: 'us.acme.unknown' is not granted (rule: stack backgroundagent-dev has no BedrockModelIds "
     "output, so ABCA's default model list, with no BedrockGeoRegion output, so us. profiles); allowed: "
     "us.anthropic.claude-sonnet-4-6, "),
    (["octo/app", "--model", "global.anthropic.claude-opus-5"],
     "--model: 'global.anthropic.claude-opus-5' is a 'global' profile, but the grant covers 'us' profiles"),
    (["octo/app", "--model", "anthropic.claude-opus-4-8"], "--model: is not an inference-profile id"),
    (["octo/app", "--model", "us.acme.x", "--allowed-models", "us."],
     "--allowed-models: needs exactly one geography prefix and a model id after us.; allowed: bare model"),
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


GHP = "ghp_" + "x1Y2" * 9  # shaped like a GitHub token; must never be echoed
HOSTILE = [
    ("a 300-character owner", ["o" * 300 + "/app"],
     "repo: has an owner of 300 characters, longer than GitHub allows (39)"),
    ("a 101-character repository name", ["octo/" + "n" * 101],
     "repo: has a repository name of 101 characters, longer than GitHub allows (100)"),
    ("underscores in a number", ["octo/app", "--max-turns", "1_0"],
     "--max-turns: must be an integer in plain digits (got '1_0'); allowed: integer 1-500."),
    ("other scripts' digits", ["octo/app", "--max-turns", "\u0665\u0660"],
     "--max-turns: must be an integer in plain digits"),
    ("a budget in exponent form", ["octo/app", "--max-budget-usd", "1e1"],
     "--max-budget-usd: must be a number in plain digits, such as 12.5 (got '1e1')"),
    ("/dev/zero as a Cedar file", ["octo/app", "--cedar-policy-files", "/dev/zero"],
     "--cedar-policy-files: cannot read /dev/zero (not a regular file)"),
    ("a FIFO as a Cedar file", ["octo/app", "--cedar-policy-files", "{d}/fifo.cedar"],
     "--cedar-policy-files: cannot read {d}/fifo.cedar (not a regular file)"),
    ("a directory as a Cedar file", ["octo/app", "--cedar-policy-files", "{d}"],
     "--cedar-policy-files: cannot read {d} (not a regular file)"),
    ("an oversized Cedar file", ["octo/app", "--cedar-policy-files", "{d}/huge.cedar"],
     "--cedar-policy-files: cannot read {d}/huge.cedar (larger than 65536 bytes)"),
    ("a token value as --github-token-env", ["octo/app", "--github-token-env", GHP],
     "--github-token-env: looks like a token, not the name of an environment variable (the value is not "
     "shown)"),
    ("a token value as --platform-token-env", ["octo/app", "--platform-token-env", GHP],
     "--platform-token-env: looks like a token, not the name of an environment variable"),
    ("a non-name as --github-token-env", ["octo/app", "--github-token-env", "MY-PAT"],
     "--github-token-env: is not an environment variable name; allowed: the NAME of an environment variable"),
    ("a token value where a model belongs", ["octo/app", "--model", GHP],
     "--model: is not an inference-profile id"),
    ("a token value as the stack name", ["octo/app", "--stack-name", GHP],
     "--stack-name: is not a CloudFormation stack name or stack ARN; allowed: a stack name"),
    ("a 300-character stack name", ["octo/app", "--stack-name", "s" * 300],
     "--stack-name: is not a CloudFormation stack name or stack ARN (got 'sss"),
    ("a table name with a slash", ["octo/app", "--repo-table", "a/b"],
     "--repo-table: is not a DynamoDB table name (got 'a/b'); allowed: 3-255 letters"),
    ("a token value as a Cedar file name", ["octo/app", "--cedar-policy-files", GHP],
     "--cedar-policy-files: cannot read (a value that looks like a credential, not shown) (No such file"),
]


@pytest.mark.parametrize(("case", "args", "message"), HOSTILE, ids=[case for case, _, _ in HOSTILE])
def test_hostile_onboard_input(case: str, args: list[str], message: str, files: Path, repo_stack: RepoStack,
                               capsys: pytest.CaptureFixture[str]) -> None:
    argv = [a.replace("{d}", str(files)) for a in args]
    assert main(["repo", "onboard", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, lines
    assert message.replace("{d}", str(files)) in lines[0]
    assert GHP not in captured.err
    assert "Traceback" not in captured.err
    assert repo_stack.items() == []
    assert repo_stack.secret_names() == []


def test_a_token_in_the_environment_variable_is_never_echoed(repo_stack: RepoStack,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ABCA_GITHUB_TOKEN_ENV", GHP)
    monkeypatch.setenv("ABCA_MAX_TURNS", "1_0")
    assert main(["repo", "onboard", "octo/app"]) == 2
    err = capsys.readouterr().err
    assert GHP not in err
    assert len(err.splitlines()) == 1
