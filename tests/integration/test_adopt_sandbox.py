"""The migration of a live stack to the ABCA integration, end to end on `sandbox up` (real Docker Engine):
adopt → deploy the integrated stack → `drift` = 0 → publish goes to the CI repository → `drift` = 0.

The sandbox starts unpatched (ABCA as upstream ships it, its runtime serving the seeded image from its CDK-era
repository). Step 3 of integrations/abca/README.md, deploying the image stack alone, is what the integrated
shape seeds for the image stack (the same sandbox functions: the CI repository, its lifecycle policy, the
parameter created once with the asset image, tagged with the stack). Step 5, deploying the integrated stack,
is `sandbox up --shape integrated` (the main template now reads the parameter) plus what CloudFormation then
does to the runtime, which moto cannot: UpdateAgentRuntime with the resolved parameter as the image.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import time
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from tests.integration.conftest import EXAMPLES
from tests.support.engine import running_engine
from tests.support.ports import sandbox_flags

from abca_deploy.build.registry import Registry
from abca_deploy.cli import main
from abca_deploy.runtime import config as cfg
from abca_deploy.runtime.adopt import adopted_tag
from abca_deploy.sandbox import integrated, stacks
from abca_deploy.sandbox import platform_spec as spec

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.docker
STACK = "backgroundagent-dev"
SEED = f"{integrated.CI_REPOSITORY_URI}@"


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    capsys.readouterr()
    code = main([*argv, "--output", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


@pytest.fixture
def sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[list[str]]:
    """An unpatched sandbox, and the environment pointing every client at it."""
    running_engine().close()
    args = sandbox_flags(tmp_path / "state")
    code, _, err = _cli(capsys, "sandbox", "up", *args)
    assert code == 0, err
    _, env, _ = _cli(capsys, "sandbox", "env", *args)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield args
    main(["sandbox", "down", *args])
    capsys.readouterr()


def _runtime() -> tuple[Any, str, dict[str, Any]]:
    control = boto3.client("bedrock-agentcore-control")
    runtime_id = next(r["agentRuntimeId"] for r in control.list_agent_runtimes()["agentRuntimes"])
    return control, runtime_id, control.get_agent_runtime(agentRuntimeId=runtime_id)


def _deploy_the_image_stack_alone(image: str) -> None:
    """Step 3: the image stack with the CI repository, and the parameter seeded with the asset image."""
    assert integrated.ensure_parameter(boto3.client("ssm"), image)
    stacks.ensure(boto3.client("cloudformation"), integrated.IMAGE_STACK, integrated.image_stack_template())
    integrated.ensure_repository_settings(boto3.client("ecr"))


def _deploy_the_integrated_stack(sandbox: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Step 5: the main template now reads the parameter; CloudFormation resolves it and updates the runtime
    (the only runtime property that changed is ContainerUri). Returns the new version."""
    code, up, err = _cli(capsys, "sandbox", "up", *sandbox, "--shape", "integrated")
    assert (code, up["seed"]["shape"]) == (0, "integrated"), err
    resolved = boto3.client("ssm").get_parameter(Name=integrated.IMAGE_PARAMETER)["Parameter"]["Value"]
    control, runtime_id, current = _runtime()
    updated = control.update_agent_runtime(agentRuntimeId=runtime_id,
                                           **cfg.with_image(cfg.carry_forward(current), resolved))
    for _ in range(600):
        current = control.get_agent_runtime(agentRuntimeId=runtime_id)
        if current["status"] != "UPDATING":
            break
        time.sleep(0.2)
    assert current["status"] == "READY"
    return str(updated["agentRuntimeVersion"])


def test_adopt_then_the_integrated_deploy_changes_no_image_and_publishes_go_to_the_ci_repository(
    sandbox: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    _, runtime_id, before = _runtime()
    live = cfg.container_uri(before)
    assert live is not None
    digest = live.split("@", 1)[1]
    _deploy_the_image_stack_alone(live)

    code, plan, err = _cli(capsys, "runtime", "adopt", "--stack-name", STACK, "--dry-run")
    assert (code, plan["status"]) == (0, "planned"), err
    code, adopted, err = _cli(capsys, "runtime", "adopt", "--stack-name", STACK)
    assert (code, adopted["status"]) == (0, "adopted"), err
    assert adopted["adopted_image"] == SEED + digest
    registry = Registry(os.environ["ABCA_ECR_REGISTRY_ENDPOINT"])
    assert registry.digest(integrated.CI_REPOSITORY, adopted_tag(digest)) == digest
    code, again, err = _cli(capsys, "runtime", "adopt", "--stack-name", STACK)
    assert (code, again["status"]) == (0, "unchanged"), err

    version = _deploy_the_integrated_stack(sandbox, capsys)
    _, _, after = _runtime()
    assert cfg.container_uri(after) == SEED + digest  # the CI repository's copy: the same image
    assert after["agentRuntimeVersion"] == version
    answer = boto3.client("bedrock-agentcore").invoke_agent_runtime(
        agentRuntimeArn=after["agentRuntimeArn"], payload=b'{"input":{"task":"hi"}}')
    assert json.loads(answer["response"].read())["message"] == spec.SEED_MESSAGE  # the copy pulls and runs

    code, drift, err = _cli(capsys, "drift", "--stack-name", STACK)
    assert code == 0, err
    template = next(s for s in drift["sources"] if s["source"] == "template")
    assert template["detail"] == f"read from SSM parameter {integrated.IMAGE_PARAMETER} at each deploy"

    context = tmp_path / "examples"
    shutil.copytree(EXAMPLES, context)
    (context / "agent/src/message.txt").write_text("after the migration\n", encoding="utf-8")
    printed = shlex.split(adopted["next_steps"][-1]["commands"][0])  # step 8, as adopt printed it
    assert printed[:3] == ["abca-deploy", "runtime", "publish"]
    code, published, err = _cli(capsys, *printed[1:], "--context", str(context), "--wait-timeout", "180")
    assert (code, published["status"]) == (0, "deployed"), err
    assert published["image_uri"].startswith(SEED)  # pushed to the CI repository
    parameter = boto3.client("ssm").get_parameter(Name=integrated.IMAGE_PARAMETER)["Parameter"]["Value"]
    assert parameter == published["image_uri"]  # and recorded in the stack's image parameter

    code, drift, err = _cli(capsys, "drift", "--stack-name", STACK)
    assert (code, drift["in_sync"]) == (0, True), err
    code, after_publish, err = _cli(capsys, "runtime", "adopt", "--stack-name", STACK)
    assert (code, after_publish["status"]) == (0, "unchanged"), err
    assert [s["step"] for s in after_publish["next_steps"]] == [6, 7, 8]  # the stack is integrated
    assert runtime_id == _runtime()[1]
