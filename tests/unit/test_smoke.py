"""The smoke test's reading of InvokeAgentRuntime answers (both error forms) and its session handling."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from abca_deploy.aws.invocation import (
    ErrorAnswer,
    Invocation,
    Origin,
    event_stream_text,
    read_error,
    wrapped_status,
)
from abca_deploy.errors import OperationFailed
from abca_deploy.runtime.smoke import SmokeResult, judge, smoke_test

MODELLED = frozenset({"ValidationException", "AccessDeniedException", "ResourceNotFoundException",
                      "RetryableConflictException", "ThrottlingException", "ServiceQuotaExceededException",
                      "RuntimeClientError", "InternalServerException"})
AWS_400 = "Received error (400) from runtime. Please check your CloudWatch logs for more information."
ACCEPT = frozenset({200, 400})


@pytest.mark.parametrize(("message", "status"), [
    (AWS_400, 400),
    ("Received error (500) from runtime.", 500),
    ("received error(503) from runtime", 503),  # spacing and case vary between SDKs' renderings
    ("MCP error -32010: Received error (403) from runtime. Please check your CloudWatch logs", 403),
    ("Runtime initialization time exceeded. Please make sure that initialization completes in 60s.", None),
    ("Runtime health check failed or timed out.", None),
    ("An error occurred when starting the runtime. Please check your CloudWatch logs", None),
    ("Received error (4000) from runtime", None),
    ("Received error (099) from runtime", None),
    ("Received error (abc) from runtime", None),
    ("", None),
])
def test_wrapped_status_reads_only_a_valid_code(message: str, status: int | None) -> None:
    assert wrapped_status(message) == status


def test_a_wrapped_answer_is_the_containers_status() -> None:
    body = b'{"message": "' + AWS_400.encode() + b'"}'
    got = read_error(ErrorAnswer(424, "RuntimeClientError", AWS_400, body, "application/json", typed=True),
                     MODELLED)
    assert got == Invocation(400, "application/json", AWS_400, Origin.WRAPPED, "RuntimeClientError")
    assert got.reached_container


def test_a_424_without_a_code_is_agentcores_verdict_on_a_failed_container() -> None:
    message = "Runtime health check failed or timed out. Please make sure health check is implemented"
    got = read_error(ErrorAnswer(424, "RuntimeClientError", message, typed=True), MODELLED)
    assert (got.status, got.origin, got.body) == (424, Origin.AGENTCORE, message)
    assert not got.reached_container


def test_a_passed_through_answer_keeps_the_containers_status_and_body() -> None:
    body = b'{"code": "TASK_RECORD_INCOMPLETE", "message": "input is empty"}'
    got = read_error(ErrorAnswer(400, "TASK_RECORD_INCOMPLETE", "input is empty", body, "application/json"),
                     MODELLED)
    assert got == Invocation(400, "application/json", body.decode(), Origin.CONTAINER,
                             "TASK_RECORD_INCOMPLETE")


def test_a_passed_through_event_stream_error_is_read_as_events() -> None:
    body = b'data: {"code": "BAD_EVENT"}\n\ndata: {"done": true}\n\n'
    got = read_error(ErrorAnswer(400, "400", "Bad Request", body, "text/event-stream"), MODELLED)
    assert (got.origin, got.body) == (Origin.CONTAINER, '{"code": "BAD_EVENT"}\n{"done": true}')


@pytest.mark.parametrize(("answer", "code"), [
    (ErrorAnswer(400, "ValidationException", "1 validation error", typed=True), "ValidationException"),
    (ErrorAnswer(429, "ThrottlingException", "Rate exceeded"), "ThrottlingException"),  # modelled, no header
    (ErrorAnswer(403, "Forbidden", "nope", typed=True), "Forbidden"),  # AgentCore's header, unmodelled code
])
def test_agentcores_own_errors_are_not_container_answers(answer: ErrorAnswer, code: str) -> None:
    got = read_error(answer, MODELLED)
    assert (got.origin, got.status, got.error_code) == (Origin.AGENTCORE, answer.status, code)


def test_a_runtime_client_error_that_is_not_agentcores_own_is_still_read_by_its_code() -> None:
    got = read_error(ErrorAnswer(424, "RuntimeClientError", "Received error (502) from runtime"), MODELLED)
    assert (got.origin, got.status) == (Origin.WRAPPED, 502)


def test_event_stream_text_strips_data_prefixes_and_blank_lines() -> None:
    lines = [b"data: one", b"", b"data:two", b"event: x", b"   ", "data: é".encode()]
    assert event_stream_text(lines) == "one\ntwo\nevent: x\né"


@pytest.mark.parametrize(("invocation", "reason"), [
    (Invocation(400, "application/json", AWS_400, Origin.WRAPPED, "RuntimeClientError"), ""),
    (Invocation(400, "application/json", "{}", Origin.CONTAINER, "TASK_RECORD_INCOMPLETE"), ""),
    (Invocation(200, "application/json", "{}"), ""),
    (Invocation(500, "", "Received error (500) from runtime", Origin.WRAPPED, "RuntimeClientError"),
     "status 500 is not one of 200,400"),
    (Invocation(424, "", "Runtime health check failed", Origin.AGENTCORE, "RuntimeClientError"),
     "424 RuntimeClientError: the container failed (Runtime health check failed)"),
    (Invocation(400, "", "1 validation error detected", Origin.AGENTCORE, "ValidationException"),
     "400 ValidationException: AgentCore refused (1 validation error detected)"),
    (Invocation(0, "", "Read timeout", Origin.NONE), "no answer from AgentCore (Read timeout)"),
])
def test_judge_applies_the_expected_status_to_the_containers_status(invocation: Invocation,
                                                                    reason: str) -> None:
    assert judge(invocation, ACCEPT, None) == reason


def test_a_body_pattern_on_a_wrapped_answer_says_the_body_was_dropped() -> None:
    wrapped = Invocation(400, "application/json", AWS_400, Origin.WRAPPED, "RuntimeClientError")
    assert judge(wrapped, ACCEPT, "TASK_RECORD_INCOMPLETE") == (
        "body does not match /TASK_RECORD_INCOMPLETE/ (AgentCore reported the container's answer as a 424 "
        "RuntimeClientError and does not pass its body on)")
    assert judge(wrapped, ACCEPT, r"Received error \(400\)") == ""


@dataclass
class ScriptedData:
    """Answers invocations from a script; records stops; ``stop`` is what StopRuntimeSession does."""

    script: list[Invocation]
    stop: bool | Exception = True
    sessions: list[str] = field(default_factory=list)
    stopped: list[tuple[str, str | None]] = field(default_factory=list)

    def invoke(self, runtime_arn: str, payload: bytes, *, qualifier: str | None, session_id: str,
               accept: str = "") -> Invocation:
        self.sessions.append(session_id)
        return self.script.pop(0)

    def stop_session(self, runtime_arn: str, session_id: str, *, qualifier: str | None) -> bool:
        self.stopped.append((session_id, qualifier))
        if isinstance(self.stop, Exception):
            raise self.stop
        return self.stop


def run(data: ScriptedData, logs: list[str], warnings: list[str], attempts: int = 4) -> SmokeResult:
    return smoke_test(data, "arn", {"input": {}}, qualifier=None, expected=ACCEPT, pattern=None,
                      attempts=attempts, sleep=lambda _: None, log=logs.append, warn=warnings.append)


def test_transient_answers_are_retried_in_one_session_which_is_then_stopped() -> None:
    data = ScriptedData([Invocation(503, "", "Received error (503) from runtime", Origin.WRAPPED,
                                    "RuntimeClientError"),
                         Invocation(429, "", "Rate exceeded", Origin.AGENTCORE, "ThrottlingException"),
                         Invocation(400, "", AWS_400, Origin.WRAPPED, "RuntimeClientError")])
    logs: list[str] = []
    result = run(data, logs, [])
    assert (result.passed, result.status, result.attempts, result.session_stopped) == (True, 400, 3, True)
    assert len(set(data.sessions)) == 1
    assert data.stopped == [(data.sessions[0], None)]
    assert logs[-2] == ("attempt 3: the container answered 400; AgentCore reported it as 424 "
                        "RuntimeClientError")
    assert logs[-1] == f"smoke-test session {data.sessions[0]} stopped"


def test_a_failed_container_fails_at_once_and_the_session_is_still_stopped() -> None:
    data = ScriptedData([Invocation(424, "", "An error occurred when starting the runtime", Origin.AGENTCORE,
                                    "RuntimeClientError")], stop=False)
    logs: list[str] = []
    result = run(data, logs, [])
    assert (result.passed, result.attempts, result.session_stopped) == (False, 1, True)
    assert "the container failed" in result.reason
    assert logs[-1].endswith("had already ended")


def test_agentcores_own_400_never_passes_for_the_containers() -> None:
    data = ScriptedData([Invocation(400, "", "1 validation error detected", Origin.AGENTCORE,
                                    "ValidationException")])
    result = run(data, [], [])
    assert not result.passed
    assert result.reason == "400 ValidationException: AgentCore refused (1 validation error detected)"


def test_a_session_that_cannot_be_stopped_is_a_warning_not_a_failure() -> None:
    denied = OperationFailed("Access denied calling bedrock-agentcore:StopRuntimeSession on arn.",
                             hint="Grant the role `bedrock-agentcore:StopRuntimeSession` on `arn`.")
    data = ScriptedData([Invocation(400, "", "{}", Origin.CONTAINER, "TASK_RECORD_INCOMPLETE")], stop=denied)
    warnings: list[str] = []
    result = run(data, [], warnings)
    assert (result.passed, result.session_stopped) == (True, False)
    [warning] = warnings
    assert warning.startswith(f"Could not stop the smoke-test session {data.sessions[0]}: Access denied "
                              "calling bedrock-agentcore:StopRuntimeSession on arn. Grant the role")
    assert "idleRuntimeSessionTimeout" in warning


def test_retries_end_with_the_last_attempt() -> None:
    fail = Invocation(500, "", "Received error (500) from runtime", Origin.WRAPPED, "RuntimeClientError")
    data = ScriptedData([fail, fail])
    result = run(data, [], [], attempts=2)
    assert (result.passed, result.status, result.attempts) == (False, 500, 2)
    assert len(data.stopped) == 1
