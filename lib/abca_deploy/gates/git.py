"""A thin git adapter: run git in one working tree and answer the questions the change gate asks."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from abca_deploy.errors import OperationFailed, UserError


class Git:
    """Runs ``git -C <repo> …`` with a fixed, prompt-free environment."""

    def __init__(self, repo: str) -> None:
        self.repo = repo
        executable = shutil.which("git")
        if executable is None:
            msg = "git is not installed or not on PATH."
            raise UserError(msg, hint="Install git (on GitHub-hosted runners it is always present).",
                            title="git not found")
        self._git = executable

    def _run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
        return subprocess.run([self._git, "-C", self.repo, *args], capture_output=True, check=False, env=env)

    def check_repository(self) -> None:
        """Raise a UserError unless ``repo`` is inside a git working tree git is willing to read."""
        if not Path(self.repo).is_dir():
            msg = f"--repo {self.repo!r} is not a directory."
            raise UserError(msg, hint="Pass the path of the repository's checkout.", title="Invalid --repo")
        done = self._run("rev-parse", "--git-dir")
        if done.returncode != 0:
            reason = _first_line(done.stderr)
            hint = "Pass the path of a git checkout (in Actions: run actions/checkout first)."
            if "safe.directory" in reason or "dubious ownership" in reason:
                hint = f"Mark it safe: git config --global --add safe.directory {self.repo}"
            msg = f"--repo {self.repo!r} is not a git repository git can read ({reason})."
            raise UserError(msg, hint=hint, title="Invalid --repo")

    def commit(self, revision: str) -> str | None:
        """The full SHA of ``revision`` when it names a commit present in this clone, else None."""
        done = self._run("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
        if done.returncode != 0:
            return None
        return done.stdout.decode().strip() or None

    def is_shallow(self) -> bool:
        """True for a shallow clone (e.g. actions/checkout's default fetch-depth: 1)."""
        done = self._run("rev-parse", "--is-shallow-repository")
        return done.returncode == 0 and done.stdout.decode().strip() == "true"

    def changed_files(self, base: str, head: str) -> list[str]:
        """Every path that differs between the two commits' trees; both sides of a rename; no cap."""
        done = self._run("diff", "--name-only", "--no-renames", "--no-ext-diff", "--no-textconv",
                         "--no-relative", "-z", base, head, "--")
        if done.returncode != 0:
            msg = f"git diff {base[:12]} {head[:12]} failed: {_first_line(done.stderr)}"
            raise OperationFailed(msg, title="git diff failed")
        return [path for path in done.stdout.decode("utf-8", "surrogateescape").split("\0") if path]

    def show(self, revision: str, path: str) -> bytes | None:
        """The content of ``path`` in commit ``revision``, or None when the commit has no such file."""
        done = self._run("cat-file", "blob", f"{revision}:{path}")
        return done.stdout if done.returncode == 0 else None

    def files(self, revision: str) -> list[str]:
        """Every file in the tree of ``revision`` (what "everything changed" means for that commit)."""
        done = self._run("ls-tree", "-r", "-z", "--name-only", "--full-tree", revision)
        if done.returncode != 0:
            msg = f"git ls-tree {revision[:12]} failed: {_first_line(done.stderr)}"
            raise OperationFailed(msg, title="git ls-tree failed")
        return [path for path in done.stdout.decode("utf-8", "surrogateescape").split("\0") if path]

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """True when ``ancestor`` is in the history of ``descendant``."""
        return self._run("merge-base", "--is-ancestor", ancestor, descendant).returncode == 0


def _first_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[0] if lines else "no error output"
