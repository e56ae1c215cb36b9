"""The image step: content-addressed skips, immutable tags, and AgentCore's limits before any update."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.unit.fake_registry import FakeBuild, FakeRegistry

from abca_deploy.aws.ecr import RegistryAuth
from abca_deploy.build.registry import OCI_INDEX
from abca_deploy.errors import OperationFailed, UserError
from abca_deploy.runtime.image import ImagePlan, ImageResult, realize

REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent"
AUTH = RegistryAuth("AWS", "secret", "123456789012.dkr.ecr.us-east-1.amazonaws.com")
PLAN = ImagePlan(repository=REPO, push_repository=REPO, context=Path(), dockerfile="agent/Dockerfile",
                 platform="linux/arm64", content_tag="ctx-1", extra_tags=("v1",), size_limit=1_000_000)


class Warnings(list[tuple[str, str | None]]):
    def __call__(self, message: str, *, title: str | None = None) -> None:
        self.append((message, title))


def run(registry: FakeRegistry, build: FakeBuild | None = None, plan: ImagePlan = PLAN, *,
        immutable: bool = True, warn: Any = None) -> ImageResult:
    warn = warn if warn is not None else Warnings()
    return realize(plan, AUTH, immutable=immutable, log=lambda _: None, warn=warn,
                   registry=registry,  # type: ignore[arg-type]
                   build=build or FakeBuild(registry))


def test_existing_content_tag_skips_build_and_push() -> None:
    registry = FakeRegistry()
    digest = registry.push_image("ctx-1")
    registry.manifests["v1"] = registry.manifests[digest]
    build = FakeBuild(registry)
    result = run(registry, build)
    assert result.uri == f"{REPO}@{digest}"
    assert not result.built
    assert build.requests == []
    assert registry.tagged == []
    assert result.build_summary().startswith("build and push skipped: the registry already has ctx-1")


def test_new_content_is_built_and_pushed_with_its_tags() -> None:
    registry = FakeRegistry()
    build = FakeBuild(registry)
    result = run(registry, build)
    assert result.built
    assert [r.image for r in build.requests] == [f"{REPO}:ctx-1"]
    assert result.pushed_tags == ("ctx-1", "v1")
    assert registry.digest("", "v1") == result.digest
    assert "2 of 3 steps reused" in result.build_summary()


def test_immutable_tag_taken_by_another_image_is_exit_2() -> None:
    registry = FakeRegistry()
    registry.push_image("v1", unpacked=(5000,))
    with pytest.raises(UserError) as info:
        run(registry)
    assert info.value.exit_code == 2
    assert "'v1' already exists" in info.value.message
    assert "immutable" in info.value.one_line()
    assert registry.tagged == []


def test_mutable_tag_is_moved_to_the_new_image() -> None:
    registry = FakeRegistry()
    old = registry.push_image("v1", unpacked=(5000,))
    result = run(registry, immutable=False)
    assert registry.tagged == ["v1"]
    assert registry.digest("", "v1") == result.digest != old


def test_an_image_over_the_limit_unpacked_fails_with_both_figures_and_is_not_tagged() -> None:
    registry = FakeRegistry()
    with pytest.raises(OperationFailed) as info:
        run(registry, FakeBuild(registry, unpacked=(600_000, 600_000)))
    message = info.value.message
    assert info.value.exit_code == 1
    assert "unpacked 1.2 MB" in message  # zeros: tiny compressed, over the limit unpacked
    assert "compressed 0.0 MB" in message
    assert "over AgentCore's image limit of 1.0 MB" in message
    assert "the runtime was not updated" in message
    assert registry.tagged == []


def test_an_image_at_90_percent_warns_and_goes_on() -> None:
    registry, warnings = FakeRegistry(), Warnings()
    result = run(registry, FakeBuild(registry, unpacked=(960_000,)), warn=warnings)
    assert result.built
    assert warnings == [(f"The image {result.digest[:19]}… (compressed 0.0 MB, unpacked 1.0 MB) is at 96% of "
                         "AgentCore's image limit of 1.0 MB.", "Image near AgentCore's limit")]


def test_an_image_below_90_percent_does_not_warn() -> None:
    registry, warnings = FakeRegistry(), Warnings()
    run(registry, FakeBuild(registry, unpacked=(890_000,)), warn=warnings)
    assert warnings == []


def test_an_image_of_another_platform_fails_before_any_update() -> None:
    registry = FakeRegistry()
    with pytest.raises(OperationFailed) as info:
        run(registry, FakeBuild(registry, arch="amd64"))
    assert "is linux/amd64, but linux/arm64 was requested" in info.value.message
    assert "arm64 runner" in (info.value.hint or "")


def test_an_existing_image_index_is_refused() -> None:
    registry = FakeRegistry()
    registry.push_image("multi", media_type=OCI_INDEX)
    plan = ImagePlan(repository=REPO, push_repository=REPO, existing_ref="multi", platform="linux/arm64")
    with pytest.raises(OperationFailed) as info:
        run(registry, plan=plan)
    assert "is an image index" in info.value.message
    assert "--provenance=false" in (info.value.hint or "")


def test_an_unknown_existing_image_is_exit_2() -> None:
    plan = ImagePlan(repository=REPO, push_repository=REPO, existing_ref="nope", platform="linux/arm64")
    with pytest.raises(UserError, match="does not exist in the registry"):
        run(FakeRegistry(), plan=plan)
