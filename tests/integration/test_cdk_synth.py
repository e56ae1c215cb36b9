"""The CDK module in integrations/abca, synthesized by the real CDK CLI in a test app standing in for ABCA.

One session compiles the module and the app (``tsc``: the module must type-check under ABCA-like strict
settings) and runs ``cdk synth`` (cdk-nag on every stack, as ABCA does: a finding fails the synth) for: the
app as unpatched ABCA, the patched app without the context key, with it, with it and different Blueprint
egress and tags, and with it for an awkward stack name. The assertions read the synthesized templates as
CloudFormation would receive them. No AWS account is involved: the stacks are environment-agnostic and the CLI
runs with no credentials; the image asset is staged, never built (its Dockerfile would fail if it were).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest
from tests.support.cdk_app import Assembly, compile_app, synthesize, synthesized

from abca_deploy import abca_stack
from abca_deploy.gates.template import Pseudo, template_image
from abca_deploy.repos.tokens import SECRET_PREFIX
from abca_deploy.runtime.image import CONTENT_TAG_PREFIX
from abca_deploy.sandbox import firewall_seed, integrated

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.node

STACK = "backgroundagent-dev"
AWKWARD_STACK = "PR12--AgentCore-"
RUNTIME_TYPE = "AWS::BedrockAgentCore::Runtime"
TOKEN_ACTIONS = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
VARIANTS: dict[str, dict[str, str]] = {
    "unpatched": {"abcaDeployTestApp:unpatched": "true"},
    "off": {},
    "on": {"abcaDeploy": "true"},
    "on-other-inputs": {
        "abcaDeploy": "true",
        "blueprintEgress": "example.com,*.example.org",
        "github:sha": "0123456789abcdef",
    },
    "on-awkward-name": {"abcaDeploy": "true", "stackName": AWKWARD_STACK},
}


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Assembly]:
    """Every variant synthesized once; skipped without node/npm (except in CI: bootstrap installs them)."""
    compile_app()
    out = tmp_path_factory.mktemp("cdk-synth")
    with ThreadPoolExecutor(max_workers=3) as pool:  # independent apps: overlap their start-up
        found = dict(zip(VARIANTS, pool.map(lambda name: synthesized(out / name, VARIANTS[name]), VARIANTS),
                         strict=True))
    return found


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in template["Resources"].items() if res["Type"] == kind}


def _statements(template: dict[str, Any], logical_id_part: str) -> list[dict[str, Any]]:
    """The statements of the IAM policies whose logical id contains ``logical_id_part``."""
    found = []
    for lid, res in _resources(template, "AWS::IAM::Policy").items():
        if logical_id_part in lid:
            found += res["Properties"]["PolicyDocument"]["Statement"]
    return found


def _resource_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def test_without_the_key_the_patched_app_synthesizes_exactly_as_unpatched(synth: dict[str, Assembly]) -> None:
    unpatched, off = synth["unpatched"].path, synth["off"].path
    names = sorted(p.name for p in unpatched.iterdir())
    assert names == sorted(p.name for p in off.iterdir())
    assert [n for n in names if n.endswith(".template.json")] == [f"{STACK}.template.json"]
    for name in ("manifest.json", f"{STACK}.template.json", f"{STACK}.assets.json", "tree.json"):
        assert (off / name).read_bytes() == (unpatched / name).read_bytes(), name


def test_the_runtime_reads_its_image_from_the_per_stack_parameter(synth: dict[str, Assembly]) -> None:
    template = synth["on"].template(STACK)
    (runtime,) = _resources(template, RUNTIME_TYPE).values()
    uri = runtime["Properties"]["AgentRuntimeArtifact"]["ContainerConfiguration"]["ContainerUri"]
    parameter = template["Parameters"][uri["Ref"]]
    assert parameter == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": abca_stack.image_parameter_name(STACK),
    }


def test_drift_classifies_the_synthesized_template_as_reading_the_parameter(
    synth: dict[str, Assembly],
) -> None:
    seen = template_image(
        synth["on"].template(STACK), "RuntimeArn", Pseudo("aws", "us-east-1", "123456789012")
    )
    assert seen.parameter == "/abca/backgroundagent-dev/runtime-image"
    assert seen.image is None
    assert "read from SSM parameter /abca/backgroundagent-dev/runtime-image" in seen.note
    unpatched = template_image(
        synth["unpatched"].template(STACK), "RuntimeArn", Pseudo("aws", "us-east-1", "123456789012")
    )
    assert unpatched.parameter is None
    assert unpatched.image is not None
    assert unpatched.image.startswith(
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/cdk-hnb659fds-container-assets-"
    )


def test_the_image_stack_holds_the_ci_repository_in_the_bootstrap_scope(synth: dict[str, Assembly]) -> None:
    template = synth["on"].template(abca_stack.image_stack_name(STACK))
    (repository,) = _resources(template, "AWS::ECR::Repository").values()
    props = repository["Properties"]
    assert props["RepositoryName"] == abca_stack.image_repository_name(STACK)
    assert props["RepositoryName"].startswith("backgroundagent-")
    assert props["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert props["ImageTagMutability"] == "IMMUTABLE"
    rules = json.loads(props["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert rules == abca_stack.lifecycle_rules()
    assert json.loads(integrated.lifecycle_policy_text())["rules"] == rules
    # Rule 2 counts exactly the tags runtime publish pushes; nothing selects untagged images.
    assert rules[1]["selection"]["tagPatternList"] == [f"{CONTENT_TAG_PREFIX}*"]
    assert all(rule["selection"]["tagStatus"] == "tagged" for rule in rules)
    assert template["Outputs"][abca_stack.IMAGE_PARAMETER_OUTPUT]["Value"] == abca_stack.image_parameter_name(
        STACK
    )


def test_the_image_stack_seeds_the_parameter_once_and_never_overwrites_it(synth: dict[str, Assembly]) -> None:
    template = synth["on"].template(abca_stack.image_stack_name(STACK))
    (seed,) = _resources(template, "Custom::AWS").values()
    assert "Update" not in seed["Properties"]
    create = json.loads(
        "".join(p if isinstance(p, str) else "IMAGE" for p in seed["Properties"]["Create"]["Fn::Join"][1])
    )
    assert create["action"] == "putParameter"
    assert create["parameters"]["Name"] == abca_stack.image_parameter_name(STACK)
    assert create["parameters"]["Overwrite"] is False
    assert create["parameters"]["Tags"] == [{"Key": abca_stack.OWNER_TAG, "Value": STACK}]
    assert create["ignoreErrorCodesMatching"] == "ParameterAlreadyExists"
    # The seed image is ABCA's own repository-root image: the same asset the unpatched stack builds.
    seed_assets = json.loads(
        (synth["on"].path / f"{STACK}-runtime-image.assets.json").read_text(encoding="utf-8")
    )
    unpatched_assets = json.loads(
        (synth["unpatched"].path / f"{STACK}.assets.json").read_text(encoding="utf-8")
    )
    assert set(seed_assets["dockerImages"]) == set(unpatched_assets["dockerImages"])


def test_the_integrated_stack_is_deployed_after_its_image_stack(synth: dict[str, Assembly]) -> None:
    stacks = synth["on"].stacks()
    image_stack = abca_stack.image_stack_name(STACK)
    # Its artifact id is its stack name, so `cdk deploy <stack>-runtime-image --exclusively` selects it alone.
    assert image_stack in stacks
    assert stacks[image_stack]["displayName"] == image_stack
    assert image_stack in stacks[STACK]["dependencies"]
    assert "Fn::ImportValue" not in _resource_text(synth["on"].template(STACK))


def test_the_runtime_may_pull_from_the_ci_repository_and_the_seed_image(synth: dict[str, Assembly]) -> None:
    statements = _statements(synth["on"].template(STACK), "RuntimeExecutionRole")
    pulls = [s for s in statements if "ecr:BatchGetImage" in s["Action"]]
    targets = [_resource_text(s["Resource"]) for s in pulls]
    assert any(f"repository/{abca_stack.image_repository_name(STACK)}" in t for t in targets), targets
    assert any("cdk-hnb659fds-container-assets-" in t for t in targets), targets


@pytest.mark.parametrize("role", ["RuntimeExecutionRole", "OrchestratorFn", "FanOutFn"])
def test_every_token_reader_may_read_the_per_repo_token_secrets(
    synth: dict[str, Assembly], role: str
) -> None:
    statements = _statements(synth["on"].template(STACK), role)
    prefix = [s for s in statements if f":secret:{SECRET_PREFIX}*" in _resource_text(s["Resource"])]
    assert prefix, f"{role} cannot read {SECRET_PREFIX}*"
    assert prefix[0]["Action"] == TOKEN_ACTIONS
    unpatched = _statements(synth["unpatched"].template(STACK), role)
    assert not [s for s in unpatched if SECRET_PREFIX in _resource_text(s["Resource"])]


def test_the_runtime_domain_list_has_constant_properties_and_is_allowed(synth: dict[str, Assembly]) -> None:
    lists = {
        name: _resources(synth[name].template(STACK), "AWS::Route53Resolver::FirewallDomainList")
        for name in ("on", "on-other-inputs")
    }
    runtime = {
        name: [r for r in found.values() if "Domains" not in r["Properties"]] for name, found in lists.items()
    }
    assert runtime["on"] == runtime["on-other-inputs"]
    (domain_list,) = runtime["on"]
    assert domain_list["Properties"] == {"Name": abca_stack.domain_list_name(STACK)}
    # The inputs really differed: ABCA's own Blueprint list and the tagged resources changed.
    assert _resource_text(lists["on"]) != _resource_text(lists["on-other-inputs"])
    template = synth["on"].template(STACK)
    list_id = next(lid for lid, r in lists["on"].items() if "Domains" not in r["Properties"])
    (group,) = _resources(template, "AWS::Route53Resolver::FirewallRuleGroup").values()
    rules = group["Properties"]["FirewallRules"]
    allow = [r for r in rules if r["FirewallDomainListId"] == {"Fn::GetAtt": [list_id, "Id"]}]
    assert allow == [
        {
            "Action": "ALLOW",
            "FirewallDomainListId": {"Fn::GetAtt": [list_id, "Id"]},
            "Priority": abca_stack.DOMAIN_LIST_RULE_PRIORITY,
        }
    ]
    catch_all = max(r["Priority"] for r in rules)
    assert abca_stack.DOMAIN_LIST_RULE_PRIORITY < catch_all
    assert [priority for _, priority, _, _ in firewall_seed.LISTS][-1] == catch_all


def test_the_outputs_are_the_ones_abca_deploy_reads(synth: dict[str, Assembly]) -> None:
    template = synth["on"].template(STACK)
    outputs = template["Outputs"]
    assert set(abca_stack.OUTPUTS) <= set(outputs)
    assert outputs[abca_stack.IMAGE_PARAMETER_OUTPUT]["Value"] == abca_stack.image_parameter_name(STACK)
    repository_uri = _resource_text(outputs[abca_stack.IMAGE_REPOSITORY_OUTPUT]["Value"])
    assert f"/{abca_stack.image_repository_name(STACK)}" in repository_uri
    list_id = outputs[abca_stack.DOMAIN_LIST_OUTPUT]["Value"]["Fn::GetAtt"]
    assert list_id[1] == "Id"
    assert template["Resources"][list_id[0]]["Type"] == "AWS::Route53Resolver::FirewallDomainList"
    assert not set(abca_stack.OUTPUTS) & set(synth["unpatched"].template(STACK)["Outputs"])


def test_names_follow_the_python_rules_for_an_awkward_stack_name(synth: dict[str, Assembly]) -> None:
    assembly = synth["on-awkward-name"]
    image_stack = assembly.template(abca_stack.image_stack_name(AWKWARD_STACK))
    (repository,) = _resources(image_stack, "AWS::ECR::Repository").values()
    assert repository["Properties"]["RepositoryName"] == abca_stack.image_repository_name(AWKWARD_STACK)
    assert abca_stack.image_repository_name(AWKWARD_STACK) == "backgroundagent-runtime/pr12-agentcore"
    template = assembly.template(AWKWARD_STACK)
    outputs = template["Outputs"]
    assert outputs[abca_stack.IMAGE_PARAMETER_OUTPUT]["Value"] == "/abca/PR12--AgentCore-/runtime-image"
    domain_lists = _resources(template, "AWS::Route53Resolver::FirewallDomainList").values()
    assert {"Name": abca_stack.domain_list_name(AWKWARD_STACK)} in [r["Properties"] for r in domain_lists]


def test_a_patch_that_never_connects_the_module_fails_the_synth(
    synth: dict[str, Assembly], tmp_path: Path
) -> None:
    done = synthesize(tmp_path / "out", {"abcaDeploy": "true", "abcaDeployTestApp:skipConnect": "true"})
    assert done.returncode != 0
    assert "AbcaDeploy.connect() was never called" in done.stdout + done.stderr
