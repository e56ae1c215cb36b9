"""Two `repo sync --prune` runs with different files at once: the second notices the first (the table's
lease), waits, and plans against the table as the first left it, so the table ends up matching one file.

The first sync is held inside its lease by making moto's first DynamoDB Scan (its plan's read) wait: a
deterministic "mid-sync", however fast the machine."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
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


@pytest.fixture
def first_scan_held(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """(entered, release): moto's first DynamoDB Scan waits for ``release`` (a sync mid-plan, lease held)."""
    from moto.dynamodb.responses import DynamoHandler

    entered, release, seen = threading.Event(), threading.Event(), itertools.count()
    original = DynamoHandler.scan

    def scan(self: DynamoHandler) -> Any:
        if next(seen) == 0:
            entered.set()
            release.wait(60)
        return original(self)

    monkeypatch.setattr(DynamoHandler, "scan", scan)
    yield entered, release
    release.set()


def test_the_second_sync_waits_for_the_first_and_the_table_matches_one_file(
        repo_stack: RepoStack, moto_env: str, tmp_path: Path,
        first_scan_held: tuple[threading.Event, threading.Event]) -> None:
    entered, release = first_scan_held
    first_file, second_file = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first_file.write_text("repos:\n  octo/a1: {}\n  octo/a2: {}\n  octo/shared: {max_turns: 10}\n")
    second_file.write_text("repos:\n  octo/b1: {}\n  octo/shared: {max_turns: 20}\n")
    first = Sync(moto_env, first_file)
    second = None
    try:
        assert entered.wait(60), "\n".join(first.err)  # the first sync holds the lease, mid-plan
        second = Sync(moto_env, second_file)
        second.wait_for("Another sync of repo table")
        release.set()
        assert first.finish() == 0, "\n".join(first.err)
        assert second.finish() == 0, "\n".join(second.err)
    finally:
        release.set()
        for sync in (first, second):
            if sync is not None:
                sync.close()
    assert active(repo_stack) == {"octo/b1", "octo/shared"}
    shared = repo_stack.item("octo/shared")
    assert shared is not None
    assert shared["max_turns"] == {"N": "20"}
    assert "2 offboarded" in second.out
