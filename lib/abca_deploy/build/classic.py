"""The classic builder through the Docker Engine API: the fallback when BuildKit is not available.

It imports no cache from the registry, so on a fresh runner every step runs and every new layer is pushed:
the publish says it is cold. Steps the engine's own local cache still holds are counted as reused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from abca_deploy.build.plan import BuildReport

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from abca_deploy.build.plan import BuildRequest


def build(request: BuildRequest, auth: Mapping[str, str] | None, log: Callable[[str], None]) -> BuildReport:
    """Build ``request.image`` with the classic builder and push it."""
    from abca_deploy.docker_engine import DockerEngine, connect

    engine = DockerEngine(connect(), log=log)
    built = engine.build(request.context, request.dockerfile, request.image, request.build_args,
                         request.platform)
    repository, _, tag = request.image.rpartition(":")
    pushed = engine.push_counted(repository, tag, auth)
    return BuildReport(
        backend="classic builder (Docker Engine API)",
        digest=pushed.digest,
        steps=built.steps,
        cached_steps=built.cached_steps,
        layers_pushed=pushed.layers_pushed,
        layers_present=pushed.layers_present,
        cold=True,
    )
