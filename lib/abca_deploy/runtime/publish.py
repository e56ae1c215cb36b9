"""``runtime publish``: resolve, plan, build and push, update, wait, smoke-test, promote, record, rollback."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from abca_deploy.errors import AbcaError, OperationFailed, UserError
from abca_deploy.runtime import config as cfg
from abca_deploy.runtime.wait import Poller, wait_endpoint_live, wait_idle, wait_version_ready

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future

    from abca_deploy.aws.agentcore import AgentCoreControl, AgentCoreData
    from abca_deploy.report import Reporter
    from abca_deploy.runtime.image import ImagePlan, ImageResult
    from abca_deploy.runtime.settings import PublishSettings
    from abca_deploy.runtime.smoke import SmokeResult


@dataclass
class Outcome:
    """What a publish did; becomes the outputs, the JSON document and the summary."""

    status: str = "failed"
    runtime_id: str = ""
    runtime_arn: str = ""
    previous_version: str = ""
    runtime_version: str = ""
    previous_image: str = ""
    image_uri: str = ""
    image_digest: str = ""
    built: bool = False
    build: str = ""
    smoke: SmokeResult | None = None
    rolled_back_to: str = ""
    config_diff: list[tuple[str, str, str]] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    agentcore_calls: int = 0
    started: float = field(default_factory=time.monotonic)


@dataclass
class Clients:
    """What a publish talks to; tests inject fakes for the AgentCore planes and the image step."""

    control: AgentCoreControl
    data: AgentCoreData
    repository: Callable[[PublishSettings, str], tuple[str, bool]] | None = None
    image: Callable[[ImagePlan, bool, Callable[[str], None]], ImageResult] | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def poller(self, timeout: float) -> Poller:
        """A poller on this publish's clock."""
        return Poller(timeout, sleep=self.sleep, clock=self.clock)


def previous_ready_version(control: AgentCoreControl, runtime_id: str, current: dict[str, Any]) -> str:
    """The version serving now: the latest if READY, else the newest READY version."""
    if current.get("status") == "READY":
        return str(current["agentRuntimeVersion"])
    ready = [
        int(v["agentRuntimeVersion"])
        for v in control.list_versions(runtime_id)
        if v.get("status") == "READY" and str(v.get("agentRuntimeVersion", "")).isdigit()
    ]
    if not ready:
        msg = f"Runtime {runtime_id} has no READY version to carry settings from or roll back to."
        raise OperationFailed(
            msg,
            hint="Fix the runtime (see `abca-deploy runtime status`) and retry.",
            title="No READY version",
        )
    return str(max(ready))


def repository_for(settings: PublishSettings, current_image: str) -> tuple[str, bool]:
    """The ECR repository (URI form) to push to, and whether its tags are immutable."""
    from abca_deploy.aws.ecr import Ecr
    from abca_deploy.aws.session import client

    name = settings.ecr_repository
    if settings.image:
        name = name or cfg.repository_of(settings.image).split("/", 1)[1]
    if name is None:
        match = cfg.ECR_URI.match(current_image)
        if match is None or not match["account"]:
            msg = f"The runtime's current image {current_image!r} is not in a private ECR repository."
            raise UserError(msg, hint="Pass --ecr-repository NAME.", title="No ECR repository")
        name = match["repository"]
    elif match := cfg.ECR_URI.match(name):
        name = match["repository"]
    repo = Ecr(client("ecr", settings.aws_region)).repository(name)
    return repo.uri, repo.immutable


