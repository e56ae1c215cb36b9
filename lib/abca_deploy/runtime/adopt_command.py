"""``abca-deploy runtime adopt``: read and decide without writing, then (when there is something to do and it
is not ``--dry-run``) take the runtime's lease, read and decide again under it, copy and write; report the
result and the migration's remaining steps.

Deciding before the lease keeps a refusal (exit 2) and a no-op free of any write, the lease's included;
deciding again under it means a publish that finished while adopt waited is what gets adopted.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from abca_deploy.aws.cloudformation import pick_output
from abca_deploy.runtime.adopt import decide
from abca_deploy.runtime.adoption import Clients, Names, Reader, act, names, read_live
from abca_deploy.runtime.migration import remaining_steps
from abca_deploy.runtime.settings import AdoptSettings
from abca_deploy.runtime.target import runtime_id_from
from abca_deploy.runtime.tested import TestedStore, lease_path, tested_record
from abca_deploy.settings import Command

if TYPE_CHECKING:
    from abca_deploy.build.copy import CopyReport
    from abca_deploy.build.registry import Registry
    from abca_deploy.report import Reporter
    from abca_deploy.runtime.adopt import AdoptPlan


def aws_clients(settings: AdoptSettings, reporter: Reporter) -> Clients:
    """The real adapters; registries get ECR's credentials (one GetAuthorizationToken, masked)."""
    from abca_deploy.aws.agentcore import AgentCoreControl
    from abca_deploy.aws.cloudformation import CloudFormation
    from abca_deploy.aws.ecr import Ecr
    from abca_deploy.aws.session import client
    from abca_deploy.aws.ssm import Parameters
    from abca_deploy.build.registry import Registry

    region = settings.aws_region
    ecr = Ecr(client("ecr", region))
    credentials: list[tuple[str, str]] = []

    def registry(host: str) -> Registry:
        if host == "public.ecr.aws":
            return Registry(host)  # anonymous pulls; ECR's token is for private registries
        if not credentials:
            auth = ecr.authorization()
            reporter.mask(auth.password)
            credentials.append((auth.username, auth.password))
        return Registry(host, *credentials[0])

    return Clients(CloudFormation(client("cloudformation", region)),
                   AgentCoreControl(client("bedrock-agentcore-control", region)),
                   Parameters(client("ssm", region)), ecr, registry)


def run(settings: AdoptSettings, reporter: Reporter) -> int:
    """Run ``runtime adopt``."""
    return adopt(settings, reporter, aws_clients(settings, reporter))


def adopt(settings: AdoptSettings, reporter: Reporter, clients: Clients) -> int:
    """Adopt the live image of ``settings.stack_name``'s runtime; 0 when adopted or nothing was to do."""
    from abca_deploy.lease import Lease, Owner

    stack = settings.stack_name
    outputs = clients.stacks.outputs(stack)
    arn = pick_output(stack, outputs, settings.runtime_output)
    runtime_id = runtime_id_from(arn, f"stack {stack} output {settings.runtime_output}")
    found = names(settings, clients.stacks, outputs)
    reader = Reader(settings, clients)
    with reporter.group(f"Read the runtime image of stack {stack}"):
        plan = _plan(reader, runtime_id, found, reporter)
    report = None
    if plan.changes and not settings.dry_run:
        lease = Lease(clients.parameters, lease_path(runtime_id), Owner.current(),
                      what=f"runtime {runtime_id}", ttl=settings.lease_ttl)
        with reporter.group("Lock runtime"):
            lease.acquire(settings.lease_timeout, lambda _decision: reporter.notice(
                f"Another publish holds runtime {runtime_id}; waiting up to {settings.lease_timeout}s "
                "(--lease-timeout).", title="Waiting for the lease"))
        try:
            with reporter.group("Adopt"):
                plan = _plan(reader, runtime_id, found, reporter, again=True)
                report = act(plan, reader, clients.parameters, lease, reporter.info)
        finally:
            if problem := lease.release():
                reporter.warning(problem, title="Lease not released")
    _report(settings, reporter, plan, report, _tested(clients, plan))
    return 0


