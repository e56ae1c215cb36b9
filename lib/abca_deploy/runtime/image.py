"""The image half of a publish: plan what to build and where to push, then build and push (or resolve)."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from abca_deploy.errors import UserError
from abca_deploy.identifiers import ECR_URI

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from abca_deploy.aws.ecr import RegistryAuth
    from abca_deploy.docker_engine import DockerEngine
    from abca_deploy.runtime.settings import PublishSettings

CONTENT_TAG_PREFIX = "ctx-"


@dataclass(frozen=True)
class ImagePlan:
    """What to build or deploy: the ECR repository, where docker pushes, and which tags."""

    repository: str  # <account>.dkr.ecr.<region>.amazonaws.com/<name>: what AgentCore pulls
    push_repository: str  # where the engine pushes (the same, or the sandbox registry)
    existing_ref: str | None = None  # --image: a tag or sha256 digest in the repository
    context: Path | None = None
    dockerfile: str = ""
    build_args: Mapping[str, str] = field(default_factory=dict)
    platform: str = ""
    content_tag: str | None = None
    extra_tags: tuple[str, ...] = ()

    @property
    def builds(self) -> bool:
        """True when the plan builds from a context (not --image)."""
        return self.existing_ref is None


@dataclass(frozen=True)
class ImageResult:
    """The pushed or resolved image: digest-pinned URI for AgentCore, and whether anything was built."""

    uri: str
    digest: str
    built: bool
    pushed_tags: tuple[str, ...]


def push_target(repository: str, registry_endpoint: str | None) -> str:
    """Where the engine pushes ``repository``: ECR hosts go to ``registry_endpoint`` when one is set."""
    match = ECR_URI.fullmatch(repository)
    if registry_endpoint and match and match["account"]:
        return f"{registry_endpoint}/{match['repository']}"
    return repository


def git_sha(context: Path) -> str | None:
    """The commit being deployed: GITHUB_SHA in Actions, else ``git rev-parse HEAD`` in the context."""
    sha = os.environ.get("GITHUB_SHA", "").strip()
    if sha:
        return sha
    try:
        done = subprocess.run(
            ["git", "-C", str(context), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def build_args(settings: PublishSettings) -> dict[str, str]:
    """--default-build-args overridden by --build-args."""
    from abca_deploy.docker_engine import parse_build_args

    return {**parse_build_args(settings.default_build_args), **parse_build_args(settings.build_args)}


def start_hashing(settings: PublishSettings) -> Future[str] | None:
    """Hash the build context in a thread (hashlib releases the GIL) while the runtime is being resolved."""
    from abca_deploy.docker_engine import context_digest

    context = Path(settings.context)
    if settings.image or not (context / settings.dockerfile).is_file():
        return None
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="context-hash")
    args = build_args(settings)
    future = pool.submit(context_digest, context, settings.dockerfile, args, settings.platform)
    pool.shutdown(wait=False)
    return future


def plan_image(settings: PublishSettings, repository: str, hashing: Future[str] | None = None) -> ImagePlan:
    """The image plan for ``repository`` (ECR form); checks the context and Dockerfile exist."""
    from abca_deploy.docker_engine import context_digest

    push_repository = push_target(repository, settings.ecr_registry_endpoint)
    if settings.image:
        match = ECR_URI.fullmatch(settings.image)
        assert match is not None
        ref = match["digest"] or match["tag"]
        return ImagePlan(repository=repository, push_repository=push_repository, existing_ref=ref)
    context = Path(settings.context)
    if not context.is_dir():
        msg = f"--context: {settings.context!r} is not a directory."
        raise UserError(msg, title="Invalid --context")
    if not (context / settings.dockerfile).is_file():
        msg = f"--dockerfile: {settings.dockerfile!r} does not exist in the context {settings.context!r}."
        raise UserError(
            msg,
            hint="The path is relative to --context (ABCA: context '.', dockerfile 'agent/Dockerfile').",
            title="Invalid --dockerfile",
        )
    args = build_args(settings)
    digest = (hashing.result() if hashing
              else context_digest(context, settings.dockerfile, args, settings.platform))
    extra = tuple(dict.fromkeys(settings.tags)) if settings.tags else tuple(filter(None, [git_sha(context)]))
    return ImagePlan(
        repository=repository,
        push_repository=push_repository,
        context=context,
        dockerfile=settings.dockerfile,
        build_args=args,
        platform=settings.platform,
        content_tag=CONTENT_TAG_PREFIX + digest[:24],
        extra_tags=extra,
    )


def realize(
    plan: ImagePlan, engine: DockerEngine, auth: RegistryAuth, *, immutable: bool, log: Callable[[str], None]
) -> ImageResult:
    """Build and push (skipped when the registry already has the content tag), or resolve --image."""
    auth_config = auth.auth_config(plan.push_repository.split("/", 1)[0])
    if not plan.builds:
        assert plan.existing_ref is not None
        sep = "@" if plan.existing_ref.startswith("sha256:") else ":"
        digest = engine.remote_digest(f"{plan.push_repository}{sep}{plan.existing_ref}", auth_config)
        if digest is None:
            msg = f"--image: {plan.repository}{sep}{plan.existing_ref} does not exist in the registry."
            raise UserError(
                msg, hint="Push it first, or name an existing tag or digest.", title="Unknown image"
            )
        return ImageResult(f"{plan.repository}@{digest}", digest, built=False, pushed_tags=())
    assert plan.content_tag is not None
    assert plan.context is not None
    local = f"{plan.push_repository}:{plan.content_tag}"
    digest = engine.remote_digest(local, auth_config)
    built, pushed = False, []
    if digest is None:
        log(f"building {plan.context}/{plan.dockerfile} for {plan.platform}")
        engine.build(plan.context, plan.dockerfile, local, plan.build_args, plan.platform)
        digest = engine.push(plan.push_repository, plan.content_tag, auth_config)
        built, pushed = True, [plan.content_tag]
    else:
        log(f"the registry already has {plan.content_tag} ({digest}): build and push skipped")
    for tag in plan.extra_tags:
        if _push_extra_tag(plan, tag, digest, engine, auth_config, immutable=immutable, log=log):
            pushed.append(tag)
    return ImageResult(f"{plan.repository}@{digest}", digest, built=built, pushed_tags=tuple(pushed))


def _push_extra_tag(
    plan: ImagePlan,
    tag: str,
    digest: str,
    engine: DockerEngine,
    auth_config: dict[str, str],
    *,
    immutable: bool,
    log: Callable[[str], None],
) -> bool:
    existing = engine.remote_digest(f"{plan.push_repository}:{tag}", auth_config)
    if existing == digest:
        return False
    if existing is not None and immutable:
        msg = f"The tag {tag!r} already exists in {plan.repository} with another image ({existing})."
        raise UserError(
            msg, hint="The repository's tags are immutable: pass another --tag.", title="Immutable tag taken"
        )
    source = f"{plan.push_repository}:{plan.content_tag}"
    if not engine.has_local(source):
        engine.pull(plan.push_repository, plan.content_tag or "", auth_config)
    engine.tag(source, plan.push_repository, tag)
    pushed = engine.push(plan.push_repository, tag, auth_config)
    if pushed != digest:
        log(f"warning: tag {tag} was pushed as {pushed}, not {digest}")
    return True
