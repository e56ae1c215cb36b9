"""Onboarding on `sandbox up --shape integrated` (real Docker Engine, moto, registry, emulator), end to end.

The CLI reaches the sandbox only through `sandbox env`, as an operator's shell would. Onboarding with egress
fills the stack's runtime domain list, offboarding shrinks it (a domain two repositories share stays until
both are gone), `sync --prune` keeps it equal to the file, and a repository onboarded with its own token gets
a row whose secret resolves to the raw token under the prefix the integration grants every token reader.
"""

from __future__ import annotations

import fnmatch
import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from tests.support.engine import running_engine
from tests.support.ports import sandbox_flags

from abca_deploy import abca_stack
from abca_deploy.cli import main
from abca_deploy.repos.tokens import SECRET_PREFIX

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support.fake_github import FakeGitHub

pytestmark = pytest.mark.docker
STACK = "backgroundagent-dev"
TOKEN = "ghp_SandboxRepoToken0123456789abcdefABCD"


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main([*argv, "--output", "json"])
    out, err = capsys.readouterr()
    assert out, err
    return code, json.loads(out)


@pytest.fixture
def sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """An integrated sandbox; its `sandbox env` variables are set. Yields what `up` seeded."""
    running_engine().close()
    args = sandbox_flags(tmp_path / "state", api=False)
    try:
        code, up = _cli(capsys, "sandbox", "up", *args, "--shape", "integrated")
        assert code == 0, up
        _, env = _cli(capsys, "sandbox", "env", *args)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield up["seed"]
    finally:
        main(["sandbox", "down", *args])
        capsys.readouterr()


def test_onboarding_keeps_the_runtime_domain_list_and_a_token_row_resolves(
        sandbox: dict[str, Any], capsys: pytest.CaptureFixture[str], fake_github: FakeGitHub,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    list_id = sandbox["domain_list_id"]
    resolver = boto3.client("route53resolver")
    stack = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs[abca_stack.DOMAIN_LIST_OUTPUT] == list_id

    def listed() -> list[str]:
        return sorted(resolver.list_firewall_domains(FirewallDomainListId=list_id)["Domains"])

    code, a = _cli(capsys, "repo", "onboard", "octo/a", "--egress-allowlist", "pypi.org,a.example.com")
    assert (code, a["notes"], a["egress"]["added"]) == (0, [], ["a.example.com", "pypi.org"])
    fake_github.add_repo("octo/b")
    fake_github.add_token(TOKEN, "bot", access={"octo/b": "write"})
    monkeypatch.setenv("B_PAT", TOKEN)
    code, b = _cli(capsys, "repo", "onboard", "octo/b", "--egress-allowlist", "pypi.org,b.example.com",
                   "--github-token-env", "B_PAT", "--github-api-url", fake_github.url)
    assert (code, b["token"], b["notes"]) == (0, "create", [])  # no additionalSecretArns warning: granted
    assert listed() == ["a.example.com.", "b.example.com.", "pypi.org."]

    code, gone = _cli(capsys, "repo", "offboard", "octo/a")
    assert (code, gone["egress"]["removed"]) == (0, ["a.example.com"])
    assert listed() == ["b.example.com.", "pypi.org."]  # pypi.org stays: octo/b still needs it

    # The token row resolves as ABCA's orchestrator resolves it: GetSecretValue on the row's ARN.
    table = outputs["RepoTableName"]
    row = boto3.client("dynamodb").get_item(TableName=table, Key={"repo": {"S": "octo/b"}},
                                            ConsistentRead=True)["Item"]
    arn = row["github_token_secret_arn"]["S"]
    _, partition, _, region, account, *_ = outputs["RuntimeArn"].split(":")
    granted = f"arn:{partition}:secretsmanager:{region}:{account}:secret:{SECRET_PREFIX}*"  # what it grants
    assert fnmatch.fnmatchcase(arn, granted)
    secrets = boto3.client("secretsmanager")
    assert secrets.describe_secret(SecretId=arn)["Name"] == f"{SECRET_PREFIX}octo/b"
    assert secrets.get_secret_value(SecretId=arn)["SecretString"] == TOKEN

    file = tmp_path / "repos.yaml"
    file.write_text("repos:\n  octo/c:\n    egress_allowlist: [c.example.com]\n")
    code, synced = _cli(capsys, "repo", "sync", "--file", str(file), "--prune")
    assert code == 0, synced
    assert (synced["counts"], synced["egress"]["removed"]) == ({"create": 1, "offboard": 1},
                                                               ["b.example.com", "pypi.org"])
    assert listed() == ["c.example.com."]
    code, again = _cli(capsys, "repo", "sync", "--file", str(file), "--prune")
    assert (code, again["changed"], again["egress"]["changed"]) == (0, False, False)
