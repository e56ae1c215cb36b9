"""Image tags on push: content-addressed skips; immutable repositories (same digest ok, another exit 2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from abca_deploy.aws.ecr import RegistryAuth
from abca_deploy.errors import UserError
from abca_deploy.runtime.image import ImagePlan, realize

REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent"
OLD, NEW = "sha256:" + "a" * 64, "sha256:" + "b" * 64
AUTH = RegistryAuth("AWS", "secret", "123456789012.dkr.ecr.us-east-1.amazonaws.com")


@dataclass
class FakeEngine:
    """A registry of tag -> digest, and a record of what was built and pushed."""

    remote: dict[str, str] = field(default_factory=dict)
    built: list[str] = field(default_factory=list)
    pushed: list[str] = field(default_factory=list)

    def remote_digest(self, ref: str, auth: object) -> str | None:
        return self.remote.get(ref.rsplit(":", 1)[1])

    def build(self, context: Path, dockerfile: str, tag: str, args: object, platform: str) -> None:
        self.built.append(tag)

    def push(self, repository: str, tag: str, auth: object) -> str:
        self.pushed.append(tag)
        self.remote[tag] = NEW
        return NEW

    def has_local(self, ref: str) -> bool:
        return True

    def tag(self, image: str, repository: str, tag: str) -> None:
        pass


PLAN = ImagePlan(repository=REPO, push_repository=REPO, context=Path(), dockerfile="agent/Dockerfile",
                 platform="linux/arm64", content_tag="ctx-1", extra_tags=("v1",))


def test_existing_content_tag_skips_build_and_push() -> None:
    engine = FakeEngine(remote={"ctx-1": NEW, "v1": NEW})
    result = realize(PLAN, engine, AUTH, immutable=True, log=lambda _: None)  # type: ignore[arg-type]
    assert result.uri == f"{REPO}@{NEW}"
    assert not result.built
    assert engine.built == []
    assert engine.pushed == []


def test_new_content_is_built_and_pushed_with_its_tags() -> None:
    engine = FakeEngine()
    result = realize(PLAN, engine, AUTH, immutable=True, log=lambda _: None)  # type: ignore[arg-type]
    assert result.built
    assert engine.built == [f"{REPO}:ctx-1"]
    assert engine.pushed == ["ctx-1", "v1"]


def test_immutable_tag_taken_by_another_image_is_exit_2() -> None:
    engine = FakeEngine(remote={"v1": OLD})
    with pytest.raises(UserError) as info:
        realize(PLAN, engine, AUTH, immutable=True, log=lambda _: None)  # type: ignore[arg-type]
    assert info.value.exit_code == 2
    assert "'v1' already exists" in info.value.message
    assert "immutable" in info.value.one_line()
    assert engine.pushed == ["ctx-1"]


def test_mutable_tag_is_moved_to_the_new_image() -> None:
    engine = FakeEngine(remote={"v1": OLD})
    realize(PLAN, engine, AUTH, immutable=False, log=lambda _: None)  # type: ignore[arg-type]
    assert engine.pushed == ["ctx-1", "v1"]
    assert engine.remote["v1"] == NEW
