"""Background processes for the sandbox: start detached, check by pid, stop by pid, probe ports.

Servers are started through a short-lived launcher so they are not children of the CLI: the CLI may exit
(or, in tests, keep running) without leaving zombies or ``subprocess`` bookkeeping behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from abca_deploy.errors import OperationFailed

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

# Runs in a throwaway interpreter: start the server in its own session, print its pid, exit at once.
_LAUNCHER = """
import subprocess, sys
log = open(sys.argv[1], "ab")
proc = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                        start_new_session=True, close_fds=True)
print(proc.pid)
"""


def spawn_detached(argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None) -> int:
    """Start ``argv`` in a new session, detached, logging to ``log_path``; returns the pid."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, str(log_path), *argv],
        capture_output=True, text=True, check=False, env=dict(env) if env is not None else None,
    )
    if done.returncode != 0 or not done.stdout.strip().isdigit():
        msg = f"Could not start {Path(argv[0]).name}: {(done.stderr or done.stdout).strip()[-300:]}"
        raise OperationFailed(msg, title="Sandbox did not start")
    return int(done.stdout.strip())


def _cmdline(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    state = stat.rpartition(")")[2].split()[:1]
    if state == ["Z"]:  # exited, not yet reaped
        return None
    return raw.replace(b"\0", b" ").decode("utf-8", "replace")


def is_running(pid: int | None, marker: str) -> bool:
    """True when ``pid`` lives and its command line contains ``marker`` (a guard against pid reuse)."""
    if not pid or pid <= 0:
        return False
    cmdline = _cmdline(pid)
    return cmdline is not None and marker in cmdline


def stop(pid: int | None, marker: str, *, timeout: float = 15.0) -> bool:
    """Stop the process ``pid`` (SIGTERM to its session, then SIGKILL); False when it was not running."""
    if pid is None or not is_running(pid, marker):
        _reap(pid)
        return False
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not is_running(pid, marker):
            return True
        time.sleep(0.1)
    _signal(pid, signal.SIGKILL)
    for _ in range(50):
        _reap(pid)
        if not is_running(pid, marker):
            break
        time.sleep(0.1)
    return True


def _signal(pid: int, sig: signal.Signals) -> None:
    # Each server leads its own session (start_new_session), so its process group id is its pid.
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _reap(pid: int | None) -> None:
    """Collect the exit status when ``pid`` happens to be our child (e.g. an old-style launch)."""
    if pid:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts connections (or holds the address) on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        if sock.connect_ex((host, port)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers do: connections in TIME_WAIT from a stopped server must not count as "in use".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """True when GET ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_http(url: str, *, timeout: float, pid: int, marker: str, name: str, log: Path) -> None:
    """Wait until ``url`` answers 200 while ``pid`` lives; raise with the log's tail otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http_ok(url):
            return
        if not is_running(pid, marker):
            break
        time.sleep(0.2)
    alive = is_running(pid, marker)
    stop(pid, marker, timeout=5)
    reason = f"did not answer on {url} within {timeout:.0f}s" if alive else "exited during start-up"
    msg = f"The {name} {reason}. Last log lines: {log_tail(log)}"
    raise OperationFailed(msg, hint=f"See the full log in {log}.", title="Sandbox did not start")


def log_tail(path: Path, lines: int = 5) -> str:
    """The last lines of a log file, joined with ' / ' for a one-line message."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    tail = [line.strip() for line in text.strip().splitlines()[-lines:] if line.strip()]
    return " / ".join(tail) or "(empty log)"
