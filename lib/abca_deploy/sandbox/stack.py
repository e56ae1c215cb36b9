"""The sandbox's services (moto, the OCI registry, the AgentCore emulator): start what is missing, report,
and stop exactly what was started. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from abca_deploy.errors import OperationFailed
from abca_deploy.sandbox import process, registry
from abca_deploy.sandbox.state import ServiceRecord, State, instance_name, load, save

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

HOST = "127.0.0.1"
ACCOUNT = "123456789012"
REGION = "us-east-1"
MOTO, REGISTRY, EMULATOR, API = "moto", "registry", "emulator", "api"
SERVICES = (MOTO, REGISTRY, EMULATOR, API)
LABEL = registry.CONTAINER_LABEL
START_TIMEOUT = 60.0
# What `down` may delete inside the state dir: only what `up` writes there.
_OWN_FILES = ("state.json", "state.tmp", "registry.yml", "moto.log", "registry.log", "emulator.log",
              "api.log")
_OWN_DIRS = ("data",)


@dataclass(frozen=True)
class Ports:
    """The configured port of each service."""

    moto: int
    registry: int
    emulator: int
    api: int

    def of(self, name: str) -> int:
        """The port configured for service ``name``."""
        port: int = getattr(self, name)
        return port


@dataclass(frozen=True)
class ServiceStatus:
    """What ``status`` shows for one service."""

    name: str
    up: bool
    address: str
    pid: int | None = None
    container_id: str | None = None
    log: str | None = None

    @property
    def process(self) -> str:
        """``pid N``, ``container ID`` or ``-``."""
        if self.container_id:
            return f"container {self.container_id[:12]}"
        return f"pid {self.pid}" if self.pid else "-"


def address(name: str, port: int) -> str:
    """How clients reach a service: a URL for moto and the emulator, ``host:port`` for the registry."""
    return f"{HOST}:{port}" if name == REGISTRY else f"http://{HOST}:{port}"


def health_url(name: str, port: int) -> str:
    """The URL that answers 200 when the service is ready."""
    path = {MOTO: "/moto-api/data.json", REGISTRY: "/v2/", EMULATOR: "/_emulator/health",
            API: "/_sandbox/health"}[name]
    return f"http://{HOST}:{port}{path}"


class Sandbox:
    """The services of one state dir. ``engine`` is a docker SDK client (None when unreachable)."""

    def __init__(self, state_dir: Path, ports: Ports, engine: Any = None) -> None:
        self.state_dir = state_dir
        self.ports = ports
        self.engine = engine
        self.instance = instance_name(state_dir)
        self.container_errors = "wrapped"  # the emulator's --container-errors when `up` starts it

    def marker(self, name: str, port: int) -> str:
        """A string only this sandbox's process for ``name`` has in its command line (pid-reuse guard)."""
        if name == MOTO:
            return f"moto.server -H {HOST} -p {port}"
        if name == REGISTRY:
            return str(self.state_dir / "registry.yml")
        if name == API:
            return f"abca_deploy.sandbox.gateway --host {HOST} --port {port}"
        return f"abca_deploy.sandbox.emulator --host {HOST} --port {port}"

    # -- status ---------------------------------------------------------------------------------------
    def status(self, state: State | None) -> list[ServiceStatus]:
        """Each service's status: recorded ones are checked by pid/container and health URL."""
        result = []
        for name in SERVICES:
            record = state.services.get(name) if state else None
            if record is None:
                result.append(ServiceStatus(name, False, address(name, self.ports.of(name))))
                continue
            result.append(ServiceStatus(name, self._running(name, record), address(name, record.port),
                                        record.pid, record.container_id, record.log))
        return result

    def _running(self, name: str, record: ServiceRecord) -> bool:
        if record.container_id:
            alive = self._container_running(record.container_id)
        else:
            alive = process.is_running(record.pid, self.marker(name, record.port))
        return alive and process.http_ok(health_url(name, record.port), timeout=2.0)

    def _container_running(self, container_id: str) -> bool:
        if self.engine is None:
            return False
        import docker.errors

        try:
            return bool(self.engine.containers.get(container_id).status == "running")
        except docker.errors.DockerException:
            return False

    # -- up -------------------------------------------------------------------------------------------
    def start_missing(self, state: State, notify: Callable[[str], None]) -> list[str]:
        """Start each service that is not running (in dependency order); returns the names started."""
        started = []
        for name in SERVICES:
            record = state.services.get(name)
            if record is not None and self._running(name, record):
                notify(f"{name}: already running ({_where(name, record)})")
                continue
            if record is not None:
                self._stop_record(name, record)
            port = self.ports.of(name)
            self._check_port(name, port)
            state.services[name] = self._start(name, port, state)
            save(self.state_dir, state)
            started.append(name)
            notify(f"{name}: started ({_where(name, state.services[name])})")
        return started

    def _check_port(self, name: str, port: int) -> None:
        if process.port_in_use(port):
            msg = f"Port {port} on {HOST}, which the sandbox's {name} needs, is in use by another process."
            raise OperationFailed(msg, hint=f"Stop that process, or choose another port with --{name}-port "
                                            f"(env ABCA_{name.upper()}_PORT).", title="Port in use")

    def _start(self, name: str, port: int, state: State) -> ServiceRecord:
        if name == REGISTRY:
            reg = registry.start(self.state_dir, port, docker=self.engine, instance=self.instance)
            return ServiceRecord(port=port, pid=reg.pid, container_id=reg.container_id,
                                 log=str(self.state_dir / "registry.log") if reg.pid else None)
        log = self.state_dir / f"{name}.log"
        pid = process.spawn_detached(self._argv(name, port, state), log, env=_child_env())
        process.wait_http(health_url(name, port), timeout=START_TIMEOUT, pid=pid,
                          marker=self.marker(name, port), name=name, log=log)
        return ServiceRecord(port=port, pid=pid, log=str(log))

    def _argv(self, name: str, port: int, state: State) -> list[str]:
        if name == MOTO:
            if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
                msg = "moto's server, which the sandbox runs, is not installed with this abca-deploy."
                raise OperationFailed(msg, hint=_moto_hint(), title="moto missing")
            return [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
        if name == API:
            moto = address(MOTO, state.services[MOTO].port)
            return [sys.executable, "-m", "abca_deploy.sandbox.gateway", "--host", HOST, "--port", str(port),
                    "--moto", moto, "--region", REGION]
        reg = state.services[REGISTRY]
        return [sys.executable, "-m", "abca_deploy.sandbox.emulator", "--host", HOST, "--port", str(port),
                "--registry", f"{HOST}:{reg.port}", "--account", ACCOUNT, "--region", REGION,
                "--instance", self.instance, "--container-errors", self.container_errors]

    # -- down -----------------------------------------------------------------------------------------
    def stop_all(self, state: State | None, notify: Callable[[str], None]) -> list[str]:
        """Stop every recorded service and remove the instance's labelled containers; returns what stopped."""
        stopped = []
        for name in reversed(SERVICES):
            record = state.services.get(name) if state else None
            if record is not None and self._stop_record(name, record):
                stopped.append(name)
                notify(f"{name}: stopped")
        removed = self._remove_labelled_containers()
        if removed:
            notify(f"removed {removed} sandbox container(s) labelled {LABEL}.instance={self.instance}")
        return stopped

    def _stop_record(self, name: str, record: ServiceRecord) -> bool:
        if record.container_id:
            return self._remove_container(record.container_id)
        # The emulator removes its containers on SIGTERM; give it time to do so.
        timeout = 30.0 if name == EMULATOR else 10.0
        return process.stop(record.pid, self.marker(name, record.port), timeout=timeout)

    def _remove_container(self, container_id: str) -> bool:
        if self.engine is None:
            return False
        import docker.errors

        try:
            self.engine.containers.get(container_id).remove(force=True)
        except docker.errors.NotFound:
            return False
        return True

    def _remove_labelled_containers(self) -> int:
        if self.engine is None:
            return 0
        import docker.errors

        label = f"{LABEL}.instance={self.instance}"
        count = 0
        for container in self.engine.containers.list(all=True, filters={"label": label}):
            try:
                container.remove(force=True)
                count += 1
            except docker.errors.NotFound:
                continue
        return count

    def remove_state(self) -> list[str]:
        """Delete what ``up`` wrote in the state dir, then the dir if empty; returns anything left behind."""
        for name in _OWN_FILES:
            (self.state_dir / name).unlink(missing_ok=True)
        for name in _OWN_DIRS:
            shutil.rmtree(self.state_dir / name, ignore_errors=True)
        if not self.state_dir.is_dir():
            return []
        left = sorted(p.name for p in self.state_dir.iterdir())
        if not left:
            self.state_dir.rmdir()
        return left


def load_state(state_dir: Path) -> State | None:
    """The recorded state of a state dir (None when the sandbox was never started there)."""
    return load(state_dir)


def _where(name: str, record: ServiceRecord) -> str:
    shown = ServiceStatus(name, True, address(name, record.port), record.pid, record.container_id)
    return f"{shown.process}, {shown.address}"


def _moto_hint() -> str:
    """The exact install command: the ``sandbox`` extra of this very version (its pin is moto's)."""
    from abca_deploy import __version__

    spec = f"abca-deploy[sandbox]=={__version__}"
    return (f"Install abca-deploy with its sandbox extra: `uv tool install '{spec}'`, `pip install '{spec}'` "
            f"or `pipx install --force '{spec}'`; with uvx, `uvx --from '{spec}' abca-deploy sandbox up`. "
            "In a checkout of abca-deploy: `uv sync`.")


def _child_env() -> dict[str, str]:
    # The servers must not inherit endpoint overrides that would point them at themselves.
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
