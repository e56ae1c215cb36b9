"""``abca-deploy repo onboard|update|offboard|show|list`` through the real ``main()`` in an Actions step."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from abca_deploy.cli import main

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from tests.support.repo_stack import ActionsEnv, RepoStack


def test_onboard_show_list_offboard_reonboard(repo_stack: RepoStack, repo_actions: ActionsEnv) -> None:
    done = repo_actions.run("repo", "onboard", "octo/app", "--max-turns", "50", "--model",
                            "us.anthropic.claude-opus-4-8", "--skills", "registry://skill/acme/review@1.0.0")
    assert done.code == 0, done.err
    assert [done.output(name) for name in ("repo", "status", "changed")] == ["octo/app", "active", "true"]
    assert done.out.startswith("octo/app: created\n")
    assert "| `octo/app` | created |" in done.summary
    first = repo_stack.item("octo/app")
    assert first is not None
    assert first["max_turns"] == {"N": "50"}
    assert first["skills"] == {"L": [{"S": "registry://skill/acme/review@1.0.0"}]}

    again = repo_actions.run("repo", "onboard", "octo/app", "--max-turns", "50")
    assert (again.code, again.output("changed"), again.out.strip()) == (0, "false", "octo/app: unchanged")
    assert repo_stack.item("octo/app") == first

    shown = repo_actions.run("repo", "show", "octo/app", "--output", "json")
    assert json.loads(shown.out)["repo"]["skills"] == ["registry://skill/acme/review@1.0.0"]
    listed = repo_actions.run("repo", "list", "--status", "active", "--output", "json")
    assert [r["repo"] for r in json.loads(listed.out)["repos"]] == ["octo/app"]

    gone = repo_actions.run("repo", "offboard", "octo/app")
    assert (gone.code, gone.output("status"), gone.output("changed")) == (0, "removed", "true")
    assert repo_actions.run("repo", "offboard", "octo/app").output("changed") == "false"
    active = repo_actions.run("repo", "list", "--status", "active", "--output", "json")
    assert json.loads(active.out) == {"repos": []}

    back = repo_actions.run("repo", "onboard", "octo/app")
    assert (back.code, back.output("status")) == (0, "active")
    item = repo_stack.item("octo/app")
    assert item is not None
    assert item["onboarded_at"] == first["onboarded_at"]
    assert "ttl" not in item
    assert item["skills"] == first["skills"]


def test_onboard_of_a_differing_active_repo_points_to_update(repo_stack: RepoStack,
                                                             repo_actions: ActionsEnv) -> None:
    assert repo_actions.run("repo", "onboard", "octo/app", "--max-turns", "50").code == 0
    refused = repo_actions.run("repo", "onboard", "octo/app", "--max-turns", "60")
    assert refused.code == 2
    assert "already onboarded and differs in: max_turns" in refused.err
    assert "repo update octo/app" in refused.err
    updated = repo_actions.run("repo", "update", "octo/app", "--max-turns", "60", "--build-command", "make")
    assert updated.code == 0
    assert "  max_turns: 50 -> 60" in updated.out
    removed = repo_actions.run("repo", "update", "octo/app", "--unset", "build_command")
    assert removed.code == 0
    item = repo_stack.item("octo/app")
    assert item is not None
    assert item["max_turns"] == {"N": "60"}
    assert "build_command" not in item


def test_update_keeps_attributes_it_does_not_know(repo_stack: RepoStack, repo_actions: ActionsEnv) -> None:
    repo_stack.ddb.put_item(TableName=repo_stack.table, Item={
        "repo": {"S": "octo/app"}, "status": {"S": "active"}, "owner_team": {"S": "platform"},
        "lint_command": {"S": "ruff check"}})
    assert repo_actions.run("repo", "update", "octo/app", "--approval-gate-cap", "7").code == 0
    item = repo_stack.item("octo/app")
    assert item is not None
    assert (item["owner_team"], item["lint_command"], item["approval_gate_cap"]) == (
        {"S": "platform"}, {"S": "ruff check"}, {"N": "7"})


def test_dry_run_writes_nothing(repo_stack: RepoStack, repo_actions: ActionsEnv) -> None:
    planned = repo_actions.run("repo", "onboard", "octo/app", "--max-turns", "5", "--dry-run")
    assert planned.code == 0
    assert planned.out.startswith("octo/app: would create")
    assert planned.output("changed") == "true"
    assert repo_stack.items() == []


def test_warnings_abca_gives(repo_stack: RepoStack, repo_actions: ActionsEnv) -> None:
    arn = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/other-AbCdEfGhIj"
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:team/pat-AbC123"
    done = repo_actions.run("repo", "onboard", "octo/app", "--runtime-arn", arn, "--egress-allowlist",
                            "pypi.org", "--token-secret-arn", secret)
    assert done.code == 0
    warnings = [line for line in done.err.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 3
    assert any("additionalRuntimeArns" in w for w in warnings)
    assert any("additionalSecretArns" in w for w in warnings)
    # The truth: ABCA's DNS firewall is built from the CDK Blueprints at synth and never reads the table.
    assert any("egress_allowlist is stored, but ABCA does not read it from the table" in w
               and "networking.egressAllowlist" in w for w in warnings)
    assert not any("next infrastructure deploy" in w for w in warnings)
    for text in (done.out, done.err, done.outputs, done.summary):
        assert "team/pat" not in text


def test_the_secret_arn_is_redacted_wherever_printed(repo_stack: RepoStack, repo_actions: ActionsEnv) -> None:
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:team/pat-AbC123"
    runs = [repo_actions.run("repo", "onboard", "octo/app", "--token-secret-arn", secret, "--output", "json"),
            repo_actions.run("repo", "show", "octo/app"),
            repo_actions.run("repo", "show", "octo/app", "--output", "json"),
            repo_actions.run("repo", "list"), repo_actions.run("repo", "list", "--output", "json")]
    assert all(r.code == 0 for r in runs)
    for run in runs:
        for text in (run.out, run.err, run.outputs, run.summary):
            assert "team/pat" not in text
    assert json.loads(runs[2].out)["repo"]["github_token_secret_arn"] == (
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:****-AbC123")


def test_unknown_stack_or_table_is_exit_2(moto_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["repo", "onboard", "octo/app", "--stack-name", "nope"]) == 2
    assert "Stack 'nope' does not exist" in capsys.readouterr().err
    assert main(["repo", "show", "octo/app", "--repo-table", "nope"]) == 2
    assert "DynamoDB table 'nope' does not exist" in capsys.readouterr().err


def test_a_stack_without_the_table_output_is_exit_2(moto_env: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import boto3

    boto3.client("cloudformation").create_stack(StackName="other", TemplateBody=json.dumps(
        {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}))
    assert main(["repo", "list", "--stack-name", "other"]) == 2
    assert "has no RepoTableName output" in capsys.readouterr().err


def test_compute_types_the_stack_did_not_deploy_are_refused(moto_env: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support.repo_stack import create_stack

    stack = create_stack("agentcore-only", {"ComputeSubstrate": "agentcore"})
    assert main(["repo", "onboard", "octo/app", "--stack-name", stack.name, "--compute-type", "ecs"]) == 2
    assert "deployed without the ecs substrate" in capsys.readouterr().err
    assert stack.items() == []


def test_show_of_an_unknown_repo_is_exit_2(repo_stack: RepoStack, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["repo", "show", "octo/none"]) == 2
    assert "octo/none is not in the repo table" in capsys.readouterr().err


def test_list_text(repo_stack: RepoStack, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["repo", "list"]) == 0
    assert capsys.readouterr().out.strip() == "No repositories."
    assert main(["repo", "onboard", "octo/b", "--compute-type", "ecs"]) == 0
    assert main(["repo", "onboard", "octo/a"]) == 0
    capsys.readouterr()
    assert main(["repo", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["REPO", "STATUS", "COMPUTE", "MODEL", "UPDATED"]
    rows = [line.split()[:3] for line in lines[1:]]
    assert rows == [["octo/a", "active", "-"], ["octo/b", "active", "ecs"]]


def action_env(monkeypatch: pytest.MonkeyPatch, inputs: dict[str, str]) -> str:
    """Set the environment the action's run step gets: every input, "" when unset (as GitHub sends it)."""
    import yaml
    from tests.unit.test_repos_action import ACTION

    action = yaml.safe_load(ACTION.read_text())
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
    for key, expression in step["env"].items():
        if key.startswith("ABCA_"):
            name = expression.removeprefix("${{ inputs.").removesuffix(" }}")
            monkeypatch.setenv(key, inputs.get(name, ""))
    return inputs["operation"]


