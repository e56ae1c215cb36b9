"""The local Docker Engine for tests that need one: skipped on a machine without one, a failure under CI
(where scripts/bootstrap starts one), so a broken engine can never turn the suite green by skipping it."""

from __future__ import annotations

import os
from typing import Any

import pytest


def running_engine(timeout: float = 10) -> Any:
    """A ``docker.DockerClient`` that answered a ping; the caller closes it."""
    import docker

    client = None
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:
        if client is not None:
            client.close()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Docker Engine ({exc}): start dockerd (Debian: apt-get install docker.io)")
    return client
