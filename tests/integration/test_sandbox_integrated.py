"""`sandbox up --shape integrated` on a real Docker Engine: ABCA as integrations/abca makes it, end to end.

What a fresh `cdk deploy -c abcaDeploy=true --all` leaves: the runtime reading its image from the per-stack
parameter, the image stack with the CI repository, the runtime domain list in the DNS firewall, the outputs
abca-deploy reads; `drift` reads the parameter; a stock Route 53 Resolver client (through `sandbox env`) can
maintain the list; a later `up` keeps the shape, and `--shape unpatched` turns it back.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from tests.support.engine import running_engine
from tests.support.ports import sandbox_flags

from abca_deploy import abca_stack
from abca_deploy.cli import main

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.docker
STACK = "backgroundagent-dev"


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main([*argv, "--output", "json"])
    out, _ = capsys.readouterr()
    return code, json.loads(out)


@pytest.fixture
def sandbox_args(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[list[str]]:
    running_engine().close()
    args = sandbox_flags(tmp_path / "state", api=False)
    yield args
    main(["sandbox", "down", *args])
    capsys.readouterr()


def test_the_integrated_shape_is_what_the_module_deploys_and_stays_until_changed(
    sandbox_args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, up = _cli(["sandbox", "up", *sandbox_args, "--shape", "integrated"], capsys)
    assert code == 0
    seed = up["seed"]
    assert seed["shape"] == "integrated"
    assert seed["image_parameter"] == abca_stack.image_parameter_name(STACK)
    assert seed["image_repository"].endswith(f"/{abca_stack.image_repository_name(STACK)}")
    _, env = _cli(["sandbox", "env", *sandbox_args], capsys)
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    cfn = boto3.client("cloudformation")
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert {k: outputs[k] for k in abca_stack.OUTPUTS} == {
        abca_stack.IMAGE_PARAMETER_OUTPUT: seed["image_parameter"],
        abca_stack.IMAGE_REPOSITORY_OUTPUT: seed["image_repository"],
        abca_stack.DOMAIN_LIST_OUTPUT: seed["domain_list_id"],
    }
    image_stack = cfn.describe_stacks(StackName=abca_stack.image_stack_name(STACK))["Stacks"][0]
    assert image_stack["StackStatus"] == "CREATE_COMPLETE"
    parameter = boto3.client("ssm").get_parameter(Name=seed["image_parameter"])["Parameter"]
    assert parameter["Value"] == seed["image_uri"]

    resolver = boto3.client("route53resolver")
    assert resolver.list_firewall_domains(FirewallDomainListId=seed["domain_list_id"])["Domains"] == []
    resolver.update_firewall_domains(
        FirewallDomainListId=seed["domain_list_id"], Operation="REPLACE", Domains=["files.example.org"]
    )
    assert resolver.list_firewall_domains(FirewallDomainListId=seed["domain_list_id"])["Domains"] == [
        "files.example.org."
    ]

    code, drift = _cli(["drift", "--stack-name", STACK], capsys)
    assert code == 0
    template = next(s for s in drift["sources"] if s["source"] == "template")
    assert template["detail"] == f"read from SSM parameter {seed['image_parameter']} at each deploy"

    code, again = _cli(["sandbox", "up", *sandbox_args], capsys)
    assert (code, again["seed"]["shape"], again["seed"]["created"]) == (0, "integrated", [])
    assert resolver.list_firewall_domains(FirewallDomainListId=seed["domain_list_id"])["Domains"] == [
        "files.example.org."
    ]

    code, back = _cli(["sandbox", "up", *sandbox_args, "--shape", "unpatched"], capsys)
    assert (code, back["seed"]["shape"], back["seed"]["domain_list_id"]) == (0, "unpatched", None)
    outputs = {o["OutputKey"] for o in cfn.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]}
    assert not outputs & set(abca_stack.OUTPUTS)
    code, drift = _cli(["drift", "--stack-name", STACK], capsys)
    assert code == 0
    assert next(s for s in drift["sources"] if s["source"] == "template")["detail"] == "literal"
