"""`runtime publish` against both forms AgentCore may use for a container's error answer, on the sandbox.

The emulator runs with ``--container-errors wrapped`` (424 RuntimeClientError "Received error (NNN) from
runtime", AWS's form) or ``passthrough``. ABCA's probe ``{"input":{}}`` answered 400 must pass in both; a 500
or a crashing container must fail and roll back in both; the smoke-test session is stopped every time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from tests.integration.conftest import list_agent_containers
from tests.integration.test_publish import Platform, seeded_platform

from abca_deploy.runtime.config import container_uri

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from abca_deploy.sandbox.emulator.server import EmulatorServer
    from abca_deploy.sandbox.registry import Registry

pytestmark = pytest.mark.docker

FORMS = ["wrapped", "passthrough"]
PROBE_400 = 'self._send(400, {"code": "TASK_RECORD_INCOMPLETE",'


@pytest.fixture(params=FORMS)
def platform(request: pytest.FixtureRequest, moto_env: str, registry: Registry, base_image: str,
             agent_image: Callable[..., str], emulator_factory: Callable[..., EmulatorServer],
             monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Platform, EmulatorServer]:
    """An ABCA-shaped runtime (READY on a seed image) on an emulator using the parametrized form."""
    emulator = emulator_factory(ping_timeout=10.0, container_errors=request.param)
    plat = seeded_platform(emulator.url, registry, base_image, agent_image, monkeypatch, tmp_path, "forms")
    return plat, emulator


def edit_agent(plat: Platform, old: str, new: str) -> None:
    server = plat.context / "agent/src/server.py"
    text = server.read_text(encoding="utf-8")
    assert old in text
    server.write_text(text.replace(old, new), encoding="utf-8")


def assert_sessions_released(plat: Platform, emulator: EmulatorServer, docker_client: Any) -> None:
    assert emulator.store.sessions.count(plat.runtime_id) == 0
    containers = list_agent_containers(docker_client, plat.runtime_id)
    assert [c.name for c in containers if "abca-deploy.sandbox.session" in c.labels] == []


def test_the_abca_probe_passes_and_its_session_is_stopped(
    platform: tuple[Platform, EmulatorServer], capsys: pytest.CaptureFixture[str], docker_client: Any,
) -> None:
    plat, emulator = platform
    plat.write_message(f"published through {emulator.invoker.error_form}")
    code, doc, err = plat.publish(capsys)
    assert code == 0, err
    assert (doc["status"], doc["smoke_result"]) == ("deployed", "passed: HTTP 400")
    if emulator.invoker.error_form == "wrapped":
        assert "the container answered 400; AgentCore reported it as 424 RuntimeClientError" in err
        assert "Received error (400) from runtime" in err  # the body the smoke test saw
    else:
        assert "attempt 1: the container answered 400\n" in err
        assert "TASK_RECORD_INCOMPLETE" in err
    assert "smoke-test session abca-deploy-smoke-" in err
    assert " stopped\n" in err
    assert "Could not stop the smoke-test session" not in err
    assert_sessions_released(plat, emulator, docker_client)
    assert list_agent_containers(docker_client, plat.runtime_id) == []  # the version's warm one went too
    assert plat.invoke()["message"] == f"published through {emulator.invoker.error_form}"  # a new session


def test_a_500_fails_the_smoke_test_and_rolls_back(
    platform: tuple[Platform, EmulatorServer], capsys: pytest.CaptureFixture[str], docker_client: Any,
) -> None:
    plat, emulator = platform
    edit_agent(plat, PROBE_400, 'self._send(500, {"code": "EXPLODED",')
    code, doc, err = plat.publish(capsys)
    assert code == 1
    assert doc["status"] == "rolled-back"
    assert doc["smoke_result"] == "failed: HTTP 500 (status 500 is not one of 200,400)"
    assert err.count("attempt ") == 4  # a 5xx is retried, in the same session
    assert "Rolled back to v1" in err
    assert container_uri(plat.runtime()) == plat.seed_image
    assert_sessions_released(plat, emulator, docker_client)
    assert plat.invoke()["message"] == "seed version"


def test_a_crashing_container_fails_the_smoke_test_and_rolls_back(
    platform: tuple[Platform, EmulatorServer], capsys: pytest.CaptureFixture[str], docker_client: Any,
) -> None:
    plat, emulator = platform
    edit_agent(plat, "    def do_POST(self) -> None:\n",
               "    def do_POST(self) -> None:\n        os._exit(3)  # crash on the first invocation\n")
    code, doc, err = plat.publish(capsys)
    assert code == 1
    assert doc["status"] == "rolled-back"
    assert doc["smoke_result"].startswith("failed: HTTP 424 (424 RuntimeClientError: the container failed (")
    assert "exit code 3" in doc["smoke_result"]
    assert err.count("attempt ") == 1  # AgentCore's own 424 is not retried
    assert "had already ended" in err  # the crash ended the session; the stop found nothing to stop
    assert container_uri(plat.runtime()) == plat.seed_image
    assert_sessions_released(plat, emulator, docker_client)
    assert plat.invoke()["message"] == "seed version"
