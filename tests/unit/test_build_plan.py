"""Build decisions: the backend for --builder, the caches, the exact buildx command, reading its progress."""

from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path

import pytest

from abca_deploy.build.buildx import build_command
from abca_deploy.build.facts import unwrap
from abca_deploy.build.plan import Builder, BuildReport, BuildRequest, cache_plan, choose_backend
from abca_deploy.build.progress import BuildProgress
from abca_deploy.errors import OperationFailed

DOCKER = Builder(name="default", driver="docker", exports_cache=False)
CONTAINER = Builder(name="ci", driver="docker-container", exports_cache=True)
LIVE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent@sha256:" + "a" * 64
CACHE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/ci:buildcache"


def test_auto_takes_buildkit_when_a_builder_answers_and_classic_otherwise() -> None:
    assert choose_backend("auto", DOCKER, "") == "buildkit"
    assert choose_backend("auto", None, "no docker CLI on PATH") == "classic"
    assert choose_backend("classic", CONTAINER, "") == "classic"


def test_buildkit_demanded_without_buildx_fails_saying_how_to_get_it() -> None:
    with pytest.raises(OperationFailed) as info:
        choose_backend("buildkit", None, "no docker CLI on PATH")
    assert info.value.message == "--builder buildkit: docker buildx is not available (no docker CLI on PATH)."
    assert "docker-buildx" in (info.value.hint or "")


def test_a_builder_that_exports_reads_and_writes_the_registry_cache_then_reads_the_live_image() -> None:
    assert cache_plan(CONTAINER, LIVE, CACHE) == ((CACHE, LIVE), CACHE)


def test_the_docker_driver_reads_the_live_image_inline_cache_only() -> None:
    assert cache_plan(DOCKER, LIVE, CACHE) == ((LIVE,), None)
    assert cache_plan(DOCKER, None, CACHE) == ((), None)
    assert cache_plan(CONTAINER, LIVE, None) == ((LIVE,), None)


def test_the_buildx_command_pushes_one_platform_without_attestations_and_ecr_cache_flags() -> None:
    request = BuildRequest(context=Path("/src"), dockerfile="agent/Dockerfile", build_args={"A": "1"},
                           platform="linux/arm64", image="reg/abca/agent:ctx-1", cache_from=(CACHE, LIVE),
                           cache_to=CACHE)
    argv = build_command("docker", request, Path("/tmp/meta.json"))
    assert argv[:3] == ["docker", "buildx", "build"]
    assert {"--push", "--provenance=false", "--sbom=false", "--progress=rawjson"} <= set(argv)
    pairs = list(itertools.pairwise(argv))
    assert ("--platform", "linux/arm64") in pairs
    assert ("--file", "/src/agent/Dockerfile") in pairs
    assert ("--build-arg", "A=1") in pairs
    assert ("--cache-from", f"type=registry,ref={CACHE}") in pairs
    assert ("--cache-from", f"type=registry,ref={LIVE}") in pairs
    ecr = "mode=max,image-manifest=true,oci-mediatypes=true"
    assert ("--cache-to", f"type=registry,ref={CACHE},{ecr}") in pairs
    assert argv[-1] == "/src"


def test_without_a_registry_cache_the_image_carries_an_inline_cache() -> None:
    request = BuildRequest(context=Path("/src"), dockerfile="Dockerfile", build_args={},
                           platform="linux/amd64", image="reg/a:ctx-1")
    argv = build_command("docker", request, Path("/tmp/meta.json"))
    assert ("--cache-to", "type=inline") in list(itertools.pairwise(argv))


def documents(*docs: dict[str, object]) -> list[str]:
    """rawjson as buildx writes it: pretty-printed documents, one line at a time."""
    return [line + "\n" for doc in docs for line in json.dumps(doc, indent=2).splitlines()]


