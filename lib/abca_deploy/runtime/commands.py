"""The ``runtime`` commands: publish, status, rollback (wiring, outputs, summary)."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from abca_deploy.errors import AbcaError, UserError
from abca_deploy.report import markdown_table, text_table
from abca_deploy.runtime.settings import PublishSettings, RollbackSettings, StatusSettings
from abca_deploy.settings import Command

if TYPE_CHECKING:
    from abca_deploy.report import Reporter
    from abca_deploy.runtime.publish import Outcome

OUTPUT_KEYS = (
    "status",
    "image-uri",
    "image-digest",
    "runtime-arn",
    "runtime-version",
    "previous-version",
    "smoke-result",
    "duration-seconds",
)


def _control(region: str | None) -> Any:
    from abca_deploy.aws.agentcore import AgentCoreControl
    from abca_deploy.aws.session import client

    return AgentCoreControl(client("bedrock-agentcore-control", region))


def publish(settings: PublishSettings, reporter: Reporter) -> int:
    """Run ``runtime publish``."""
    from abca_deploy.aws.agentcore import AgentCoreData
    from abca_deploy.aws.session import client
    from abca_deploy.runtime.publish import Clients, Publisher
    from abca_deploy.runtime.target import resolve

    target = resolve(settings)
    clients = Clients(
        control=_control(settings.aws_region),
        data=AgentCoreData(lambda: client("bedrock-agentcore", settings.aws_region, read_timeout=900)),
    )
    publisher = Publisher(settings, reporter, clients)
    try:
        outcome = publisher.run(target.runtime_id)
    except AbcaError as err:
        outcome = publisher.out
        outcome.error = outcome.error or err.message
        if outcome.status != "rolled-back":
            outcome.status = "failed"
        _finish(settings, reporter, outcome, clients, emit=not isinstance(err, UserError))
        raise
    _finish(settings, reporter, outcome, clients, emit=True)
    return 0


def publish_document(outcome: Outcome, reporter: Reporter | None = None) -> dict[str, Any]:
    """The JSON document of a publish: the action outputs with ``_`` keys, plus details."""
    doc: dict[str, Any] = {
        "status": outcome.status,
        "image_uri": outcome.image_uri,
        "image_digest": outcome.image_digest,
        "runtime_arn": outcome.runtime_arn,
        "runtime_version": outcome.runtime_version,
        "previous_version": outcome.previous_version,
        "smoke_result": outcome.smoke.summary() if outcome.smoke else "",
        "duration_seconds": round(time.monotonic() - outcome.started, 1),
        "runtime_id": outcome.runtime_id,
        "previous_image": outcome.previous_image,
        "built": outcome.built,
        "build": outcome.build,
        "rolled_back_to": outcome.rolled_back_to or None,
        "config_diff": [{"setting": k, "before": b, "after": a} for k, b, a in outcome.config_diff],
        "agentcore_calls": outcome.agentcore_calls,
        "phases": [
            {"phase": p.title, "seconds": round(p.seconds, 2), "ok": p.ok}
            for p in (reporter.phases if reporter else [])
        ],
    }
    if outcome.error:
        doc["error"] = outcome.error
    if outcome.status == "planned":
        doc["plan"] = outcome.plan
    return doc


def _finish(
    settings: PublishSettings, reporter: Reporter, outcome: Outcome, clients: Any, *, emit: bool
) -> None:
    outcome.agentcore_calls = clients.control.calls + clients.data.calls
    doc = publish_document(outcome, reporter)
    for key in OUTPUT_KEYS:
        reporter.set_output(key, str(doc[key.replace("-", "_")]))
    if outcome.runtime_id:
        reporter.summary(_summary(doc, reporter))
    if not emit:
        return
    if outcome.status == "planned":
        reporter.result(doc, "Plan (dry run, nothing changed):\n" + json.dumps(outcome.plan, indent=2))
        return
    rows = [
        ["status", doc["status"]],
        ["runtime", doc["runtime_arn"] or doc["runtime_id"]],
        ["version", f"{doc['previous_version']} -> {doc['runtime_version'] or '-'}"],
        ["image", doc["image_uri"] or "-"],
        ["smoke test", doc["smoke_result"] or "-"],
        ["duration", f"{doc['duration_seconds']}s"],
    ]
    if outcome.rolled_back_to:
        rows.insert(3, ["rolled back to", f"v{outcome.rolled_back_to}"])
    reporter.result(doc, text_table(["", ""], rows).split("\n", 1)[1])


def _summary(doc: dict[str, Any], reporter: Reporter) -> str:
    icon = {"deployed": ":white_check_mark:", "unchanged": ":white_check_mark:", "planned": ":memo:"}.get(
        doc["status"], ":x:"
    )
    parts = [
        f"### {icon} AgentCore runtime publish: {doc['status']}",
        "",
        markdown_table(
            ["", "Before", "After"],
            [
                ["Version", doc["previous_version"] or "-", doc["runtime_version"] or "-"],
                ["Image", f"`{doc['previous_image'] or '-'}`", f"`{doc['image_uri'] or '-'}`"],
            ],
        ),
    ]
    if doc["config_diff"]:
        parts += [
            "",
            "**Configuration changes** (environment values redacted)",
            "",
            markdown_table(
                ["Setting", "Before", "After"],
                [[d["setting"], d["before"], d["after"]] for d in doc["config_diff"]],
            ),
        ]
    if doc["build"]:
        parts += ["", f"**Image:** {doc['build']}"]
    if doc["smoke_result"]:
        parts += ["", f"**Smoke test:** {doc['smoke_result']}"]
    if doc.get("rolled_back_to"):
        parts += ["", f"**Rolled back** to v{doc['rolled_back_to']}: {doc.get('error', '')}"]
    parts += ["", "**Timing**", "", reporter.timing_table()]
    return "\n".join(parts)


def status(settings: StatusSettings, reporter: Reporter) -> int:
    """Run ``runtime status``."""
    from abca_deploy.runtime.inspect import status_document
    from abca_deploy.runtime.target import resolve

    doc = status_document(_control(settings.aws_region), resolve(settings).runtime_id)
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
            "",
            text_table(["ENDPOINT", "LIVE", "TARGET", "STATUS"], rows),
        ]
    )
    for key in ("version", "status", "image"):
        reporter.set_output(key, str(doc[key] or ""))
    reporter.result(doc, text)
    return 0 if doc["status"] == "READY" else 1


def rollback(settings: RollbackSettings, reporter: Reporter) -> int:
    """Run ``runtime rollback``."""
    from abca_deploy.runtime.inspect import rollback as do_rollback
    from abca_deploy.runtime.target import resolve

    doc = do_rollback(settings, reporter, _control(settings.aws_region), resolve(settings).runtime_id)
    where = f"endpoint {doc['endpoint']}" if doc["endpoint"] else "the runtime"
    verb = "would move" if settings.dry_run else "moved"
    text = f"{where} {verb} back to version {doc['rolled_back_to']} ({doc['image']})"
    if settings.dry_run:
        text += "\n" + json.dumps(doc["request"], indent=2)
    reporter.set_output("runtime-version", str(doc.get("runtime_version", "")))
    reporter.summary(f"### :rewind: {text}")
    reporter.result(doc, text)
    return 0


PUBLISH = Command(
    PublishSettings,
    publish,
    "Build, push by digest, update the runtime, wait, smoke-test, roll back on failure.",
)
STATUS = Command(
    StatusSettings, status, "Show the runtime's version, image, status, failure reason and endpoints."
)
ROLLBACK = Command(
    RollbackSettings,
    rollback,
    "Redeploy an earlier version's configuration, or move --promote-endpoint back.",
)
