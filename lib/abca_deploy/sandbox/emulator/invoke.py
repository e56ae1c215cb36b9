"""The data plane: InvokeAgentRuntime proxied to ``POST /invocations`` of the serving version's container.

Like AWS: the payload bytes, Content-Type, Accept, the session header (echoed back) and trace/MCP/custom
headers reach the container; its status, body (streamed) and Content-Type come back. A container that is
down, unreachable or answers 5xx gives 424 RuntimeClientError.
"""

from __future__ import annotations

import http.client
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from abca_deploy.sandbox.emulator.errors import not_found, runtime_client_error, validation
from abca_deploy.sandbox.emulator.runner import ContainerDown, StartFailed
from abca_deploy.sandbox.emulator.state import DEFAULT

if TYPE_CHECKING:
    from collections.abc import Iterator

    from abca_deploy.sandbox.emulator.control import Store
    from abca_deploy.sandbox.emulator.endpoints import EndpointOps

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


@dataclass
class Proxied:
    """The container's answer: status, headers for the client, and the body as chunks."""

    status: int
    headers: dict[str, str]
    chunks: Iterator[bytes]
    length: int | None


class Invoker:
    """Resolves runtime + qualifier to a container and forwards the invocation."""

    def __init__(self, store: Store, endpoints: EndpointOps) -> None:
        self.store, self.endpoints = store, endpoints

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
        """Forward the invocation to the container serving the endpoint named by ``qualifier``."""
        key, spec = self.endpoints.serving(self.runtime_id(params), params.get("qualifier") or DEFAULT)
        runner = self.store.runner
        try:
            target = runner.ensure(key, spec, revive=False)
        except (StartFailed, ContainerDown) as exc:
            raise runtime_client_error(exc.reason) from None
        session = params.get("runtimeSessionId") or str(uuid.uuid4())
        forward = {name: headers[name] for name in _FORWARD if headers.get(name) is not None}
        forward.update({k: v for k, v in headers.items() if k.lower().startswith(_CUSTOM_PREFIX)})
        forward[SESSION_HEADER] = session
        connection = http.client.HTTPConnection("127.0.0.1", target.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request("POST", target.path, body=params["payload"], headers=forward)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            msg = f"The agent's container did not answer ({exc}). {runner.failure(key)}"
            raise runtime_client_error(msg) from None
        if response.status >= 500:
            detail = response.read(2000).decode(errors="replace").strip()
            connection.close()
            msg = (f"Received error ({response.status}) from runtime. Check the container's logs "
                   f"(docker logs {target.name}).{f' Body: {detail}' if detail else ''}")
            raise runtime_client_error(msg)
        content_type = response.getheader("Content-Type") or "application/json"
        back = {SESSION_HEADER: session, "Content-Type": content_type}
        back.update({name: value for name in _RETURN if (value := response.getheader(name)) is not None})
        if trace := headers.get("X-Amzn-Trace-Id"):
            back["X-Amzn-Trace-Id"] = trace
        length = response.getheader("Content-Length")
        return Proxied(response.status, back, _chunks(response, connection), int(length) if length else None)


def _chunks(response: http.client.HTTPResponse, connection: http.client.HTTPConnection) -> Iterator[bytes]:
    """The body as it arrives (SSE events are passed on without waiting for the end)."""
    try:
        while chunk := response.read1(65536):
            yield chunk
    finally:
        connection.close()

