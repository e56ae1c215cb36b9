"""Two `repo sync --prune` runs with different files at once: the second notices the first (the table's
lease), waits, and plans against the table as the first left it, so the table ends up matching one file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.repo_stack import RepoStack


class Sync:
    """A real `abca-deploy repo sync` process whose stderr is watched."""

    def __init__(self, moto: str, file: Path) -> None:
        env = {**{k: v for k, v in os.environ.items() if k.startswith("AWS_") or k in ("PATH", "HOME")},
               "AWS_ENDPOINT_URL": moto, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "abca_deploy", "repo", "sync", "--file", str(file), "--prune",
             "--stack-name", "backgroundagent-dev"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        self.err: list[str] = []
        self.out = ""
        self._threads = [threading.Thread(target=self._read_err, daemon=True),
                         threading.Thread(target=self._read_out, daemon=True)]
        for thread in self._threads:
            thread.start()

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        self.err.extend(line.rstrip("\n") for line in self.proc.stderr)

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        self.out = self.proc.stdout.read()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in list(self.err)):
            assert self.proc.poll() is None or self._threads[0].is_alive(), "\n".join(self.err)
            assert time.monotonic() < deadline, "\n".join(self.err)
            time.sleep(0.05)

    def finish(self) -> int:
        try:
            return self.proc.wait(120)
        finally:
            self.close()

    def close(self) -> None:
        """Kill it if it still runs, let the readers drain, close the pipes."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(30)
        for thread in self._threads:
            thread.join(10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def active(stack: RepoStack) -> set[str]:
    return {i["repo"]["S"] for i in stack.items() if i["status"]["S"] == "active"}


@pytest.mark.usefixtures("atomic_dynamodb")
def test_the_second_sync_waits_for_the_first_and_the_table_matches_one_file(
        repo_stack: RepoStack, moto_env: str, tmp_path: Path) -> None:
    first_file, second_file = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first_file.write_text("repos:\n  octo/a1: {}\n  octo/a2: {}\n  octo/shared: {max_turns: 10}\n")
    second_file.write_text("repos:\n  octo/b1: {}\n  octo/shared: {max_turns: 20}\n")
    first = Sync(moto_env, first_file)
    second = None
    try:
        first.wait_for("== Plan")  # it holds the table's lease now
        first.proc.send_signal(signal.SIGSTOP)  # keep it mid-sync while the second starts
        second = Sync(moto_env, second_file)
        second.wait_for("Another sync of repo table")
        first.proc.send_signal(signal.SIGCONT)
        assert first.finish() == 0, "\n".join(first.err)
        assert second.finish() == 0, "\n".join(second.err)
    finally:
        for sync in (first, second):
            if sync is not None:
                sync.close()
    assert active(repo_stack) == {"octo/b1", "octo/shared"}
    shared = repo_stack.item("octo/shared")
    assert shared is not None
    assert shared["max_turns"] == {"N": "20"}
    assert "2 offboarded" in second.out
