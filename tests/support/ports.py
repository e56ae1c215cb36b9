"""Free TCP ports on 127.0.0.1, and the `sandbox` flags that put a test's sandbox on its own ports."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 right now (all held at once while they are picked)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    return free_ports(1)[0]


def sandbox_flags(state_dir: Path, *, api: bool = True) -> list[str]:
    """``--state-dir`` and a free port for each sandbox service (the repository API's too unless ``api`` is
    false), for ``sandbox up``, ``env`` and ``down``."""
    ports = free_ports(4 if api else 3)
    args = ["--state-dir", str(state_dir), "--moto-port", str(ports[0]), "--registry-port", str(ports[1]),
            "--emulator-port", str(ports[2])]
    return [*args, "--api-port", str(ports[3])] if api else args
