"""The emulator's state machine over the real HTTP wire and stock boto3 clients, with a fake container runner.

The fake runner holds each image's readiness check until the test releases it, so the in-between states
(CREATING, UPDATING, endpoint moves) are observed deterministically, without Docker.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config

from abca_deploy.sandbox.emulator.runner import ContainerDown, StartFailed, Target
from abca_deploy.sandbox.emulator.server import EmulatorServer

if TYPE_CHECKING:
    from collections.abc import Iterator

    from abca_deploy.sandbox.emulator.runner import ContainerSpec, Key

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent"
ROLE = "arn:aws:iam::123456789012:role/runtime"


class FakeRunner:
    """Containers as records; ``hold(image)`` blocks that image's start until ``unhold(image)``."""

    def __init__(self) -> None:
        self.running: dict[Key, ContainerSpec] = {}
        self.failing: dict[str, str] = {}
        self.crashing: set[str] = set()
        self.gates: dict[str, threading.Event] = {}
        self.dead: set[Key] = set()
        self.port = 9  # where invocations go (a test may point it at a real local server)

    def hold(self, image: str) -> None:
        self.gates[image] = threading.Event()

    def unhold(self, image: str) -> None:
        self.gates.pop(image).set()

    def prepare(self, key: Key, spec: ContainerSpec) -> None:
        self.ensure(key, spec, revive=True)

    def ensure(self, key: Key, spec: ContainerSpec, *, revive: bool) -> Target:
        if key in self.dead:
            self.dead.discard(key)
            self.running.pop(key, None)
            if not revive:
                msg = "The container fake is not running (exit code 137)."
                raise ContainerDown(msg)
        if key not in self.running:
            if (gate := self.gates.get(spec.image)) is not None:
                gate.wait(10)
            if spec.image in self.failing:
                raise StartFailed(self.failing[spec.image])
            if spec.image in self.crashing:
                msg = "runner bug"
                raise RuntimeError(msg)
            self.running[key] = spec
        return Target(self.port, f"fake-{key[0]}-v{key[1]}", spec.path)

    def adopt(self, source: Key, target: Key) -> bool:
        if source not in self.running or target in self.running:
            return False
        self.running[target] = self.running.pop(source)
        return True

    def release(self, key: Key) -> None:
        self.running.pop(key, None)

    def failure(self, key: Key) -> str:
        return f"The container fake-{key[0]}-v{key[1]} is not running."

    def retain(self, keys: set[Key]) -> None:
        self.running = {k: v for k, v in self.running.items() if k in keys}

    def close(self) -> None:
        self.running.clear()

    def count(self) -> int:
        return len(self.running)


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner()


@pytest.fixture
def server(runner: FakeRunner, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    emulator = EmulatorServer(registry="127.0.0.1:1", runner=runner)
    emulator.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL", emulator.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", emulator.url)
    yield emulator
    emulator.stop()


@pytest.fixture
def control(server: EmulatorServer) -> Any:
    return boto3.client("bedrock-agentcore-control")


@pytest.fixture
def data(server: EmulatorServer) -> Any:
    return boto3.client("bedrock-agentcore", config=Config(retries={"total_max_attempts": 1}))


def artifact(tag: str) -> dict[str, Any]:
    return {"agentRuntimeArtifact": {"containerConfiguration": {"containerUri": f"{ECR}:{tag}"}},
            "roleArn": ROLE}


def settle(read: Any, *, status: str) -> dict[str, Any]:
    """Poll ``read()`` until its status is ``status``."""
    deadline = time.monotonic() + 5
    while (current := read())["status"] != status:
        assert time.monotonic() < deadline, current
        time.sleep(0.02)
    return dict(current)


def runtime_status(control: Any, runtime_id: str, status: str) -> dict[str, Any]:
    return settle(lambda: control.get_agent_runtime(agentRuntimeId=runtime_id), status=status)


