"""The pieces `sandbox up` seeds for either ABCA shape, against moto and the emulator (no Docker, no runtime).

ABCA's DNS firewall in the emulator's Route 53 Resolver, the integrated shape's image parameter, image stack
and repository settings, and the main stack's template in both shapes, read back with stock boto3 clients and
with ``abca-deploy drift``'s own template reader.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from tests.support.standin import NullRunner

from abca_deploy import abca_stack
from abca_deploy.gates.template import Pseudo, template_image
from abca_deploy.sandbox import firewall_seed, integrated, stacks
from abca_deploy.sandbox import platform_spec as spec
from abca_deploy.sandbox.emulator.server import EmulatorServer

if TYPE_CHECKING:
    from collections.abc import Iterator

IMAGE = f"{spec.ECR_HOST}/{spec.ECR_REPOSITORY}@sha256:{'a' * 64}"
RUNTIME = {
    "agentRuntimeArn": f"arn:aws:bedrock-agentcore:us-east-1:{spec.ACCOUNT}:runtime/rt-0123456789",
    **spec.create_runtime_request("arn:aws:secretsmanager:us-east-1:123456789012:secret:s", IMAGE),
}


@pytest.fixture
def resolver() -> Iterator[Any]:
    server = EmulatorServer("127.0.0.1:1", runner=NullRunner())
    server.start()
    yield boto3.client("route53resolver", endpoint_url=server.url, region_name="us-east-1")
    server.stop()


def _rules(resolver: Any, group_id: str) -> list[tuple[int, str, str]]:
    rules = resolver.list_firewall_rules(FirewallRuleGroupId=group_id)["FirewallRules"]
    return [(r["Priority"], r["Action"], r["FirewallDomainListId"]) for r in rules]


def test_the_integrated_firewall_adds_an_empty_runtime_list_allowed_before_the_catch_all(
    resolver: Any,
) -> None:
    first = firewall_seed.seed(resolver, integrated=True)
    again = firewall_seed.seed(resolver, integrated=True)
    assert again == first
    assert first.runtime_list_id == first.list_ids[abca_stack.domain_list_name(spec.STACK_NAME)]
    assert resolver.list_firewall_domains(FirewallDomainListId=first.runtime_list_id)["Domains"] == []
    baseline = resolver.list_firewall_domains(FirewallDomainListId=first.list_ids["platform-baseline"])[
        "Domains"
    ]
    assert baseline == [f"{d}." for d in firewall_seed.BASELINE_DOMAINS]
    assert _rules(resolver, first.rule_group_id) == [
        (100, "ALLOW", first.list_ids["platform-baseline"]),
        (200, "ALLOW", first.list_ids["blueprint-additional"]),
        (abca_stack.DOMAIN_LIST_RULE_PRIORITY, "ALLOW", first.runtime_list_id),
        (300, "ALERT", first.list_ids["block-all"]),
    ]
    (association,) = resolver.list_firewall_rule_group_associations(VpcId=spec.VPC_ID)[
        "FirewallRuleGroupAssociations"
    ]
    assert (association["FirewallRuleGroupId"], association["Priority"]) == (first.rule_group_id, 101)


def test_reseeding_never_rewrites_what_onboarding_put_in_the_runtime_list(resolver: Any) -> None:
    seeded = firewall_seed.seed(resolver, integrated=True)
    resolver.update_firewall_domains(
        FirewallDomainListId=seeded.runtime_list_id, Operation="REPLACE", Domains=["pypi.example.org"]
    )
    firewall_seed.seed(resolver, integrated=True)
    assert resolver.list_firewall_domains(FirewallDomainListId=seeded.runtime_list_id)["Domains"] == [
        "pypi.example.org."
    ]


def test_the_unpatched_firewall_has_no_runtime_list(resolver: Any) -> None:
    seeded = firewall_seed.seed(resolver, integrated=False)
    assert seeded.runtime_list_id is None
    assert [p for p, _, _ in _rules(resolver, seeded.rule_group_id)] == [100, 200, 300]


def test_the_image_parameter_is_written_once_and_owned_by_the_stack(moto_env: str) -> None:
    ssm = boto3.client("ssm", region_name="us-east-1")
    assert integrated.ensure_parameter(ssm, IMAGE) is True
    assert integrated.ensure_parameter(ssm, "123456789012.dkr.ecr.us-east-1.amazonaws.com/other:1") is False
    assert ssm.get_parameter(Name=integrated.IMAGE_PARAMETER)["Parameter"]["Value"] == IMAGE
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=integrated.IMAGE_PARAMETER)[
        "TagList"
    ]
    assert {"Key": abca_stack.OWNER_TAG, "Value": spec.STACK_NAME} in tags


def test_the_image_stack_holds_the_ci_repository_with_its_settings(moto_env: str) -> None:
    cfn, ecr = (
        boto3.client("cloudformation", region_name="us-east-1"),
        boto3.client("ecr", region_name="us-east-1"),
    )
    outputs, action = stacks.ensure(cfn, integrated.IMAGE_STACK, integrated.image_stack_template())
    assert action == "created"
    assert outputs == {
        abca_stack.IMAGE_PARAMETER_OUTPUT: integrated.IMAGE_PARAMETER,
        abca_stack.IMAGE_REPOSITORY_OUTPUT: integrated.CI_REPOSITORY_URI,
    }
    assert integrated.ensure_repository_settings(ecr) == ["scan on push", "lifecycle policy"]
    assert integrated.ensure_repository_settings(ecr) == []
    (repository,) = ecr.describe_repositories(repositoryNames=[integrated.CI_REPOSITORY])["repositories"]
    assert repository["repositoryName"] == abca_stack.image_repository_name(spec.STACK_NAME)
    assert (repository["imageTagMutability"], repository["imageScanningConfiguration"]) == (
        "IMMUTABLE",
        {"scanOnPush": True},
    )
    policy = json.loads(
        ecr.get_lifecycle_policy(repositoryName=integrated.CI_REPOSITORY)["lifecyclePolicyText"]
    )
    assert policy == {"rules": abca_stack.lifecycle_rules()}
    assert stacks.ensure(cfn, integrated.IMAGE_STACK, integrated.image_stack_template())[1] is None


# moto keeps resource types it lacks in the template, creates nothing for them, and warns (also on removal).
@pytest.mark.filterwarnings(r"ignore::UserWarning:moto\.cloudformation")
def test_the_main_stack_switches_between_the_shapes_and_drift_reads_each(moto_env: str) -> None:
    cfn, ssm = (
        boto3.client("cloudformation", region_name="us-east-1"),
        boto3.client("ssm", region_name="us-east-1"),
    )
    unpatched = spec.stack_template(RUNTIME, "arn:aws:secretsmanager:us-east-1:123456789012:secret:s")
    outputs, action = stacks.ensure(cfn, spec.STACK_NAME, unpatched)
    assert action == "created"
    assert not set(abca_stack.OUTPUTS) & set(outputs)
    integrated.ensure_parameter(ssm, IMAGE)
    shaped = integrated.integrate(unpatched, "rslvr-fdl-0123456789abcdef0")
    outputs, action = stacks.ensure(cfn, spec.STACK_NAME, shaped)
    assert action == "updated"
    assert {k: outputs[k] for k in abca_stack.OUTPUTS} == {
        abca_stack.IMAGE_PARAMETER_OUTPUT: integrated.IMAGE_PARAMETER,
        abca_stack.IMAGE_REPOSITORY_OUTPUT: integrated.CI_REPOSITORY_URI,
        abca_stack.DOMAIN_LIST_OUTPUT: "rslvr-fdl-0123456789abcdef0",
    }
    pseudo = Pseudo("aws", "us-east-1", spec.ACCOUNT)
    deployed = cfn.get_template(StackName=spec.STACK_NAME)["TemplateBody"]
    assert template_image(deployed, "RuntimeArn", pseudo).parameter == integrated.IMAGE_PARAMETER
    assert stacks.ensure(cfn, spec.STACK_NAME, shaped)[1] is None
    outputs, action = stacks.ensure(cfn, spec.STACK_NAME, unpatched)
    assert action == "updated"
    assert not set(abca_stack.OUTPUTS) & set(outputs)
    deployed = cfn.get_template(StackName=spec.STACK_NAME)["TemplateBody"]
    assert template_image(deployed, "RuntimeArn", pseudo).image == IMAGE
