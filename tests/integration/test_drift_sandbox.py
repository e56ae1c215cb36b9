"""`abca-deploy drift` on the sandbox pieces: the AgentCore emulator (real containers) and moto's
CloudFormation and SSM. A publish that goes around CloudFormation (UpdateAgentRuntime) is drift for a stack
that pins the image, and for a stack that reads a parameter until the parameter records the new image."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from abca_deploy.cli import main

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.sandbox.emulator.server import EmulatorServer

pytestmark = [
    pytest.mark.docker,
    # moto keeps the AgentCore resource in the template but does not model it, and says so with a warning.
    pytest.mark.filterwarnings("ignore:Tried to parse AWS..BedrockAgentCore..Runtime"),
]
PARAMETER = "/abca/runtime-image"


def stack_template(container_uri: str, runtime_arn: str) -> str:
    return json.dumps({
        "Resources": {
            "Runtime": {"Type": "AWS::BedrockAgentCore::Runtime", "Properties": {
                "AgentRuntimeName": "drift_test",
                "AgentRuntimeArtifact": {"ContainerConfiguration": {"ContainerUri": container_uri}}}},
        },
        "Outputs": {"RuntimeArn": {"Value": runtime_arn}},
    })


def drift(capsys: pytest.CaptureFixture[str], stack: str, *extra: str) -> tuple[int, dict[str, Any]]:
    code = main(["drift", "--stack-name", stack, "--output", "json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_drift_after_a_publish_around_cloudformation(
    moto_env: str, emulator: EmulatorServer, control: Any, new_runtime: Callable[..., dict[str, Any]],
    wait_runtime: Callable[..., dict[str, Any]], request_for: Callable[..., dict[str, Any]],
    agent_image: Callable[..., str], capsys: pytest.CaptureFixture[str],
) -> None:
    import boto3

    first, second = agent_image(message="first"), agent_image(message="second")
    created = new_runtime(first)
    runtime_id, runtime_arn = created["agentRuntimeId"], created["agentRuntimeArn"]
    assert wait_runtime(runtime_id)["status"] == "READY"
    cloudformation, ssm = boto3.client("cloudformation"), boto3.client("ssm")
    ssm.put_parameter(Name=PARAMETER, Value=first, Type="String")
    cloudformation.create_stack(StackName="pinned", TemplateBody=stack_template(first, runtime_arn))
    cloudformation.create_stack(StackName="reads-parameter",
                                TemplateBody=stack_template(f"{{{{resolve:ssm:{PARAMETER}}}}}", runtime_arn))

    assert drift(capsys, "pinned", "--image-parameter", PARAMETER)[0] == 0
    code, document = drift(capsys, "reads-parameter")
    assert code == 0
    assert [(s["source"], s["in_sync"]) for s in document["sources"]] == [
        ("runtime", None), ("template", None), ("parameter", True)]

    # CI publishes the second image without CloudFormation, and without recording it.
    control.update_agent_runtime(agentRuntimeId=runtime_id, **request_for(second))
    live = wait_runtime(runtime_id)["agentRuntimeArtifact"]["containerConfiguration"]["containerUri"]
    assert live == second
    code, document = drift(capsys, "pinned")
    assert code == 3
    assert document["sources"][1] == {"source": "template", "image": first, "in_sync": False,
                                      "detail": "literal"}
    assert drift(capsys, "reads-parameter")[0] == 3

    # Recording the image (what publish --image-parameter does) fixes the stack that reads the parameter.
    ssm.put_parameter(Name=PARAMETER, Value=second, Type="String", Overwrite=True)
    assert drift(capsys, "reads-parameter")[0] == 0
    assert drift(capsys, "pinned")[0] == 3
