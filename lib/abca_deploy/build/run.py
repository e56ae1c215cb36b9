"""Run one build: pick the backend for ``--builder``, plan its caches, build and push, report reuse."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from abca_deploy.build import buildx, classic
from abca_deploy.build.plan import CACHE_TAG, cache_plan, choose_backend

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.aws.ecr import RegistryAuth
    from abca_deploy.build.plan import BuilderSetting, BuildReport, BuildRequest


def cache_reference(repository: str | None) -> str | None:
    """The registry cache's reference in ``repository`` (push form), or None without one."""
    return f"{repository}:{CACHE_TAG}" if repository else None


def build_image(request: BuildRequest, auth: RegistryAuth, *, setting: BuilderSetting, live_image: str | None,
                cache_repository: str | None, log: Callable[[str], None]) -> BuildReport:
    """Build and push ``request.image``: BuildKit with the registry's caches, else classic (cold)."""
    host = request.image.split("/", 1)[0]
    with buildx.docker_env({host: (auth.username, auth.password)}) as env:
        builder, why_not = buildx.probe(env) if setting != "classic" else (None, "--builder classic")
        if choose_backend(setting, builder, why_not) == "classic":
            log(f"classic builder ({why_not}): cold, no layer cache is imported from the registry")
            return classic.build(request, auth.auth_config(host), log)
        assert builder is not None
        sources, export = cache_plan(builder, live_image, cache_reference(cache_repository))
        log(f"BuildKit: builder {builder.name!r} ({builder.driver} driver); cache from "
            + (", ".join(sources) if sources else "nothing (first publish)"))
        if export:
            log(f"registry cache export (mode=max, every stage): {export}")
        elif cache_repository:
            log(f"the {builder.driver} driver cannot export a registry cache (a docker-container builder or "
                "the containerd image store can): the image carries an inline cache of its own layers")
        return buildx.build(replace(request, cache_from=sources, cache_to=export), builder, env, log)
