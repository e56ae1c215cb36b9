"""Responses shaped like the botocore model's output shapes (optional members absent when never set)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from abca_deploy.sandbox.emulator.state import LIFECYCLE_DEFAULTS, stamp

if TYPE_CHECKING:
    from abca_deploy.sandbox.emulator.state import Endpoint, Runtime, Version


def _identity(runtime: Runtime) -> dict[str, Any]:
    return {"agentRuntimeArn": runtime.arn, "agentRuntimeId": runtime.id,
            "workloadIdentityDetails": {"workloadIdentityArn": runtime.workload_identity_arn}}


def created(runtime: Runtime) -> dict[str, Any]:
    """CreateAgentRuntime's answer."""
    version = runtime.latest
    return {**_identity(runtime), "agentRuntimeVersion": version.number,
            "createdAt": stamp(runtime.created_at), "status": version.status}


def updated(runtime: Runtime) -> dict[str, Any]:
    """UpdateAgentRuntime's answer: the new version and its status."""
    version = runtime.latest
    return {**_identity(runtime), "agentRuntimeVersion": version.number,
            "createdAt": stamp(runtime.created_at), "lastUpdatedAt": stamp(version.last_updated_at),
            "status": version.status}


def detail(runtime: Runtime, version: Version) -> dict[str, Any]:
    """GetAgentRuntime: the version's configuration exactly as sent, plus its identity and status."""
    out = {**version.config, **_identity(runtime), "agentRuntimeName": runtime.name,
           "agentRuntimeVersion": version.number, "createdAt": stamp(runtime.created_at),
           "lastUpdatedAt": stamp(version.last_updated_at), "status": version.status}
    out.setdefault("lifecycleConfiguration", dict(LIFECYCLE_DEFAULTS))
    if version.failure_reason:
        out["failureReason"] = version.failure_reason
    return out


def summary(runtime: Runtime, version: Version) -> dict[str, Any]:
    """One item of ListAgentRuntimes / ListAgentRuntimeVersions (``description`` is a required member)."""
    return {"agentRuntimeArn": runtime.arn, "agentRuntimeId": runtime.id,
            "agentRuntimeVersion": version.number, "agentRuntimeName": runtime.name,
            "description": version.config.get("description", ""),
            "lastUpdatedAt": stamp(version.last_updated_at), "status": version.status}


def endpoint(runtime: Runtime, ep: Endpoint) -> dict[str, Any]:
    """GetAgentRuntimeEndpoint and the items of ListAgentRuntimeEndpoints."""
    out: dict[str, Any] = {
        "name": ep.name, "id": ep.id, "agentRuntimeEndpointArn": runtime.endpoint_arn(ep.name),
        "agentRuntimeArn": runtime.arn, "status": ep.status, "targetVersion": ep.target_version,
        "createdAt": stamp(ep.created_at), "lastUpdatedAt": stamp(ep.last_updated_at),
    }
    optional = {"liveVersion": ep.live_version, "description": ep.description,
                "failureReason": ep.failure_reason}
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


def endpoint_created(runtime: Runtime, ep: Endpoint) -> dict[str, Any]:
    """CreateAgentRuntimeEndpoint's answer."""
    return {"targetVersion": ep.target_version, "agentRuntimeEndpointArn": runtime.endpoint_arn(ep.name),
            "agentRuntimeArn": runtime.arn, "agentRuntimeId": runtime.id, "endpointName": ep.name,
            "status": ep.status, "createdAt": stamp(ep.created_at)}


def endpoint_updated(runtime: Runtime, ep: Endpoint) -> dict[str, Any]:
    """UpdateAgentRuntimeEndpoint's answer."""
    out = {"targetVersion": ep.target_version, "agentRuntimeEndpointArn": runtime.endpoint_arn(ep.name),
           "agentRuntimeArn": runtime.arn, "status": ep.status, "createdAt": stamp(ep.created_at),
           "lastUpdatedAt": stamp(ep.last_updated_at)}
    if ep.live_version:
        out["liveVersion"] = ep.live_version
    return out
