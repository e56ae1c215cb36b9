"""Routing from the botocore models: each implemented operation's HTTP method and URI template.

The control plane (``bedrock-agentcore-control``) and the data plane (``bedrock-agentcore``) may share one
server: their URIs do not overlap (only the data plane's end in ``/invocations`` or ``/stopruntimesession``).
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from functools import cache
from typing import Any

from abca_deploy.sandbox.emulator.errors import UNKNOWN_OPERATION, ApiError, cannot_parse, validation

CONTROL = "bedrock-agentcore-control"
DATA = "bedrock-agentcore"

OPERATIONS = {
    CONTROL: (
        "CreateAgentRuntime", "GetAgentRuntime", "UpdateAgentRuntime", "ListAgentRuntimes",
        "DeleteAgentRuntime", "ListAgentRuntimeVersions", "CreateAgentRuntimeEndpoint",
        "GetAgentRuntimeEndpoint", "UpdateAgentRuntimeEndpoint", "ListAgentRuntimeEndpoints",
        "DeleteAgentRuntimeEndpoint",
    ),
    DATA: ("InvokeAgentRuntime", "StopRuntimeSession"),
}


@dataclass(frozen=True)
class Route:
    """One operation: its model, method and URI template split into segments."""

    service: str
    name: str
    method: str
    segments: tuple[str, ...]
    model: Any

    def match(self, method: str, raw_segments: list[str]) -> dict[str, str] | None:
        """The URI labels (percent-decoded) when method and path match, else None."""
        if method != self.method or len(raw_segments) != len(self.segments):
            return None
        labels: dict[str, str] = {}
        for template, raw in zip(self.segments, raw_segments, strict=True):
            if template.startswith("{") and template.endswith("}"):
                if not raw:
                    return None
                labels[template[1:-1].rstrip("+")] = urllib.parse.unquote(raw)
            elif template != raw:
                return None
        return labels


@cache
def service_model(service: str) -> Any:
    """The botocore service model installed with boto3."""
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


@cache
def routes() -> tuple[Route, ...]:
    """Every implemented operation as a Route."""
    found = []
    for service, names in OPERATIONS.items():
        for name in names:
            model = service_model(service).operation_model(name)
            path = model.http["requestUri"].split("?", 1)[0]
            found.append(Route(service, name, model.http["method"], tuple(path.split("/")), model))
    return tuple(found)


def find(method: str, raw_path: str) -> tuple[Route, dict[str, str]]:
    """The route for a request path (raw, still percent-encoded), or UnknownOperationException."""
    path = raw_path.split("?", 1)[0]
    for candidate in (path, f"{path}/"):  # AWS's URIs end in "/"; curl users often leave it out
        for route in routes():
            labels = route.match(method, candidate.split("/"))
            if labels is not None:
                return route, labels
    msg = f"The AgentCore emulator does not implement {method} {raw_path.split('?', 1)[0]}."
    raise ApiError(UNKNOWN_OPERATION, msg)


def parse_input(route: Route, labels: dict[str, str], query: str, headers: Any,
                body: bytes) -> dict[str, Any]:
    """The operation's input members from URI labels, query string, headers and JSON body."""
    shape = route.model.input_shape
    params: dict[str, Any] = {}
    query_values = urllib.parse.parse_qs(query, keep_blank_values=True)
    payload_member = shape.serialization.get("payload")
    for name, member in shape.members.items():
        where = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if where == "uri" and wire in labels:
            params[name] = labels[wire]
        elif where == "querystring" and wire in query_values:
            params[name] = _scalar(member, query_values[wire][-1], name)
        elif where == "header" and headers.get(wire) is not None:
            params[name] = headers.get(wire)
    if payload_member:
        params[payload_member] = body
    elif body.strip():
        params.update(_json_members(shape, body))
    return params


def _scalar(member: Any, text: str, name: str) -> Any:
    if member.type_name in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            msg = f"1 validation error detected: Value '{text}' at '{name}' failed to satisfy constraint: " \
                  "Member must be an integer"
            raise validation(msg, [(name, "Member must be an integer")]) from None
    return text


def _json_members(shape: Any, body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        msg = "The request body is not valid JSON."
        raise cannot_parse(msg) from None
    if not isinstance(document, dict):
        msg = "The request body must be a JSON object."
        raise cannot_parse(msg)
    located = {n for n, m in shape.members.items() if m.serialization.get("location")}
    return {k: v for k, v in document.items() if k in shape.members and k not in located}
