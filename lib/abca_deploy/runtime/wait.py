"""Polling until a runtime version (or an endpoint) is READY: capped backoff with jitter, version-aware."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from abca_deploy.errors import OperationFailed

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.aws.agentcore import AgentCoreControl

IN_PROGRESS = {"CREATING", "UPDATING"}
FAILED = {"CREATE_FAILED", "UPDATE_FAILED", "DELETING", "DELETE_FAILED"}


class VersionFailed(OperationFailed):
    """The version reached a *_FAILED status; ``reason`` is AgentCore's failureReason."""

    def __init__(self, version: str, status: str, reason: str) -> None:
        super().__init__(
            f"Version {version} is {status}: {reason or 'no failureReason given'}", title=f"Runtime {status}"
        )
        self.version, self.status, self.reason = version, status, reason


class WaitTimedOut(OperationFailed):
    """The deadline passed before READY was seen."""


class Superseded(OperationFailed):
    """Another writer created a newer version while ours was in flight: ``version`` is theirs."""

    def __init__(self, mine: str, theirs: str) -> None:
        super().__init__(
            f"Another writer replaced version {mine} with version {theirs}; it is not rolled back.",
            hint="Serialize deploys of this runtime (abca-deploy's lease does; a `cdk deploy` or the console "
                 "does not take it).",
            title="Superseded",
        )
        self.mine, self.theirs = mine, theirs


@dataclass
class Poller:
    """Polls from ``first`` seconds, doubling up to ``cap``, with jitter, until a deadline."""

    timeout: float
    first: float = 1.0
    cap: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[float], float] = field(default=lambda d: d * random.uniform(0.8, 1.0))
    deadline: float = 0.0

    def __post_init__(self) -> None:
        self.deadline = self.clock() + self.timeout

    def remaining(self) -> float:
        """Seconds left before the deadline."""
        return self.deadline - self.clock()

    def delays(self) -> Any:
        """Yield before each poll after the first; stops at the deadline."""
        delay = self.first
        while True:
            yield
            left = self.remaining()
            if left <= 0:
                return
            self.sleep(min(self.jitter(delay), left))
            delay = min(delay * 2, self.cap)


def wait_version_ready(
    control: AgentCoreControl, runtime_id: str, version: str, poller: Poller, log: Callable[[str], None]
) -> dict[str, Any]:
    """Poll GetAgentRuntime until ``version`` is READY; raise VersionFailed / WaitTimedOut otherwise."""
    last = ""
    for _ in poller.delays():
        current = control.get_runtime(runtime_id)
        seen_version, status = str(current.get("agentRuntimeVersion", "")), str(current.get("status", ""))
        if f"{seen_version}:{status}" != last:
            log(f"runtime {runtime_id}: version {seen_version} {status}")
            last = f"{seen_version}:{status}"
        if seen_version == version and status == "READY":
            return current
        if seen_version == version and status in FAILED:
            raise VersionFailed(version, status, str(current.get("failureReason", "")))
        if seen_version != version and _newer(seen_version, version):
            raise Superseded(version, seen_version)
    msg = (f"Version {version} was not READY within --wait-timeout {poller.timeout:.0f}s of the update call "
           f"(last seen: {last or 'nothing'}).")
    raise WaitTimedOut(
        msg,
        hint="Raise --wait-timeout, or check the runtime with `abca-deploy runtime status`.",
        title="Timed out waiting for READY",
    )


def wait_idle(
    control: AgentCoreControl, runtime_id: str, poller: Poller, log: Callable[[str], None]
) -> dict[str, Any]:
    """Wait while another update is in flight (CREATING/UPDATING); returns the settled runtime."""
    announced = False
    for _ in poller.delays():
        current = control.get_runtime(runtime_id)
        if current.get("status") not in IN_PROGRESS:
            return current
        if not announced:
            log(
                f"runtime {runtime_id} is {current.get('status')} "
                f"(version {current.get('agentRuntimeVersion')}); waiting for that update to finish"
            )
            announced = True
    msg = f"Runtime {runtime_id} stayed CREATING/UPDATING for {poller.timeout:.0f}s (--wait-timeout)."
    raise WaitTimedOut(
        msg,
        hint="An update is still in flight; raise --wait-timeout or retry later.",
        title="Timed out waiting for another update",
    )


def wait_endpoint_live(
    control: AgentCoreControl,
    runtime_id: str,
    name: str,
    version: str,
    poller: Poller,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Poll the endpoint until READY with liveVersion == version."""
    for _ in poller.delays():
        endpoint = control.get_endpoint(runtime_id, name) or {}
        status, live = endpoint.get("status"), str(endpoint.get("liveVersion", ""))
        if status == "READY" and live == version:
            return endpoint
        if status in FAILED:
            msg = f"Endpoint {name} is {status}: {endpoint.get('failureReason') or 'no failureReason given'}"
            raise OperationFailed(msg, title=f"Endpoint {status}")
        log(f"endpoint {name}: {status}, live {live or '-'}, target {endpoint.get('targetVersion', '-')}")
    msg = f"Endpoint {name} did not serve version {version} within --wait-timeout {poller.timeout:.0f}s."
    raise WaitTimedOut(msg, hint="Raise --wait-timeout.", title="Timed out waiting for the endpoint")


def _newer(seen: str, mine: str) -> bool:
    return seen.isdigit() and mine.isdigit() and int(seen) > int(mine)