def _plan(reader: Reader, runtime_id: str, found: Names, reporter: Reporter, *, again: bool = False
          ) -> AdoptPlan:
    version, uri = read_live(reader.settings, reader.clients.control, runtime_id, reporter.info)
    plan = decide(reader.observe(runtime_id, version, uri, found))
    seen = plan.observed
    if not again:
        reporter.info(f"runtime {runtime_id}: DEFAULT serves version {version}, {uri}")
        reporter.info(f"CI repository {seen.repository.uri} ({seen.repository.source})")
        reporter.info(f"image parameter {seen.parameter.name} ({seen.parameter.source}): "
                      f"{seen.parameter.value or '(absent)'}, owner {seen.parameter.owner or '(no tag)'}")
    for note in plan.notes:
        reporter.info(note)
    for line in plan.actions():
        reporter.info(("to do: " if not again else "") + line)
    if not plan.actions():
        reporter.info("nothing to do: already adopted")
    return plan


def _tested(clients: Clients, plan: AdoptPlan) -> str:
    """Whether the adopted image is tested, and why adopt records nothing either way."""
    history = TestedStore(clients.parameters).history(plan.observed.live.runtime_id)
    proof = tested_record(plan.adopted_image, history)  # by digest: a record of the source's image counts
    if proof is not None:
        return f"yes: {proof.describe()} (a record matches by digest, whichever repository)"
    if not history:
        return ("no record yet: the first publish records the version serving then (this image) as its "
                "baseline rollback target")
    return (f"no: no publish smoke-tested this image; the last tested is {history[0].describe()} (adopt "
            "moves the image, it does not test it)")


def _report(settings: AdoptSettings, reporter: Reporter, plan: AdoptPlan, report: CopyReport | None,
            tested: str) -> None:
    seen = plan.observed
    status = "planned" if settings.dry_run and plan.changes else "adopted" if plan.changes else "unchanged"
    repository_name = seen.repository.uri.split("/", 1)[1]
    steps = remaining_steps(seen.stack_name, repository_name, seen.parameter.name, integrated=seen.integrated)
    headline = {"planned": "Plan only (--dry-run): nothing was copied or written.",
                "adopted": f"Adopted: {seen.parameter.name} = {plan.adopted_image}",
                "unchanged": "Nothing to do: already adopted."}[status]
    document: dict[str, Any] = {
        "status": status, "dry_run": settings.dry_run, "stack_name": seen.stack_name,
        "runtime_id": seen.live.runtime_id, "runtime_version": seen.live.version, "live_image": seen.live.uri,
        "digest": plan.digest, "image_repository": seen.repository.uri,
        "image_repository_source": seen.repository.source, "tag": plan.tag,
        "adopted_image": plan.adopted_image,
        "image_parameter": seen.parameter.name, "image_parameter_source": seen.parameter.source,
        "parameter_before": seen.parameter.value, "actions": plan.actions(), "notes": list(plan.notes),
        "copy": None if report is None else {**asdict(report), "summary": report.summary()},
        "tested": tested,
        "next_steps": [{"step": s.number, "title": s.title, "detail": s.detail, "commands": list(s.commands)}
                       for s in steps],
    }
    for key in ("status", "adopted_image", "image_parameter", "image_repository"):
        reporter.set_output(key.replace("_", "-"), document[key])
    lines = [headline, *[f"  {'would ' if status == 'planned' else ''}{a}" for a in plan.actions()],
             f"  tested: {tested}", "", "Next steps (integrations/abca/README.md):",
             *[s.text() for s in steps]]
    reporter.summary(f"### runtime adopt: {headline}\n\n" + "\n".join(f"- {a}" for a in plan.actions()))
    reporter.result(document, "\n".join(lines))


ADOPT = Command(
    AdoptSettings,
    run,
    "Copy the image the runtime serves into the stack's CI repository (digest kept) and record it in the "
    "stack's image parameter: the first step of integrating a live stack (integrations/abca).",
)