def endpoint_status(control: Any, runtime_id: str, name: str, status: str) -> dict[str, Any]:
    return settle(lambda: control.get_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName=name),
                  status=status)


def ready_runtime(control: Any, tag: str = "v1", **extra: Any) -> str:
    runtime_id = str(control.create_agent_runtime(agentRuntimeName="demo", **artifact(tag), **extra)
                     ["agentRuntimeId"])
    runtime_status(control, runtime_id, "READY")
    return runtime_id


def test_create_is_creating_until_the_container_is_healthy(control: Any, runner: FakeRunner) -> None:
    runner.hold(f"{ECR}:v1")
    created = control.create_agent_runtime(agentRuntimeName="demo", **artifact("v1"))
    assert created["agentRuntimeArn"] == (
        f"arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/{created['agentRuntimeId']}")
    assert created["agentRuntimeId"].startswith("demo-")
    assert len(created["agentRuntimeId"]) == 15
    assert control.get_agent_runtime(agentRuntimeId=created["agentRuntimeId"])["status"] == "CREATING"
    default = control.get_agent_runtime_endpoint(agentRuntimeId=created["agentRuntimeId"],
                                                 endpointName="DEFAULT")
    assert (default["status"], default["targetVersion"], "liveVersion" in default) == ("CREATING", "1", False)

    runner.unhold(f"{ECR}:v1")
    ready = runtime_status(control, created["agentRuntimeId"], "READY")
    assert ready["workloadIdentityDetails"]["workloadIdentityArn"].endswith(
        f"workload-identity-directory/default/workload-identity/{created['agentRuntimeId']}")
    assert "failureReason" not in ready


def test_update_during_update_conflicts_and_failed_update_keeps_default(
    control: Any, runner: FakeRunner,
) -> None:
    runtime_id = ready_runtime(control)
    runner.hold(f"{ECR}:v2")
    runner.failing[f"{ECR}:v2"] = "Image v2 could not be pulled."
    assert control.update_agent_runtime(agentRuntimeId=runtime_id, **artifact("v2"))["status"] == "UPDATING"
    with pytest.raises(control.exceptions.ConflictException, match="UPDATING"):
        control.update_agent_runtime(agentRuntimeId=runtime_id, **artifact("v3"))

    runner.unhold(f"{ECR}:v2")
    failed = runtime_status(control, runtime_id, "UPDATE_FAILED")
    assert (failed["agentRuntimeVersion"], failed["failureReason"]) == ("2", "Image v2 could not be pulled.")
    default = control.get_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName="DEFAULT")
    assert (default["status"], default["liveVersion"], default["targetVersion"]) == ("READY", "1", "1")
    assert set(runner.running) == {(runtime_id, "1")}

    third = control.update_agent_runtime(agentRuntimeId=runtime_id, **artifact("v3"))
    assert third["agentRuntimeVersion"] == "3"
    runtime_status(control, runtime_id, "READY")
    versions = control.list_agent_runtime_versions(agentRuntimeId=runtime_id)["agentRuntimes"]
    assert [(v["agentRuntimeVersion"], v["status"]) for v in versions] == [
        ("1", "READY"), ("2", "UPDATE_FAILED"), ("3", "READY")]
    assert settle(lambda: {"status": sorted(runner.running)}, status=[(runtime_id, "3")])


