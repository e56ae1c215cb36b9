"""``abca-deploy drift``: would a ``cdk deploy`` revert the image CI published to the runtime?

Once CI publishes images outside CloudFormation, three places record "the runtime's image": the runtime itself
(GetAgentRuntime), the SSM parameter that publish writes (``--image-parameter``), and the stack's template. If
the template fixes an older image, the next deploy that touches the runtime resource puts it back. Exit 0 when
every compared source agrees with the live image, 3 on drift, 2 for an unknown output or runtime.

A first deploy is not drift: a stack that does not exist yet (or whose creation never completed) has no
CI-published image to revert, and an image parameter that does not exist yet means no CI publish has recorded
one; both are notices, exit 0, so the first infrastructure deploy of a new stack goes ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import Field

from abca_deploy.aws.cloudformation import pick_output
from abca_deploy.errors import DriftDetected, UserError
from abca_deploy.gates.images import judge
from abca_deploy.gates.template import Pseudo, TemplateImage, template_image
from abca_deploy.identifiers import RUNTIME_ARN
from abca_deploy.report import markdown_table, text_table
from abca_deploy.settings import STACK_REF_FORM, Command, CommandSettings, Region, SsmParameterName, StackRef

if TYPE_CHECKING:
    from abca_deploy.aws.agentcore import AgentCoreControl
    from abca_deploy.aws.cloudformation import CloudFormation
    from abca_deploy.aws.ssm import Parameters
    from abca_deploy.gates.images import Verdict
    from abca_deploy.report import Reporter

# A stack in one of these states has no runtime yet: its creation is under review, failed, or was rolled back.
_NOT_CREATED = {"REVIEW_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_FAILED", "ROLLBACK_IN_PROGRESS",
                "ROLLBACK_FAILED", "ROLLBACK_COMPLETE", "DELETE_COMPLETE"}


class DriftSettings(CommandSettings):
    """Flags of ``abca-deploy drift``."""

    stack_name: StackRef = Field(
        description="The CloudFormation stack that defines the runtime (ABCA: backgroundagent-dev).",
        json_schema_extra={"form": STACK_REF_FORM, "metavar": "NAME"})
    image_parameter: SsmParameterName = Field(None, description=(
        "SSM parameter that records the published image (publish --image-parameter); default: the parameter "
        "the template reads, if any. One that does not exist yet means no CI publish yet (a notice)."),
        json_schema_extra={"form": "an SSM parameter name, e.g. /abca/backgroundagent-dev/runtime-image",
                           "metavar": "NAME"})
    runtime_output: str = Field("RuntimeArn", description="The stack output that holds the runtime ARN.",
                                json_schema_extra={"metavar": "KEY"})
    aws_region: Region = Field(None, description="AWS region (default: AWS_REGION or the AWS config).",
                           json_schema_extra={"metavar": "REGION", "form": "an AWS region such as us-east-1"})


@dataclass(frozen=True)
class Observed:
    """What the three sources hold, read before any decision."""

    runtime_arn: str
    runtime_id: str
    version: str
    live: str
    template: TemplateImage
    parameter: tuple[str, str] | None


def runtime_identity(arn: str, where: str) -> tuple[str, Pseudo]:
    """The runtime id and the stack's pseudo parameters (same partition, region and account) from its ARN."""
    from abca_deploy.runtime.target import runtime_id_from

    runtime_id = runtime_id_from(arn, where)
    match = RUNTIME_ARN.fullmatch(arn)
    assert match is not None  # runtime_id_from accepted it
    return runtime_id, Pseudo(match["partition"], match["region"], match["account"])


def observe(settings: DriftSettings, stacks: CloudFormation, control: AgentCoreControl,
            parameters: Parameters, reporter: Reporter) -> Observed | None:
    """Read the runtime ARN, the live image, the template's image and the parameter; None: no stack yet."""
    found = stacks.describe(settings.stack_name)
    if found is None or found[0] in _NOT_CREATED:
        return None
    arn = pick_output(settings.stack_name, found[1], settings.runtime_output)
    where = f"stack {settings.stack_name} output {settings.runtime_output}"
    runtime_id, pseudo = runtime_identity(arn, where)
    runtime = control.get_runtime(runtime_id)
    live = _dig(runtime, "agentRuntimeArtifact", "containerConfiguration", "containerUri")
    if not isinstance(live, str) or not live:
        msg = f"Runtime {runtime_id} has no container image (agentRuntimeArtifact.containerConfiguration)."
        raise UserError(msg, hint="drift compares container images; check --stack-name and --runtime-output.",
                        title="Runtime without a container image")
    template = template_image(stacks.template(settings.stack_name), settings.runtime_output, pseudo)
    parameter = _read_parameter(settings.image_parameter, template.parameter, parameters, reporter)
    return Observed(arn, runtime_id, str(runtime.get("agentRuntimeVersion", "?")), live, template, parameter)


