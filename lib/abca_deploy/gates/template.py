"""Where a CloudFormation template gets the runtime's container image from.

The image of an ``AWS::BedrockAgentCore::Runtime`` resource is at
``Properties.AgentRuntimeArtifact.ContainerConfiguration.ContainerUri``. It is compared with the live image
only when the template fixes it: a plain string, or a CDK asset URI (``Fn::Sub``/``Fn::Join`` over pseudo
parameters such as ``AWS::AccountId``, which this module resolves). An image read from an SSM parameter (a
CDK ``valueForStringParameter`` template parameter, or a ``{{resolve:ssm:…}}`` reference) is resolved at each
deploy: that is the fix for drift, and the parameter is compared instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

RUNTIME_TYPE = "AWS::BedrockAgentCore::Runtime"
_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")
_RESOLVE_SSM = re.compile(r"\{\{resolve:ssm:([^}:]+)(?::\d+)?\}\}")


@dataclass(frozen=True)
class Pseudo:
    """The values of CloudFormation's pseudo parameters for one stack."""

    partition: str
    region: str
    account: str

    def values(self) -> dict[str, str]:
        """``AWS::AccountId`` -> value, and so on."""
        suffix = "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"
        return {"AWS::AccountId": self.account, "AWS::Region": self.region, "AWS::Partition": self.partition,
                "AWS::URLSuffix": suffix}


@dataclass(frozen=True)
class TemplateImage:
    """How the template sets the image: ``image`` when it is fixed, else ``parameter`` or just a ``note``."""

    note: str
    image: str | None = None
    parameter: str | None = None
    logical_id: str | None = None


def template_image(template: dict[str, Any], runtime_output: str, pseudo: Pseudo | None) -> TemplateImage:
    """The image of the runtime resource behind output ``runtime_output`` (or the only runtime resource)."""
    runtimes = {lid: res for lid, res in (template.get("Resources") or {}).items()
                if isinstance(res, dict) and res.get("Type") == RUNTIME_TYPE}
    if not runtimes:
        return TemplateImage(f"no {RUNTIME_TYPE} resource in the template")
    target = _output_target(template, runtime_output)
    if target is not None and target in runtimes:
        logical_id = target
    elif len(runtimes) == 1:
        logical_id = next(iter(runtimes))
    else:
        return TemplateImage(f"{len(runtimes)} runtime resources and output {runtime_output} names none")
    value = _dig(runtimes[logical_id], "Properties", "AgentRuntimeArtifact", "ContainerConfiguration",
                 "ContainerUri")
    return _describe(value, template, pseudo, logical_id)


def _describe(value: Any, template: dict[str, Any], pseudo: Pseudo | None, lid: str) -> TemplateImage:
    if value is None:
        return TemplateImage(f"resource {lid} has no ContainerUri", logical_id=lid)
    if isinstance(value, str):
        match = _RESOLVE_SSM.search(value)
        if match:
            return TemplateImage(f"read from SSM parameter {match[1]} at each deploy", parameter=match[1],
                                 logical_id=lid)
        return TemplateImage("literal", image=value, logical_id=lid)
    parameter = _ssm_parameter(value, template)
    if parameter:
        return TemplateImage(f"read from SSM parameter {parameter} at each deploy", parameter=parameter,
                             logical_id=lid)
    resolved = _resolve(value, pseudo.values() if pseudo else {})
    if resolved is not None:
        kind = next(iter(value)) if isinstance(value, dict) and value else "expression"
        return TemplateImage(f"fixed ({kind} of pseudo parameters, e.g. a CDK asset)", image=resolved,
                             logical_id=lid)
    kind = next(iter(value)) if isinstance(value, dict) and value else type(value).__name__
    return TemplateImage(f"not a literal ({kind}); resolved at deploy time", logical_id=lid)


def _output_target(template: dict[str, Any], output: str) -> str | None:
    value = _dig(template, "Outputs", output, "Value")
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("Ref"), str):
        return str(value["Ref"])
    target = value.get("Fn::GetAtt")
    if isinstance(target, list) and target and isinstance(target[0], str):
        return target[0]
    if isinstance(target, str):
        return target.split(".", 1)[0]
    return None


def _ssm_parameter(value: Any, template: dict[str, Any]) -> str | None:
    if not (isinstance(value, dict) and isinstance(value.get("Ref"), str)):
        return None
    declared = _dig(template, "Parameters", value["Ref"])
    if isinstance(declared, dict) and str(declared.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
        default = declared.get("Default")
        return str(default) if default else value["Ref"]
    return None


def _resolve(value: Any, pseudo: dict[str, str]) -> str | None:
    """The string an intrinsic evaluates to when it uses only literals and pseudo parameters, else None."""
    if isinstance(value, str):
        return value
    if not (isinstance(value, dict) and len(value) == 1):
        return None
    (name, arg), = value.items()
    if name == "Ref" and isinstance(arg, str):
        return pseudo.get(arg)
    if name == "Fn::Sub":
        return _substitute(arg, pseudo)
    if name == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
        parts = [_resolve(part, pseudo) for part in arg[1]]
        return None if any(p is None for p in parts) else str(arg[0]).join(p or "" for p in parts)
    return None


def _substitute(arg: Any, pseudo: dict[str, str]) -> str | None:
    if isinstance(arg, str):
        text, variables = arg, {}
    elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], dict):
        text, variables = arg
    else:
        return None
    values: dict[str, str] = dict(pseudo)
    for key, raw in variables.items():
        resolved = _resolve(raw, pseudo)
        if resolved is None:
            return None
        values[key] = resolved
    names = _SUB_VAR.findall(text)
    if any(n not in values for n in names):
        return None
    return _SUB_VAR.sub(lambda m: values[m[1]], text).replace("${!", "${")


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