def test_progress_counts_cached_layer_steps_cache_sources_and_layers_sent() -> None:
    lines: list[str] = []
    progress = BuildProgress(lines.append)
    stamp = {"started": "2026-12-02T09:48:18.100000000Z", "completed": "2026-12-02T09:48:20.600000000Z"}
    for line in documents(
        {"vertexes": [{"digest": "a", "name": "importing cache manifest from reg/agent@sha256:1", **stamp},
                      {"digest": "b", "name": "importing cache manifest from reg/ci:buildcache",
                       "error": "not found", **stamp}]},
        {"vertexes": [{"digest": "c", "name": "[tools 2/2] RUN make gh", "cached": True, **stamp},
                      {"digest": "d", "name": "[stage-1 2/4] RUN apt-get install -y git", "cached": True,
                       **stamp},
                      {"digest": "e", "name": "[stage-1 4/4] COPY agent/src/ /app/src/", **stamp},
                      {"digest": "f", "name": "[stage-1 1/4] FROM python:3.13-slim", **stamp}]},
        {"logs": [{"vertex": "e", "data": base64.b64encode(b"copied\n").decode()}],
         "statuses": [{"id": "pushing layer 11", "vertex": "g", "total": 30, "current": 30},
                      {"id": "pushing layer 22", "vertex": "g", "current": 0},
                      {"id": "pushing layer 22", "vertex": "g", "current": 0, "completed": "x"}]},
    ):
        progress.feed(line)
    progress.feed("ERROR: something buildx said\n")
    assert (progress.steps, progress.cached_steps) == (3, 2)
    assert progress.cache_imports == {"reg/agent@sha256:1": "", "reg/ci:buildcache": "not found"}
    assert (progress.layers_pushed, progress.layers_present) == (1, 1)
    assert "[stage-1 4/4] COPY agent/src/ /app/src/: done in 2.5s" in lines
    assert "[tools 2/2] RUN make gh: CACHED" in lines
    assert "  copied" in lines
    assert progress.failure() == "ERROR: something buildx said"


def test_a_report_says_which_cache_served_and_how_much() -> None:
    report = BuildReport(backend="BuildKit (buildx, docker driver)", digest="sha256:1", steps=4,
                         cached_steps=3,
                         cache_from={"reg/agent@sha256:1": "", "reg/ci:buildcache": "not found"},
                         layers_pushed=1, layers_present=3)
    assert report.summary() == ("BuildKit (buildx, docker driver), cache from reg/agent@sha256:1; "
                                "3 of 4 steps reused; 1 layers pushed, 3 already in the registry")
    cold = BuildReport(backend="classic builder (Docker Engine API)", digest="d", steps=2, cached_steps=0,
                       cold=True)
    assert cold.summary().startswith("classic builder (Docker Engine API), cold: no layer cache imported")


@pytest.mark.parametrize(
    ("isize", "compressed", "unpacked"),
    [(2560, 145, 2560), (30_002_176, 30_009_432, 30_002_176), (5, 5_000_000_000, 5 + (1 << 32) * 2)],
)
def test_a_gzip_trailer_gives_the_unpacked_size_and_wraps_only_when_the_compressed_size_proves_it(
    isize: int, compressed: int, unpacked: int,
) -> None:
    assert unwrap(isize, compressed) == unpacked


@pytest.mark.parametrize(("endpoint", "pulled_from"), [
    (None, "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent"),  # real ECR
    ("127.0.0.1:5000", "127.0.0.1:5000/abca/agent"),  # the sandbox registry
])
def test_the_live_image_is_a_cache_source_pinned_once_to_its_digest(tmp_path: Path, endpoint: str | None,
                                                                      pulled_from: str) -> None:
    from abca_deploy.runtime.image import plan_image
    from abca_deploy.runtime.settings import PublishSettings

    (tmp_path / "agent").mkdir()
    (tmp_path / "agent" / "Dockerfile").write_text("FROM scratch\n")
    settings = PublishSettings(runtime_id="rt-0123456789", context=str(tmp_path),
                               dockerfile="agent/Dockerfile", ecr_registry_endpoint=endpoint, tags=["t1"])
    plan = plan_image(settings, "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent", live_image=LIVE,
                      immutable=True)
    assert plan.live_image == f"{pulled_from}@sha256:{'a' * 64}"


@pytest.mark.parametrize(("flags", "immutable", "expected"), [
    ([], False, "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent"),  # the image's own repository
    ([], True, None),  # immutable tags: a cache tag could never be rewritten
    (["abca/cache"], True, "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/cache"),
])
def test_the_plan_names_the_registry_cache_the_build_will_write(
    tmp_path: Path, flags: list[str], immutable: bool, expected: str | None,
) -> None:
    """What `runtime publish --dry-run` shows is what the build then uses."""
    from abca_deploy.runtime.image import plan_image
    from abca_deploy.runtime.settings import PublishSettings

    (tmp_path / "agent").mkdir()
    (tmp_path / "agent" / "Dockerfile").write_text("FROM scratch\n")
    settings = PublishSettings(runtime_id="rt-0123456789", context=str(tmp_path), tags=["t1"],
                               cache_repository=flags[0] if flags else None)
    repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent"
    assert plan_image(settings, repository, immutable=immutable).cache_repository == expected
