"""Resolve which runtime a command acts on: by id, by ARN, or by a CloudFormation stack output."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from abca_deploy.errors import UserError
from abca_deploy.identifiers import runtime_id_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from abca_deploy.runtime.settings import RuntimeTarget


@dataclass(frozen=True)
class Target:
    """A runtime named by id; ``arn`` when it is known without asking AgentCore."""

    runtime_id: str
    source: str
    arn: str = ""
    outputs: Mapping[str, str] = field(default_factory=dict)  # the stack's, when named by --stack-name


def resolve(settings: RuntimeTarget) -> Target:
    """The runtime id from --runtime-id, --runtime-arn, or the stack output (read from CloudFormation)."""
    if settings.runtime_id:
        return Target(settings.runtime_id, "--runtime-id")
    if settings.runtime_arn:
        arn = settings.runtime_arn
        return Target(_id_from_arn(arn, "--runtime-arn"), "--runtime-arn", arn)
    from abca_deploy.aws.cloudformation import CloudFormation, pick_output
    from abca_deploy.aws.session import client

    assert settings.stack_name is not None
    outputs = CloudFormation(client("cloudformation", settings.aws_region)).outputs(settings.stack_name)
    arn = pick_output(settings.stack_name, outputs, settings.runtime_output)
    where = f"stack {settings.stack_name} output {settings.runtime_output}"
    return Target(_id_from_arn(arn, where), where, arn, outputs)


def _id_from_arn(arn: str, where: str) -> str:
    runtime_id = runtime_id_of(arn)
    if runtime_id is None:
        msg = f"{where}: {arn!r} is not an AgentCore runtime ARN."
        raise UserError(
            msg,
            hint="Expected arn:aws:bedrock-agentcore:<region>:<account>:runtime/<id>.",
            title="Invalid runtime ARN",
        )
    return runtime_id


def concurrency_key(runtime_id: str | None, stack_name: str | None) -> str:
    """The key of every job that changes this runtime: ``runtime-<id>``, else ``stack-<name>``."""
    if runtime_id:
        return f"runtime-{runtime_id}"
    return f"stack-{stack_name}"
