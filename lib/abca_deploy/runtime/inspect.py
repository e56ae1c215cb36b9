"""``runtime status`` and ``runtime rollback``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from abca_deploy.errors import OperationFailed, UserError
from abca_deploy.runtime import config as cfg
from abca_deploy.runtime.wait import Poller, wait_endpoint_live, wait_idle, wait_version_ready

if TYPE_CHECKING:
    from abca_deploy.aws.agentcore import AgentCoreControl
    from abca_deploy.report import Reporter
    from abca_deploy.runtime.settings import RollbackSettings


def status_document(control: AgentCoreControl, runtime_id: str) -> dict[str, Any]:
    """The runtime's state: version, status, failure reason, image and endpoints."""
    current = control.get_runtime(runtime_id)
    endpoints = sorted(control.list_endpoints(runtime_id), key=lambda e: str(e.get("name", "")))
    return {
        "runtime_id": runtime_id,
        "runtime_arn": current.get("agentRuntimeArn", ""),
        "name": current.get("agentRuntimeName", ""),
        "version": str(current.get("agentRuntimeVersion", "")),
        "status": current.get("status", ""),
        "failure_reason": current.get("failureReason") or None,
        "image": cfg.container_uri(current),
        "last_updated_at": str(current.get("lastUpdatedAt", "")),
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


def rollback_target(
    control: AgentCoreControl,
    runtime_id: str,
    serving_version: str,
    serving_image: str | None,
    wanted: str | None,
) -> dict[str, Any]:
    """The version to go back to: ``wanted``, else the newest READY version with another image."""
    if wanted:
        return control.get_runtime(runtime_id, wanted)
    versions = sorted(control.list_versions(runtime_id), key=lambda v: -int(v.get("agentRuntimeVersion", 0)))
    for version in versions:
        number = str(version.get("agentRuntimeVersion", ""))
        if version.get("status") != "READY" or number == serving_version:
            continue
        config = control.get_runtime(runtime_id, number)
        if cfg.container_uri(config) != serving_image:
            return config
    msg = f"Runtime {runtime_id} has no earlier READY version with another image."
    raise UserError(
        msg,
        hint="Name one with --to-version N (see `abca-deploy runtime status`).",
        title="Nothing to roll back to",
    )


def rollback(
    settings: RollbackSettings, reporter: Reporter, control: AgentCoreControl, runtime_id: str
) -> dict[str, Any]:
    """Redeploy an earlier version's full configuration, or move --promote-endpoint back."""
    from abca_deploy.aws.agentcore import Conflict

    poller = Poller(settings.wait_timeout)
    current = wait_idle(control, runtime_id, poller, reporter.info)
    name = settings.promote_endpoint
    if name:
        endpoint = control.get_endpoint(runtime_id, name)
        if endpoint is None:
            msg = f"--promote-endpoint: runtime {runtime_id} has no endpoint {name!r}."
            raise UserError(msg, title="Unknown endpoint")
        live = str(endpoint.get("liveVersion", ""))
        serving = control.get_runtime(runtime_id, live) if live else current
        target = rollback_target(control, runtime_id, live, cfg.container_uri(serving), settings.to_version)
    else:
        serving_version = str(current.get("agentRuntimeVersion", ""))
        target = rollback_target(
            control, runtime_id, serving_version, cfg.container_uri(current), settings.to_version
        )
    to = str(target["agentRuntimeVersion"])
    doc: dict[str, Any] = {
        "runtime_id": runtime_id,
        "rolled_back_to": to,
        "image": cfg.container_uri(target),
        "endpoint": name,
        "dry_run": settings.dry_run,
    }
    if settings.dry_run:
        doc["request"] = (
            {"endpointName": name, "agentRuntimeVersion": to}
            if name
            else {"agentRuntimeId": runtime_id, **cfg.redact(cfg.carry_forward(target))}
        )
        return doc
    if name:
        with reporter.group(f"Move endpoint {name} to version {to}"):
            control.point_endpoint(runtime_id, name, to, create=False)
            wait_endpoint_live(control, runtime_id, name, to, poller, reporter.info)
        doc["runtime_version"] = to
        return doc
    with reporter.group(f"Redeploy version {to}'s configuration"):
        try:
            response = control.update_runtime(runtime_id, cfg.carry_forward(target))
        except Conflict:
            msg = "Another update started while rolling back."
            raise OperationFailed(msg, hint="Retry when it has finished.", title="Conflict") from None
        version = str(response["agentRuntimeVersion"])
        wait_version_ready(control, runtime_id, version, poller, reporter.info)
    doc["runtime_version"] = version
    return doc
