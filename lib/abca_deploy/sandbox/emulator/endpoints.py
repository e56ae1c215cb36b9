"""Runtime endpoints: the derived DEFAULT (latest READY version) and named endpoints pinned to a version.

A named endpoint moves only through UpdateAgentRuntimeEndpoint: UPDATING with ``targetVersion`` set until a
container of that version is healthy, then READY with ``liveVersion == targetVersion``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from abca_deploy.sandbox.emulator import output
from abca_deploy.sandbox.emulator.control import page
from abca_deploy.sandbox.emulator.errors import RETRYABLE_CONFLICT, ApiError, conflict, not_found, validation
from abca_deploy.sandbox.emulator.runner import ContainerDown, StartFailed, spec_for
from abca_deploy.sandbox.emulator.state import DEFAULT, IN_PROGRESS, Endpoint, now, suffix

if TYPE_CHECKING:
    from abca_deploy.sandbox.emulator.control import Store
    from abca_deploy.sandbox.emulator.runner import ContainerSpec, Key
    from abca_deploy.sandbox.emulator.state import Runtime

log = logging.getLogger("abca_deploy.sandbox.emulator")


def _ready_version(runtime: Runtime, number: str | None) -> str:
    """The version an endpoint may serve: the one named (it must be READY) or the latest READY one."""
    if number is None:
        ready = runtime.latest_ready
        if ready is None:
            msg = f"Runtime {runtime.id} has no READY version yet; wait for it or pass agentRuntimeVersion."
            raise conflict(msg)
        return ready.number
    version = runtime.versions.get(number)
    if version is None or version.status != "READY":
        state = "does not exist" if version is None else f"is {version.status}"
        msg = f"Version {number} of runtime {runtime.id} {state}; an endpoint can only serve a READY version."
        raise validation(msg, [("agentRuntimeVersion", msg)])
    return number


def _named(runtime: Runtime, name: str) -> Endpoint:
    endpoint = runtime.endpoints.get(name)
    if endpoint is None:
        msg = f"Endpoint {name} of runtime {runtime.id} not found."
        raise not_found(msg)
    return endpoint


class EndpointOps:
    """Create/Get/Update/List/Delete AgentRuntimeEndpoint, and which container an invocation reaches."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, params: dict[str, Any]) -> dict[str, Any]:
        """CreateAgentRuntimeEndpoint: pinned to the version given, else to the latest READY one."""
        name, store = params["name"], self.store
        with store.lock:
            runtime = store.runtime(params["agentRuntimeId"])
            if name == DEFAULT or name in runtime.endpoints:
                msg = f"Endpoint {name} of runtime {runtime.id} already exists."
                raise conflict(msg)
            target = _ready_version(runtime, params.get("agentRuntimeVersion"))
            endpoint = Endpoint(name, f"{name}-{suffix()}", "CREATING", target,
                                description=params.get("description"))
            runtime.endpoints[name] = endpoint
            answer = output.endpoint_created(runtime, endpoint)
        log.info("runtime %s: endpoint %s CREATING (version %s)", runtime.id, name, target)
        store.spawn(lambda: self._move(runtime.id, name, target))
        return answer

    def update(self, params: dict[str, Any]) -> dict[str, Any]:
        """UpdateAgentRuntimeEndpoint: move to ``agentRuntimeVersion`` and/or change the description."""
        name, store = params["endpointName"], self.store
        with store.lock:
            runtime = store.runtime(params["agentRuntimeId"])
            if name == DEFAULT:
                msg = "The DEFAULT endpoint always serves the latest READY version and cannot be updated."
                raise validation(msg, [("endpointName", msg)])
            endpoint = _named(runtime, name)
            if endpoint.status in IN_PROGRESS:
                msg = f"Endpoint {name} is {endpoint.status}; wait until it is READY or failed."
                raise conflict(msg)
            target = params.get("agentRuntimeVersion")
            if target is not None:
                endpoint.target_version = _ready_version(runtime, target)
                endpoint.status, endpoint.failure_reason = "UPDATING", None
            if "description" in params:
                endpoint.description = params["description"]
            endpoint.last_updated_at = now()
            answer = output.endpoint_updated(runtime, endpoint)
        if target is not None:
            log.info("runtime %s: endpoint %s UPDATING to version %s", runtime.id, name, target)
            store.spawn(lambda: self._move(runtime.id, name, target))
        return answer

    def get(self, params: dict[str, Any]) -> dict[str, Any]:
        """GetAgentRuntimeEndpoint (DEFAULT included)."""
        with self.store.lock:
            runtime = self.store.runtime(params["agentRuntimeId"])
            name = params["endpointName"]
            endpoint = runtime.default_endpoint() if name == DEFAULT else _named(runtime, name)
            return output.endpoint(runtime, endpoint)

    def list(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListAgentRuntimeEndpoints: DEFAULT first, then named endpoints by creation."""
        with self.store.lock:
            runtime = self.store.runtime(params["agentRuntimeId"])
            endpoints = [runtime.default_endpoint(), *runtime.endpoints.values()]
            items = [output.endpoint(runtime, ep) for ep in endpoints]
        return page(items, params, "runtimeEndpoints")

    def delete(self, params: dict[str, Any]) -> dict[str, Any]:
        """DeleteAgentRuntimeEndpoint: named endpoints only."""
        name, store = params["endpointName"], self.store
        with store.lock:
            runtime = store.runtime(params["agentRuntimeId"])
            if name == DEFAULT:
                msg = "The DEFAULT endpoint is managed by the service and cannot be deleted."
                raise conflict(msg)
            del runtime.endpoints[_named(runtime, name).name]
        log.info("runtime %s: endpoint %s deleted", runtime.id, name)
        store.spawn(store.reconcile)
        return {"status": "DELETING", "agentRuntimeId": runtime.id, "endpointName": name}

    def serving(self, runtime_id: str, qualifier: str) -> tuple[Key, ContainerSpec]:
        """The version (and its container spec) that an invocation through ``qualifier`` reaches."""
        with self.store.lock:
            runtime = self.store.runtime(runtime_id)
            if qualifier == DEFAULT:
                endpoint = runtime.default_endpoint()
            else:
                endpoint = _named(runtime, qualifier)
            if endpoint.live_version is None:
                msg = f"Endpoint {qualifier} of runtime {runtime.id} serves no version ({endpoint.status})."
                if endpoint.status in IN_PROGRESS:
                    raise ApiError(RETRYABLE_CONFLICT, msg)
                raise not_found(msg)
            config = runtime.versions[endpoint.live_version].config
            return (runtime.id, endpoint.live_version), spec_for(config)

    def _move(self, runtime_id: str, name: str, target: str) -> None:
        """Background: make sure a container of ``target`` is healthy, then make it the live version."""
        store = self.store
        with store.lock:
            runtime = store.runtimes.get(runtime_id)
            if runtime is None or name not in runtime.endpoints:
                return
            config = runtime.versions[target].config
        reason = None
        try:
            store.runner.ensure((runtime_id, target), spec_for(config), revive=True)
        except (StartFailed, ContainerDown) as exc:
            reason = exc.reason
        except Exception as exc:  # a bug must not leave the endpoint in progress for ever
            log.exception("moving endpoint %s of runtime %s failed", name, runtime_id)
            reason = f"The emulator failed while moving this endpoint: {exc!r} (see its log)."
        with store.lock:
            runtime = store.runtimes.get(runtime_id)
            endpoint = runtime.endpoints.get(name) if runtime else None
            if endpoint is None or endpoint.target_version != target:
                return
            if reason is None:
                endpoint.live_version, endpoint.status = target, "READY"
            else:
                endpoint.status = "CREATE_FAILED" if endpoint.status == "CREATING" else "UPDATE_FAILED"
            endpoint.failure_reason, endpoint.last_updated_at = reason, now()
            status = endpoint.status
        log.info("runtime %s: endpoint %s %s (version %s)%s", runtime_id, name, status, target,
                 f": {reason}" if reason else "")
        store.reconcile()
