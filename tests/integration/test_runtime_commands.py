"""`runtime status`, `runtime rollback` and `runtime resolve` on the sandbox (the real `main()`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from tests.integration.conftest import ROLE_ARN, TEST_REPOSITORY, unique_name

from abca_deploy.cli import main
from abca_deploy.runtime.config import carry_forward, container_uri, with_image
from abca_deploy.runtime.tested import Tested, TestedStore

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.docker


class Runtime:
    """A runtime on the emulator with versions 1..n made by direct updates, and its records in moto."""

    def __init__(self, images: list[str]) -> None:
        self.control = boto3.client("bedrock-agentcore-control")
        created = self.control.create_agent_runtime(
            agentRuntimeName=unique_name("cmds"),
            roleArn=ROLE_ARN,
            agentRuntimeArtifact={"containerConfiguration": {"containerUri": images[0]}},
            networkConfiguration={"networkMode": "PUBLIC"},
            environmentVariables={"AGENT_STAGE": "cmds"},
        )
        self.id, self.arn = created["agentRuntimeId"], created["agentRuntimeArn"]
        self.settle()
        for image in images[1:]:
            self.control.update_agent_runtime(
                agentRuntimeId=self.id, **with_image(carry_forward(self.get()), image)
            )
            self.settle()
        from abca_deploy.aws.ssm import Parameters

        self.records = TestedStore(Parameters(boto3.client("ssm")))

    def get(self, version: str | None = None) -> dict[str, Any]:
        extra = {"agentRuntimeVersion": version} if version else {}
        return dict(self.control.get_agent_runtime(agentRuntimeId=self.id, **extra))

    def settle(self) -> dict[str, Any]:
        import time

        deadline = time.monotonic() + 120
        while (current := self.get())["status"] in ("CREATING", "UPDATING") and time.monotonic() < deadline:
            time.sleep(0.2)
        return current

    def tested(self, version: str, source: str = "smoke-test") -> None:
        self.records.record(
            self.id, Tested(version, container_uri(self.get(version)) or "", "t", "test", source)
        )  # type: ignore[arg-type]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    capsys.readouterr()
    code = main([*argv, "--output", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


@pytest.fixture
def images(moto_env: str, emulator: Any, agent_image: Callable[..., str]) -> list[str]:
    boto3.client("ecr").create_repository(repositoryName=TEST_REPOSITORY)
    return [agent_image(message=f"image {n}") for n in (1, 2, 3)]


def test_status_says_whether_the_live_version_was_tested(
    images: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = Runtime(images[:2])
    code, doc, _ = run(capsys, "runtime", "status", "--runtime-id", runtime.id)
    assert (code, doc["live_version"], doc["tested"]) == (0, "2", None)  # no publish yet: unknown
    runtime.tested("1")
    code, doc, err = run(capsys, "runtime", "status", "--runtime-id", runtime.id)
    assert (doc["tested"], doc["last_tested"]["version"]) == (False, "1")
    assert "warning: The live version 2 is untested" in err
    runtime.tested("2")
    code, doc, _ = run(capsys, "runtime", "status", "--runtime-arn", runtime.arn)
    assert (doc["tested"], doc["tested_record"]["version"], doc["live_image"]) == (True, "2", images[1])
    capsys.readouterr()
    assert main(["runtime", "status", "--runtime-id", runtime.id]) == 0
    text = capsys.readouterr().out
    assert "live      version 2 (DEFAULT)" in text
    assert "tested    yes: smoke-tested as version 2" in text


def test_rollback_goes_to_the_newest_tested_version_never_the_newest_ready(
    images: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = Runtime(images)  # 1, 2 (untested, e.g. a failed blue/green), 3 (tested, live)
    runtime.tested("1")
    runtime.tested("3")
    code, doc, _ = run(capsys, "runtime", "rollback", "--runtime-id", runtime.id, "--dry-run")
    assert (code, doc["action"], doc["rolled_back_to"]) == (0, "planned", "1")
    assert doc["request"]["environmentVariables"] == {"AGENT_STAGE": "***"}
    assert runtime.get()["agentRuntimeVersion"] == "3"
    code, doc, err = run(capsys, "runtime", "rollback", "--runtime-id", runtime.id)
    assert code == 0, err
    assert (doc["action"], doc["rolled_back_to"], doc["runtime_version"]) == ("rolled-back", "1", "4")
    assert container_uri(runtime.settle()) == images[0]


def test_rollback_if_untested_acts_only_on_an_untested_live_version(
    images: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = Runtime(images[:2])
    code, doc, _ = run(capsys, "runtime", "rollback", "--runtime-id", runtime.id, "--if-untested")
    assert (code, doc["action"]) == (0, "none")
    assert "no last-tested record" in doc["reason"]
    runtime.tested("2")
    code, doc, _ = run(capsys, "runtime", "rollback", "--runtime-id", runtime.id, "--if-untested")
    assert (code, doc["action"]) == (0, "none")
    assert "live version 2 is tested" in doc["reason"]
    runtime.control.update_agent_runtime(
        agentRuntimeId=runtime.id, **with_image(carry_forward(runtime.get()), images[2])
    )
    code, doc, err = run(capsys, "runtime", "rollback", "--runtime-id", runtime.id, "--if-untested")
    assert code == 0, err
    assert (doc["action"], doc["rolled_back_to"]) == ("rolled-back", "2")  # it waited for 3 to settle
    assert "Live version 3" in err
    assert container_uri(runtime.settle()) == images[1]


def test_rollback_to_an_untested_version_warns(images: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    runtime = Runtime(images[:2])
    runtime.tested("2")
    code, doc, err = run(capsys, "runtime", "rollback", "--runtime-id", runtime.id, "--to-version", "1")
    assert (code, doc["rolled_back_to"]) == (0, "1")
    assert "Version 1 was never smoke-tested" in err


def test_rollback_with_nothing_tested_to_go_back_to_is_exit_2(
    images: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = Runtime(images[:1])
    runtime.tested("1")
    code, _, err = run(capsys, "runtime", "rollback", "--runtime-id", runtime.id)
    assert code == 2
    assert "no tested version with another image" in err


def test_resolve_keys_on_the_runtime_however_it_is_named(
    images: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    runtime = Runtime(images[:1])
    template = {
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {"RuntimeArn": {"Value": runtime.arn}},
    }
    boto3.client("cloudformation").create_stack(StackName="abca-resolve", TemplateBody=json.dumps(template))
    expected = {
        "runtime_id": runtime.id,
        "runtime_arn": runtime.arn,
        "concurrency_key": f"runtime-{runtime.id}",
    }
    for flags in (
        ["--runtime-id", runtime.id],
        ["--runtime-arn", runtime.arn],
        ["--stack-name", "abca-resolve"],
    ):
        assert run(capsys, "runtime", "resolve", *flags)[:2] == (0, expected)
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    code, doc, err = run(capsys, "runtime", "resolve", "--stack-name", "not-deployed-yet")
    assert (code, doc) == (
        0,
        {"runtime_id": "", "runtime_arn": "", "concurrency_key": "stack-not-deployed-yet"},
    )
    assert "::notice title=No runtime yet::Stack not-deployed-yet does not exist yet" in err
    assert "concurrency-key<<" in outputs.read_text()
    assert "\nstack-not-deployed-yet\n" in outputs.read_text()
