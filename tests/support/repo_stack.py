"""An ABCA-shaped stack on the moto server (a repo table, output ``RepoTableName``); an Actions step env."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

STACK = "backgroundagent-dev"


@dataclass(frozen=True)
class RepoStack:
    """The stack's name and outputs, and low-level clients to look at what was written."""

    name: str
    table: str
    outputs: dict[str, str]

    @property
    def ddb(self) -> Any:
        """A low-level DynamoDB client (types exactly as stored)."""
        return boto3.client("dynamodb")

    @property
    def secrets(self) -> Any:
        """A Secrets Manager client."""
        return boto3.client("secretsmanager")

    def item(self, repo: str) -> dict[str, Any] | None:
        """The stored item, low-level, read consistently."""
        found: dict[str, Any] | None = self.ddb.get_item(TableName=self.table, Key={"repo": {"S": repo}},
                                                         ConsistentRead=True).get("Item")
        return found

    def items(self) -> list[dict[str, Any]]:
        """Every stored item."""
        return list(self.ddb.scan(TableName=self.table, ConsistentRead=True)["Items"])

    def secret_names(self) -> list[str]:
        """Names of every secret (including those scheduled for deletion)."""
        listed = self.secrets.list_secrets(IncludePlannedDeletion=True)["SecretList"]
        return sorted(s["Name"] for s in listed)


def create_stack(name: str = STACK, extra_outputs: dict[str, str] | None = None) -> RepoStack:
    """Create the stack (table + outputs) on the current endpoint."""
    outputs: dict[str, Any] = {"RepoTableName": {"Value": {"Ref": "RepoTable"}}}
    outputs.update({key: {"Value": value} for key, value in (extra_outputs or {}).items()})
    template = {
        "Resources": {"RepoTable": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "KeySchema": [{"AttributeName": "repo", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "repo", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST"}}},
        "Outputs": outputs,
    }
    cfn = boto3.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    described = cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    values = {o["OutputKey"]: o["OutputValue"] for o in described}
    return RepoStack(name, values["RepoTableName"], values)


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the in-process moto server handle one DynamoDB request at a time.

    DynamoDB applies each conditional write atomically. Moto's threaded server does not: it evaluates the
    condition, then writes, with no lock between, and it serializes an item while another request mutates it.
    Concurrency tests need the real service's guarantee, so they serialize moto's DynamoDB request handler.
    """
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    original = DynamoHandler.call_action

    def call_action(self: DynamoHandler) -> Any:
        with lock:
            return original(self)

    monkeypatch.setattr(DynamoHandler, "call_action", call_action)


@pytest.fixture
def repo_stack(moto_env: str) -> RepoStack:
    """A fresh ABCA-shaped stack named backgroundagent-dev on the moto server."""
    return create_stack()


@dataclass
class CliRun:
    """What one ``abca_deploy.cli.main`` call showed: exit code, stdout, stderr, step outputs and summary."""

    code: int
    out: str
    err: str
    outputs: str
    summary: str

    def output(self, name: str) -> str:
        """One step output's value (heredoc form, as the reporter writes it)."""
        lines = self.outputs.splitlines()
        for i, line in enumerate(lines):
            if line.startswith(f"{name}<<"):
                end = lines.index(line.split("<<", 1)[1], i + 1)
                return "\n".join(lines[i + 1:end])
        msg = f"no output {name!r} in {self.outputs!r}"
        raise AssertionError(msg)


@dataclass
class ActionsEnv:
    """A GitHub Actions step environment whose actor (alice) is an admin of octo/platform."""

    output_file: Any
    summary_file: Any
    capsys: pytest.CaptureFixture[str]

    def run(self, *argv: str) -> CliRun:
        """Run the CLI and collect what it wrote (the files are emptied for the next run)."""
        from abca_deploy.cli import main

        self.capsys.readouterr()
        code = main(list(argv))
        captured = self.capsys.readouterr()
        outputs, summary = self.output_file.read_text(), self.summary_file.read_text()
        self.output_file.write_text("")
        self.summary_file.write_text("")
        return CliRun(code, captured.out, captured.err, outputs, summary)


@pytest.fixture
def repo_actions(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                 fake_github: Any) -> ActionsEnv:
    """Actions env vars, with GITHUB_API_URL pointing at the fake GitHub API."""
    output_file, summary_file = tmp_path / "github_output", tmp_path / "step_summary"
    output_file.write_text("")
    summary_file.write_text("")
    fake_github.add_repo("octo/platform")
    fake_github.add_token("ghs_platform_token", "github-actions[bot]", access={"octo/platform": "read"})
    fake_github.roles[("octo/platform", "alice")] = "admin"
    for key, value in {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output_file),
                       "GITHUB_STEP_SUMMARY": str(summary_file), "GITHUB_ACTOR": "alice",
                       "GITHUB_REPOSITORY": "octo/platform", "GITHUB_TOKEN": "ghs_platform_token",
                       "GITHUB_API_URL": fake_github.url}.items():
        monkeypatch.setenv(key, value)
    return ActionsEnv(output_file, summary_file, capsys)
