"""Build decisions as pure functions: which backend, which caches to import and export, what to report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from abca_deploy.errors import OperationFailed

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

BuilderSetting = Literal["auto", "buildkit", "classic"]
CACHE_TAG = "buildcache"
# Amazon ECR stores BuildKit's registry cache only as an image manifest with OCI media types (BuildKit's
# default cache is an index ECR rejects): the AWS containers blog "Announcing remote cache support in
# Amazon ECR for BuildKit clients", Docker's "Registry cache" docs, aws/containers-roadmap#876.
REGISTRY_CACHE_OPTIONS = "mode=max,image-manifest=true,oci-mediatypes=true"


@dataclass(frozen=True)
class Builder:
    """A buildx builder as ``docker buildx inspect`` describes it."""

    name: str
    driver: str
    exports_cache: bool  # docker-container/remote/kubernetes drivers, or the docker driver on containerd


@dataclass(frozen=True)
class BuildRequest:
    """One build: the context, where the image goes, and the caches to read and write."""

    context: Path
    dockerfile: str
    build_args: Mapping[str, str]
    platform: str
    image: str  # <push repository>:<content tag>
    cache_from: tuple[str, ...] = ()  # registry references, newest first
    cache_to: str | None = None  # registry reference of a mode=max cache, or None for inline cache only


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the log, the summary and the JSON document."""

    backend: str
    digest: str
    steps: int
    cached_steps: int
    cache_from: Mapping[str, str] = field(default_factory=dict)  # ref -> "" when imported, else why not
    cache_to: str = ""
    layers_pushed: int | None = None
    layers_present: int | None = None
    cold: bool = False

    def summary(self) -> str:
        """One line: backend, caches, steps reused, layers pushed."""
        used = [ref for ref, error in self.cache_from.items() if not error]
        if self.cold:
            cache = "cold: no layer cache imported"
        elif used:
            cache = "cache from " + ", ".join(used)
        else:
            cache = "no cache imported (" + ("none of the sources could be read" if self.cache_from
                                            else "no cache source: a first build") + ")"
        parts = [f"{self.backend}, {cache}", f"{self.cached_steps} of {self.steps} steps reused"]
        if self.cache_to:
            parts.append(f"cache exported to {self.cache_to}")
        if self.layers_pushed is not None:
            parts.append(f"{self.layers_pushed} layers pushed, {self.layers_present} already in the registry")
        return "; ".join(parts)


def choose_backend(setting: BuilderSetting, builder: Builder | None, why_not: str) -> str:
    """``buildkit`` or ``classic`` for ``--builder``, given the builder found (``why_not``: why none was)."""
    if setting == "classic":
        return "classic"
    if builder is not None:
        return "buildkit"
    if setting == "buildkit":
        msg = f"--builder buildkit: docker buildx is not available ({why_not})."
        raise OperationFailed(
            msg,
            hint="Install the buildx CLI plugin (GitHub runners have it; Debian: docker-buildx; "
            "scripts/bootstrap installs it here), or use --builder auto.",
            title="BuildKit not available",
        )
    return "classic"


def cache_plan(builder: Builder | None, live_image: str | None, cache_ref: str | None,
               ) -> tuple[tuple[str, ...], str | None]:
    """The caches to import (the registry cache, then the live image's inline cache) and the one to export.

    A registry cache (``mode=max``: every stage, such as a Go build stage) is written only where the
    builder can export one; otherwise the pushed image carries an inline cache of its own layers.
    """
    exports = builder is not None and builder.exports_cache and cache_ref is not None
    sources = tuple(ref for ref in ((cache_ref if exports else None), live_image) if ref)
    return sources, cache_ref if exports else None
