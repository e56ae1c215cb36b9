"""An ABCA-shaped stack on the moto server (a repo table, output ``RepoTableName``); an Actions step env; the
integrated shape (integrations/abca): that stack with a runtime domain list in the emulator's DNS firewall."""

from __future__ import annotations

import json
import re
import threading
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from tests.support.standin import NullRunner

if TYPE_CHECKING:
    from collections.abc import Iterator

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


class Intrinsic(dict[str, Any]):
    """A CloudFormation intrinsic (``{"Ref": ...}``) inside an SDK call: a token to CDK's JSON serializer."""


def cdk_json(call: Any) -> Any:
    """Serialize ``call`` the way aws-cdk-lib's ``Stack.toJsonString`` does for an AwsCustomResource property.

    Without tokens: a JSON string. With tokens: ``Fn::Join`` with delimiter "" of JSON text fragments and the
    intrinsics, each string-typed intrinsic between the quotes of the value it stands for.
    """
    found: list[Intrinsic] = []

    def placeholder(value: Any) -> Any:
        if isinstance(value, Intrinsic):
            found.append(value)
            return f"@@TOKEN{len(found) - 1}@@"
        if isinstance(value, dict):
            return {k: placeholder(v) for k, v in value.items()}
        if isinstance(value, list):
            return [placeholder(v) for v in value]
        return value

    text = json.dumps(placeholder(call), separators=(",", ":"))
    if not found:
        return text
    pieces = re.split(r"@@TOKEN(\d+)@@", text)
    parts: list[Any] = [piece if i % 2 == 0 else dict(found[int(piece)]) for i, piece in enumerate(pieces)]
    return {"Fn::Join": ["", [p for p in parts if p != ""]]}


def blueprint(repo: str, item: dict[str, Any] | None = None, *, construct: str = "AgentPluginsBlueprint",
              table: Any = None) -> tuple[str, dict[str, Any]]:
    """A logical id and the ``Custom::AWS`` resource ABCA's Blueprint construct synthesizes for ``repo``.

    ``item`` holds the row's settable attributes in DynamoDB's low-level form (values may be ``Intrinsic``).
    """
    table = Intrinsic(Ref="RepoTable") if table is None else table
    stamp = "2026-08-14T10:00:00.000Z"
    full = {"repo": {"S": repo}, "status": {"S": "active"}, "onboarded_at": {"S": stamp},
            "updated_at": {"S": stamp}, **(item or {})}
    physical = {"id": f"blueprint-{repo}"}
    create = {"service": "DynamoDB", "action": "putItem", "parameters": {"TableName": table, "Item": full},
              "physicalResourceId": physical}
    update = {"service": "DynamoDB", "action": "updateItem", "parameters": {
        "TableName": table, "Key": {"repo": {"S": repo}}, "UpdateExpression": "SET #status = :active",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":active": {"S": "active"}}}, "physicalResourceId": physical}
    logical = construct + "RepoConfigCR" + format(zlib.crc32(repo.encode()), "08X")
    return logical, {
        "Type": "Custom::AWS",
        "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:AWS679f53fa",
                       "Create": cdk_json(create), "Update": cdk_json(update), "InstallLatestAwsSdk": False},
        "UpdateReplacePolicy": "Delete", "DeletionPolicy": "Delete",
        "Metadata": {"aws:cdk:path": f"{STACK}/{construct}/RepoConfigCR/Resource/Default"},
    }


def create_stack(name: str = STACK, extra_outputs: dict[str, str] | None = None,
                 resources: dict[str, Any] | None = None) -> RepoStack:
    """Create the stack (table + outputs, and any ``resources``) on the current endpoint.

    Custom resources are kept in the template (GetTemplate returns them) but never created: moto would try to
    invoke their provider, so they carry a condition that is false.
    """
    from abca_deploy.sandbox.platform_spec import repo_table_resource

    outputs: dict[str, Any] = {"RepoTableName": {"Value": {"Ref": "RepoTable"}}}
    outputs.update({key: {"Value": value} for key, value in (extra_outputs or {}).items()})
    extra = {key: {**value, "Condition": "Never"} if value["Type"].startswith("Custom::") else value
             for key, value in (resources or {}).items()}
    template = {
        "Conditions": {"Never": {"Fn::Equals": ["synth", "deploy"]}},
        "Resources": {"RepoTable": repo_table_resource(), **extra},
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


@pytest.fixture
def firewall_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The emulator serving Route 53 Resolver (no Docker), with ``AWS_ENDPOINT_URL_ROUTE53RESOLVER`` set."""
    from abca_deploy.sandbox.emulator.server import EmulatorServer

    server = EmulatorServer("127.0.0.1:1", runner=NullRunner())
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_ROUTE53RESOLVER", server.url)
    yield server
    server.stop()


@dataclass(frozen=True)
class IntegratedStack:
    """A stack as integrations/abca makes it: repo table, ABCA's DNS firewall and the runtime domain list."""

    stack: RepoStack
    list_id: str

    @property
    def resolver(self) -> Any:
        """A stock Route 53 Resolver client (on the emulator)."""
        return boto3.client("route53resolver")

    def domains(self) -> list[str]:
        """The runtime domain list's domains, as Route 53 lists them (trailing dot), sorted."""
        listed = self.resolver.list_firewall_domains(FirewallDomainListId=self.list_id, MaxResults=5000)
        return sorted(listed["Domains"])

    def modified(self) -> str:
        """The list's ModificationTime (changes with every UpdateFirewallDomains)."""
        return str(self.resolver.get_firewall_domain_list(FirewallDomainListId=self.list_id)[
            "FirewallDomainList"]["ModificationTime"])


RUNTIME_ARN = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/backgroundagent-0123456789"


def create_integrated_stack(resources: dict[str, Any] | None = None) -> IntegratedStack:
    """Seed ABCA's DNS firewall in the integrated shape (as ``sandbox up --shape integrated`` does), then the
    stack, whose outputs name the table, the runtime and the runtime domain list."""
    from abca_deploy import abca_stack
    from abca_deploy.sandbox import firewall_seed

    seeded = firewall_seed.seed(boto3.client("route53resolver"), integrated=True)
    assert seeded.runtime_list_id is not None
    outputs = {abca_stack.DOMAIN_LIST_OUTPUT: seeded.runtime_list_id, "RuntimeArn": RUNTIME_ARN,
               abca_stack.IMAGE_PARAMETER_OUTPUT: abca_stack.image_parameter_name(STACK)}
    return IntegratedStack(create_stack(extra_outputs=outputs, resources=resources), seeded.runtime_list_id)


@pytest.fixture
def integrated_stack(moto_env: str, firewall_emulator: Any) -> IntegratedStack:
    """A fresh integrated stack: moto for the stack and table, the emulator for the DNS firewall."""
    return create_integrated_stack()
