"""``runtime rollback``: redeploy the newest *tested* version's configuration, or move an endpoint back.

With ``--if-untested`` it acts only when the live version is untested (what a cancelled or killed publish can
leave): the deploy-runtime workflow runs it in an ``if: cancelled()`` step. It holds the runtime's lease like
a publish does, and waits while an update is in flight before deciding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from abca_deploy.errors import OperationFailed, UserError
from abca_deploy.runtime import config as cfg
from abca_deploy.runtime.inspect import live_version
from abca_deploy.runtime.tested import lease_path, rollback_choice, tested_record
from abca_deploy.runtime.wait import Poller, wait_endpoint_live, wait_idle, wait_version_ready

if TYPE_CHECKING:
    from abca_deploy.aws.agentcore import AgentCoreControl
    from abca_deploy.lease import Owner, Store
    from abca_deploy.report import Reporter
    from abca_deploy.runtime.settings import RollbackSettings
    from abca_deploy.runtime.tested import TestedStore


@dataclass
class RollbackResult:
    """What ``runtime rollback`` did (or would do)."""

    runtime_id: str
    action: str  # "rolled-back", "planned" or "none"
    reason: str = ""
    rolled_back_to: str = ""
    image: str = ""
    endpoint: str | None = None
    runtime_version: str = ""
    request: dict[str, Any] = field(default_factory=dict)

    def text(self, dry_run: bool) -> str:
        """The human result line."""
        if self.action == "none":
            return f"nothing to do: {self.reason}"
        where = f"endpoint {self.endpoint}" if self.endpoint else "the runtime"
        verb = "would move" if dry_run else "moved"
        done = f" (as version {self.runtime_version})" if self.runtime_version and not self.endpoint else ""
        return f"{where} {verb} back to version {self.rolled_back_to}{done} ({self.image})"


class Rollback:
    """One manual rollback (``run``); the AWS adapters and the lease store are injected."""

    def __init__(self, settings: RollbackSettings, reporter: Reporter, control: AgentCoreControl,
                 records: TestedStore, store: Store, owner: Owner) -> None:
        self.settings, self.reporter, self.control, self.records = settings, reporter, control, records
        self.store, self.owner = store, owner

    def run(self, runtime_id: str) -> RollbackResult:
        """Hold the lease (unless --dry-run), decide, act."""
        from abca_deploy.lease import Lease

        if self.settings.dry_run:
            return self._decide_and_act(runtime_id)
        lease = Lease(self.store, lease_path(runtime_id), self.owner, what=f"runtime {runtime_id}",
                      ttl=self.settings.lease_ttl)
        with self.reporter.group("Lock runtime"):
            lease.acquire(self.settings.lease_timeout, lambda d: self.reporter.notice(
                f"Another run holds runtime {runtime_id}; waiting up to {self.settings.lease_timeout}s.",
                title="Waiting for the lease"))
        try:
            return self._decide_and_act(runtime_id)
        finally:
            if problem := lease.release():
                self.reporter.warning(problem, title="Lease not released")

    def _decide_and_act(self, runtime_id: str) -> RollbackResult:
        settings, control = self.settings, self.control
        current = wait_idle(control, runtime_id, Poller(settings.wait_timeout), self.reporter.info)
        versions = {str(v.get("agentRuntimeVersion")): str(v.get("status"))
                    for v in control.list_versions(runtime_id)}
        name = settings.promote_endpoint
        if name and control.get_endpoint(runtime_id, name) is None:
            msg = f"--promote-endpoint: runtime {runtime_id} has no endpoint {name!r}."
            raise UserError(msg, title="Unknown endpoint")
        live = live_version(current, control.list_endpoints(runtime_id), versions, name)
        latest = str(current.get("agentRuntimeVersion", ""))
        serving = control.get_runtime(runtime_id, live) if live and live != latest else current
        live_image = cfg.container_uri(serving)
        history = self.records.history(runtime_id)
        if settings.if_untested:
            if not history:
                why = "no last-tested record (no abca-deploy publish has run on this runtime)"
                return RollbackResult(runtime_id, "none", why, endpoint=name)
            if (proof := tested_record(live_image, history)) is not None:
                why = f"live version {live} is tested ({proof.describe()})"
                return RollbackResult(runtime_id, "none", why, endpoint=name)
            self.reporter.warning(f"Live version {live} ({live_image}) is untested: rolling back.",
                                  title="Untested version live")
        target = self._target(runtime_id, versions, history, live_image)
        to = str(target["agentRuntimeVersion"])
        result = RollbackResult(runtime_id, "planned", rolled_back_to=to,
                                image=cfg.container_uri(target) or "", endpoint=name)
        if settings.dry_run:
            result.request = ({"endpointName": name, "agentRuntimeVersion": to} if name
                              else {"agentRuntimeId": runtime_id, **cfg.redact(cfg.carry_forward(target))})
            return result
        result.action = "rolled-back"
        result.runtime_version = self._apply(runtime_id, target, name)
        return result

    def _target(self, runtime_id: str, versions: dict[str, str], history: list[Any],
                live_image: str | None) -> dict[str, Any]:
        if self.settings.to_version:
            target = self.control.get_runtime(runtime_id, self.settings.to_version)
            if tested_record(cfg.container_uri(target), history) is None:
                self.reporter.warning(f"Version {self.settings.to_version} was never smoke-tested by a "
                                      "publish.", title="Untested target")
            return target
        choice = rollback_choice(history, versions, live_image)
        if choice is None:
            msg = f"Runtime {runtime_id} has no tested version with another image to roll back to."
            raise UserError(msg, hint="Name one with --to-version N (see `abca-deploy runtime status`).",
                            title="Nothing to roll back to")
        return self.control.get_runtime(runtime_id, choice.version)

    def _apply(self, runtime_id: str, target: dict[str, Any], name: str | None) -> str:
        from abca_deploy.aws.agentcore import Conflict

        control, to = self.control, str(target["agentRuntimeVersion"])
        poller = Poller(self.settings.wait_timeout)
        if name:
            with self.reporter.group(f"Move endpoint {name} to version {to}"):
                control.point_endpoint(runtime_id, name, to, create=False)
                wait_endpoint_live(control, runtime_id, name, to, poller, self.reporter.info)
            return to
        with self.reporter.group(f"Redeploy version {to}'s configuration"):
            try:
                response = control.update_runtime(runtime_id, cfg.carry_forward(target))
            except Conflict:
                msg = "Another update started while rolling back."
                raise OperationFailed(msg, hint="Retry when it has finished.", title="Conflict") from None
            version = str(response["agentRuntimeVersion"])
            wait_version_ready(control, runtime_id, version, poller, self.reporter.info)
        return version