def test_a_runner_bug_fails_the_version_instead_of_hanging(control: Any, runner: FakeRunner,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    runner.crashing.add(f"{ECR}:v1")
    created = control.create_agent_runtime(agentRuntimeName="demo", **artifact("v1"))
    failed = runtime_status(control, created["agentRuntimeId"], "CREATE_FAILED")
    assert failed["failureReason"] == (
        "The emulator failed checking this version: RuntimeError('runner bug') (see its log).")
    assert "checking runtime" in caplog.text


def test_get_returns_exactly_what_was_sent(control: Any) -> None:
    sent = {"description": "d", "environmentVariables": {"AGENT_X": ""},
            "protocolConfiguration": {"serverProtocol": "HTTP"},
            "filesystemConfigurations": [{"sessionStorage": {"mountPath": "/mnt/workspace"}}],
            "networkConfiguration": {"networkMode": "VPC", "networkModeConfig": {
                "securityGroups": ["sg-0123456789abcdef0"], "subnets": ["subnet-0123456789abcdef0"]}}}
    runtime_id = ready_runtime(control, **sent)
    got = control.get_agent_runtime(agentRuntimeId=runtime_id)
    assert {k: got[k] for k in sent} == sent
    absent = {"authorizerConfiguration", "requestHeaderConfiguration", "metadataConfiguration", "tags",
              "clientToken", "allowedPorts", "failureReason"}
    assert absent.isdisjoint(got)


def test_vpc_mode_needs_its_config(control: Any) -> None:
    with pytest.raises(control.exceptions.ValidationException, match="networkModeConfig"):
        control.create_agent_runtime(agentRuntimeName="demo", networkConfiguration={"networkMode": "VPC"},
                                     **artifact("v1"))


def test_endpoint_moves_only_when_updated(control: Any, runner: FakeRunner) -> None:
    runtime_id = ready_runtime(control)
    control.create_agent_runtime_endpoint(agentRuntimeId=runtime_id, name="prod")
    endpoint_status(control, runtime_id, "prod", "READY")
    control.update_agent_runtime(agentRuntimeId=runtime_id, **artifact("v2"))
    runtime_status(control, runtime_id, "READY")
    prod = control.get_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName="prod")
    assert (prod["liveVersion"], prod["targetVersion"]) == ("1", "1")

    runner.dead.add((runtime_id, "1"))  # a later move back must start a fresh container
    runner.hold(f"{ECR}:v2")
    runner.running.pop((runtime_id, "2"))
    moving = control.update_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName="prod",
                                                   agentRuntimeVersion="2", description="moved")
    assert (moving["status"], moving["liveVersion"], moving["targetVersion"]) == ("UPDATING", "1", "2")
    with pytest.raises(control.exceptions.ConflictException, match="UPDATING"):
        control.update_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName="prod",
                                              agentRuntimeVersion="1")
    runner.unhold(f"{ECR}:v2")
    moved = endpoint_status(control, runtime_id, "prod", "READY")
    assert (moved["liveVersion"], moved["targetVersion"], moved["description"]) == ("2", "2", "moved")


@pytest.mark.parametrize(("version", "problem"), [("99", "does not exist"), ("2", "is UPDATE_FAILED")])
def test_endpoints_only_serve_ready_versions(
    control: Any, runner: FakeRunner, version: str, problem: str,
) -> None:
    runtime_id = ready_runtime(control)
    runner.failing[f"{ECR}:bad"] = "broken"
    control.update_agent_runtime(agentRuntimeId=runtime_id, **artifact("bad"))
    runtime_status(control, runtime_id, "UPDATE_FAILED")
    with pytest.raises(control.exceptions.ValidationException, match=problem):
        control.create_agent_runtime_endpoint(agentRuntimeId=runtime_id, name="prod",
                                              agentRuntimeVersion=version)
    with pytest.raises(control.exceptions.ValidationException, match="DEFAULT"):
        control.update_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName="DEFAULT",
                                              agentRuntimeVersion="1")


def test_endpoint_that_cannot_start_its_version_fails(control: Any, runner: FakeRunner) -> None:
    runtime_id = ready_runtime(control)
    control.update_agent_runtime(agentRuntimeId=runtime_id, **artifact("v2"))
    runtime_status(control, runtime_id, "READY")
    runner.failing[f"{ECR}:v1"] = "The image vanished."
    runner.running.pop((runtime_id, "1"), None)
    control.create_agent_runtime_endpoint(agentRuntimeId=runtime_id, name="old", agentRuntimeVersion="1")
    failed = endpoint_status(control, runtime_id, "old", "CREATE_FAILED")
    assert (failed["failureReason"], "liveVersion" in failed) == ("The image vanished.", False)