class Publisher:
    """Runs one publish. Each phase is a reporter group; failures after the update trigger the rollback."""

    def __init__(self, settings: PublishSettings, reporter: Reporter, clients: Clients) -> None:
        self.s, self.r, self.c = settings, reporter, clients
        self.out = Outcome()

    def run(self, runtime_id: str) -> Outcome:
        """Publish; returns the outcome, raising AbcaError (with ``self.out`` filled) on failure."""
        from abca_deploy.runtime.image import start_hashing

        poller = self.c.poller(self.s.wait_timeout)
        hashing = start_hashing(self.s)
        with self.r.group("Resolve runtime"):
            current = wait_idle(self.c.control, runtime_id, poller, self.r.info)
            self._describe_current(runtime_id, current)
        with self.r.group("Plan"):
            plan, immutable = self._plan(current, hashing)
        if self.s.dry_run:
            self.out.status = "planned"
            return self.out
        with self.r.group("Build and push" if plan.builds else "Resolve image"):
            image = self._image(plan, immutable)
        if image.digest == cfg.digest_of(self.out.previous_image) and current.get("status") == "READY":
            self.out.status = "unchanged"
            self.out.runtime_version = self.out.previous_version
            self.r.info(f"runtime {runtime_id} already runs {image.digest}: nothing to update")
            self._record_image()
            return self.out
        request = cfg.with_image(cfg.carry_forward(current), image.uri)
        self.out.config_diff = cfg.diff(current, request)
        try:
            self._roll_out(runtime_id, request, poller)
        except AbcaError as exc:
            self._recover(runtime_id, exc)
        self._record_image()
        self.out.status = "deployed"
        return self.out

    def _describe_current(self, runtime_id: str, current: dict[str, Any]) -> None:
        if cfg.container_uri(current) is None:
            msg = f"Runtime {runtime_id} does not run a container image (it uses a code artifact)."
            raise UserError(msg, title="Not a container runtime")
        self.out.runtime_id = runtime_id
        self.out.runtime_arn = str(current.get("agentRuntimeArn", ""))
        self.out.previous_image = cfg.container_uri(current) or ""
        self.out.previous_version = previous_ready_version(self.c.control, runtime_id, current)
        self.r.info(
            f"runtime {runtime_id}: version {current.get('agentRuntimeVersion')} "
            f"{current.get('status')}, image {self.out.previous_image}"
        )

    def _plan(self, current: dict[str, Any], hashing: Future[str] | None) -> tuple[ImagePlan, bool]:
        from abca_deploy.runtime.image import plan_image

        repository, immutable = (self.c.repository or repository_for)(self.s, self.out.previous_image)
        plan = plan_image(self.s, repository, hashing, live_image=self.out.previous_image)
        request = cfg.with_image(cfg.carry_forward(current), f"{repository}@<digest of the pushed image>")
        self.out.plan = {
            "runtime_id": self.out.runtime_id,
            "current_version": str(current.get("agentRuntimeVersion", "")),
            "current_image": self.out.previous_image,
            "image": {
                "repository": plan.repository,
                "push_repository": plan.push_repository,
                "existing_ref": plan.existing_ref,
                "content_tag": plan.content_tag,
                "extra_tags": list(plan.extra_tags),
                "platform": plan.platform or None,
                "context": str(plan.context) if plan.context else None,
                "dockerfile": plan.dockerfile or None,
                "build_args": sorted(plan.build_args),
            },
            "update_request": {"agentRuntimeId": self.out.runtime_id, **cfg.redact(request)},
            "rollback": (
                f"UpdateAgentRuntime with version {self.out.previous_version}'s configuration"
                if self.s.rollback
                else "none (--no-rollback)"
            ),
            "promote_endpoint": self.s.promote_endpoint,
        }
        self._check_platform(plan)
        return plan, immutable

    def _check_platform(self, plan: ImagePlan) -> None:
        if not plan.builds or plan.platform == "linux/arm64":
            return
        if self.s.ecr_registry_endpoint:
            self.r.notice(
                f"Building for {plan.platform}: the sandbox accepts host-architecture images; "
                "AgentCore on AWS requires linux/arm64.",
                title="Sandbox platform",
            )
        else:
            self.r.warning(
                f"Building for {plan.platform}, but AgentCore runs linux/arm64 images only.",
                title="Platform is not linux/arm64",
            )

    def _image(self, plan: ImagePlan, immutable: bool) -> ImageResult:
        image = (self.c.image or self._realize)(plan, immutable, self.r.info)
        self.out.image_uri, self.out.image_digest, self.out.built = image.uri, image.digest, image.built
        self.out.build = image.build_summary()
        self.r.info(
            f"image {image.uri}"
            + (f" (pushed tags: {', '.join(image.pushed_tags)})" if image.pushed_tags else "")
        )
        return image

    def _realize(self, plan: ImagePlan, immutable: bool, log: Callable[[str], None]) -> ImageResult:
        from abca_deploy.aws.ecr import Ecr
        from abca_deploy.aws.session import client
        from abca_deploy.runtime.image import realize

        auth = Ecr(client("ecr", self.s.aws_region)).authorization()
        self.r.mask(auth.password)
        return realize(plan, auth, immutable=immutable, log=log, warn=self.r.warning)

    def _roll_out(self, runtime_id: str, request: dict[str, Any], poller: Poller) -> None:
        from abca_deploy.runtime.smoke import smoke_test

        with self.r.group("Update runtime"):
            version = self._update(runtime_id, request, poller, rebase=True)
            self.out.runtime_version = version
        with self.r.group(f"Wait for version {version} READY"):
            wait_version_ready(self.c.control, runtime_id, version, poller, self.r.info)
        with self.r.group("Smoke test"):
            result = smoke_test(
                self.c.data,
                self.out.runtime_arn,
                self.s.payload(),
                qualifier=None,
                expected=self.s.expected_statuses,
                pattern=self.s.smoke_expect,
                sleep=self.c.sleep,
                log=self.r.info,
                warn=lambda message: self.r.warning(message, title="Smoke-test session not stopped"),
            )
            self.out.smoke = result
            self.r.info(f"smoke test {result.summary()}; body: {result.body_excerpt}")
            if not result.passed:
                msg = f"Smoke test of version {version} failed: {result.reason}."
                raise OperationFailed(msg, title="Smoke test failed")
        if self.s.promote_endpoint:
            with self.r.group(f"Promote endpoint {self.s.promote_endpoint}"):
                self._promote(runtime_id, version, poller)

    def _update(self, runtime_id: str, request: dict[str, Any], poller: Poller, *, rebase: bool) -> str:
        """UpdateAgentRuntime; on ConflictException wait for the other update, then retry (``rebase``: carry
        forward the settings that update left, keeping our image)."""
        from abca_deploy.aws.agentcore import Conflict

        while True:
            try:
                response = self.c.control.update_runtime(runtime_id, request)
            except Conflict:
                self.r.info("another update is in flight (ConflictException); waiting for it")
                current = wait_idle(self.c.control, runtime_id, poller, self.r.info)
                if rebase:
                    request = cfg.with_image(cfg.carry_forward(current), cfg.container_uri(request) or "")
                continue
            version = str(response["agentRuntimeVersion"])
            self.r.info(f"UpdateAgentRuntime accepted: version {version} {response.get('status', '')}")
            return version

    def _promote(self, runtime_id: str, version: str, poller: Poller) -> None:
        name = self.s.promote_endpoint
        assert name is not None
        existing = self.c.control.get_endpoint(runtime_id, name)
        self.c.control.point_endpoint(runtime_id, name, version, create=existing is None)
        wait_endpoint_live(self.c.control, runtime_id, name, version, poller, self.r.info)
        self.r.info(f"endpoint {name} now serves version {version}")

    def _recover(self, runtime_id: str, cause: AbcaError) -> None:
        self.out.error = cause.message
        self.r.error(cause.message, title=cause.title)
        if not self.s.rollback or self.s.promote_endpoint or not self.out.runtime_version:
            if self.s.promote_endpoint and self.out.runtime_version:
                self.r.warning(
                    f"Endpoint {self.s.promote_endpoint} was left where it was; DEFAULT serves "
                    f"version {self.out.runtime_version}.",
                    title="Not promoted",
                )
            raise cause
        target = self.out.previous_version
        try:
            with self.r.group(f"Roll back to version {target}"):
                poller = self.c.poller(self.s.wait_timeout)
                previous = self.c.control.get_runtime(runtime_id, target)
                version = self._update(runtime_id, cfg.carry_forward(previous), poller, rebase=False)
                wait_version_ready(self.c.control, runtime_id, version, poller, self.r.info)
        except AbcaError as exc:
            msg = f"{cause.message} The rollback to version {target} failed too: {exc.message}"
            raise OperationFailed(
                msg,
                hint="Inspect with `abca-deploy runtime status` and roll back by hand "
                "with `abca-deploy runtime rollback`.",
                title="Rollback failed",
            ) from exc
        self.out.status, self.out.rolled_back_to = "rolled-back", target
        self.out.runtime_version = version
        msg = f"Rolled back to v{target} (as version {version}): {cause.message}"
        raise OperationFailed(msg, title=f"Rolled back to v{target}")

    def _record_image(self) -> None:
        name = self.s.image_parameter
        if not name or not self.out.image_uri:
            return
        from abca_deploy.aws.session import client
        from abca_deploy.aws.ssm import Parameters

        with self.r.group("Record image"):
            parameters = Parameters(client("ssm", self.s.aws_region))
            if parameters.get(name) != self.out.image_uri:
                parameters.put(name, self.out.image_uri)
                self.r.info(f"{name} = {self.out.image_uri}")
            else:
                self.r.info(f"{name} already records {self.out.image_uri}")
