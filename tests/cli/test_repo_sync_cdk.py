"""``repo sync`` on a stack whose CDK Blueprints own rows, that exports its model grant, and with --prune."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from tests.support.repo_stack import Intrinsic, RepoStack, blueprint, cdk_json, create_stack

from abca_deploy.cli import main

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.repo_stack import ActionsEnv

RUNTIME = Intrinsic({"Fn::GetAtt": ["Runtime", "AgentRuntimeArn"]})
DEPLOYED_RUNTIME = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/abca-AbCdEfGhIj"


@pytest.fixture
def cdk_stack(moto_env: str) -> RepoStack:
    """An ABCA-shaped stack with two Blueprints (their rows written as the custom resource wrote them)."""
    plugins = blueprint("awslabs/agent-plugins")
    pinned = blueprint("acme/pinned", {"max_turns": {"N": "80"}, "runtime_arn": {"S": RUNTIME}},
                       construct="ForkBlueprint")
    stack = create_stack(resources=dict([plugins, pinned]), extra_outputs={
        "BedrockModelIds": "anthropic.claude-opus-5,anthropic.claude-sonnet-4-6",
        "BedrockGeoRegion": "global"})
    for repo, extra in (("awslabs/agent-plugins", {}),
                        ("acme/pinned", {"max_turns": {"N": "80"}, "runtime_arn": {"S": DEPLOYED_RUNTIME}})):
        stack.ddb.put_item(TableName=stack.table, Item={
            "repo": {"S": repo}, "status": {"S": "active"}, "onboarded_at": {"S": "2026-08-14T10:00:00.000Z"},
            "updated_at": {"S": "2026-08-14T10:00:00.000Z"}, **extra})
    return stack


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "repos.yaml"
    path.write_text(text)
    return path


def test_prune_never_offboards_a_cdk_owned_row_and_reports_it(cdk_stack: RepoStack, repo_actions: ActionsEnv,
                                                               tmp_path: Path) -> None:
    assert repo_actions.run("repo", "onboard", "octo/old").code == 0
    path = write(tmp_path, "repos:\n  octo/app:\n    model_id: global.anthropic.claude-opus-5\n")
    run = repo_actions.run("repo", "sync", "--file", str(path), "--prune", "--output", "json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["counts"] == {"create": 1, "offboard": 1}
    assert doc["cdk_owned"] == [
        {"repo": "acme/pinned", "construct": "backgroundagent-dev/ForkBlueprint/RepoConfigCR"},
        {"repo": "awslabs/agent-plugins",
         "construct": "backgroundagent-dev/AgentPluginsBlueprint/RepoConfigCR"}]
    assert "Owned by CDK (left to `cdk deploy`): `acme/pinned`, `awslabs/agent-plugins`" in run.summary
    status = {item["repo"]["S"]: item["status"]["S"] for item in cdk_stack.items()}
    assert status == {"awslabs/agent-plugins": "active", "acme/pinned": "active", "octo/app": "active",
                      "octo/old": "removed"}


def test_a_cdk_owned_repo_listed_with_its_declared_fields_is_left_alone(
        cdk_stack: RepoStack, repo_actions: ActionsEnv, tmp_path: Path) -> None:
    before = cdk_stack.items()
    path = write(tmp_path, "repos:\n  awslabs/agent-plugins: {}\n  acme/pinned:\n    max_turns: 80\n"
                           f"    runtime_arn: {DEPLOYED_RUNTIME}\n")
    run = repo_actions.run("repo", "sync", "--file", str(path), "--prune")
    assert run.code == 0, run.err
    assert "acme/pinned: owned by CDK (backgroundagent-dev/ForkBlueprint/RepoConfigCR), left to cdk deploy" \
        in run.out
    assert run.out.splitlines()[-1] == f"{path}: no repositories for the table to sync."
    assert cdk_stack.items() == before


def test_a_cdk_owned_repo_listed_with_other_fields_is_refused(cdk_stack: RepoStack, repo_actions: ActionsEnv,
                                                             tmp_path: Path) -> None:
    before = cdk_stack.items()
    path = write(tmp_path, "repos:\n  octo/app: {}\n  acme/pinned:\n    max_turns: 90\n")
    run = repo_actions.run("repo", "sync", "--file", str(path))
    assert run.code == 2
    errors = [line for line in run.err.splitlines() if line.startswith("::error")]
    assert len(errors) == 1
    assert (f"{path}:3: acme/pinned: declared by the CDK Blueprint backgroundagent-dev/ForkBlueprint/"
            "RepoConfigCR of stack backgroundagent-dev, which owns its row, and the file differs in "
            f"runtime_arn (file (unset), CDK {DEPLOYED_RUNTIME}); max_turns (file 90, CDK 80). Change it in "
            "the CDK app, or remove it from the file.") in errors[0]
    assert cdk_stack.items() == before


def test_models_follow_the_stacks_grant_outputs(cdk_stack: RepoStack, repo_actions: ActionsEnv,
                                                tmp_path: Path) -> None:
    path = write(tmp_path, "repos:\n  octo/app:\n    model_id: us.anthropic.claude-opus-5\n")
    refused = repo_actions.run("repo", "sync", "--file", str(path))
    assert refused.code == 2
    assert (f"{path}:3: octo/app: model_id: 'us.anthropic.claude-opus-5' is a 'us' profile, but the grant "
            "covers 'global' profiles (rule: stack backgroundagent-dev's BedrockModelIds output, with "
            "BedrockGeoRegion=global); allowed: global.anthropic.claude-opus-5, "
            "global.anthropic.claude-sonnet-4-6") in refused.err
    onboard = repo_actions.run("repo", "onboard", "octo/app", "--model", "global.anthropic.claude-opus-4-8")
    assert onboard.code == 2
    assert "--model: 'global.anthropic.claude-opus-4-8' is not granted (rule: stack backgroundagent-dev's " \
           "BedrockModelIds output" in onboard.err
    override = repo_actions.run("repo", "onboard", "octo/app", "--model", "global.acme.model-1",
                                "--allowed-models", "acme.model-1")
    assert override.code == 0, override.err
    assert {i["repo"]["S"] for i in cdk_stack.items()} == {"awslabs/agent-plugins", "acme/pinned", "octo/app"}


def test_an_empty_file_with_prune_needs_a_confirmation(cdk_stack: RepoStack, repo_actions: ActionsEnv,
                                                       tmp_path: Path) -> None:
    for repo in ("octo/a", "octo/b"):
        assert repo_actions.run("repo", "onboard", repo).code == 0
    before = cdk_stack.items()
    for text in ("repos:\n", "repos: {}\n", "repos:\n  awslabs/agent-plugins: {}\n"):
        path = write(tmp_path, text)
        refused = repo_actions.run("repo", "sync", "--file", str(path), "--prune")
        assert refused.code == 2, text
        errors = [line for line in refused.err.splitlines() if line.startswith("::error")]
        assert len(errors) == 1
        assert (f"--prune: {path} declares no repositories the table owns, so --prune would offboard all 2 "
                "active ones. If that is what you want, add --confirm-prune-all.") in errors[0]
        assert cdk_stack.items() == before
    confirmed = repo_actions.run("repo", "sync", "--file", str(path), "--prune", "--confirm-prune-all")
    assert confirmed.code == 0, confirmed.err
    status = {item["repo"]["S"]: item["status"]["S"] for item in cdk_stack.items()}
    assert status == {"awslabs/agent-plugins": "active", "acme/pinned": "active", "octo/a": "removed",
                      "octo/b": "removed"}


def test_prune_with_repo_table_is_refused(cdk_stack: RepoStack, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "repos:\n  octo/app: {}\n")
    assert main(["repo", "sync", "--file", str(path), "--prune", "--repo-table", cdk_stack.table]) == 2
    err = capsys.readouterr().err
    assert "--prune needs the stack, to spare the repositories its CDK Blueprints own, but --repo-table " \
           "skips it. Name the stack with --stack-name instead of --repo-table." in err
    assert len(cdk_stack.items()) == 2


def test_prune_stops_when_a_custom_resource_cannot_be_read(moto_env: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    logical, resource = blueprint("acme/x")
    resource["Properties"]["Create"] = cdk_json({"service": "DynamoDB", "action": "putItem", "parameters": {
        "TableName": Intrinsic(Ref="RepoTable"), "Item": {"repo": {"S": Intrinsic(Ref="RepoName")}}}})
    stack = create_stack(resources={logical: resource})
    stack.ddb.put_item(TableName=stack.table, Item={"repo": {"S": "acme/x"}, "status": {"S": "active"}})
    path = write(tmp_path, "repos:\n  octo/app: {}\n")
    assert main(["repo", "sync", "--file", str(path), "--prune"]) == 1
    assert "so --prune cannot tell which repositories CDK owns" in capsys.readouterr().err
    assert [i["repo"]["S"] for i in stack.items()] == ["acme/x"]
    assert main(["repo", "sync", "--file", str(path)]) == 0  # without --prune, nothing of CDK's is at stake


HOSTILE: list[tuple[str, Any, str]] = [
    ("/dev/zero as the file", "/dev/zero", "--file: cannot read /dev/zero (not a regular file)"),
    ("a directory as the file", "{d}", "--file: cannot read {d} (not a regular file)"),
    ("a 5,000-deep list", "repos:\n  octo/app:\n    skills: " + "[" * 5000 + "]" * 5000 + "\n",
     "{d}/repos.yaml:3: nested deeper than 16 levels, so not a repos file"),
    ("a number with underscores", "repos:\n  octo/app:\n    max_turns: 1_0\n",
     "{d}/repos.yaml:3: octo/app: max_turns: must be an integer in plain digits (got '1_0')"),
    ("a 300-character owner", "repos:\n  " + "o" * 300 + "/app: {}\n",
     "has an owner of 300 characters, longer than GitHub allows (39)"),
    ("a token where a secret ARN belongs",
     "repos:\n  octo/app:\n    github_token_secret_arn: ghp_" + "x1Y2" * 9 + "\n",
     "{d}/repos.yaml:3: octo/app: github_token_secret_arn: is not a Secrets Manager secret ARN; allowed:"),
]


@pytest.mark.parametrize(("case", "content", "message"), HOSTILE, ids=[case for case, _, _ in HOSTILE])
def test_hostile_files_exit_2_with_one_line_and_write_nothing(
        case: str, content: str, message: str, cdk_stack: RepoStack, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    before = cdk_stack.items()
    if content.startswith(("/", "{d}")):
        target = content.replace("{d}", str(tmp_path))
    else:
        target = str(write(tmp_path, content))
    assert main(["repo", "sync", "--file", target, "--prune"]) == 2
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, captured.err
    assert message.replace("{d}", str(tmp_path)) in errors[0]
    assert "Traceback" not in captured.err
    assert "ghp_" not in captured.err
    assert captured.out == ""
    assert cdk_stack.items() == before
