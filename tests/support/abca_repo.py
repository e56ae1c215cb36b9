"""Scratch git repositories for the change gate, and one shaped like ABCA's (our own content).

ABCA's layout at upstream 2cee8800: a repo-root build context, ``agent/Dockerfile`` copying a few ``agent/``
paths and ``contracts/``, a root ``.dockerignore``, a Yarn workspace root (``package.json``, ``yarn.lock``)
installing the CDK app under ``cdk/``, its tests under ``cdk/test/``, docs, scripts and a CLI.
"""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG PLATFORM=linux/arm64
FROM --platform=$PLATFORM example/tools:1 AS tools
FROM --platform=$PLATFORM python:3.13-slim
COPY --from=tools /usr/bin/tool /usr/local/bin/tool
COPY agent/pyproject.toml agent/uv.lock /app/
RUN uv sync --frozen --directory /app
COPY agent/src/ /app/src/
COPY agent/policies/ /app/policies/
COPY contracts/ /app/contracts/
COPY ["agent/workflows/", "/app/workflows/"]
COPY agent/settings.json /etc/agent/settings.json
CMD ["python", "/app/src/server.py"]
"""
DOCKERIGNORE = "cdk/cdk.out/\nnode_modules/\nagent/**/__pycache__/\n*.md\n.git/\n"
ABCA_LIKE: dict[str, str | None] = {
    "agent/Dockerfile": DOCKERFILE, ".dockerignore": DOCKERIGNORE,
    "agent/pyproject.toml": "[project]\n", "agent/uv.lock": "v1", "agent/src/server.py": "v1",
    "agent/policies/deny.cedar": "forbid(principal, action, resource);", "agent/workflows/flow.yaml": "v1",
    "agent/settings.json": "{}", "agent/tests/test_server.py": "v1", "agent/run.sh": "#!/bin/sh",
    "agent/README.md": "agent", "contracts/constants.json": "{}", "contracts/README.md": "contracts",
    "cdk/package.json": "{}", "cdk/src/stacks/agent.ts": "v1", "cdk/src/handlers/shared/trigger.ts": "v1",
    "cdk/test/agent.test.ts": "v1", "package.json": "{}", "yarn.lock": "v1", "docs/guide.md": "v1",
    "docs/scripts/sync.mjs": "v1", "scripts/tool.py": "v1", "cli/src/main.ts": "v1", "README.md": "readme",
    "repos.yaml": "repos: {}\n",
}


class Repo:
    """A scratch git repository; ``commit`` writes files (None deletes) and returns the new SHA."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", "--initial-branch=main")

    def git(self, *args: str) -> str:
        argv = ["git", "-C", str(self.path), *args]
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()

    def commit(self, files: dict[str, str | None], message: str = "change") -> str:
        for name, content in files.items():
            target = self.path / name
            if content is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def hermetic_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git config; a fixed identity."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")


@pytest.fixture
def abca_repo(tmp_path: Path, hermetic_git: None) -> Repo:
    """A repository shaped like ABCA's, one commit."""
    repo = Repo(tmp_path / "repo")
    repo.commit(ABCA_LIKE, "initial")
    return repo
