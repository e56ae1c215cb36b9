"""Where the runtime commands find the ABCA integration's image repository and parameter: a stack's outputs.

An integrated stack (``integrations/abca``, ``-c abcaDeploy=true``) has the outputs
``RuntimeImageParameterName`` and ``RuntimeImageRepositoryUri``; so does its image stack
(``<stack>-runtime-image``), which is deployed on its own before the stack is patched. A flag always wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from abca_deploy.abca_stack import IMAGE_PARAMETER_OUTPUT, IMAGE_REPOSITORY_OUTPUT, image_stack_name

if TYPE_CHECKING:
    from abca_deploy.aws.cloudformation import CloudFormation
    from abca_deploy.report import Reporter
    from abca_deploy.runtime.settings import PublishSettings


@dataclass(frozen=True)
class Outputs:
    """The integration's outputs of one stack (``{}`` when none), and which stack they are from."""

    stack: str
    values: dict[str, str]

    def get(self, key: str) -> str | None:
        """One output's value, or None."""
        return self.values.get(key) or None


def integration_outputs(stacks: CloudFormation, stack_name: str, outputs: dict[str, str]) -> Outputs:
    """The integration's outputs from ``outputs`` (``stack_name``'s), else from its image stack's."""
    if outputs.get(IMAGE_PARAMETER_OUTPUT):
        return Outputs(stack_name, outputs)
    image_stack = image_stack_name(stack_name)
    return Outputs(image_stack, stacks.find_outputs(image_stack) or {})


def with_stack_outputs(settings: PublishSettings, stacks: CloudFormation, reporter: Reporter
                       ) -> PublishSettings:
    """``runtime publish --stack-name S`` on an integrated stack: push to its CI repository and record the
    image in its parameter unless ``--ecr-repository``/``--image-parameter`` (or ``--image``) say otherwise.

    Only the stack's own outputs count (the DescribeStacks the publish role already may call); before the
    patched stack is deployed, pass both flags (``runtime adopt`` prints them)."""
    if not settings.stack_name:
        return settings
    outputs = stacks.find_outputs(settings.stack_name) or {}
    update: dict[str, str] = {}
    if not settings.ecr_repository and not settings.image and outputs.get(IMAGE_REPOSITORY_OUTPUT):
        update["ecr_repository"] = outputs[IMAGE_REPOSITORY_OUTPUT]
    if not settings.image_parameter and outputs.get(IMAGE_PARAMETER_OUTPUT):
        update["image_parameter"] = outputs[IMAGE_PARAMETER_OUTPUT]
    for field, value in update.items():
        reporter.info(f"--{field.replace('_', '-')} {value} (stack {settings.stack_name}'s output)")
    return settings.model_copy(update=update) if update else settings
