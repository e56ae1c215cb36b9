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
        return Target(runtime_id_from(arn, "--runtime-arn"), "--runtime-arn", arn)
    from abca_deploy.aws.cloudformation import CloudFormation, pick_output
    from abca_deploy.aws.session import client

    assert settings.stack_name is not None
    outputs = CloudFormation(client("cloudformation", settings.aws_region)).outputs(settings.stack_name)
    arn = pick_output(settings.stack_name, outputs, settings.runtime_output)
    where = f"stack {settings.stack_name} output {settings.runtime_output}"
    return Target(runtime_id_from(arn, where), where, arn, outputs)


def runtime_id_from(arn: str, where: str) -> str:
    """The runtime id of ``arn``, read from ``where`` (a flag, or ``stack S output K``); else a UserError."""
    runtime_id = runtime_id_of(arn)
    if runtime_id is None:
        msg = f"{where}: {arn!r} is not an AgentCore runtime ARN."
        hint = "Expected arn:aws:bedrock-agentcore:<region>:<account>:runtime/<id>" + (
            "; name the right output with --runtime-output." if " output " in where else ".")
        raise UserError(msg, hint=hint, title="Invalid runtime ARN")
    return runtime_id


def concurrency_key(runtime_id: str | None, stack_name: str | None) -> str:
    """The key of every job that changes this runtime: ``runtime-<id>``, else ``stack-<name>``."""
    if runtime_id:
        return f"runtime-{runtime_id}"
    return f"stack-{stack_name}"
