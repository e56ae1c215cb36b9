"""The Docker runner: containers of versions and sessions, on 127.0.0.1, healthy once GET /ping answers 200.

Containers carry the sandbox labels so ``sandbox down`` removes exactly them; the emulator removes them when
their session ends or no endpoint serves their version any more, and all of them when it stops.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from abca_deploy.sandbox.emulator.images import Images
from abca_deploy.sandbox.emulator.runner import ContainerDown, StartFailed, Target

if TYPE_CHECKING:
    from abca_deploy.sandbox.emulator.runner import ContainerSpec, Key

log = logging.getLogger("abca_deploy.sandbox.emulator")
LABEL = "abca-deploy.sandbox"
_LOG_LINES = 10
EXIT_GRACE = 2.0  # seconds a container that dropped a connection has to show up as exited


@dataclass
class _Record:
    container: Any
    target: Target
    image: Any


class DockerRunner:
    """Runs versions' containers on a Docker Engine (a ``docker.DockerClient``)."""

    def __init__(self, docker: Any, *, registry: str, instance: str = "default",
                 ping_timeout: float = 60.0) -> None:
        self._docker, self._instance, self._ping_timeout = docker, instance, ping_timeout
        self._images = Images(docker, registry)
        self._lock = threading.Lock()
        self._records: dict[Key, _Record] = {}
        self._key_locks: dict[Key, threading.Lock] = {}
        self._closed = threading.Event()

    def prepare(self, key: Key, spec: ContainerSpec) -> None:
        """Pull and start a healthy container for ``key`` (kept to serve it), or raise StartFailed."""
        self.ensure(key, spec, revive=True)

    def ensure(self, key: Key, spec: ContainerSpec, *, revive: bool) -> Target:
        """The running container of ``key``; started when there is none; a dead one is removed and raises
        ContainerDown unless ``revive``."""
        with self._key_lock(key):
            record = self._records.get(key)
            if record is not None:
                if _running(record.container):
                    return record.target
                reason = self.failure(key)
                if not revive:
                    raise ContainerDown(reason)
            return self._start(key, spec)

    def adopt(self, source: Key, target: Key) -> bool:
        """Move the running, healthy container of ``source`` to ``target`` (which must have none)."""
        with self._key_lock(source):
            record = self._records.get(source)
            if record is None or record.target.port == 0:
                return False
            if not _running(record.container):  # a dead warm container serves nobody: remove it
                self._forget(source)
                return False
            with self._lock:
                if self._records.get(source) is not record or target in self._records:
                    return False
                self._records[target] = self._records.pop(source)
        return True

    def release(self, key: Key) -> None:
        """Remove the container of ``key``, if any."""
        self._forget(key)

    def failure(self, key: Key) -> str:
        """Why the container of ``key`` is not serving; a stopped one is forgotten and removed."""
        record = self._records.get(key)
        if record is None:
            return "The container is gone."
        name = record.target.name
        if _still_running(record.container, EXIT_GRACE):
            return f"The container {name} is running but did not answer on 127.0.0.1:{record.target.port}."
        reason = f"The container {name} is not running ({_exit(record.container)}).{_tail(record.container)}"
        self._forget(key)
        return reason + self._images.arch_note(record.image)

    def retain(self, keys: set[Key]) -> None:
        """Remove the containers of versions not in ``keys``."""
        for key in [k for k in list(self._records) if k not in keys]:
            self._forget(key)

    def close(self) -> None:
        """Remove every container started here; later starts are refused."""
        self._closed.set()
        for key in list(self._records):
            self._forget(key)

    def count(self) -> int:
        """How many containers this runner holds."""
        return len(self._records)

    def _key_lock(self, key: Key) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def _forget(self, key: Key) -> None:
        with self._lock:
            record = self._records.pop(key, None)
        if record is not None:
            _remove(record.container)

    def _start(self, key: Key, spec: ContainerSpec) -> Target:
        import docker.errors

        try:
            return self._start_healthy(key, spec)
        except (docker.errors.DockerException, OSError) as exc:  # the engine itself failed or went away
            self._forget(key)
            msg = f"The Docker Engine failed while starting {spec.image}: {exc}"
            raise StartFailed(msg) from None

    def _start_healthy(self, key: Key, spec: ContainerSpec) -> Target:
        ref, image = self._images.pull(spec.image)
        container = self._create(key, spec, ref)
        with self._lock:
            if self._closed.is_set():
                _remove(container)
                msg = "The emulator is stopping."
                raise StartFailed(msg)
            target = Target(0, container.name, spec.path)
            self._records[key] = _Record(container, target, image)
        try:
            port = self._wait_healthy(container, spec)
        except StartFailed as exc:
            self._forget(key)
            raise StartFailed(exc.reason + self._images.arch_note(image)) from None
        target = Target(port, container.name, spec.path)
        with self._lock:
            current = self._records.get(key)
            if current is None or current.container is not container:  # removed while it started
                msg = "The container was removed while it started (emulator stopping, or version unserved)."
                raise StartFailed(msg)
            self._records[key] = _Record(container, target, image)
        log.info("runtime %s version %s%s: container %s healthy on 127.0.0.1:%s", key[0], key[1],
                 f" session {key[2]}" if len(key) > 2 else "", container.name, port)
        return target

    def _create(self, key: Key, spec: ContainerSpec, ref: str) -> Any:
        import docker.errors

        runtime_id, version = key[0], key[1]
        labels = {LABEL: "true", f"{LABEL}.instance": self._instance, f"{LABEL}.role": "agent",
                  f"{LABEL}.runtime": runtime_id, f"{LABEL}.version": version}
        name = f"abca-agent-{self._instance}-{runtime_id}-v{version}"
        if len(key) > 2:  # a session's container; session ids may hold any character, so name it by hash
            labels[f"{LABEL}.session"] = key[2]
            name += f"-s{hashlib.sha256(key[2].encode()).hexdigest()[:8]}"
        name += f"-{secrets.token_hex(3)}"
        container = self._docker.containers.create(
            ref, name=name, detach=True, labels=labels, environment=spec.environment,
            ports={f"{spec.port}/tcp": ("127.0.0.1", None)}, tmpfs={path: "" for path in spec.tmpfs},
        )
        try:
            container.start()
        except docker.errors.APIError as exc:
            _remove(container)
            msg = f"The container of image {spec.image} could not start: {exc.explanation or exc}."
            raise StartFailed(msg) from None
        return container

    def _wait_healthy(self, container: Any, spec: ContainerSpec) -> int:
        deadline = time.monotonic() + self._ping_timeout
        last, port = "no answer yet", None
        while not self._closed.is_set():
            if not _running(container):
                msg = (f"The container of image {spec.image} exited before answering GET /ping "
                       f"({_exit(container)}).{_tail(container)}")
                raise StartFailed(msg)
            port = port or _published(container, spec.port)
            if port is not None:
                healthy, last = _ping(port)
                if healthy:
                    return port
            if time.monotonic() > deadline:
                msg = (f"The container of image {spec.image} did not answer GET /ping with HTTP 200 within "
                       f"{self._ping_timeout:g}s (last: {last}).{_tail(container)}")
                raise StartFailed(msg)
            time.sleep(0.2)
        msg = "The emulator is stopping."
        raise StartFailed(msg)


