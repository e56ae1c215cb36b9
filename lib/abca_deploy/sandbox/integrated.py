"""The integrated ABCA shape: what ``sandbox up --shape integrated`` seeds on top of the unpatched one.

It mirrors what ``cdk deploy -c abcaDeploy=true --all`` creates for a new stack with abca-deploy's module
(``integrations/abca``): the image stack ``<stack>-runtime-image`` with the CI repository (scan on push,
immutable tags, the lifecycle policy), the image parameter written once with the image the runtime was
deployed with (as the image stack's seed writes it), and in the main stack the runtime reading its image from
that parameter, the runtime domain list allowed by the rule group, and the three outputs abca-deploy reads.
Every name comes from ``abca_stack``, which the synthesis test checks against the real module.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from abca_deploy import abca_stack
from abca_deploy.sandbox import platform_spec as spec

UNPATCHED, INTEGRATED = "unpatched", "integrated"
SHAPES = (UNPATCHED, INTEGRATED)
IMAGE_PARAMETER = abca_stack.image_parameter_name(spec.STACK_NAME)
IMAGE_STACK = abca_stack.image_stack_name(spec.STACK_NAME)
CI_REPOSITORY = abca_stack.image_repository_name(spec.STACK_NAME)
CI_REPOSITORY_URI = f"{spec.ECR_HOST}/{CI_REPOSITORY}"
# The main template's SSM-typed parameter (CDK names it SsmParameterValue...; drift reads Type and Default).
TEMPLATE_PARAMETER = "RuntimeImageParameter"


def lifecycle_policy_text() -> str:
    """The CI repository's lifecycle policy document, as the module renders it."""
    return json.dumps({"rules": abca_stack.lifecycle_rules()}, separators=(",", ":"))


def image_stack_template() -> dict[str, Any]:
    """The ``<stack>-runtime-image`` template: the CI repository and the outputs (the API does the seed)."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Runtime image repository and parameter (abca-deploy sandbox, integrated shape).",
        "Resources": {"Repository": {"Type": "AWS::ECR::Repository", "Properties": {
            "RepositoryName": CI_REPOSITORY, "ImageTagMutability": "IMMUTABLE",
            "ImageScanningConfiguration": {"ScanOnPush": True}, "EmptyOnDelete": True,
            "LifecyclePolicy": {"LifecyclePolicyText": lifecycle_policy_text()},
        }}},
        "Outputs": {abca_stack.IMAGE_PARAMETER_OUTPUT: {"Value": IMAGE_PARAMETER},
                    abca_stack.IMAGE_REPOSITORY_OUTPUT: {"Value": CI_REPOSITORY_URI}},
    }


def integrate(template: dict[str, Any], domain_list_id: str) -> dict[str, Any]:
    """The main stack's template once integrated: image from the parameter, the domain list, the outputs."""
    out = copy.deepcopy(template)
    out["Parameters"] = {TEMPLATE_PARAMETER: {"Type": "AWS::SSM::Parameter::Value<String>",
                                              "Default": IMAGE_PARAMETER}}
    artifact = out["Resources"]["Runtime"]["Properties"]["AgentRuntimeArtifact"]
    artifact["ContainerConfiguration"]["ContainerUri"] = {"Ref": TEMPLATE_PARAMETER}
    # moto's CloudFormation has no Route 53 Resolver types: the list is in the emulator, the output literal.
    out["Resources"]["RuntimeDomainList"] = {
        "Type": "AWS::Route53Resolver::FirewallDomainList",
        "Properties": {"Name": abca_stack.domain_list_name(spec.STACK_NAME)},
    }
    out["Outputs"].update({
        abca_stack.IMAGE_PARAMETER_OUTPUT: {"Value": IMAGE_PARAMETER},
        abca_stack.IMAGE_REPOSITORY_OUTPUT: {"Value": CI_REPOSITORY_URI},
        abca_stack.DOMAIN_LIST_OUTPUT: {"Value": domain_list_id},
    })
    return out


def ensure_parameter(ssm: Any, image: str) -> bool:
    """Write the image parameter if it does not exist (never overwrite, as the seed); True when written."""
    try:
        ssm.put_parameter(Name=IMAGE_PARAMETER, Value=image, Type="String", Overwrite=False,
                          Description=f"Runtime image of stack {spec.STACK_NAME}",
                          Tags=[{"Key": abca_stack.OWNER_TAG, "Value": spec.STACK_NAME}])
    except ssm.exceptions.ParameterAlreadyExists:
        return False
    return True


def ensure_repository_settings(ecr: Any) -> list[str]:
    """Scan on push and the lifecycle policy (moto's CloudFormation drops both); returns what it changed."""
    changed = []
    described = ecr.describe_repositories(repositoryNames=[CI_REPOSITORY])["repositories"][0]
    if not described.get("imageScanningConfiguration", {}).get("scanOnPush"):
        ecr.put_image_scanning_configuration(repositoryName=CI_REPOSITORY,
                                             imageScanningConfiguration={"scanOnPush": True})
        changed.append("scan on push")
    try:
        current = json.loads(ecr.get_lifecycle_policy(repositoryName=CI_REPOSITORY)["lifecyclePolicyText"])
    except ecr.exceptions.LifecyclePolicyNotFoundException:
        current = None
    if current != json.loads(lifecycle_policy_text()):
        ecr.put_lifecycle_policy(repositoryName=CI_REPOSITORY, lifecyclePolicyText=lifecycle_policy_text())
        changed.append("lifecycle policy")
    return changed