def test_version_deletion_rules(control: Any) -> None:
    runtime_id = ready_runtime(control)
    with pytest.raises(control.exceptions.ConflictException, match="DEFAULT serve"):
        control.delete_agent_runtime(agentRuntimeId=runtime_id, agentRuntimeVersion="1")
    control.create_agent_runtime_endpoint(agentRuntimeId=runtime_id, name="prod", agentRuntimeVersion="1")
    control.update_agent_runtime(agentRuntimeId=runtime_id, **artifact("v2"))
    runtime_status(control, runtime_id, "READY")
    with pytest.raises(control.exceptions.ConflictException, match="prod"):
        control.delete_agent_runtime(agentRuntimeId=runtime_id, agentRuntimeVersion="1")
    control.delete_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName="prod")
    deleted = control.delete_agent_runtime(agentRuntimeId=runtime_id, agentRuntimeVersion="1")
    assert deleted["status"] == "DELETING"
    with pytest.raises(control.exceptions.ResourceNotFoundException):
        control.get_agent_runtime(agentRuntimeId=runtime_id, agentRuntimeVersion="1")


def test_list_pagination_and_bad_tokens(control: Any) -> None:
    for name in ("a", "b", "c"):
        control.create_agent_runtime(agentRuntimeName=name, **artifact("v1"))
    with pytest.raises(control.exceptions.ConflictException, match="already exists"):
        control.create_agent_runtime(agentRuntimeName="b", **artifact("v1"))
    pages = control.get_paginator("list_agent_runtimes").paginate(PaginationConfig={"PageSize": 2})
    assert [[r["agentRuntimeName"] for r in p["agentRuntimes"]] for p in pages] == [["a", "b"], ["c"]]
    assert all(r["description"] == "" for r in control.list_agent_runtimes()["agentRuntimes"])
    with pytest.raises(control.exceptions.ValidationException, match="nextToken"):
        control.list_agent_runtimes(nextToken="not-a-token")


def raw(server: EmulatorServer, method: str, path: str, body: bytes = b"") -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(f"{server.url}{path}", data=body or None, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_raw_http_errors_are_rest_json(server: EmulatorServer) -> None:
    status, headers, body = raw(server, "GET", "/gateways/")
    assert (status, headers["x-amzn-ErrorType"]) == (404, "UnknownOperationException")
    assert body == {"message": "The AgentCore emulator does not implement GET /gateways/."}
    status, headers, body = raw(server, "PUT", "/runtimes/", b"{not json")
    assert (status, headers["x-amzn-ErrorType"]) == (400, "ValidationException")
    assert body["reason"] == "CannotParse"
    health = raw(server, "GET", "/_emulator/health")
    assert (health[0], health[2]) == (200, {"status": "ok", "runtimes": 0, "containers": 0, "sessions": 0,
                                            "containerErrors": "wrapped"})


def test_invoke_while_creating_and_with_bad_addresses(control: Any, data: Any, runner: FakeRunner) -> None:
    runner.hold(f"{ECR}:v1")
    created = control.create_agent_runtime(agentRuntimeName="demo", **artifact("v1"))
    with pytest.raises(data.exceptions.RetryableConflictException, match="CREATING"):
        data.invoke_agent_runtime(agentRuntimeArn=created["agentRuntimeArn"], payload=b"{}")
    runner.unhold(f"{ECR}:v1")
    with pytest.raises(data.exceptions.ValidationException, match="accountId"):
        data.invoke_agent_runtime(agentRuntimeArn=created["agentRuntimeId"], payload=b"{}")
    other = created["agentRuntimeArn"].replace("123456789012", "210987654321")
    with pytest.raises(data.exceptions.ResourceNotFoundException):
        data.invoke_agent_runtime(agentRuntimeArn=other, payload=b"{}")