def _running(container: Any) -> bool:
    import docker.errors

    try:
        container.reload()
    except docker.errors.NotFound:
        return False
    return bool(container.status == "running")


def _still_running(container: Any, grace: float) -> bool:
    """Whether the container still runs after ``grace`` seconds (a crash reaches the engine's state late)."""
    deadline = time.monotonic() + grace
    while _running(container):
        if time.monotonic() >= deadline:
            return True
        time.sleep(0.1)
    return False


def _published(container: Any, port: int) -> int | None:
    bindings = (container.attrs.get("NetworkSettings", {}).get("Ports") or {}).get(f"{port}/tcp") or []
    for binding in bindings:
        if binding.get("HostIp") == "127.0.0.1" and binding.get("HostPort"):
            return int(binding["HostPort"])
    return None


def _ping(port: int) -> tuple[bool, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/ping")
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        return False, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    finally:
        connection.close()
    return status == 200, f"HTTP {status}"


def _exit(container: Any) -> str:
    state = container.attrs.get("State", {})
    if state.get("OOMKilled"):
        return "killed: out of memory"
    error = f", {state['Error']}" if state.get("Error") else ""
    return f"exit code {state.get('ExitCode', '?')}{error}"


def _tail(container: Any) -> str:
    import docker.errors

    try:
        lines = container.logs(tail=_LOG_LINES).decode(errors="replace").strip().splitlines()
    except docker.errors.APIError:
        return ""
    return f' Last log lines: "{" | ".join(lines)}".' if lines else " The container logged nothing."


def _remove(container: Any) -> None:
    import docker.errors

    try:
        container.remove(force=True)
    except docker.errors.APIError as exc:
        log.debug("removing %s: %s", getattr(container, "name", container), exc)
