"""The image half of a publish: plan what to build and where to push, then build and push (or resolve),
and check what was pushed against AgentCore's limits before the runtime is touched."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from abca_deploy.build.limits import AGENTCORE_IMAGE_LIMIT, check_image, sizes_text
from abca_deploy.errors import UserError
from abca_deploy.identifiers import ECR_URI, digest_of, repository_of

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from abca_deploy.aws.ecr import RegistryAuth
    from abca_deploy.build.facts import ImageFacts
    from abca_deploy.build.plan import BuilderSetting, BuildReport, BuildRequest
    from abca_deploy.build.registry import Registry
    from abca_deploy.runtime.settings import PublishSettings

    Warn = Callable[..., None]
    Build = Callable[[BuildRequest, RegistryAuth], BuildReport]

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
    builder: BuilderSetting = "auto"
    live_image: str | None = None  # the runtime's current image (push form, by digest): a cache source
    cache_repository: str | None = None  # push form; None: no registry cache (the tags are all immutable)
    size_limit: int = AGENTCORE_IMAGE_LIMIT
    sandbox: bool = False

    @property
    def builds(self) -> bool:
        """True when the plan builds from a context (not --image)."""
        return self.existing_ref is None


@dataclass(frozen=True)
class ImageResult:
    """The pushed or resolved image: the URI by digest for AgentCore, how it was made, what it is."""

    uri: str
    digest: str
    built: bool
    pushed_tags: tuple[str, ...]
    build: BuildReport | None = None
    facts: ImageFacts | None = None
    note: str = ""  # why nothing was built

    def build_summary(self) -> str:
        """One line for the summary: how the image was made and how much was reused, and its sizes."""
        made = self.build.summary() if self.build is not None else self.note
        return made + (f" ({sizes_text(self.facts)})" if self.facts else "")


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


def plan_image(settings: PublishSettings, repository: str, hashing: Future[str] | None = None,
               live_image: str | None = None, *, immutable: bool) -> ImagePlan:
    """The image plan for ``repository`` (ECR form); checks the context and Dockerfile exist.

    ``live_image`` is the runtime's current image (ECR form): a build imports its layers as a cache. The
    registry cache goes to ``--cache-repository``, else to ``repository`` itself unless its tags are
    ``immutable`` (a cache tag is rewritten by every build).
    """
    from abca_deploy.docker_engine import context_digest

    def plan(**specific: Any) -> ImagePlan:
        return ImagePlan(
            repository=repository, push_repository=push_target(repository, settings.ecr_registry_endpoint),
            platform=settings.platform, size_limit=settings.image_size_limit,
            sandbox=settings.ecr_registry_endpoint is not None, **specific,
        )

    if settings.image:
        match = ECR_URI.fullmatch(settings.image)
        assert match is not None
        return plan(existing_ref=match["digest"] or match["tag"])
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
    live_digest = digest_of(live_image) if live_image and ECR_URI.fullmatch(live_image) else None
    live = None
    if live_image and live_digest:  # where the engine pulls the live image from, pinned to its digest
        live = f"{push_target(repository_of(live_image), settings.ecr_registry_endpoint)}@{live_digest}"
    cache_repository = settings.cache_repository or (None if immutable else repository)
    if cache_repository and not ECR_URI.match(cache_repository):
        registry = ECR_URI.match(repository)
        cache_repository = f"{registry['registry']}/{cache_repository}" if registry else cache_repository
    return plan(
        context=context,
        dockerfile=settings.dockerfile,
        build_args=args,
        content_tag=CONTENT_TAG_PREFIX + digest[:24],
        extra_tags=extra,
        builder=settings.builder,
        live_image=live,
        cache_repository=(push_target(cache_repository, settings.ecr_registry_endpoint)
                          if cache_repository else None),
    )


def _no_warning(message: str, *, title: str | None = None) -> None:
    """The default warning callback: warnings are dropped (the Publisher passes its reporter's)."""


def realize(
    plan: ImagePlan,
    auth: RegistryAuth,
    *,
    immutable: bool,
    log: Callable[[str], None],
    warn: Warn = _no_warning,
    registry: Registry | None = None,
    build: Build | None = None,
) -> ImageResult:
    """Build and push (skipped when the registry already has the content tag), or resolve --image; then
    check the image against AgentCore's limits (OperationFailed when over: nothing is updated) and tag it."""
    from abca_deploy.build.facts import read_image
    from abca_deploy.build.registry import Registry

    host, _, repository = plan.push_repository.partition("/")
    registry = registry or Registry(host, auth.username, auth.password)
    report, note = None, ""
    if not plan.builds:
        assert plan.existing_ref is not None
        digest = registry.digest(repository, plan.existing_ref)
        if digest is None:
            sep = "@" if plan.existing_ref.startswith("sha256:") else ":"
            msg = f"--image: {plan.repository}{sep}{plan.existing_ref} does not exist in the registry."
            hint = "Push it first, or name an existing tag or digest."
            raise UserError(msg, hint=hint, title="Unknown image")
        note = "not built: --image names an existing image"
    else:
        assert plan.content_tag is not None
        digest = registry.digest(repository, plan.content_tag)
        if digest is None:
            report = (build or _build_for(plan, log))(_request(plan), auth)
            digest = registry.digest(repository, plan.content_tag) or report.digest
            log(f"build: {report.summary()}")
        else:
            note = f"build and push skipped: the registry already has {plan.content_tag}"
            log(f"the registry already has {plan.content_tag} ({digest}): build and push skipped")
    facts = read_image(registry, repository, digest)
    verdict = check_image(facts, limit=plan.size_limit, platform=plan.platform, sandbox=plan.sandbox)
    log(f"image {digest}: {facts.media_type}, {facts.platform}, {sizes_text(facts)}")
    for line in verdict.notes:
        log(line)
    for line in verdict.warnings:
        warn(line, title="Image near AgentCore's limit")
    pushed = [plan.content_tag] if report is not None and plan.content_tag else []
    for tag in plan.extra_tags:
        if _tag(plan, tag, digest, registry, immutable=immutable):
            pushed.append(tag)
    return ImageResult(f"{plan.repository}@{digest}", digest, built=report is not None,
                       pushed_tags=tuple(pushed), build=report, facts=facts, note=note)


def _request(plan: ImagePlan) -> BuildRequest:
    from abca_deploy.build.plan import BuildRequest

    assert plan.context is not None
    return BuildRequest(context=plan.context, dockerfile=plan.dockerfile, build_args=plan.build_args,
                        platform=plan.platform, image=f"{plan.push_repository}:{plan.content_tag}")


def _build_for(plan: ImagePlan, log: Callable[[str], None]) -> Build:
    """The real build for ``plan``."""
    from abca_deploy.build.run import build_image

    def run(request: BuildRequest, auth: RegistryAuth) -> BuildReport:
        log(f"building {plan.context}/{plan.dockerfile} for {plan.platform}")
        return build_image(request, auth, setting=plan.builder, live_image=plan.live_image,
                           cache_repository=plan.cache_repository, log=log)

    return run


def _tag(plan: ImagePlan, tag: str, digest: str, registry: Registry, *, immutable: bool) -> bool:
    """Point ``tag`` at ``digest`` by copying the manifest (no layer moves); False when it already does."""
    repository = plan.push_repository.partition("/")[2]
    existing = registry.digest(repository, tag)
    if existing == digest:
        return False
    if existing is not None and immutable:
        msg = f"The tag {tag!r} already exists in {plan.repository} with another image ({existing})."
        raise UserError(
            msg, hint="The repository's tags are immutable: pass another --tag.", title="Immutable tag taken"
        )
    registry.put_manifest(repository, tag, registry.manifest(repository, digest))
    return True
