"""A hand-written fake of the AgentCore control and data planes, with AWS's replace-on-update semantics."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from abca_deploy.aws.agentcore import Conflict, Invocation

RID = "abca_runtime-AbCdEfGh12"
ARN = f"arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/{RID}"
REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent"
GOOD = REPO + "@sha256:" + "1" * 64
NEW = REPO + "@sha256:" + "2" * 64

BASE_CONFIG: dict[str, Any] = {
    "agentRuntimeArtifact": {"containerConfiguration": {"containerUri": GOOD}},
    "roleArn": "arn:aws:iam::123456789012:role/AgentRuntimeRole",
    "networkConfiguration": {
        "networkMode": "VPC",
        "networkModeConfig": {
            "securityGroups": ["sg-1"],
            "subnets": ["subnet-1"],
            "requireServiceS3Endpoint": True,
        },
    },
    "protocolConfiguration": {"serverProtocol": "HTTP"},
    "lifecycleConfiguration": {"idleRuntimeSessionTimeout": 28800, "maxLifetime": 28800},
    "environmentVariables": {"AWS_REGION": "us-east-1", "CLAUDE_CODE_USE_BEDROCK": "1"},
    "filesystemConfigurations": [{"sessionStorage": {"mountPath": "/mnt/workspace"}}],
}


@dataclass
class FakeControl:
    """Versions hold exactly what Update sent; UPDATING ends READY or UPDATE_FAILED after ``reads`` reads."""

    reads: int = 2
    failing_images: dict[str, str] = field(default_factory=dict)
    never_ready: bool = False
    conflicts: int = 0
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    calls: int = 0
    _countdown: int = 0

    def __post_init__(self) -> None:
        self.versions["1"] = {**copy.deepcopy(BASE_CONFIG), "status": "READY", "agentRuntimeVersion": "1"}

    @property
    def latest(self) -> str:
        return str(max(int(v) for v in self.versions))

    def _advance(self) -> None:
        record = self.versions[self.latest]
        if record["status"] != "UPDATING" or self.never_ready:
            return
        self._countdown -= 1
        if self._countdown <= 0:
            image = record["agentRuntimeArtifact"]["containerConfiguration"]["containerUri"]
            if image in self.failing_images:
                record["status"], record["failureReason"] = "UPDATE_FAILED", self.failing_images[image]
            else:
                record["status"] = "READY"

    def get_runtime(self, runtime_id: str, version: str | None = None) -> dict[str, Any]:
        self.calls += 1
        self._advance()
        record = self.versions[version or self.latest]
        return {
            **copy.deepcopy(record),
            "agentRuntimeArn": ARN,
            "agentRuntimeId": runtime_id,
            "agentRuntimeName": "abca_runtime",
            "workloadIdentityDetails": {"workloadIdentityArn": "x"},
        }

    def update_runtime(self, runtime_id: str, request: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        self.log.append("update")
        if self.conflicts:
            self.conflicts -= 1
            self.versions[self.latest]["status"] = "UPDATING"
            self._countdown = self.reads
            msg = "ConflictException"
            raise Conflict(msg)
        if self.versions[self.latest]["status"] == "UPDATING":  # AWS refuses an update while one is in flight
            msg = "ConflictException: an update is in progress"
            raise Conflict(msg)
        assert "requireServiceS3Endpoint" not in str(request), "read-only field sent"
        self.requests.append(copy.deepcopy(request))
        version = str(int(self.latest) + 1)
        self.versions[version] = {
            **copy.deepcopy(request),
            "status": "UPDATING",
            "agentRuntimeVersion": version,
        }
        self._countdown = self.reads
        return {"agentRuntimeVersion": version, "status": "UPDATING"}

    def list_versions(self, runtime_id: str) -> list[dict[str, Any]]:
        self.calls += 1
        return [{"agentRuntimeVersion": v, "status": r["status"]} for v, r in self.versions.items()]

    def default_version(self) -> str:
        return str(max(int(v) for v, r in self.versions.items() if r["status"] == "READY"))

    def get_endpoint(self, runtime_id: str, name: str) -> dict[str, Any] | None:
        self.calls += 1
        if name == "DEFAULT":
            return {"name": "DEFAULT", "liveVersion": self.default_version(), "status": "READY"}
        return copy.deepcopy(self.endpoints.get(name))

    def point_endpoint(self, runtime_id: str, name: str, version: str, *, create: bool) -> dict[str, Any]:
        self.calls += 1
        self.log.append(f"endpoint {name} -> {version}")
        self.endpoints[name] = {
            "name": name,
            "status": "READY",
            "liveVersion": version,
            "targetVersion": version,
        }
        return self.endpoints[name]

    def list_endpoints(self, runtime_id: str) -> list[dict[str, Any]]:
        return [
            {"name": "DEFAULT", "liveVersion": self.default_version(), "status": "READY"},
            *self.endpoints.values(),
        ]


@dataclass
class FakeData:
    """DEFAULT serves the latest READY version; ``answers`` maps an image to what its container answers."""

    control: FakeControl
    answers: dict[str, Invocation] = field(default_factory=dict)
    invoked: list[tuple[str, str | None, str]] = field(default_factory=list)
    stopped: list[tuple[str, str | None]] = field(default_factory=list)
    stop_error: Exception | None = None
    calls: int = 0

    def invoke(
        self, runtime_arn: str, payload: bytes, *, qualifier: str | None, session_id: str, accept: str = ""
    ) -> Invocation:
        self.calls += 1
        version = (
            self.control.endpoints[qualifier]["liveVersion"]
            if qualifier and qualifier != "DEFAULT"
            else self.control.default_version()
        )
        image = self.control.versions[version]["agentRuntimeArtifact"]["containerConfiguration"][
            "containerUri"
        ]
        self.invoked.append((image, qualifier, session_id))
        self.control.log.append(f"invoke {image[-6:]}")
        return self.answers.get(
            image, Invocation(400, "application/json", '{"code":"TASK_RECORD_INCOMPLETE"}')
        )

    def stop_session(self, runtime_arn: str, session_id: str, *, qualifier: str | None) -> bool:
        self.calls += 1
        if self.stop_error is not None:
            raise self.stop_error
        known = any(sid == session_id for _, _, sid in self.invoked)
        if known:
            self.stopped.append((session_id, qualifier))
            self.control.log.append("stop session")
        return known
