"""CloudFormation adapter: stack outputs and templates."""

from __future__ import annotations

from typing import Any

from abca_deploy.aws.errors import aws_call, error_code
from abca_deploy.errors import UserError


class CloudFormation:
    """Reads stacks. ``client`` is a boto3 ``cloudformation`` client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def outputs(self, stack_name: str) -> dict[str, str]:
        """The stack's outputs by key; an unknown stack is a UserError (exit 2)."""
        found = self.find_outputs(stack_name)
        if found is None:
            raise _unknown_stack(stack_name)
        return found

    def find_outputs(self, stack_name: str) -> dict[str, str] | None:
        """The stack's outputs by key, or None when the stack does not exist (yet)."""
        from botocore.exceptions import ClientError

        with aws_call("cloudformation:DescribeStacks", stack_name):
            try:
                stacks = self._client.describe_stacks(StackName=stack_name)["Stacks"]
            except ClientError as exc:
                if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
                    return None
                raise
        if not stacks:
            return None
        return {o["OutputKey"]: o.get("OutputValue", "") for o in stacks[0].get("Outputs", [])}

    def output(self, stack_name: str, key: str) -> str:
        """One output's value; a missing output is a UserError naming the outputs that exist."""
        outputs = self.outputs(stack_name)
        if key not in outputs or not outputs[key]:
            have = ", ".join(sorted(outputs)) or "none"
            msg = f"Stack {stack_name} has no output {key!r} (outputs: {have})."
            raise UserError(
                msg, hint="Name the right output, or pass the value directly.", title="Missing stack output"
            )
        return outputs[key]

    def template(self, stack_name: str) -> dict[str, Any]:
        """The stack's deployed template as a dict (JSON or YAML bodies)."""
        with aws_call("cloudformation:GetTemplate", stack_name):
            body = self._client.get_template(StackName=stack_name, TemplateStage="Original")["TemplateBody"]
        if isinstance(body, dict):
            return body
        import json

        try:
            parsed: dict[str, Any] = json.loads(body)
        except ValueError:
            import yaml

            parsed = yaml.safe_load(body)
        return parsed


def _unknown_stack(stack_name: str) -> UserError:
    return UserError(
        f"Stack {stack_name!r} does not exist in this account and region.",
        hint="Check --stack-name and --region (ABCA's default stack is backgroundagent-dev).",
        title="Unknown stack",
    )
