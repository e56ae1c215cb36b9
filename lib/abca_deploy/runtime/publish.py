"""``runtime publish``: lock, resolve, plan, build and push, then ``rollout`` (update ... verify).

Every phase is a reporter group. The runtime's lease is held throughout, so publishes of one runtime never
overlap however each names it. A failure after the update goes to ``recover`` (roll back to the newest
*tested* version); a signal (a cancelled job) or the ``--timeout`` alarm goes to ``cancel``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from abca_deploy.errors import AbcaError, OperationFailed, UserError
from abca_deploy.identifiers import ECR_URI, repository_of
from abca_deploy.interrupts import SIGNALS, Interrupted, Signals
from abca_deploy.lease import Lease, Owner
from abca_deploy.runtime import config as cfg
from abca_deploy.runtime.outcome import Outcome, PublishPlan, PublishStatus
from abca_deploy.runtime.recover import recover
from abca_deploy.runtime.rollout import already_live, roll_out
from abca_deploy.runtime.tested import Tested, TestedStore, lease_path, now, rollback_choice, tested_record
from abca_deploy.runtime.wait import Poller, wait_idle

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future

    from abca_deploy.aws.agentcore import AgentCoreControl, AgentCoreData
    from abca_deploy.aws.ecr import Ecr
    from abca_deploy.aws.ssm import Parameters
    from abca_deploy.lease import Decision
    from abca_deploy.report import Reporter
    from abca_deploy.runtime.image import ImagePlan, ImageResult
    from abca_deploy.runtime.settings import PublishSettings

    BuildImage = Callable[[ImagePlan, bool, Callable[[str], None]], ImageResult]


@dataclass
class Clients:
    """What a publish talks to, injected: the AgentCore planes, SSM, ECR and (for tests) the image step."""

    control: AgentCoreControl
    data: AgentCoreData
    parameters: Parameters
    ecr: Ecr
    image: BuildImage | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def poller(self, timeout: float) -> Poller:
        """A poller on this publish's clock."""
        return Poller(timeout, sleep=self.sleep, clock=self.clock)


def serving_version(current: dict[str, Any], versions: dict[str, str]) -> str:
    """The version DEFAULT serves: the latest if READY, else the newest READY one."""
    if current.get("status") == "READY":
        return str(current["agentRuntimeVersion"])
    ready = [int(number) for number, status in versions.items() if status == "READY" and number.isdigit()]
    if not ready:
        msg = f"Runtime {current.get('agentRuntimeId', '')} has no READY version to carry settings from."
        raise OperationFailed(msg, hint="Fix the runtime (see `abca-deploy runtime status`) and retry.",
                              title="No READY version")
    return str(max(ready))


def repository_for(settings: PublishSettings, current_image: str, ecr: Ecr) -> tuple[str, bool]:
    """The ECR repository (URI form) to push to, and whether its tags are immutable."""
    name = settings.ecr_repository
    if settings.image:
        name = name or repository_of(settings.image).split("/", 1)[1]
    if name is None:
        match = ECR_URI.fullmatch(current_image)
        if match is None or not match["account"]:
            msg = f"The runtime's current image {current_image!r} is not in a private ECR repository."
            raise UserError(msg, hint="Pass --ecr-repository NAME.", title="No ECR repository")
        name = match["repository"]
    elif match := ECR_URI.fullmatch(name):
        name = match["repository"]
    repository = ecr.repository(name)
    return repository.uri, repository.immutable


