"""The data plane: InvokeAgentRuntime proxied to ``POST /invocations`` of the session's container, and
StopRuntimeSession.

Like AWS: the payload bytes, Content-Type, Accept, the session header (echoed back) and trace/MCP/custom
headers reach the container; its status, body (streamed) and Content-Type come back. A container that is
down or unreachable gives 424 RuntimeClientError. A container's non-2xx answer comes back in the configured
form: ``wrapped`` (the default, what AWS does: 424 RuntimeClientError "Received error (NNN) from runtime",
the body dropped) or ``passthrough`` (its status and body unchanged). docs/emulator.md has the evidence.
"""

from __future__ import annotations

import http.client
import logging
import re
import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from abca_deploy.sandbox.emulator.errors import not_found, runtime_client_error, validation
from abca_deploy.sandbox.emulator.runner import ContainerDown, StartFailed
from abca_deploy.sandbox.emulator.state import DEFAULT

if TYPE_CHECKING:
    from collections.abc import Callable, Generator

    from abca_deploy.sandbox.emulator.control import Store
    from abca_deploy.sandbox.emulator.endpoints import EndpointOps
    from abca_deploy.sandbox.emulator.runner import Target

log = logging.getLogger("abca_deploy.sandbox.emulator")

SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
_FORWARD = ("Content-Type", "Accept", SESSION_HEADER, "X-Amzn-Bedrock-AgentCore-Runtime-User-Id",
            "Mcp-Session-Id", "Mcp-Protocol-Version", "Mcp-Method", "Mcp-Name", "X-Amzn-Trace-Id",
            "traceparent", "tracestate", "baggage")
_CUSTOM_PREFIX = "x-amzn-bedrock-agentcore-runtime-custom-"
_RETURN = ("Mcp-Session-Id", "Mcp-Protocol-Version")
_ARN = re.compile(r"arn:aws(?:-[^:]+)?:bedrock-agentcore:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):"
                  r"runtime/(?P<id>[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10})")
_ID = re.compile(r"[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}")
REQUEST_TIMEOUT = 900.0  # AWS's request timeout: 15 minutes
WRAPPED, PASSTHROUGH = "wrapped", "passthrough"
ERROR_FORMS = (WRAPPED, PASSTHROUGH)  # how a container's non-2xx answer reaches the caller
DEFAULT_ERROR_FORM = WRAPPED
_STOPPED_ANSWERS = 1000  # StopRuntimeSession answers kept for clientToken replays


@dataclass
class Proxied:
    """The container's answer: status, headers for the client, and the body as chunks."""

    status: int
    headers: dict[str, str]
    chunks: Generator[bytes, None, None]
    length: int | None


class _Unreachable(Exception):
    """The container did not answer the forwarded request."""