def _read_parameter(given: str | None, in_template: str | None, parameters: Parameters,
                    reporter: Reporter) -> tuple[str, str] | None:
    """(name, value) of --image-parameter, else of the parameter the template reads; None when neither."""
    if given and in_template and in_template != given:
        reporter.warning(f"The template reads its image from SSM parameter {in_template}, not {given}; the "
                         f"next deploy uses {in_template}.", title="Another image parameter")
    name = given or in_template
    if not name:
        return None
    value = parameters.get(name)
    if value is None:
        reporter.notice(f"SSM parameter {name} does not exist yet: no CI publish has recorded an image for "
                        "this stack, so only the template is compared with the live image. The first "
                        f"`abca-deploy runtime publish --image-parameter {name}` creates it.",
                        title="No CI publish yet")
        if name == in_template:
            reporter.warning(f"The template reads its runtime image from {name}, which does not exist: "
                             "CloudFormation fails the deploy until a publish records it or it is seeded.",
                             title="Image parameter missing")
        return None
    return name, value


def run(settings: DriftSettings, reporter: Reporter) -> int:
    """Read the sources, judge, report; raise DriftDetected (exit 3) after the result when they disagree."""
    from abca_deploy.aws.agentcore import AgentCoreControl
    from abca_deploy.aws.cloudformation import CloudFormation
    from abca_deploy.aws.session import client
    from abca_deploy.aws.ssm import Parameters

    with reporter.group(f"Read the runtime image of stack {settings.stack_name}"):
        seen = observe(settings, CloudFormation(client("cloudformation", settings.aws_region)),
                       AgentCoreControl(client("bedrock-agentcore-control", settings.aws_region)),
                       Parameters(client("ssm", settings.aws_region)), reporter)
    if seen is None:
        return _first_deploy(reporter, settings.stack_name)
    detail = f"{seen.runtime_id} version {seen.version}"
    verdict = judge(settings.stack_name, seen.live, detail, seen.template, seen.parameter)
    _report(reporter, settings.stack_name, seen, verdict)
    if not verdict.in_sync:
        raise DriftDetected(" ".join(verdict.problems), hint="Fix: " + " ".join(verdict.fixes),
                            title="Runtime image drift")
    reporter.info(f"In sync: a `cdk deploy` of {settings.stack_name} keeps the runtime on {seen.live}.")
    return 0


def _first_deploy(reporter: Reporter, stack: str) -> int:
    """No stack (or one whose creation never completed): nothing published to revert; exit 0."""
    message = (f"Stack {stack} does not exist yet (or its creation never completed): a first deploy has no "
               "CI-published runtime image to revert.")
    reporter.notice(message, title="First deploy")
    reporter.set_output("in-sync", True)
    reporter.set_output("runtime-image", "")
    reporter.summary(f"### Runtime image of {stack}: first deploy\n\n{message}")
    reporter.result({"stack_name": stack, "in_sync": True, "first_deploy": True, "sources": [],
                     "problems": [], "fixes": []}, message)
    return 0


def _report(reporter: Reporter, stack: str, seen: Observed, verdict: Verdict) -> None:
    def mark(in_sync: bool | None, source: str) -> str:
        return "live" if source == "runtime" else "-" if in_sync is None else "yes" if in_sync else "NO"

    headers = ["source", "image", "in sync", "detail"]
    rows = [[s.source, s.image or "-", mark(s.in_sync, s.source), s.detail] for s in verdict.sources]
    reporter.set_output("in-sync", verdict.in_sync)
    reporter.set_output("runtime-image", seen.live)
    heading = "in sync" if verdict.in_sync else "DRIFT"
    problems = "".join(f"\n\n> {p}" for p in verdict.problems)
    reporter.summary(f"### Runtime image of {stack}: {heading}\n\n{markdown_table(headers, rows)}{problems}")
    document: dict[str, Any] = {
        "stack_name": stack, "runtime_arn": seen.runtime_arn, "runtime_id": seen.runtime_id,
        "in_sync": verdict.in_sync, "first_deploy": False,
        "sources": [{"source": s.source, "image": s.image, "in_sync": s.in_sync, "detail": s.detail}
                    for s in verdict.sources],
        "problems": verdict.problems, "fixes": verdict.fixes,
    }
    reporter.result(document, text_table(headers, rows) + f"\n\n{heading}")


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


DRIFT = Command(
    settings=DriftSettings,
    run=run,
    help="Compare the runtime's live image with the stack template and the SSM image parameter; exit 0 in "
         "sync, 3 on drift (a cdk deploy would revert the CI-published image), 2 for unknown resources.",
)
