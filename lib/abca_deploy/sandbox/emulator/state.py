"""The emulator's resources: runtimes, their immutable versions, and their endpoints."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

IN_PROGRESS = ("CREATING", "UPDATING")
FAILED = ("CREATE_FAILED", "UPDATE_FAILED")
DEFAULT = "DEFAULT"
# lifecycleConfiguration is a required output member: AWS answers its defaults when none was sent.
LIFECYCLE_DEFAULTS = {"idleRuntimeSessionTimeout": 900, "maxLifetime": 28800}
# Members of Create/UpdateAgentRuntime that are request plumbing, not part of a version's configuration.
NOT_CONFIG = ("agentRuntimeId", "agentRuntimeName", "clientToken", "tags")


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def suffix() -> str:
    """The 10 random alphanumeric characters AWS appends to runtime and endpoint ids."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(10))


def stamp(moment: datetime) -> float:
    """A timestamp as REST-JSON sends it by default (epoch seconds)."""
    return moment.timestamp()


@dataclass
class Version:
    """One immutable version: exactly the configuration sent, and its own status."""

    number: str
    config: dict[str, Any]
    status: str
    created_at: datetime = field(default_factory=now)
    last_updated_at: datetime = field(default_factory=now)
    failure_reason: str | None = None

    def settle(self, status: str, reason: str | None) -> None:
        """Record the outcome of the readiness check."""
        self.status = status
        self.failure_reason = reason
        self.last_updated_at = now()


@dataclass
class Endpoint:
    """A named endpoint: the version it serves (live) and the one it is moving to (target)."""

    name: str
    id: str
    status: str
    target_version: str
    live_version: str | None = None
    description: str | None = None
    failure_reason: str | None = None
    created_at: datetime = field(default_factory=now)
    last_updated_at: datetime = field(default_factory=now)


@dataclass
class Runtime:
    """A runtime: a stable id and ARN, its versions, and its named endpoints."""

    name: str
    id: str
    arn: str
    workload_identity_arn: str
    created_at: datetime = field(default_factory=now)
    versions: dict[str, Version] = field(default_factory=dict)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    next_version: int = 1
    default_id: str = field(default_factory=lambda: f"{DEFAULT}-{suffix()}")

    def add_version(self, config: dict[str, Any], status: str) -> Version:
        """Append a new immutable version ("1", "2", ...)."""
        version = Version(str(self.next_version), config, status)
        self.versions[version.number] = version
        self.next_version += 1
        return version

    @property
    def latest(self) -> Version:
        """The newest version (whatever its status)."""
        return self.versions[max(self.versions, key=int)]

    @property
    def latest_ready(self) -> Version | None:
        """The newest READY version: the one DEFAULT serves."""
        ready = [v for v in self.versions.values() if v.status == "READY"]
        return max(ready, key=lambda v: int(v.number)) if ready else None

    def endpoint_arn(self, name: str) -> str:
        """The ARN of one of this runtime's endpoints."""
        return f"{self.arn}/runtime-endpoint/{name}"

    def served(self) -> set[str]:
        """Versions that need a container: in progress, DEFAULT's, and named endpoints' live and target."""
        keep = {v.number for v in self.versions.values() if v.status in IN_PROGRESS}
        if (ready := self.latest_ready) is not None:
            keep.add(ready.number)
        for endpoint in self.endpoints.values():
            keep.update(v for v in (endpoint.live_version, endpoint.target_version) if v)
        return keep

    def default_endpoint(self) -> Endpoint:
        """DEFAULT, derived: it always serves the latest READY version and moves to each new one."""
        latest, ready = self.latest, self.latest_ready
        live = ready.number if ready else None
        if latest.status in IN_PROGRESS:
            status, target = ("UPDATING" if live else "CREATING"), latest.number
        elif live is None:
            status, target = "CREATE_FAILED", latest.number
        else:
            status, target = "READY", live
        reason = latest.failure_reason if status == "CREATE_FAILED" else None
        return Endpoint(DEFAULT, self.default_id, status, target, live, None, reason,
                        self.created_at, latest.last_updated_at)
