"""Where `runtime adopt` finds the integration's CI repository and image parameter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from abca_deploy import abca_stack
from abca_deploy.runtime.adoption import names
from abca_deploy.runtime.settings import AdoptSettings

STACK = "backgroundagent-dev"
OWN = {abca_stack.IMAGE_PARAMETER_OUTPUT: "/abca/own", abca_stack.IMAGE_REPOSITORY_OUTPUT: "host/own"}
IMAGE_STACK = {abca_stack.IMAGE_PARAMETER_OUTPUT: "/abca/image",
               abca_stack.IMAGE_REPOSITORY_OUTPUT: "host/image"}


@dataclass
class FakeStacks:
    """CloudFormation's outputs by stack name; records which stacks were described."""

    outputs: dict[str, dict[str, str]]
    asked: list[str] = field(default_factory=list)

    def find_outputs(self, name: str) -> dict[str, str] | None:
        self.asked.append(name)
        return self.outputs.get(name)


def _names(stacks: FakeStacks, **flags: Any) -> tuple[str, str, str, str, bool]:
    found = names(AdoptSettings(stack_name=STACK, **flags), stacks,  # type: ignore[arg-type]
                  stacks.outputs.get(STACK, {}))
    return (found.repository, found.repository_source, found.parameter, found.parameter_source,
            found.integrated)


def test_adopt_takes_the_flags_then_the_stacks_outputs_then_the_image_stacks_then_the_defaults() -> None:
    image_stack = abca_stack.image_stack_name(STACK)
    assert _names(FakeStacks({STACK: OWN, image_stack: IMAGE_STACK})) == (
        "host/own", f"stack {STACK} output RuntimeImageRepositoryUri",
        "/abca/own", f"stack {STACK} output RuntimeImageParameterName", True)
    from_image_stack = _names(FakeStacks({STACK: {}, image_stack: IMAGE_STACK}))
    assert from_image_stack[::2] == ("host/image", "/abca/image", False)
    assert _names(FakeStacks({STACK: {}}))[:4] == (
        abca_stack.image_repository_name(STACK), "the integration's default name",
        abca_stack.image_parameter_name(STACK), "the integration's default name")
    flagged = _names(FakeStacks({STACK: OWN}), image_repository="ci/mine", image_parameter="/abca/mine")
    assert flagged[:4] == ("ci/mine", "--image-repository", "/abca/mine", "--image-parameter")
