"""CloudFormation stacks the seed keeps in moto: create, update when their outputs differ, wait."""

from __future__ import annotations

import json
import time
from typing import Any, Literal

from abca_deploy.errors import OperationFailed

STACK_TIMEOUT = 60.0


def outputs(cfn: Any, name: str) -> dict[str, str] | None:
    """The outputs of stack ``name``, or None when it does not exist."""
    from botocore.exceptions import ClientError

    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


Action = Literal["created", "updated"] | None


def ensure(cfn: Any, name: str, template: dict[str, Any]) -> tuple[dict[str, str], Action]:
    """Create ``name`` from ``template``, or update it when its outputs are not the template's literals."""
    found = outputs(cfn, name)
    wanted = {key: out["Value"] for key, out in template["Outputs"].items() if isinstance(out["Value"], str)}
    if found is not None and set(found) == set(template["Outputs"]) and all(
            found.get(k) == v for k, v in wanted.items()):
        return found, None
    body = json.dumps(template, indent=2)
    if found is None:
        cfn.create_stack(StackName=name, TemplateBody=body)
        return wait(cfn, name), "created"
    cfn.update_stack(StackName=name, TemplateBody=body)
    return wait(cfn, name), "updated"


def wait(cfn: Any, name: str) -> dict[str, str]:
    """Wait until stack ``name`` completes; its outputs, or OperationFailed if it failed or took too long."""
    deadline = time.monotonic() + STACK_TIMEOUT
    while time.monotonic() < deadline:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if status.endswith(("_FAILED", "ROLLBACK_COMPLETE")):
            msg = f"The stack {name} is {status}: {stack.get('StackStatusReason', '')}"
            raise OperationFailed(msg, hint="See moto.log in the state dir.", title="Seeding failed")
        time.sleep(0.2)
    msg = f"The stack {name} did not complete within {STACK_TIMEOUT:.0f}s."
    raise OperationFailed(msg, title="Seeding timed out")
