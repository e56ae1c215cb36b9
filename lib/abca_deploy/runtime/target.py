"""Resolve which runtime a command acts on, and build the AWS adapters it needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from abca_deploy.errors import UserError
from abca_deploy.runtime.settings import RUNTIME_ARN

if TYPE_CHECKING:
    from abca_deploy.runtime.settings import TargetSettings


@dataclass(frozen=True)
class Target:
    """A runtime named by id; ``arn`` once known."""

    runtime_id: str
    source: str


def resolve(settings: TargetSettings) -> Target:
    """The runtime id from --runtime-id, --runtime-arn, or the stack output (read from CloudFormation)."""
    if settings.runtime_id:
        return Target(settings.runtime_id, "--runtime-id")
    if settings.runtime_arn:
        return Target(_id_from_arn(settings.runtime_arn, "--runtime-arn"), "--runtime-arn")
    from abca_deploy.aws.cloudformation import CloudFormation
    from abca_deploy.aws.session import client

    assert settings.stack_name is not None
    arn = CloudFormation(client("cloudformation", settings.aws_region)).output(
        settings.stack_name, settings.runtime_output
    )
    where = f"stack {settings.stack_name} output {settings.runtime_output}"
    return Target(_id_from_arn(arn, where), where)


def _id_from_arn(arn: str, where: str) -> str:
    match = RUNTIME_ARN.match(arn)
    if match is None:
        msg = f"{where}: {arn!r} is not an AgentCore runtime ARN."
        raise UserError(
            msg,
            hint="Expected arn:aws:bedrock-agentcore:<region>:<account>:runtime/<id>.",
            title="Invalid runtime ARN",
        )
    return match["id"]
