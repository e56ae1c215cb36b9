"""Shared fixtures. No test can reach a real AWS account: credentials are fake and real endpoints refused."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis times its own input generation; on a loaded 2-core CI machine that timing says nothing about the
# code under test, so the time-based health check and deadline are off. Every other health check stays on.
settings.register_profile("abca", suppress_health_check=[HealthCheck.too_slow], deadline=None)
settings.load_profile("abca")

_REAL_AWS_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".aws")


@pytest.fixture(autouse=True)
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region for every test; no profile or config file is read."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "GITHUB_", "ABCA_", "RUNNER_")):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(autouse=True)
def refuse_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any HTTP request botocore would send to a real AWS host."""
    from botocore.endpoint import Endpoint

    original = Endpoint._send

    def guarded(self: Endpoint, request: object) -> object:
        host = self.host.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        if host.endswith(_REAL_AWS_SUFFIXES):
            msg = f"test tried to reach real AWS: {self.host}"
            raise RuntimeError(msg)
        return original(self, request)

    monkeypatch.setattr(Endpoint, "_send", guarded)


pytest_plugins = ["tests.support.moto_server", "tests.support.fake_github", "tests.support.repo_stack",
                  "tests.support.abca_repo", "tests.support.repo_api"]
