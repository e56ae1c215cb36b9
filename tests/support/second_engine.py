"""A second, empty Docker Engine on this machine: what a fresh CI runner's engine looks like.

Its own data root, exec root, pidfile, unix socket and bridge (created here, removed on stop). Never
``--bridge=none``: that would remove the first engine's docker0. iptables are left alone (the engine's
build containers need no network), so the first engine's rules are untouched. Stopped by its own pid.
Needs root and the ``dockerd`` binary (scripts/bootstrap installs docker.io).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class SecondEngine:
    """A running dockerd; ``host`` is its DOCKER_HOST."""

    root: Path
    bridge: str
    process: subprocess.Popen[bytes]

    @property
    def host(self) -> str:
        return f"unix://{self.root / 'docker.sock'}"

    def stop(self) -> None:
        """SIGTERM the engine by its pid, wait for it, remove its bridge and its files."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        subprocess.run(["ip", "link", "del", self.bridge], check=False, capture_output=True)
        subprocess.run(["umount", "-R", str(self.root / "data")], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def available() -> str | None:
    """None when a second engine can be started here, else why not."""
    if os.geteuid() != 0:
        return "starting a second dockerd needs root"
    if not (shutil.which("dockerd") or Path("/usr/sbin/dockerd").exists()):
        return "no dockerd binary"
    if not shutil.which("ip"):
        return "no ip command (iproute2)"
    return None


def start(timeout: float = 60.0) -> SecondEngine:
    """Start an empty engine and wait until it answers."""
    root = Path(tempfile.mkdtemp(prefix="abca-engine-", dir="/var/tmp"))
    bridge = f"abcae{random.randrange(16**6):06x}"
    subnet = f"10.213.{random.randrange(1, 255)}"
    for argv in (["ip", "link", "add", bridge, "type", "bridge"],
                 ["ip", "addr", "add", f"{subnet}.1/24", "dev", bridge], ["ip", "link", "set", bridge, "up"]):
        subprocess.run(argv, check=True, capture_output=True)
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    argv = [dockerd, "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
            "--pidfile", str(root / "dockerd.pid"), "-H", f"unix://{root / 'docker.sock'}", "-b", bridge,
            "--iptables=false", "--ip-masq=false", "--storage-driver=overlay2"]
    with (root / "dockerd.log").open("ab") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    engine = SecondEngine(root=root, bridge=bridge, process=process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = subprocess.run(["docker", "-H", engine.host, "version"], capture_output=True, check=False)
        if done.returncode == 0:
            return engine
        time.sleep(0.3)
    engine.stop()
    msg = f"the second dockerd did not answer within {timeout:.0f}s (log: {root / 'dockerd.log'})"
    raise RuntimeError(msg)
