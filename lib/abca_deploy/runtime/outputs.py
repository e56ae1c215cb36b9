"""What a publish shows: the step outputs, the one JSON document or text result, and the job summary."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from abca_deploy.report import markdown_table, text_table
from abca_deploy.runtime.outcome import PublishStatus

if TYPE_CHECKING:
    from abca_deploy.report import Reporter
    from abca_deploy.runtime.outcome import Outcome
    from abca_deploy.runtime.publish import Clients

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


def publish_document(outcome: Outcome, reporter: Reporter | None = None) -> dict[str, Any]:
    """The JSON document of a publish: the action outputs with ``_`` keys, plus details."""
    doc: dict[str, Any] = {
        "status": str(outcome.status),
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
        "left_behind": outcome.left_behind,
        "config_diff": [{"setting": k, "before": b, "after": a} for k, b, a in outcome.config_diff],
        "agentcore_calls": outcome.agentcore_calls,
        "phases": [
            {"phase": p.title, "seconds": round(p.seconds, 2), "ok": p.ok}
            for p in (reporter.phases if reporter else [])
        ],
    }
    if outcome.error:
        doc["error"] = outcome.error
    if outcome.status == PublishStatus.PLANNED and outcome.plan is not None:
        doc["plan"] = outcome.plan.document()
    return doc


def finish(reporter: Reporter, outcome: Outcome, clients: Clients, *, emit: bool) -> None:
    """Write the step outputs and the summary; print the result unless ``emit`` is False (bad input)."""
    outcome.agentcore_calls = clients.control.calls + clients.data.calls
    doc = publish_document(outcome, reporter)
    for key in OUTPUT_KEYS:
        reporter.set_output(key, str(doc[key.replace("-", "_")]))
    if outcome.runtime_id:
        reporter.summary(summary(doc, reporter))
    if not emit:
        return
    if outcome.status == PublishStatus.PLANNED:
        reporter.result(doc, "Plan (dry run, nothing changed):\n" + json.dumps(doc.get("plan"), indent=2))
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
    rows += [["left behind", note] for note in outcome.left_behind]
    reporter.result(doc, text_table(["", ""], rows).split("\n", 1)[1])


def summary(doc: dict[str, Any], reporter: Reporter) -> str:
    """The job summary's markdown."""
    icons = {"deployed": ":white_check_mark:", "unchanged": ":white_check_mark:", "planned": ":memo:",
             "cancelled": ":stop_sign:", "superseded": ":twisted_rightwards_arrows:"}
    parts = [
        f"### {icons.get(doc['status'], ':x:')} AgentCore runtime publish: {doc['status']}",
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
    elif doc.get("error"):
        parts += ["", f"**Error:** {doc['error']}"]
    if doc["left_behind"]:
        parts += ["", "**Left behind**", "", *[f"- {note}" for note in doc["left_behind"]]]
    parts += ["", "**Timing**", "", reporter.timing_table()]
    return "\n".join(parts)
