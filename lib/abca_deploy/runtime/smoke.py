"""The smoke test: invoke the new version, check the container's status and body, stop the session.

The expected-status check applies to the container's status, whichever form AgentCore reports it in
(passed through, or wrapped in a 424 ``RuntimeClientError`` "Received error (NNN) from runtime"). A 424
without such a code is the container failing (crash, no healthy ``/ping``): a failure. The session the
test opened is stopped afterwards (StopRuntimeSession), so no microVM idles for the runtime's idle timeout.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from abca_deploy.aws.invocation import Origin
from abca_deploy.errors import AbcaError

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.aws.agentcore import AgentCoreData
    from abca_deploy.aws.invocation import Invocation

# Container statuses worth another attempt: throttling and 5xx (a microVM still starting answers 503).
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
# AgentCore's own answers worth another attempt (botocore has already retried them once or twice).
TRANSIENT_ERRORS = frozenset({"ThrottlingException", "InternalServerException", "RetryableConflictException",
                              "ServiceUnavailableException"})


@dataclass(frozen=True)
class SmokeResult:
    """The outcome: passed, the last status, a short excerpt of the body, why it failed, the session."""

    passed: bool
    status: int
    body_excerpt: str
    reason: str
    attempts: int
    session_stopped: bool = True

    def summary(self) -> str:
        """One line for outputs and the summary."""
        verdict = "passed" if self.passed else "failed"
        return f"{verdict}: HTTP {self.status}" + ("" if self.passed else f" ({self.reason})")


def session_id() -> str:
    """A runtime session id (AgentCore requires at least 33 characters)."""
    return f"abca-deploy-smoke-{uuid.uuid4().hex}"


def judge(result: Invocation, expected: frozenset[int], pattern: str | None) -> str:
    """'' when the invocation passes, else why not."""
    if result.origin is Origin.NONE:
        return f"no answer from AgentCore ({_excerpt(result.body, 200)})"
    if not result.reached_container:
        what = "the container failed" if result.error_code == "RuntimeClientError" else "AgentCore refused"
        return f"{result.status} {result.error_code or 'error'}: {what} ({_excerpt(result.body, 200)})"
    if result.status not in expected:
        return f"status {result.status} is not one of {','.join(map(str, sorted(expected)))}"
    if pattern and not re.search(pattern, result.body):
        dropped = (" (AgentCore reported the container's answer as a 424 RuntimeClientError and does not "
                   "pass its body on)") if result.origin is Origin.WRAPPED else ""
        return f"body does not match /{pattern}/{dropped}"
    return ""


def transient(result: Invocation) -> bool:
    """Whether another attempt may answer differently."""
    if result.origin is Origin.NONE:
        return True
    if result.reached_container:
        return result.status in TRANSIENT_STATUSES
    return result.error_code in TRANSIENT_ERRORS or result.status in TRANSIENT_STATUSES


def describe(result: Invocation) -> str:
    """How the answer arrived, for the log."""
    if result.origin is Origin.WRAPPED:
        return f"the container answered {result.status}; AgentCore reported it as 424 RuntimeClientError"
    if result.origin is Origin.CONTAINER:
        return f"the container answered {result.status}"
    if result.origin is Origin.AGENTCORE:
        return f"AgentCore answered {result.status} {result.error_code}".rstrip()
    return "no answer"


def smoke_test(
    data: AgentCoreData,
    runtime_arn: str,
    payload: object,
    *,
    qualifier: str | None,
    expected: frozenset[int],
    pattern: str | None,
    attempts: int = 4,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> SmokeResult:
    """Invoke once per attempt (retrying only transient answers), then stop the session (best effort)."""
    body = json.dumps(payload).encode()
    sid = session_id()
    try:
        for attempt in range(1, attempts + 1):
            result = data.invoke(runtime_arn, body, qualifier=qualifier, session_id=sid)
            reason = judge(result, expected, pattern)
            if log is not None:
                log(f"attempt {attempt}: {describe(result)}")
            settled = result.reached_container and result.status in expected  # e.g. a body mismatch
            if not reason or settled or not transient(result) or attempt == attempts:
                break
            sleep(min(2.0**attempt, 10.0))
    finally:
        stopped = stop_session(data, runtime_arn, sid, qualifier=qualifier, log=log, warn=warn)
    return SmokeResult(not reason, result.status, _excerpt(result.body), reason, attempt, stopped)


def stop_session(data: AgentCoreData, runtime_arn: str, sid: str, *, qualifier: str | None,
                 log: Callable[[str], None] | None, warn: Callable[[str], None] | None) -> bool:
    """StopRuntimeSession for the smoke test's session; never raises. False when it may still run."""
    try:
        stopped = data.stop_session(runtime_arn, sid, qualifier=qualifier)
    except AbcaError as exc:
        if warn is not None:
            warn(f"Could not stop the smoke-test session {sid}: {exc.one_line()} AgentCore ends it after the "
                 "runtime's idle timeout (lifecycleConfiguration.idleRuntimeSessionTimeout); until then its "
                 "microVM stays allocated.")
        return False
    if log is not None:
        log(f"smoke-test session {sid} " + ("stopped" if stopped else "had already ended"))
    return True


def _excerpt(body: str, limit: int = 300) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