def test_the_actions_environment_drives_the_cli(repo_stack: RepoStack, repo_actions: ActionsEnv,
                                                monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    operation = action_env(monkeypatch, {
        "operation": "onboard", "repo": "octo/app", "max-turns": "7", "dry-run": "false",
        "egress-allowlist": "pypi.org\n*.example.com", "skills": "registry://skill/a/b@1.0.0"})
    done = repo_actions.run("repo", operation)
    assert done.code == 0, done.err
    item = repo_stack.item("octo/app")
    assert item is not None
    assert (item["max_turns"], item["egress_allowlist"], item["skills"]) == (
        {"N": "7"}, {"L": [{"S": "pypi.org"}, {"S": "*.example.com"}]},
        {"L": [{"S": "registry://skill/a/b@1.0.0"}]})

    (tmp_path / "repos.yaml").write_text("repos:\n  octo/other: {}\n")
    operation = action_env(monkeypatch, {"operation": "sync", "file": str(tmp_path / "repos.yaml"),
                                         "prune": "true"})
    synced = repo_actions.run("repo", operation)
    assert synced.code == 0, synced.err
    assert synced.output("repo").splitlines() == ["octo/other", "octo/app"]
    assert repo_stack.item("octo/app")["status"] == {"S": "removed"}  # type: ignore[index]
