"""CloudFormation adapter: stack outputs and templates."""

from __future__ import annotations

from typing import Any

from abca_deploy.aws.errors import aws_call, error_code
from abca_deploy.errors import OperationFailed, UserError


class CloudFormation:
    """Reads stacks. ``client`` is a boto3 ``cloudformation`` client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def _stack(self, stack_name: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        with aws_call("cloudformation:DescribeStacks", stack_name):
            try:
                stacks = self._client.describe_stacks(StackName=stack_name)["Stacks"]
            except ClientError as exc:
                if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
                    return None
                raise
        return dict(stacks[0]) if stacks else None

    def describe(self, stack_name: str) -> tuple[str, dict[str, str]] | None:
        """The stack's status and outputs by key; None when it does not exist."""
        stack = self._stack(stack_name)
        if stack is None:
            return None
        return str(stack.get("StackStatus", "")), _outputs(stack)

    def outputs(self, stack_name: str) -> dict[str, str]:
        """The stack's outputs by key; an unknown stack is a UserError (exit 2)."""
        stack = self._stack(stack_name)
        if stack is None:
            raise _unknown_stack(stack_name)
        return _outputs(stack)

    def find_outputs(self, stack_name: str) -> dict[str, str] | None:
        """The stack's outputs by key, or None when the stack does not exist (yet)."""
        stack = self._stack(stack_name)
        return None if stack is None else _outputs(stack)

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
            parsed = _load_yaml(body, stack_name)
        return parsed


def _load_yaml(body: str, stack_name: str) -> dict[str, Any]:
    """A YAML template, its short-form intrinsics (``!Ref X``, ``!GetAtt A.B``, ``!Sub …``) in long form."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {suffix if suffix == "Ref" else f"Fn::{suffix}": value}

    Loader.add_multi_constructor("!", intrinsic)
    try:
        parsed = yaml.load(body, Loader=Loader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        msg = (f"The template of stack {stack_name} is neither JSON nor YAML that can be read "
               f"({type(exc).__name__}).")
        raise OperationFailed(msg, title="Unreadable template") from None
    if not isinstance(parsed, dict):
        msg = f"The template of stack {stack_name} is not a mapping."
        raise OperationFailed(msg, title="Unreadable template")
    return parsed


def pick_output(stack_name: str, outputs: dict[str, str], key: str) -> str:
    """``outputs[key]``, or a UserError naming the outputs that exist."""
    if key not in outputs or not outputs[key]:
        have = ", ".join(sorted(outputs)) or "none"
        msg = f"Stack {stack_name} has no output {key!r} (outputs: {have})."
        raise UserError(msg, hint="Name the right output, or pass the value directly.",
                        title="Missing stack output")
    return outputs[key]


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}


def _unknown_stack(stack_name: str) -> UserError:
    return UserError(
        f"Stack {stack_name!r} does not exist in this account and region.",
        hint="Check --stack-name and --region (ABCA's default stack is backgroundagent-dev).",
        title="Unknown stack",
    )
