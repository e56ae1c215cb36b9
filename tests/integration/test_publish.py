"""`abca-deploy runtime publish` end to end on the sandbox: real Docker Engine, registry and emulator."""

from __future__ import annotations

import json
import platform
import shutil
import time
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from tests.integration.conftest import EXAMPLES, ROLE_ARN, TEST_REPOSITORY, unique_name

from abca_deploy.cli import main
from abca_deploy.runtime.config import carry_forward, container_uri

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from abca_deploy.sandbox.registry import Registry

pytestmark = pytest.mark.docker

HOST_PLATFORM = "linux/" + {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
ABCA_SETTINGS: dict[str, Any] = {
    "environmentVariables": {
        "GITHUB_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:gh",
        "AWS_REGION": "us-east-1",
        "CLAUDE_CODE_USE_BEDROCK": "1",
        "ANTHROPIC_LOG": "debug",
        "AGENT_STAGE": "publish-test",
    },
    "lifecycleConfiguration": {"idleRuntimeSessionTimeout": 28800, "maxLifetime": 28800},
    "protocolConfiguration": {"serverProtocol": "HTTP"},
    "filesystemConfigurations": [{"sessionStorage": {"mountPath": "/mnt/workspace"}}],
    "networkConfiguration": {
        "networkMode": "VPC",
        "networkModeConfig": {
            "securityGroups": ["sg-0123456789abcdef0"],
            "subnets": ["subnet-0123456789abcdef0"],
        },
    },
    "description": "ABCA agent runtime (publish test)",
}


class Platform:
    """A runtime created like ABCA's CDK does, plus helpers to publish to it and look at it."""

    def __init__(self, runtime_id: str, arn: str, context: Path, seed_image: str) -> None:
        self.runtime_id, self.arn, self.context, self.seed_image = runtime_id, arn, context, seed_image
        self.control = boto3.client("bedrock-agentcore-control")
        self.data = boto3.client("bedrock-agentcore")

    def write_message(self, message: str) -> None:
        (self.context / "agent/src/message.txt").write_text(message + "\n", encoding="utf-8")

    def publish(self, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, dict[str, Any], str]:
        capsys.readouterr()
        code = main(
            [
                "runtime",
                "publish",
                "--runtime-id",
                self.runtime_id,
                "--context",
                str(self.context),
                "--output",
                "json",
                "--wait-timeout",
                "180",
                *flags,
            ]
        )
        out, err = capsys.readouterr()
        return code, json.loads(out) if out.strip() else {}, err

    def runtime(self, version: str | None = None) -> dict[str, Any]:
        extra = {"agentRuntimeVersion": version} if version else {}
        return self.control.get_agent_runtime(agentRuntimeId=self.runtime_id, **extra)

    def versions(self) -> list[str]:
        found = self.control.list_agent_runtime_versions(agentRuntimeId=self.runtime_id)["agentRuntimes"]
        return sorted((v["agentRuntimeVersion"] for v in found), key=int)

    def invoke(self, qualifier: str | None = None) -> dict[str, Any]:
        extra = {"qualifier": qualifier} if qualifier else {}
        answer = self.data.invoke_agent_runtime(
            agentRuntimeArn=self.arn, payload=b'{"input":{"task":"hi"}}', **extra
        )
        return json.loads(answer["response"].read())


def settings_of(config: dict[str, Any]) -> dict[str, Any]:
    """Every updatable setting except the image."""
    request = carry_forward(config)
    request.pop("agentRuntimeArtifact")
    return request


def seeded_platform(emulator_url: str, registry: Registry, base_image: str, agent_image: Callable[..., str],
                    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> Platform:
    """An ABCA-shaped runtime READY on a seed image in the emulator at ``emulator_url``, publishing from
    a copy of the example agent, with the environment a publish on the sandbox needs."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL", emulator_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", emulator_url)
    monkeypatch.setenv("ABCA_ECR_REGISTRY_ENDPOINT", registry.host)
    monkeypatch.setenv("ABCA_PLATFORM", HOST_PLATFORM)
    monkeypatch.setenv("ABCA_DEFAULT_BUILD_ARGS", f"BASE_IMAGE={base_image}")
    boto3.client("ecr").create_repository(repositoryName=TEST_REPOSITORY)
    seed = agent_image(message="seed version")
    created = boto3.client("bedrock-agentcore-control").create_agent_runtime(
        agentRuntimeName=unique_name(name),
        roleArn=ROLE_ARN,
        agentRuntimeArtifact={"containerConfiguration": {"containerUri": seed}},
        **ABCA_SETTINGS,
    )
    context = tmp_path / "examples"
    shutil.copytree(EXAMPLES, context)
    plat = Platform(created["agentRuntimeId"], created["agentRuntimeArn"], context, seed)
    deadline = time.monotonic() + 120
    while plat.runtime()["status"] == "CREATING" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert plat.runtime()["status"] == "READY"
    return plat


@pytest.fixture
def sandbox(
    moto_env: str,
    registry: Registry,
    base_image: str,
    agent_image: Callable[..., str],
    emulator_factory: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Platform:
    emulator = emulator_factory(ping_timeout=10.0)
    return seeded_platform(emulator.url, registry, base_image, agent_image, monkeypatch, tmp_path, "publish")


def test_changed_agent_is_deployed_and_served_with_every_setting_intact(
    sandbox: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.write_message("version two")
    code, doc, err = sandbox.publish(capsys)
    assert code == 0, err
    assert doc["status"] == "deployed"
    assert doc["previous_version"] == "1"
    assert doc["runtime_version"] == "2"
    assert doc["image_uri"].startswith(
        f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{TEST_REPOSITORY}@sha256:"
    )
    assert doc["image_uri"].endswith(doc["image_digest"])
    assert doc["smoke_result"] == "passed: HTTP 400"
    after, before = sandbox.runtime(), sandbox.runtime("1")
    assert after["status"] == "READY"
    assert after["agentRuntimeVersion"] == "2"
    assert container_uri(after) == doc["image_uri"]
    assert settings_of(after) == settings_of(before)
    assert after["agentRuntimeArn"] == sandbox.arn
    answer = sandbox.invoke()
    assert answer["message"] == "version two"
    assert answer["environment"]["AGENT_STAGE"] == "publish-test"
    assert "sandbox accepts host-architecture images" in err


def test_publishing_the_same_context_again_is_unchanged(
    sandbox: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.write_message("stable")
    code, first, err = sandbox.publish(capsys)
    assert code == 0, err
    code, again, err = sandbox.publish(capsys)
    assert code == 0, err
    assert again["status"] == "unchanged"
    assert again["built"] is False
    assert "build and push skipped" in err
    assert again["image_uri"] == first["image_uri"]
    assert sandbox.versions() == ["1", "2"]


def test_an_image_whose_ping_fails_is_rolled_back(
    sandbox: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    server = sandbox.context / "agent/src/server.py"
    server.write_text(
        server.read_text().replace(
            'self._send(200, {"status": "Healthy"', 'self._send(503, {"status": "Unhealthy"'
        )
    )
    code, doc, err = sandbox.publish(capsys)
    assert code == 1
    assert doc["status"] == "rolled-back"
    assert doc["rolled_back_to"] == "1"
    assert "UPDATE_FAILED" in err
    assert "Rolled back to v1" in err
    current = sandbox.runtime()
    assert current["status"] == "READY"
    assert current["agentRuntimeVersion"] == "3"
    assert container_uri(current) == sandbox.seed_image
    assert settings_of(current) == settings_of(sandbox.runtime("1"))
    assert sandbox.invoke()["message"] == "seed version"


def test_a_smoke_expectation_that_does_not_match_is_rolled_back(
    sandbox: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.write_message("unexpected")
    code, doc, err = sandbox.publish(capsys, "--smoke-expect", "TASK_ACCEPTED")
    assert code == 1
    assert doc["status"] == "rolled-back"
    assert "does not match /TASK_ACCEPTED/" in err
    current = sandbox.runtime()
    assert current["status"] == "READY"
    assert container_uri(current) == sandbox.seed_image
    assert settings_of(current) == settings_of(sandbox.runtime("1"))
    assert sandbox.invoke()["message"] == "seed version"


def test_promote_moves_the_named_endpoint_only_after_a_passing_smoke_test(
    sandbox: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.control.create_agent_runtime_endpoint(
        agentRuntimeId=sandbox.runtime_id, name="prod", agentRuntimeVersion="1"
    )
    deadline = time.monotonic() + 60
    while (
        sandbox.control.get_agent_runtime_endpoint(agentRuntimeId=sandbox.runtime_id, endpointName="prod")[
            "status"
        ]
        != "READY"
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    sandbox.write_message("blue-green bad")
    code, doc, _ = sandbox.publish(capsys, "--promote-endpoint", "prod", "--smoke-expect", "NEVER")
    assert code == 1
    assert doc["status"] == "failed"
    prod = sandbox.control.get_agent_runtime_endpoint(agentRuntimeId=sandbox.runtime_id, endpointName="prod")
    assert prod["liveVersion"] == "1"
    assert sandbox.invoke("prod")["message"] == "seed version"
    sandbox.write_message("blue-green good")
    code, doc, err = sandbox.publish(capsys, "--promote-endpoint", "prod")
    assert code == 0, err
    prod = sandbox.control.get_agent_runtime_endpoint(agentRuntimeId=sandbox.runtime_id, endpointName="prod")
    assert prod["liveVersion"] == doc["runtime_version"] == "3"
    assert sandbox.invoke("prod")["message"] == "blue-green good"


def test_actions_mode_writes_outputs_and_summary(
    sandbox: Platform, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outputs, summary = tmp_path / "github_output", tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
    sandbox.write_message("from actions")
    code, doc, err = sandbox.publish(capsys)
    assert code == 0, err
    written = outputs.read_text()
    for key in (
        "status",
        "image-uri",
        "image-digest",
        "runtime-arn",
        "runtime-version",
        "previous-version",
        "smoke-result",
        "duration-seconds",
    ):
        assert f"{key}<<ghadelimiter_" in written
    assert f"\n{doc['image_uri']}\n" in written
    assert "\ndeployed\n" in written
    text = summary.read_text()
    assert "AgentCore runtime publish: deployed" in text
    assert "| Version | 1 | 2 |" in text
    assert "Smoke test:** passed: HTTP 400" in text
    assert "::group::Build and push" in err
    assert "::add-mask::" in err


def test_environment_values_never_reach_the_log_outputs_plan_or_summary(
    sandbox: Platform, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The runtime's environment may hold secrets: the plan shows the names with *** for values."""
    outputs, summary = tmp_path / "github_output", tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    secret = ABCA_SETTINGS["environmentVariables"]["GITHUB_TOKEN_SECRET_ARN"]
    sandbox.write_message("planned")
    code, plan, err = sandbox.publish(capsys, "--dry-run")
    assert code == 0, err
    assert plan["plan"]["update_request"]["environmentVariables"] == dict.fromkeys(
        ABCA_SETTINGS["environmentVariables"], "***")
    code, doc, err = sandbox.publish(capsys)
    assert code == 0, err
    shown = json.dumps(plan) + json.dumps(doc) + err + outputs.read_text() + summary.read_text()
    assert secret not in shown
    assert "publish-test" not in shown  # AGENT_STAGE's value


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--runtime-id", "nosuch-AbCdEfGh12"], "AgentCore has no runtime 'nosuch-AbCdEfGh12'"),
        (
            ["--runtime-arn", "arn:aws:bedrock-agentcore:us-east-1:123:runtime/x"],
            "--runtime-arn: is not an AgentCore",
        ),
        (["--image", "docker.io/library/agent:1"], "--image: is not an ECR image URI"),
        (["--smoke-payload", "{not json"], "--smoke-payload: is not valid JSON"),
        (["--wait-timeout", "-1"], "--wait-timeout: Input should be greater than 0"),
        (
            ["--dockerfile", "agent/Missing.Dockerfile"],
            "--dockerfile: 'agent/Missing.Dockerfile' does not exist",
        ),
    ],
)
def test_bad_input_is_exit_2_with_one_line_and_changes_nothing(
    sandbox: Platform, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    capsys.readouterr()
    argv = ["runtime", "publish", "--context", str(sandbox.context), *flags]
    if not any(f in flags for f in ("--runtime-id", "--runtime-arn")):
        argv += ["--runtime-id", sandbox.runtime_id]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert message in lines[0], err
    assert "Traceback" not in err
    assert out == ""
    assert sandbox.versions() == ["1"]
    assert boto3.client("ecr").describe_images(repositoryName=TEST_REPOSITORY)["imageDetails"] == []


@pytest.mark.filterwarnings("ignore:Tried to parse AWS..BedrockAgentCore..Runtime")
def test_drift_is_3_after_a_publish_that_did_not_record_the_image_and_0_after_one_that_did(
    sandbox: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    parameter = "/abca/runtime-image"
    boto3.client("ssm").put_parameter(Name=parameter, Value=sandbox.seed_image, Type="String")
    template = {
        "Resources": {
            "Runtime": {
                "Type": "AWS::BedrockAgentCore::Runtime",
                "Properties": {
                    "AgentRuntimeName": "publish_drift",
                    "AgentRuntimeArtifact": {
                        "ContainerConfiguration": {"ContainerUri": f"{{{{resolve:ssm:{parameter}}}}}"}
                    },
                },
            }
        },
        "Outputs": {"RuntimeArn": {"Value": sandbox.arn}},
    }
    boto3.client("cloudformation").create_stack(StackName="abca-drift", TemplateBody=json.dumps(template))

    def drift() -> int:
        capsys.readouterr()
        code = main(
            ["drift", "--stack-name", "abca-drift", "--image-parameter", parameter, "--output", "json"]
        )
        capsys.readouterr()
        return code

    assert drift() == 0
    sandbox.write_message("published without recording")
    assert sandbox.publish(capsys)[0] == 0
    assert drift() == 3
    sandbox.write_message("published and recorded")
    code, doc, err = sandbox.publish(capsys, "--image-parameter", parameter)
    assert code == 0, err
    assert boto3.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"] == doc["image_uri"]
    assert drift() == 0


def test_smoke_test_reads_an_event_stream_answer(sandbox: Platform,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    sandbox.write_message("streamed answer")
    flags = ["--smoke-payload", '{"input":{"task":"stream"}}', "--smoke-expect-status", "200",
             "--smoke-expect", r'"message": "streamed answer"']
    code, doc, err = sandbox.publish(capsys, *flags)
    assert code == 0, err
    assert doc["smoke_result"] == "passed: HTTP 200"
    assert '"event": "end"' in err  # the SSE events were read, not just the first chunk
