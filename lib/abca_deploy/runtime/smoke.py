"""The smoke test: invoke the new version and check the status code and body."""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.aws.agentcore import AgentCoreData, Invocation

TRANSIENT = {0, 429, 500, 502, 503, 504}
RUNTIME_CLIENT_ERROR = 424


@dataclass(frozen=True)
class SmokeResult:
    """The outcome: passed, the last status, a short excerpt of the body, and why it failed."""

    passed: bool
    status: int
    body_excerpt: str
    reason: str
    attempts: int

    def summary(self) -> str:
        """One line for outputs and the summary."""
        verdict = "passed" if self.passed else "failed"
        return f"{verdict}: HTTP {self.status}" + ("" if self.passed else f" ({self.reason})")


def session_id() -> str:
    """A runtime session id (AgentCore requires at least 33 characters)."""
    return f"abca-deploy-smoke-{uuid.uuid4().hex}"


def judge(result: Invocation, expected: frozenset[int], pattern: str | None) -> str:
    """'' when the invocation passes, else why not."""
    if result.status == RUNTIME_CLIENT_ERROR:
        return f"424 RuntimeClientError: the container failed ({_excerpt(result.body, 200)})"
    if result.status not in expected:
        return f"status {result.status} is not one of {','.join(map(str, sorted(expected)))}"
    if pattern and not re.search(pattern, result.body):
        return f"body does not match /{pattern}/"
    return ""


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
) -> SmokeResult:
    """Invoke once per attempt; retry only transient answers (throttling, 5xx, no answer)."""
    body = json.dumps(payload).encode()
    sid = session_id()
    result = None
    for attempt in range(1, attempts + 1):
        result = data.invoke(runtime_arn, body, qualifier=qualifier, session_id=sid)
        reason = judge(result, expected, pattern)
        if not reason:
            return SmokeResult(True, result.status, _excerpt(result.body), "", attempt)
        if result.status not in TRANSIENT or result.status in expected or attempt == attempts:
            return SmokeResult(False, result.status, _excerpt(result.body), reason, attempt)
        sleep(min(2.0**attempt, 10.0))
    assert result is not None
    return SmokeResult(False, result.status, _excerpt(result.body), "no answer", attempts)


def _excerpt(body: str, limit: int = 300) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
