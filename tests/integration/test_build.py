"""Publishing with BuildKit on the sandbox: layers reused from the registry on an empty engine, the classic
fallback, the digest skip, AgentCore's image limits and the platform check, all before any update."""

from __future__ import annotations

import json
import os
import re
import urllib.request
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from tests.integration.conftest import TEST_REPOSITORY
from tests.integration.test_publish import HOST_PLATFORM, Platform, sandbox  # noqa: F401 (the fixture)
from tests.support import second_engine

if TYPE_CHECKING:
    from collections.abc import Iterator

    from abca_deploy.sandbox.registry import Registry

pytestmark = pytest.mark.docker

# ABCA's shape in miniature: a tool-building stage, a dependency layer whose bytes differ on every real run
# (as apt and pip layers do), then the agent's code last.
ABCA_SHAPED = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE} AS tools
RUN head -c 2000000 /dev/urandom > /tool.bin
FROM ${BASE_IMAGE}
RUN head -c 3000000 /dev/urandom > /deps.bin
COPY --from=tools /tool.bin /usr/local/bin/tool.bin
COPY agent/src/ /app/
ENV PYTHONUNBUFFERED=1
EXPOSE 8080
CMD ["python3", "/app/server.py"]
"""


def manifest(registry: Registry, uri: str) -> tuple[str, dict[str, Any]]:
    """The media type and body of the manifest ``uri`` (ECR form) names in the sandbox registry."""
    repository, _, digest = uri.split("/", 1)[1].partition("@")
    accept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json"
    request = urllib.request.Request(f"http://{registry.host}/v2/{repository}/manifests/{digest}",
                                     headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.headers["Content-Type"], json.loads(answer.read())


@pytest.fixture
def base_in_registry(registry: Registry, base_image: str, docker_client: Any) -> Iterator[str]:
    """The base image, pushed to the sandbox registry: an empty engine pulls it from there."""
    ref = f"{registry.host}/abca-test/base"
    docker_client.images.get(base_image).tag(ref, tag="bookworm")
    for event in docker_client.images.push(ref, tag="bookworm", stream=True, decode=True):
        assert "error" not in event, event
    yield f"{ref}:bookworm"
    docker_client.images.remove(f"{ref}:bookworm", noprune=True)  # the tag only; the base image stays


@pytest.fixture
def abca_shaped(sandbox: Platform, base_in_registry: str) -> Platform:  # noqa: F811
    (sandbox.context / "agent/Dockerfile").write_text(ABCA_SHAPED, encoding="utf-8")
    return sandbox


@pytest.fixture
def fresh_engine() -> Iterator[second_engine.SecondEngine]:
    why_not = second_engine.available()
    if why_not and os.environ.get("CI"):
        pytest.fail(f"CI must be able to start a second Docker Engine: {why_not}")
    if why_not:
        pytest.skip(why_not)
    engine = second_engine.start()
    yield engine
    engine.stop()


def test_an_agent_change_on_an_empty_engine_reuses_every_other_layer_from_the_registry(
    abca_shaped: Platform, base_in_registry: str, registry: Registry,
    fresh_engine: second_engine.SecondEngine, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = ["--build-args", f"BASE_IMAGE={base_in_registry}"]
    abca_shaped.write_message("warm build")
    code, first, err = abca_shaped.publish(capsys, *base)
    assert code == 0, err
    assert "BuildKit (buildx, docker driver)" in first["build"]
    monkeypatch.setenv("DOCKER_HOST", fresh_engine.host)  # a fresh runner: nothing cached, nothing pulled
    abca_shaped.write_message("agent-only change")
    code, second, err = abca_shaped.publish(capsys, *base)
    assert code == 0, err
    live = f"{registry.host}/{TEST_REPOSITORY}@{first['image_digest']}"
    assert f"cache from {live}" in second["build"], err
    assert "3 of 4 steps reused" in second["build"]  # both RUN steps and the stage copy; not agent/src
    assert "1 layers pushed, " in second["build"]
    media_type, before = manifest(registry, first["image_uri"])
    _, after = manifest(registry, second["image_uri"])
    assert media_type == "application/vnd.docker.distribution.manifest.v2+json"  # one platform, no index
    assert [layer["digest"] for layer in after["layers"][:-1]] == [
        layer["digest"] for layer in before["layers"][:-1]]  # random bytes: identical only if reused
    assert after["layers"][-1]["digest"] != before["layers"][-1]["digest"]
    assert abca_shaped.invoke()["message"] == "agent-only change"


def test_without_buildx_the_publish_uses_the_classic_builder_and_says_it_is_cold(
    sandbox: Platform, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,  # noqa: F811
    tmp_path: Any,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # no docker CLI, no buildx; the engine API answers
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    sandbox.write_message("classic")
    code, doc, err = sandbox.publish(capsys)
    assert code == 0, err
    assert "classic builder (no docker CLI on PATH): cold, no layer cache is imported" in err
    assert doc["build"].startswith("classic builder (Docker Engine API), cold: no layer cache imported")
    summary = (tmp_path / "summary.md").read_text()
    assert "**Image:** classic builder (Docker Engine API), cold: no layer cache imported; " in summary
    assert sandbox.invoke()["message"] == "classic"


def test_a_rebuild_with_the_live_digest_creates_no_version(
    sandbox: Platform, capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    sandbox.write_message("same image twice")
    code, first, err = sandbox.publish(capsys, "--builder", "classic")
    assert code == 0, err
    # Another build argument makes another content tag, so the image is rebuilt: every step from the local
    # cache gives the same image, the same digest, and so no new version.
    code, again, err = sandbox.publish(capsys, "--builder", "classic", "--build-args", "UNUSED=1")
    assert code == 0, err
    assert again["built"] is True
    assert again["status"] == "unchanged"
    assert again["image_digest"] == first["image_digest"]
    assert sandbox.versions() == ["1", "2"]


def test_an_image_over_the_size_limit_fails_with_both_figures_and_changes_nothing(
    sandbox: Platform, capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    sandbox.write_message("too big")
    code, doc, err = sandbox.publish(capsys, "--image-size-limit", "1000000")
    assert code == 1
    assert doc["status"] == "failed"
    line = next(line for line in err.splitlines() if line.startswith("error:"))
    assert "is over AgentCore's image limit of 1.0 MB; the runtime was not updated" in line
    assert "compressed " in line
    assert ", unpacked " in line
    assert sandbox.versions() == ["1"]
    assert sandbox.invoke()["message"] == "seed version"


def test_an_image_near_the_size_limit_is_a_warning_annotation(
    sandbox: Platform, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    from abca_deploy.build.facts import read_image
    from abca_deploy.build.registry import Registry

    seed = read_image(Registry(os.environ["ABCA_ECR_REGISTRY_ENDPOINT"]), TEST_REPOSITORY,
                      sandbox.seed_image.split("@")[1])
    assert seed.uncompressed_size is not None
    limit = int(seed.uncompressed_size / 0.95)  # the new image differs from the seed by a few bytes
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    sandbox.write_message("close to the limit")
    code, doc, err = sandbox.publish(capsys, "--image-size-limit", str(limit))
    assert code == 0, err
    assert doc["status"] == "deployed"
    assert "::warning title=Image near AgentCore's limit::The image sha256:" in err
    assert re.search(r"is at 9\d%25 of AgentCore's image limit of [0-9.,]+ MB", err), err


def test_an_image_of_another_platform_is_refused_before_the_update(
    sandbox: Platform, capsys: pytest.CaptureFixture[str], arm64_image: str,  # noqa: F811
) -> None:
    boto3.client("ecr").create_repository(repositoryName="abca-test/arm64")
    code, _, err = sandbox.publish(capsys, "--image", arm64_image)
    assert code == 1
    line = next(line for line in err.splitlines() if line.startswith("error:"))
    assert f"is linux/arm64, but {HOST_PLATFORM} was requested; the runtime was not updated" in line
    assert "The sandbox runs host-architecture images" in line
    assert sandbox.versions() == ["1"]
