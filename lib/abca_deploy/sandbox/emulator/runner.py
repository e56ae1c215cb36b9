"""What the control and data planes need from a container runner, and how a version's config maps to one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from abca_deploy.sandbox.emulator.state import LIFECYCLE_DEFAULTS

# (agentRuntimeId, agentRuntimeVersion) for the container a version's readiness check leaves warm;
# (agentRuntimeId, agentRuntimeVersion, runtimeSessionId) for a session's own container.
Key = tuple[str, ...]

# AgentCore's container contract per serverProtocol: port and invocation path (protocolConfiguration may
# override both); /ping is served on the same port.
PROTOCOL_DEFAULTS = {"HTTP": (8080, "/invocations"), "AGUI": (8080, "/invocations"), "MCP": (8000, "/mcp"),
                     "A2A": (9000, "/")}


class StartFailed(Exception):
    """The image could not be pulled, or its container did not become healthy: ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ContainerDown(Exception):
    """A version's container stopped or cannot be reached: ``reason`` says what happened."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ContainerSpec:
    """How to run one version: image (as configured), environment, contract port and path, tmpfs mounts."""

    image: str
    environment: dict[str, str] = field(default_factory=dict)
    port: int = 8080
    path: str = "/invocations"
    tmpfs: tuple[str, ...] = ()
    idle_timeout: float = 900.0  # lifecycleConfiguration: a session idle this long ends
    max_lifetime: float = 28800.0  # ... and none lives longer than this


@dataclass(frozen=True)
class Target:
    """A healthy container: where to reach it on 127.0.0.1, and its name (for logs)."""

    port: int
    name: str
    path: str = "/invocations"


class Runner(Protocol):
    """Starts, checks and removes the containers of versions."""

    def prepare(self, key: Key, spec: ContainerSpec) -> None:
        """Pull the image and start a container that answers GET /ping with 200, or raise StartFailed."""

    def ensure(self, key: Key, spec: ContainerSpec, *, revive: bool) -> Target:
        """The running container of ``key``, started when there is none; a dead one raises ContainerDown
        unless ``revive`` (then it is replaced)."""

    def adopt(self, source: Key, target: Key) -> bool:
        """Hand the running container of ``source`` to ``target`` (which has none); False if impossible."""

    def failure(self, key: Key) -> str:
        """Why the container of ``key`` is not serving (state, exit code, last log lines); a stopped one is
        forgotten so that the next call starts a fresh one."""

    def release(self, key: Key) -> None:
        """Remove the container of ``key``, if any."""

    def retain(self, keys: set[Key]) -> None:
        """Remove the containers of every version not in ``keys``."""

    def close(self) -> None:
        """Remove every container this runner started; start no more."""

    def count(self) -> int:
        """How many containers are running."""


def spec_for(config: dict[str, Any]) -> ContainerSpec:
    """The container of a version's configuration; raises StartFailed for what the emulator cannot run."""
    artifact = config.get("agentRuntimeArtifact", {})
    container = artifact.get("containerConfiguration")
    if container is None:
        reason = ("The emulator runs container images only; codeConfiguration (code from S3) is not "
                  "supported locally. Use agentRuntimeArtifact.containerConfiguration.")
        raise StartFailed(reason)
    protocol = config.get("protocolConfiguration", {})
    port, path = PROTOCOL_DEFAULTS.get(protocol.get("serverProtocol", "HTTP"), (8080, "/invocations"))
    mounts = tuple(fs["sessionStorage"]["mountPath"] for fs in config.get("filesystemConfigurations", [])
                   if "sessionStorage" in fs)
    environment = dict(config.get("environmentVariables", {}))
    lifecycle = {**LIFECYCLE_DEFAULTS, **config.get("lifecycleConfiguration", {})}
    return ContainerSpec(image=container["containerUri"], environment=environment,
                         port=protocol.get("port", port), path=protocol.get("path", path), tmpfs=mounts,
                         idle_timeout=float(lifecycle["idleRuntimeSessionTimeout"]),
                         max_lifetime=float(lifecycle["maxLifetime"]))
