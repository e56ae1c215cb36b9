"""An integrated stack's outputs name the image parameter and the CI repository, so `runtime publish
--stack-name` needs no flag for them; a flag still wins, and an unusable output is a one-line exit 2."""

from __future__ import annotations

import pytest

from abca_deploy.abca_stack import IMAGE_PARAMETER_OUTPUT, IMAGE_REPOSITORY_OUTPUT
from abca_deploy.errors import UserError
from abca_deploy.runtime.commands import PUBLISH
from abca_deploy.runtime.settings import with_stack_defaults
from abca_deploy.settings import parse

REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/backgroundagent-runtime/main-agentcore"
OUTPUTS = {IMAGE_PARAMETER_OUTPUT: "/abca/main-agentcore/runtime-image", IMAGE_REPOSITORY_OUTPUT: REPOSITORY,
           "RuntimeArn": "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/r_t-AbCdEfGh12"}


def test_an_integrated_stack_supplies_both_values() -> None:
    settings = parse(PUBLISH, "p", ["--stack-name", "main-agentcore"])
    updated, taken = with_stack_defaults(settings, OUTPUTS)
    parameter = "/abca/main-agentcore/runtime-image"
    assert (updated.image_parameter, updated.ecr_repository) == (parameter, REPOSITORY)
    assert taken == [f"--image-parameter {parameter} (stack output {IMAGE_PARAMETER_OUTPUT})",
                     f"--ecr-repository {REPOSITORY} (stack output {IMAGE_REPOSITORY_OUTPUT})"]
    assert updated.stack_name == "main-agentcore"  # everything else as it was


def test_flags_win_and_an_unpatched_stack_changes_nothing() -> None:
    settings = parse(PUBLISH, "p", ["--stack-name", "s", "--image-parameter", "/mine/image"])
    updated, taken = with_stack_defaults(settings, OUTPUTS)
    assert updated.image_parameter == "/mine/image"
    assert updated.ecr_repository == REPOSITORY
    assert len(taken) == 1
    unpatched = parse(PUBLISH, "p", ["--stack-name", "s"])
    assert with_stack_defaults(unpatched, {"RuntimeArn": OUTPUTS["RuntimeArn"]}) == (unpatched, [])


def test_an_unusable_output_is_refused_naming_the_output() -> None:
    settings = parse(PUBLISH, "p", ["--stack-name", "s"])
    with pytest.raises(UserError) as info:
        with_stack_defaults(settings, {IMAGE_PARAMETER_OUTPUT: "/aws/reserved"})
    line = info.value.one_line()
    assert line.startswith(f"The stack's output {IMAGE_PARAMETER_OUTPUT}: --image-parameter:")
    assert "\n" not in line
    assert info.value.exit_code == 2


def test_an_existing_image_keeps_its_own_repository() -> None:
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/elsewhere/agent:v1"
    settings = parse(PUBLISH, "p", ["--stack-name", "s", "--image", image])
    updated, taken = with_stack_defaults(settings, OUTPUTS)
    assert updated.ecr_repository is None  # looked up where --image says
    assert updated.image_parameter == "/abca/main-agentcore/runtime-image"
    assert len(taken) == 1
