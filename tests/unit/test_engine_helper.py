"""The tests' Docker Engine check: a machine without an engine skips Docker tests; CI fails them."""

from __future__ import annotations

import pytest
from tests.support.engine import running_engine


def test_without_an_engine_a_developer_machine_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")  # nothing listens on port 1
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Docker Engine"):
        running_engine(timeout=2)


def test_without_an_engine_ci_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    import docker.errors

    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")  # nothing listens on port 1
    monkeypatch.setenv("CI", "true")
    with pytest.raises(docker.errors.DockerException):
        running_engine(timeout=2)
