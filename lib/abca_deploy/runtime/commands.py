"""The ``runtime`` commands: publish, status, rollback, resolve (wiring, outputs, summary)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from abca_deploy.errors import AbcaError, UserError
from abca_deploy.report import text_table
from abca_deploy.runtime.settings import (
    PublishSettings,
    ResolveSettings,
    RollbackSettings,
    StatusSettings,
    check_paths,
)
from abca_deploy.settings import Command

if TYPE_CHECKING:
    from abca_deploy.report import Reporter

def _control(region: str | None) -> Any:
    from abca_deploy.aws.agentcore import AgentCoreControl
    from abca_deploy.aws.session import client

    return AgentCoreControl(client("bedrock-agentcore-control", region))


def _parameters(region: str | None) -> Any:
    from abca_deploy.aws.session import client
    from abca_deploy.aws.ssm import Parameters

    return Parameters(client("ssm", region))


def publish(settings: PublishSettings, reporter: Reporter) -> int:
    """Run ``runtime publish``."""
    from abca_deploy.aws.agentcore import AgentCoreData
    from abca_deploy.aws.ecr import Ecr
    from abca_deploy.aws.session import client
    from abca_deploy.runtime.outputs import finish
    from abca_deploy.runtime.publish import Clients, Publisher
    from abca_deploy.runtime.target import resolve

    check_paths(settings)  # before anything is read or written
    target = resolve(settings)
    region = settings.aws_region
    clients = Clients(
        control=_control(region),
        data=AgentCoreData(lambda: client("bedrock-agentcore", region, read_timeout=900)),
        parameters=_parameters(region),
        ecr=Ecr(client("ecr", region)),
    )
    publisher = Publisher(settings, reporter, clients)
    try:
        outcome = publisher.run(target.runtime_id)
    except AbcaError as err:
        outcome = publisher.outcome
        outcome.error = outcome.error or err.message
        finish(reporter, outcome, clients, emit=not isinstance(err, UserError))
        raise
    finish(reporter, outcome, clients, emit=True)
    return 0


def status(settings: StatusSettings, reporter: Reporter) -> int:
    """Run ``runtime status``."""
    from abca_deploy.runtime.inspect import status_document, tested_text
    from abca_deploy.runtime.target import resolve
    from abca_deploy.runtime.tested import TestedStore

    records = TestedStore(_parameters(settings.aws_region))
    doc = status_document(_control(settings.aws_region), records, resolve(settings).runtime_id,
                          settings.promote_endpoint)
    rows = [
        [e["name"] or "", str(e["live_version"] or "-"), str(e["target_version"] or "-"), e["status"] or ""]
        for e in doc["endpoints"]
    ]
    text = "\n".join(
        [
            f"runtime   {doc['runtime_arn']}",
            f"version   {doc['version']}",
            f"status    {doc['status']}",
            *([f"failure   {doc['failure_reason']}"] if doc["failure_reason"] else []),
            f"image     {doc['image']}",
            f"live      version {doc['live_version'] or '-'} ({doc['live_endpoint']})",
            f"tested    {tested_text(doc)}",
            "",
            text_table(["ENDPOINT", "LIVE", "TARGET", "STATUS"], rows),
        ]
    )
    for key in ("version", "status", "image", "live_version"):
        reporter.set_output(key.replace("_", "-"), str(doc[key] or ""))
    reporter.set_output("tested", "unknown" if doc["tested"] is None else doc["tested"])
    if doc["tested"] is False:
        reporter.warning(f"The live version {doc['live_version']} is untested: {tested_text(doc)}.",
                         title="Live version untested")
    reporter.result(doc, text)
    return 0 if doc["status"] == "READY" else 1


def rollback(settings: RollbackSettings, reporter: Reporter) -> int:
    """Run ``runtime rollback``."""
    from abca_deploy.lease import Owner
    from abca_deploy.runtime.rollback import Rollback
    from abca_deploy.runtime.target import resolve
    from abca_deploy.runtime.tested import TestedStore

    parameters = _parameters(settings.aws_region)
    runner = Rollback(settings, reporter, _control(settings.aws_region), TestedStore(parameters), parameters,
                      Owner.current())
    result = runner.run(resolve(settings).runtime_id)
    text = result.text(settings.dry_run)
    if settings.dry_run and result.request:
        text += "\n" + json.dumps(result.request, indent=2)
    reporter.set_output("action", result.action)
    reporter.set_output("runtime-version", result.runtime_version)
    reporter.summary(f"### :rewind: runtime rollback: {text.splitlines()[0]}")
    reporter.result({**asdict(result), "dry_run": settings.dry_run}, text)
    return 0


def resolve_command(settings: ResolveSettings, reporter: Reporter) -> int:
    """Run ``runtime resolve``: the runtime's id, ARN and the concurrency key of jobs that change it."""
    from abca_deploy.runtime.target import concurrency_key
    from abca_deploy.runtime.target import resolve as resolve_target

    runtime_id, arn = "", ""
    if settings.stack_name:
        from abca_deploy.aws.cloudformation import CloudFormation
        from abca_deploy.aws.session import client

        stacks = CloudFormation(client("cloudformation", settings.aws_region))
        outputs = stacks.find_outputs(settings.stack_name)
        if outputs is None or not outputs.get(settings.runtime_output):
            what = "does not exist yet" if outputs is None else f"has no output {settings.runtime_output} yet"
            reporter.notice(f"Stack {settings.stack_name} {what}: keying on the stack name until it does.",
                            title="No runtime yet")
        else:
            target = resolve_target(settings)
            runtime_id, arn = target.runtime_id, target.arn
    else:
        target = resolve_target(settings)
        runtime_id = target.runtime_id
        runtime = {} if target.arn else _control(settings.aws_region).get_runtime(runtime_id)
        arn = target.arn or str(runtime.get("agentRuntimeArn", ""))
    doc = {"runtime_id": runtime_id, "runtime_arn": arn,
           "concurrency_key": concurrency_key(runtime_id, settings.stack_name)}
    for key, value in doc.items():
        reporter.set_output(key.replace("_", "-"), value)
    reporter.result(doc, "\n".join(f"{k.replace('_', '-'):<16}{v}" for k, v in doc.items()))
    return 0


PUBLISH = Command(
    PublishSettings,
    publish,
    "Build, push by digest, update the runtime, wait, smoke-test, roll back on failure.",
)
STATUS = Command(
    StatusSettings,
    status,
    "Show the runtime's versions, image, endpoints, and whether the live one is tested.",
)
ROLLBACK = Command(
    RollbackSettings,
    rollback,
    "Redeploy the newest tested version's configuration, or move --promote-endpoint back.",
)
RESOLVE = Command(
    ResolveSettings,
    resolve_command,
    "Print the runtime's id, ARN and the concurrency key of every job that changes it.",
)
