"""The control plane's runtimes and versions: the state machine CREATING/UPDATING -> READY or *_FAILED.

Every Create/Update stores a new immutable version holding exactly the configuration sent, answers at
once, and checks the version in the background (image pulled, container healthy); only then is it READY.
"""

from __future__ import annotations

import base64
import copy
import logging
import threading
from typing import TYPE_CHECKING, Any

from abca_deploy.sandbox.emulator import output
from abca_deploy.sandbox.emulator.errors import conflict, not_found, validation
from abca_deploy.sandbox.emulator.runner import StartFailed, spec_for
from abca_deploy.sandbox.emulator.sessions import Sessions
from abca_deploy.sandbox.emulator.state import IN_PROGRESS, NOT_CONFIG, Runtime, suffix

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.sandbox.emulator.runner import Key, Runner
    from abca_deploy.sandbox.emulator.state import Version

log = logging.getLogger("abca_deploy.sandbox.emulator")
_FAILED_STATUS = {"CREATING": "CREATE_FAILED", "UPDATING": "UPDATE_FAILED"}


class Store:
    """All runtimes behind one lock, the runner of their containers, and the background jobs."""

    def __init__(self, runner: Runner, *, account: str, region: str,
                 spawn: Callable[[Callable[[], None]], None] | None = None) -> None:
        self.runner, self.account, self.region = runner, account, region
        self.sessions = Sessions(runner)
        self.lock = threading.RLock()
        self.runtimes: dict[str, Runtime] = {}
        self._spawn = spawn
        self._threads: list[threading.Thread] = []

    def runtime(self, runtime_id: str) -> Runtime:
        """The runtime with this id (call under the lock), or ResourceNotFoundException."""
        found = self.runtimes.get(runtime_id)
        if found is None:
            msg = f"Runtime {runtime_id} not found."
            raise not_found(msg)
        return found

    def spawn(self, job: Callable[[], None]) -> None:
        """Run ``job`` in the background (or through the injected spawner, e.g. synchronously in tests)."""
        if self._spawn is not None:
            self._spawn(job)
            return
        thread = threading.Thread(target=_logged(job), daemon=True, name="emulator-job")
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def reconcile(self) -> None:
        """End the sessions of versions no endpoint serves; remove every container nothing needs any more."""
        with self.lock:
            served: set[Key] = {(rid, number) for rid, rt in self.runtimes.items() for number in rt.served()}
        self.sessions.retain(served)

    def close(self, timeout: float = 15.0) -> None:
        """Stop the runner (removing its containers) and wait briefly for background jobs."""
        self.sessions.close()
        self.runner.close()
        for thread in self._threads:
            thread.join(timeout)