class Publisher:
    """Runs one publish and fills ``outcome``; raises AbcaError (outcome filled) when it does not succeed."""

    def __init__(self, settings: PublishSettings, reporter: Reporter, clients: Clients, *,
                 owner: Owner | None = None, signals: Signals = SIGNALS) -> None:
        self.settings, self.reporter, self.clients, self.signals = settings, reporter, clients, signals
        self.owner = owner or Owner.current()
        self.records = TestedStore(clients.parameters)
        self.outcome = Outcome()
        self.lease: Lease | None = None
        self.history: list[Tested] = []
        self.versions: dict[str, str] = {}
        self.started_from = ""  # the latest version when this publish looked
        self.mine = ""  # the version this publish created (or adopted to test)
        self.rollback_version = ""  # the version its rollback created

    def run(self, runtime_id: str) -> Outcome:
        """Publish to ``runtime_id``."""
        from abca_deploy.runtime.image import start_hashing

        self.outcome.runtime_id = runtime_id
        hashing = start_hashing(self.settings)
        self.signals.alarm(self.settings.timeout)
        try:
            if not self.settings.dry_run:
                self._lock(runtime_id)
            self._publish(runtime_id, hashing)
        except Interrupted as stop:
            from abca_deploy.runtime.cancel import after_interrupt

            after_interrupt(self, stop)
        finally:
            self.signals.armed = False  # the work is over: a late signal must not cut the report short
            self.signals.disarm_alarm()
            if self.lease is not None and (problem := self.lease.release()):
                self.reporter.warning(problem, title="Lease not released")
        return self.outcome

    # -- lock, resolve, plan ------------------------------------------------------------------------
    def _lock(self, runtime_id: str) -> None:
        with self.reporter.group("Lock runtime"):
            self.lease = Lease(self.clients.parameters, lease_path(runtime_id), self.owner,
                               what=f"runtime {runtime_id}", ttl=self.settings.lease_ttl,
                               sleep=self.clients.sleep, clock=self.clients.clock)
            decision = self.lease.acquire(self.settings.lease_timeout, self._announce_wait)
            if decision.holder is not None and decision.reason not in ("released",):
                who = decision.holder.owner.describe() if decision.holder.owner else "an unreadable holder"
                self.reporter.warning(f"Took over the lease of runtime {runtime_id} from {who}: "
                                      f"{decision.reason}.", title="Lease taken over")
            self.reporter.info(f"lease {self.lease.path}/{self.lease.number} held by this run")

    def _announce_wait(self, decision: Decision) -> None:
        holder = decision.holder
        who = holder.owner.describe() if holder and holder.owner else "an unreadable holder"
        self.reporter.notice(
            f"Another publish holds runtime {self.outcome.runtime_id}: {who}. Waiting up to "
            f"{self.settings.lease_timeout}s (--lease-timeout) for it to finish.",
            title="Waiting for the lease")

    def _publish(self, runtime_id: str, hashing: Future[str] | None) -> None:
        with self.reporter.group("Resolve runtime"):
            current = self._resolve(runtime_id)
        with self.reporter.group("Plan"):
            plan, immutable = self._plan(current, hashing)
        if self.settings.dry_run:
            self.outcome.status = PublishStatus.PLANNED
            return
        with self.reporter.group("Build and push" if plan.image.builds else "Resolve image"):
            image = self._image(plan.image, immutable)
        if already_live(self, runtime_id, image):
            self._record_image()
            return
        request = cfg.with_image(cfg.carry_forward(current), image.uri)
        self.outcome.config_diff = cfg.diff(current, request)
        try:
            roll_out(self, runtime_id, request)
        except AbcaError as exc:
            recover(self, runtime_id, exc)
        self._record_image()
        self.outcome.status = PublishStatus.DEPLOYED

    def _resolve(self, runtime_id: str) -> dict[str, Any]:
        control = self.clients.control
        current = wait_idle(control, runtime_id, self.clients.poller(self.settings.wait_timeout),
                            self.reporter.info)
        if cfg.container_uri(current) is None:
            msg = f"Runtime {runtime_id} does not run a container image (it uses a code artifact)."
            raise UserError(msg, title="Not a container runtime")
        self.started_from = str(current.get("agentRuntimeVersion", ""))
        self.versions = {str(v.get("agentRuntimeVersion")): str(v.get("status"))
                         for v in control.list_versions(runtime_id)}
        self.versions.setdefault(self.started_from, str(current.get("status")))
        serving = serving_version(current, self.versions)
        serving_config = current if serving == self.started_from else control.get_runtime(runtime_id, serving)
        self.outcome.runtime_arn = str(current.get("agentRuntimeArn", ""))
        self.outcome.previous_version = serving
        self.outcome.previous_image = cfg.container_uri(serving_config) or ""
        self.reporter.info(f"runtime {runtime_id}: version {self.started_from} {current.get('status')}; "
                           f"DEFAULT serves version {serving}, image {self.outcome.previous_image}")
        self.history = self.records.history(runtime_id)
        self._judge_serving(runtime_id, serving)
        return current

    def _judge_serving(self, runtime_id: str, serving: str) -> None:
        """Say whether the serving version was tested; on a runtime without records, record the baseline."""
        image = self.outcome.previous_image
        proof = tested_record(image, self.history)
        if proof is not None:
            self.reporter.info(f"version {serving} is tested: {proof.describe()}")
        elif not self.history:
            baseline = Tested(serving, image, now(), self.owner.describe(), "baseline")
            verb = "would record" if self.settings.dry_run else "recorded"
            self.reporter.notice(
                f"Runtime {runtime_id} has no last-tested record yet (no earlier abca-deploy publish): "
                f"version {serving}, READY and serving now, is the rollback target ({verb} as a baseline).",
                title="First publish: baseline")
            if not self.settings.dry_run:
                self.records.record(runtime_id, baseline)
            self.history = [baseline]
        else:
            last = self.history[0]
            self.reporter.warning(
                f"Runtime {runtime_id} serves version {serving} ({image}), which no publish smoke-tested (an "
                f"earlier publish was cancelled or killed?). It is not a rollback target; the last tested is "
                f"{last.describe()}.", title="Live version untested")

    def _plan(self, current: dict[str, Any], hashing: Future[str] | None) -> tuple[PublishPlan, bool]:
        from abca_deploy.runtime.image import plan_image

        settings = self.settings
        repository, immutable = repository_for(settings, self.outcome.previous_image, self.clients.ecr)
        image = plan_image(settings, repository, hashing, live_image=self.outcome.previous_image,
                           immutable=immutable)
        request = cfg.with_image(cfg.carry_forward(current), f"{repository}@<digest of the pushed image>")
        if settings.image_parameter:  # read it now: a parameter we cannot use fails before anything changes
            value = self.clients.parameters.get(settings.image_parameter)
            self.reporter.info(f"{settings.image_parameter} records {value or '(nothing yet)'}")
        serving = self.outcome.previous_version
        plan = PublishPlan(
            runtime_id=self.outcome.runtime_id,
            current_version=str(current.get("agentRuntimeVersion", "")),
            current_image=self.outcome.previous_image,
            serving_version=serving,
            serving_tested=tested_record(self.outcome.previous_image, self.history) is not None,
            image=image,
            update_request={"agentRuntimeId": self.outcome.runtime_id, **cfg.redact(request)},
            rollback_target=rollback_choice(self.history, self.versions, None),
            rollback=settings.rollback,
            promote_endpoint=settings.promote_endpoint,
            image_parameter=settings.image_parameter,
        )
        self.outcome.plan = plan
        self.reporter.info(f"on failure: {plan.rollback_text()}")
        self._check_platform(image)
        return plan, immutable

    def _check_platform(self, plan: ImagePlan) -> None:
        if not plan.builds or plan.platform == "linux/arm64":
            return
        if self.settings.ecr_registry_endpoint:
            self.reporter.notice(f"Building for {plan.platform}: the sandbox accepts host-architecture "
                                 "images; AgentCore on AWS requires linux/arm64.", title="Sandbox platform")
        else:
            self.reporter.warning(f"Building for {plan.platform}, but AgentCore runs linux/arm64 images "
                                  "only.", title="Platform is not linux/arm64")

    # -- image ----------------------------------------------------------------------------------------
    def _image(self, plan: ImagePlan, immutable: bool) -> ImageResult:
        image = (self.clients.image or self._realize)(plan, immutable, self.reporter.info)
        outcome = self.outcome
        outcome.image_uri, outcome.image_digest, outcome.built = image.uri, image.digest, image.built
        outcome.build = image.build_summary()
        pushed = f" (pushed tags: {', '.join(image.pushed_tags)})" if image.pushed_tags else ""
        self.reporter.info(f"image {image.uri}{pushed}")
        return image

    def _realize(self, plan: ImagePlan, immutable: bool, log: Callable[[str], None]) -> ImageResult:
        from abca_deploy.runtime.image import realize

        auth = self.clients.ecr.authorization()
        self.reporter.mask(auth.password)
        return realize(plan, auth, immutable=immutable, log=log, warn=self.reporter.warning)

    def _record_image(self) -> None:
        name = self.settings.image_parameter
        if not name or not self.outcome.image_uri:
            return
        with self.reporter.group("Record image"):
            if self.clients.parameters.get(name) != self.outcome.image_uri:
                self.clients.parameters.put(name, self.outcome.image_uri)
                self.reporter.info(f"{name} = {self.outcome.image_uri}")
            else:
                self.reporter.info(f"{name} already records {self.outcome.image_uri}")
