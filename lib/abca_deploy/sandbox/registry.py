"""The sandbox's OCI registry: the CNCF distribution registry standing in for the ECR registry host.

Uses the ``docker-registry`` binary (Debian package ``docker-registry``) when present, else the ``registry:2``
image on the local Docker Engine. Always listens on 127.0.0.1.
"""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from abca_deploy.errors import OperationFailed
from abca_deploy.sandbox import process

if TYPE_CHECKING:
    from pathlib import Path

REGISTRY_IMAGE = "registry:2"
CONTAINER_LABEL = "abca-deploy.sandbox"

_CONFIG = """version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
"""


@dataclass(frozen=True)
class Registry:
    """A running registry: ``host`` is ``127.0.0.1:PORT``; one of ``pid`` / ``container_id`` is set."""

    host: str
    pid: int | None = None
    container_id: str | None = None


def registry_binary() -> str | None:
    """The path of the distribution registry binary, if installed."""
    return shutil.which("docker-registry") or shutil.which("registry")


def is_up(host: str, timeout: float = 1.0) -> bool:
    """True when ``http://host/v2/`` answers like a registry."""
    try:
        with urllib.request.urlopen(f"http://{host}/v2/", timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_up(host: str, timeout: float = 20.0) -> None:
    """Wait until the registry answers, or raise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_up(host):
            return
        time.sleep(0.1)
    msg = f"The registry on {host} did not answer within {timeout:.0f}s."
    raise OperationFailed(msg, title="Registry did not start")


def start(state_dir: Path, port: int, *, docker: Any = None, instance: str = "default") -> Registry:
    """Start a registry on 127.0.0.1:port storing under ``state_dir``; wait until it answers."""
    state_dir.mkdir(parents=True, exist_ok=True)
    host = f"127.0.0.1:{port}"
    binary = registry_binary()
    if binary:
        config = state_dir / "registry.yml"
        config.write_text(_CONFIG.format(root=state_dir / "data", port=port), encoding="utf-8")
        # Detached (not our child): it outlives the CLI, and no Popen object is left to warn about it.
        pid = process.spawn_detached([binary, "serve", str(config)], state_dir / "registry.log")
        try:
            wait_up(host)
        except OperationFailed:
            process.stop(pid, str(config), timeout=5)
            raise
        return Registry(host=host, pid=pid)
    if docker is None:
        msg = "No registry is available: no docker-registry binary and no Docker Engine was given."
        raise OperationFailed(msg, hint="Install it with `apt-get install -y docker-registry`.",
                              title="No registry")
    from docker.errors import DockerException

    try:
        container = docker.containers.run(
            REGISTRY_IMAGE, detach=True, ports={"5000/tcp": ("127.0.0.1", port)},
            labels={CONTAINER_LABEL: "true", f"{CONTAINER_LABEL}.instance": instance,
                    f"{CONTAINER_LABEL}.role": "registry"},
            environment={"REGISTRY_STORAGE_DELETE_ENABLED": "true"},
        )
    except DockerException as exc:
        msg = f"The docker-registry binary is missing and the {REGISTRY_IMAGE} container did not start: {exc}"
        raise OperationFailed(msg, hint="Install the binary with `apt-get install -y docker-registry`.",
                              title="No registry") from None
    try:
        wait_up(host)
    except OperationFailed:
        container.remove(force=True)
        raise
    return Registry(host=host, container_id=container.id)
