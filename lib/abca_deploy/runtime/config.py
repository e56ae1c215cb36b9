"""Pure functions over runtime configurations: carry a version's settings forward, swap the image, diff.

A new AgentCore version holds exactly the configuration sent (replace semantics), so an update must resend
every setting. GetAgentRuntime's output is not a valid UpdateAgentRuntime input: read-only fields must go and
some values are rejected when sent back. This module is the explicit allow-list."""

from __future__ import annotations

import copy
from typing import Any

# UpdateAgentRuntime's input members, minus agentRuntimeId and clientToken (botocore 1.44 model).
UPDATE_FIELDS: tuple[str, ...] = (
    "agentRuntimeArtifact",
    "roleArn",
    "networkConfiguration",
    "description",
    "authorizerConfiguration",
    "requestHeaderConfiguration",
    "protocolConfiguration",
    "lifecycleConfiguration",
    "hooksConfiguration",
    "metadataConfiguration",
    "environmentVariables",
    "filesystemConfigurations",
    "capacityProviderConfiguration",
    "platformVersion",
    "allowedPorts",
    "resourceConfigurations",
)
# Fields GetAgentRuntime returns that UpdateAgentRuntime does not accept.
READ_ONLY_FIELDS: tuple[str, ...] = (
    "agentRuntimeArn",
    "agentRuntimeName",
    "agentRuntimeId",
    "agentRuntimeVersion",
    "createdAt",
    "lastUpdatedAt",
    "status",
    "failureReason",
    "workloadIdentityDetails",
)

REDACTED = "***"


def carry_forward(current: dict[str, Any]) -> dict[str, Any]:
    """The UpdateAgentRuntime request (without agentRuntimeId) that recreates ``current`` exactly."""
    request = {key: copy.deepcopy(current[key]) for key in UPDATE_FIELDS if key in current}
    if not request.get("description"):
        request.pop("description", None)  # min length 1: an empty description is rejected
    for key in (
        "lifecycleConfiguration",
        "requestHeaderConfiguration",
        "metadataConfiguration",
        "hooksConfiguration",
        "authorizerConfiguration",
        "capacityProviderConfiguration",
    ):
        if key in request and request[key] in ({}, None):
            request.pop(key)  # empty structures come back from Get but are not settings
    for key in ("environmentVariables", "filesystemConfigurations", "allowedPorts", "resourceConfigurations"):
        if key in request and request[key] is None:
            request.pop(key)
    network = request.setdefault("networkConfiguration", {"networkMode": "PUBLIC"})
    mode_config = network.get("networkModeConfig")
    if isinstance(mode_config, dict):
        mode_config.pop("requireServiceS3Endpoint", None)  # read-only after rollout: rejected on update
    return request


def container_uri(config: dict[str, Any]) -> str | None:
    """The containerUri of a configuration or request, if it runs a container."""
    artifact = config.get("agentRuntimeArtifact") or {}
    uri = (artifact.get("containerConfiguration") or {}).get("containerUri")
    return str(uri) if uri else None


def with_image(request: dict[str, Any], uri: str) -> dict[str, Any]:
    """A copy of ``request`` whose only change is the container image."""
    updated = copy.deepcopy(request)
    updated["agentRuntimeArtifact"] = {"containerConfiguration": {"containerUri": uri}}
    return updated


def redact(config: dict[str, Any]) -> dict[str, Any]:
    """A copy with environment variable values hidden (they may hold secrets)."""
    shown = copy.deepcopy(config)
    if isinstance(shown.get("environmentVariables"), dict):
        shown["environmentVariables"] = dict.fromkeys(shown["environmentVariables"], REDACTED)
    return shown


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists are indexed."""
    if isinstance(value, dict):
        items: dict[str, Any] = {}
        for key, inner in value.items():
            items.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return items
    if isinstance(value, list):
        items = {}
        for index, inner in enumerate(value):
            items.update(flatten(inner, f"{prefix}[{index}]"))
        return items or {prefix: []}
    return {prefix: value}


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(setting, before, after) for every setting that differs; environment values are redacted."""
    old, new = flatten(redact(carry_forward(before))), flatten(redact(carry_forward(after)))
    rows = [
        (k, _show(old.get(k)), _show(new.get(k))) for k in set(old) | set(new) if old.get(k) != new.get(k)
    ]
    env_before, env_after = _env(before), _env(after)
    rows += [
        (f"environmentVariables.{k}", f"{REDACTED} (value changed)", REDACTED)
        for k in env_before.keys() & env_after.keys()
        if env_before[k] != env_after[k]
    ]
    return sorted(rows)


def _env(config: dict[str, Any]) -> dict[str, str]:
    env = config.get("environmentVariables")
    return env if isinstance(env, dict) else {}


def _show(value: Any) -> str:
    return "(unset)" if value is None else str(value)