def _logged(job: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("background job failed")
    return run


def page(items: list[dict[str, Any]], params: dict[str, Any], key: str) -> dict[str, Any]:
    """One page of a list answer, with ``nextToken`` when more remain."""
    start = 0
    if token := params.get("nextToken"):
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except ValueError:
            msg = f"The nextToken '{token}' is not valid: pass the nextToken of the previous answer."
            raise validation(msg, [("nextToken", "invalid token")]) from None
    end = start + int(params.get("maxResults") or 100)
    out: dict[str, Any] = {key: items[start:end]}
    if end < len(items):
        out["nextToken"] = base64.urlsafe_b64encode(str(end).encode()).decode()
    return out


def _config(params: dict[str, Any]) -> dict[str, Any]:
    """The version's configuration: the request's members minus request plumbing, deep-copied."""
    config = {k: copy.deepcopy(v) for k, v in params.items() if k not in NOT_CONFIG}
    network = config.get("networkConfiguration", {})
    if network.get("networkMode") == "VPC" and "networkModeConfig" not in network:
        msg = ("networkConfiguration.networkModeConfig (subnets and securityGroups) is required when "
               "networkMode is VPC.")
        raise validation(msg, [("networkConfiguration.networkModeConfig", "required for VPC")])
    return config


class RuntimeOps:
    """Create/Get/Update/List/Delete AgentRuntime and ListAgentRuntimeVersions."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, params: dict[str, Any]) -> dict[str, Any]:
        """CreateAgentRuntime: version 1, CREATING until its container is healthy."""
        name, config = params["agentRuntimeName"], _config(params)
        store = self.store
        with store.lock:
            if any(rt.name == name for rt in store.runtimes.values()):
                msg = f"An agent runtime named {name} already exists."
                raise conflict(msg)
            runtime_id = f"{name}-{suffix()}"
            prefix = f"arn:aws:bedrock-agentcore:{store.region}:{store.account}"
            runtime = Runtime(name, runtime_id, f"{prefix}:runtime/{runtime_id}",
                              f"{prefix}:workload-identity-directory/default/workload-identity/{runtime_id}")
            version = runtime.add_version(config, "CREATING")
            store.runtimes[runtime_id] = runtime
            answer = output.created(runtime)
        log.info("runtime %s: version %s CREATING (%s)", runtime_id, version.number, _image(config))
        store.spawn(lambda: self._check(runtime_id, version.number))
        return answer

    def update(self, params: dict[str, Any]) -> dict[str, Any]:
        """UpdateAgentRuntime: a new version with exactly this configuration, UPDATING until healthy."""
        config, store = _config(params), self.store
        with store.lock:
            runtime = store.runtime(params["agentRuntimeId"])
            if (status := runtime.latest.status) in IN_PROGRESS:
                msg = (f"Runtime {runtime.id} is {status} (version {runtime.latest.number}); wait until it "
                       "is READY or failed before updating it.")
                raise conflict(msg)
            version = runtime.add_version(config, "UPDATING")
            answer = output.updated(runtime)
        log.info("runtime %s: version %s UPDATING (%s)", runtime.id, version.number, _image(config))
        store.spawn(lambda: self._check(runtime.id, version.number))
        return answer

    def get(self, params: dict[str, Any]) -> dict[str, Any]:
        """GetAgentRuntime: the latest version, or the one named by ``agentRuntimeVersion``."""
        with self.store.lock:
            runtime = self.store.runtime(params["agentRuntimeId"])
            return output.detail(runtime, self._version(runtime, params.get("agentRuntimeVersion")))

    def list(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListAgentRuntimes: one summary per runtime (its latest version)."""
        with self.store.lock:
            items = [output.summary(rt, rt.latest) for rt in self.store.runtimes.values()]
        return page(items, params, "agentRuntimes")

    def list_versions(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListAgentRuntimeVersions: one summary per version, oldest first."""
        with self.store.lock:
            runtime = self.store.runtime(params["agentRuntimeId"])
            items = [output.summary(runtime, runtime.versions[n]) for n in sorted(runtime.versions, key=int)]
        return page(items, params, "agentRuntimes")

    def delete(self, params: dict[str, Any]) -> dict[str, Any]:
        """DeleteAgentRuntime: the whole runtime, or only ``agentRuntimeVersion``."""
        store, number = self.store, params.get("agentRuntimeVersion")
        with store.lock:
            runtime = store.runtime(params["agentRuntimeId"])
            if number is None:
                del store.runtimes[runtime.id]
            else:
                self._delete_version(runtime, number)
        log.info("runtime %s: deleted %s", runtime.id, f"version {number}" if number else "with all versions")
        store.spawn(store.reconcile)
        answer = {"status": "DELETING", "agentRuntimeId": runtime.id}
        return answer | ({"agentRuntimeVersion": number} if number else {})

    def _delete_version(self, runtime: Runtime, number: str) -> None:
        version = self._version(runtime, number)
        users = [ep.name for ep in [runtime.default_endpoint(), *runtime.endpoints.values()]
                 if number in (ep.live_version, ep.target_version)]
        only = len(runtime.versions) == 1
        if version.status in IN_PROGRESS or users or only:
            why = (f"endpoint(s) {', '.join(users)} serve it" if users else
                   "it is the runtime's only version" if only else f"it is {version.status}")
            msg = f"Version {number} of runtime {runtime.id} cannot be deleted: {why}."
            raise conflict(msg)
        del runtime.versions[number]

    @staticmethod
    def _version(runtime: Runtime, number: str | None) -> Version:
        if number is None:
            return runtime.latest
        if number not in runtime.versions:
            msg = f"Version {number} of runtime {runtime.id} not found."
            raise not_found(msg)
        return runtime.versions[number]

    def _check(self, runtime_id: str, number: str) -> None:
        """Background: pull the image and start a healthy container, then settle the version's status."""
        store = self.store
        with store.lock:
            runtime = store.runtimes.get(runtime_id)
            version = runtime.versions.get(number) if runtime else None
            if version is None:
                return
            config, failed = version.config, _FAILED_STATUS[version.status]
        try:
            store.runner.prepare((runtime_id, number), spec_for(config))
            status, reason = "READY", None
        except StartFailed as exc:
            status, reason = failed, exc.reason
        except Exception as exc:  # a bug must not leave the version in progress for ever
            log.exception("checking runtime %s version %s failed", runtime_id, number)
            status, reason = failed, f"The emulator failed checking this version: {exc!r} (see its log)."
        with store.lock:
            runtime = store.runtimes.get(runtime_id)
            if runtime is not None and number in runtime.versions:
                runtime.versions[number].settle(status, reason)
        log.info("runtime %s: version %s %s%s", runtime_id, number, status, f": {reason}" if reason else "")
        store.reconcile()


def _image(config: dict[str, Any]) -> str:
    container = config.get("agentRuntimeArtifact", {}).get("containerConfiguration", {})
    return str(container.get("containerUri", "no container image"))
