"""``runtime status``: the runtime's versions and endpoints, and whether the live version was tested."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from abca_deploy.runtime import config as cfg
from abca_deploy.runtime.tested import tested_record

if TYPE_CHECKING:
    from abca_deploy.aws.agentcore import AgentCoreControl
    from abca_deploy.runtime.tested import Tested, TestedStore


def live_version(current: dict[str, Any], endpoints: list[dict[str, Any]], versions: dict[str, str],
                 endpoint: str | None = None) -> str:
    """The version users reach: ``endpoint``'s (default DEFAULT's) live version, else the newest READY."""
    name = endpoint or "DEFAULT"
    for found in endpoints:
        if found.get("name") == name and found.get("liveVersion"):
            return str(found["liveVersion"])
    if current.get("status") == "READY":
        return str(current.get("agentRuntimeVersion", ""))
    ready = [int(n) for n, status in versions.items() if status == "READY" and n.isdigit()]
    return str(max(ready)) if ready else ""


def _record(record: Tested | None) -> dict[str, Any] | None:
    return {**asdict(record), "digest": record.digest} if record else None


def status_document(control: AgentCoreControl, records: TestedStore, runtime_id: str,
                    endpoint: str | None = None) -> dict[str, Any]:
    """The runtime's state: version, status, failure reason, image, endpoints, and the live version's test."""
    current = control.get_runtime(runtime_id)
    endpoints = sorted(control.list_endpoints(runtime_id), key=lambda e: str(e.get("name", "")))
    versions = {str(v.get("agentRuntimeVersion")): str(v.get("status"))
                for v in control.list_versions(runtime_id)}
    live = live_version(current, endpoints, versions, endpoint)
    latest = str(current.get("agentRuntimeVersion", ""))
    live_config = current if live in ("", latest) else control.get_runtime(runtime_id, live)
    live_image = cfg.container_uri(live_config)
    history = records.history(runtime_id)
    proof = tested_record(live_image, history)
    return {
        "runtime_id": runtime_id,
        "runtime_arn": current.get("agentRuntimeArn", ""),
        "name": current.get("agentRuntimeName", ""),
        "version": latest,
        "status": current.get("status", ""),
        "failure_reason": current.get("failureReason") or None,
        "image": cfg.container_uri(current),
        "last_updated_at": str(current.get("lastUpdatedAt", "")),
        "live_endpoint": endpoint or "DEFAULT",
        "live_version": live or None,
        "live_image": live_image,
        "tested": (proof is not None) if history else None,
        "tested_record": _record(proof),
        "last_tested": _record(history[0] if history else None),
        "endpoints": [
            {
                "name": e.get("name"),
                "live_version": e.get("liveVersion"),
                "target_version": e.get("targetVersion"),
                "status": e.get("status"),
            }
            for e in endpoints
        ],
    }


def tested_text(doc: dict[str, Any]) -> str:
    """One line: is the live version tested, and by which record."""
    live, proof, last = doc["live_version"], doc["tested_record"], doc["last_tested"]
    if doc["tested"] is None:
        return "unknown: no last-tested record (no abca-deploy publish has run on this runtime)"
    if proof:
        how = ("smoke-tested" if proof["source"] == "smoke-test"
               else "baseline (serving before the first publish)")
        return f"yes: {how} as version {proof['version']} ({proof['digest']}) {proof['at']} by {proof['by']}"
    return (f"NO: no publish smoke-tested version {live}'s image; the last tested is version "
            f"{last['version']} ({last['digest'] or last['image']})")