class Invoker:
    """Resolves runtime + qualifier + session to a container and forwards the invocation; stops sessions."""

    def __init__(self, store: Store, endpoints: EndpointOps, error_form: str = DEFAULT_ERROR_FORM) -> None:
        if error_form not in ERROR_FORMS:
            msg = f"error_form must be one of {', '.join(ERROR_FORMS)}, not {error_form!r}"
            raise ValueError(msg)
        self.store, self.endpoints, self.error_form = store, endpoints, error_form
        self._stopped: dict[tuple[str, ...], dict[str, Any]] = {}
        self._stopped_lock = threading.Lock()

    def runtime_id(self, params: dict[str, Any]) -> str:
        """The runtime id from the full ARN, or from the id plus the ``accountId`` query parameter."""
        given, account = params["agentRuntimeArn"], params.get("accountId")
        if found := _ARN.fullmatch(given):
            if (found["region"], found["account"]) != (self.store.region, self.store.account):
                msg = f"Runtime {given} not found in {self.store.account} / {self.store.region}."
                raise not_found(msg)
            return found["id"]
        if _ID.fullmatch(given) and account:
            if account != self.store.account:
                msg = f"Runtime {given} not found in account {account}."
                raise not_found(msg)
            return str(given)
        msg = "agentRuntimeArn must be a runtime ARN, or a runtime id with the accountId query parameter."
        raise validation(msg, [("agentRuntimeArn", msg)])

    def invoke(self, params: dict[str, Any], headers: Any) -> Proxied:
        """Forward the invocation to the container of its session on the endpoint named by ``qualifier``."""
        runtime_id, qualifier = self.runtime_id(params), params.get("qualifier") or DEFAULT
        version, spec = self.endpoints.serving(runtime_id, qualifier)
        session = params.get("runtimeSessionId") or str(uuid.uuid4())
        ident, sessions = (runtime_id, qualifier, session), self.store.sessions
        try:
            target = sessions.enter(ident, version, spec)
        except (StartFailed, ContainerDown) as exc:
            raise runtime_client_error(exc.reason) from None
        try:
            response, connection = self._forward(target, params, headers, session)
        except _Unreachable as exc:
            why = self.store.runner.failure((*version, session))
            sessions.end(ident, "its container did not answer")
            msg = f"The agent's container did not answer ({exc}). {why}"
            raise runtime_client_error(msg) from None
        except BaseException:
            sessions.leave(ident)
            raise
        content_type = response.getheader("Content-Type") or "application/json"
        back = {SESSION_HEADER: session, "Content-Type": content_type}
        back.update({name: value for name in _RETURN if (value := response.getheader(name)) is not None})
        if trace := headers.get("X-Amzn-Trace-Id"):
            back["X-Amzn-Trace-Id"] = trace
        length = response.getheader("Content-Length")
        chunks = _chunks(response, connection, lambda: sessions.leave(ident))
        return Proxied(response.status, back, chunks, int(length) if length else None)

    def _forward(self, target: Target, params: dict[str, Any], headers: Any,
                 session: str) -> tuple[http.client.HTTPResponse, http.client.HTTPConnection]:
        """POST the payload to the container; its answer, unless it must become a 424 RuntimeClientError."""
        forward = {name: headers[name] for name in _FORWARD if headers.get(name) is not None}
        forward.update({k: v for k, v in headers.items() if k.lower().startswith(_CUSTOM_PREFIX)})
        forward[SESSION_HEADER] = session
        connection = http.client.HTTPConnection("127.0.0.1", target.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request("POST", target.path, body=params["payload"], headers=forward)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise _Unreachable(str(exc)) from None
        if response.status >= 300 and self.error_form == WRAPPED:
            detail = response.read(2000).decode(errors="replace").strip()
            connection.close()
            log.info("container %s answered %s: %s", target.name, response.status, detail or "(no body)")
            msg = (f"Received error ({response.status}) from runtime. Please check your CloudWatch logs for "
                   f"more information. (AgentCore emulator: `docker logs {target.name}`; the container's "
                   "answer is in the emulator's log.)")
            raise runtime_client_error(msg)
        return response, connection

    def stop(self, params: dict[str, Any]) -> dict[str, Any]:
        """StopRuntimeSession: end the session and remove its container; a replayed clientToken gets the
        same answer; a session that is not open is ResourceNotFoundException."""
        runtime_id, qualifier = self.runtime_id(params), params.get("qualifier") or DEFAULT
        session = params["runtimeSessionId"]
        replay = (runtime_id, qualifier, session, params.get("clientToken") or "")
        with self._stopped_lock:
            if replay[-1] and replay in self._stopped:
                return self._stopped[replay]
        with self.store.lock:
            runtime = self.store.runtime(runtime_id)
            if qualifier != DEFAULT and qualifier not in runtime.endpoints:
                msg = f"Endpoint {qualifier} of runtime {runtime_id} not found."
                raise not_found(msg)
        if not self.store.sessions.end((runtime_id, qualifier, session), "stopped (StopRuntimeSession)"):
            msg = (f"Session {session} not found or already terminated (runtime {runtime_id}, endpoint "
                   f"{qualifier}).")
            raise not_found(msg)
        answer = {"runtimeSessionId": session, "statusCode": 200}
        if replay[-1]:
            with self._stopped_lock:
                if len(self._stopped) >= _STOPPED_ANSWERS:
                    self._stopped.pop(next(iter(self._stopped)))
                self._stopped[replay] = answer
        return answer


def _chunks(response: http.client.HTTPResponse, connection: http.client.HTTPConnection,
            done: Callable[[], None]) -> Generator[bytes, None, None]:
    """The body as it arrives (SSE events are passed on without waiting for the end); ``done`` at the end."""
    try:
        while chunk := response.read1(65536):
            yield chunk
    finally:
        connection.close()
        done()
