"""Sandbox processes are started detached and stopped only by a pid whose command line is theirs."""

from __future__ import annotations

import os
import socket
import sys
import time
from typing import TYPE_CHECKING

from abca_deploy.sandbox import process

if TYPE_CHECKING:
    from pathlib import Path

MARKER = "abca-sandbox-process-test"


def test_a_pid_whose_command_line_lacks_the_marker_is_never_signalled() -> None:
    assert process.is_running(os.getpid(), "pytest") or process.is_running(os.getpid(), sys.executable)
    assert not process.is_running(os.getpid(), "no-such-marker-in-this-command-line")
    assert process.stop(os.getpid(), "no-such-marker-in-this-command-line") is False  # and we are still here


def test_spawned_process_is_detached_logged_and_stopped(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    code = f"import time; print('{MARKER} up', flush=True); time.sleep(60)"
    pid = process.spawn_detached([sys.executable, "-c", code, MARKER], log)
    try:
        assert process.is_running(pid, MARKER)
        assert os.getpgid(pid) == pid  # its own session and process group
        for _ in range(50):
            if f"{MARKER} up" in log.read_text(encoding="utf-8"):
                break
            time.sleep(0.1)
        assert f"{MARKER} up" in process.log_tail(log)
    finally:
        stopped = process.stop(pid, MARKER, timeout=5)
    assert stopped is True
    assert not process.is_running(pid, MARKER)
    assert process.stop(pid, MARKER) is False


def test_port_in_use_sees_a_listener_but_not_a_free_port() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert process.port_in_use(port)
    assert not process.port_in_use(port)
