"""Settings of the runtime commands: the only place their input is parsed and validated."""

from __future__ import annotations

import json
import os
import posixpath
import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator
from pydantic_settings import NoDecode

from abca_deploy import abca_stack
from abca_deploy.build.limits import AGENTCORE_IMAGE_LIMIT
from abca_deploy.errors import UserError
from abca_deploy.identifiers import (
    DIGEST,
    ECR_REGISTRY,
    ECR_REPOSITORY,
    ECR_URI,
    RUNTIME_ARN,
    RUNTIME_ID,
)
from abca_deploy.settings import (
    STACK_NAME_FORM,
    STACK_REF_FORM,
    CommandSettings,
    Lines,
    Region,
    SsmParameterName,
    StackName,
    StackRef,
    matching,
    split_lines,
)

if TYPE_CHECKING:
    from collections.abc import Mapping


def _json(value: str) -> str:
    try:
        json.loads(value)
    except ValueError as exc:
        msg = f"is not valid JSON ({exc})"
        raise ValueError(msg) from None
    return value


def _statuses(value: str) -> str:
    codes = [c.strip() for c in value.split(",") if c.strip()]
    if not codes or not all(c.isdigit() and 100 <= int(c) <= 599 for c in codes):
        msg = "must be HTTP status codes separated by commas"
        raise ValueError(msg)
    return ",".join(codes)


def _regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            msg = f"is not a valid regular expression ({exc})"
            raise ValueError(msg) from None
    return value


def _build_args(value: list[str]) -> list[str]:
    for item in value:
        if not item.split("=", 1)[0].strip() or "=" not in item:
            msg = f"{item!r} is not KEY=VALUE"
            raise ValueError(msg)
    return value


def _relative_inside(value: str) -> str:
    path = PurePosixPath(value)
    if path.is_absolute() or posixpath.normpath(value).split("/", 1)[0] == "..":
        msg = "must be a path inside --context, relative to it"
        raise ValueError(msg)
    return value


def _named_endpoint(value: str | None) -> str | None:
    if value == "DEFAULT":
        msg = "must be a named endpoint: DEFAULT always follows the latest version"
        raise ValueError(msg)
    return value


BuildArgs = Annotated[Lines, AfterValidator(_build_args)]
Seconds = Annotated[int, Field(gt=0, le=21600, json_schema_extra={"form": "seconds, 1-21600"})]
RelativePath = Annotated[str, AfterValidator(_relative_inside)]
RuntimeId = Annotated[str | None, matching(RUNTIME_ID, "is not an AgentCore runtime id")]
RuntimeArn = Annotated[str | None, matching(RUNTIME_ARN.pattern, "is not an AgentCore runtime ARN")]
EndpointName = Annotated[str | None, matching(r"[a-zA-Z][a-zA-Z0-9_]{0,47}", "is not an endpoint name"),
                         AfterValidator(_named_endpoint)]
Platform = Annotated[str, matching(r"[a-z0-9]+/[a-z0-9_]+(/v[0-9])?", "is not a platform")]
ImageTag = Annotated[str, matching(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "is not a valid image tag")]
ImageTags = Annotated[list[ImageTag], NoDecode, BeforeValidator(split_lines)]
EcrImage = Annotated[str | None, matching(ECR_URI.pattern, "is not an ECR image URI"),
                     matching(rf".*(:[^:@/]+|@{DIGEST.pattern})", "needs a :tag or @sha256: digest")]
EcrRepository = Annotated[str | None, matching(rf"(?:{ECR_REGISTRY}/)?{ECR_REPOSITORY}",
                                                "is not an ECR repository name or URI (no tag or digest)")]
"""An ECR repository, by name or as ``<registry>/<name>`` (DescribeRepositories' name pattern)."""
HostPort = Annotated[str | None, matching(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?", "is not host:port")]
Version = Annotated[str | None, matching(r"[1-9][0-9]{0,4}", "is not a version number")]


class RuntimeTarget(CommandSettings):
    """Which runtime: by id, by ARN, or by a CloudFormation stack output."""

    runtime_id: RuntimeId = Field(
        None, description="AgentCore runtime id, e.g. myagent-AbCdEfGhIj.",
        json_schema_extra={"form": "<name>-<10 letters or digits>"})
    runtime_arn: RuntimeArn = Field(
        None, description="AgentCore runtime ARN.",
        json_schema_extra={"form": "arn:aws:bedrock-agentcore:<region>:<account>:runtime/<id>"})
    stack_name: StackRef | None = Field(
        None, description="CloudFormation stack whose output is the runtime ARN.",
        json_schema_extra={"form": STACK_REF_FORM, "metavar": "NAME"})
    runtime_output: str = Field("RuntimeArn", description="The stack output holding the runtime ARN.")
    aws_region: Region = Field(None, description="AWS region (default: AWS_REGION).",
                           json_schema_extra={"form": "an AWS region such as us-east-1"})

    @model_validator(mode="after")
    def _one_target(self) -> RuntimeTarget:
        names = ("runtime_id", "runtime_arn", "stack_name")
        given = ["--" + f.replace("_", "-") for f in names if getattr(self, f)]
        if len(given) != 1:
            msg = "name the runtime with exactly one of --runtime-id, --runtime-arn or --stack-name" + (
                f" (got {', '.join(given)})" if given else "")
            raise ValueError(msg)
        return self


class TargetSettings(RuntimeTarget):
    """A runtime, and optionally its blue/green endpoint."""

    promote_endpoint: EndpointName = Field(
        None, description="Blue/green: the named endpoint to move only after the smoke test passes.",
        json_schema_extra={"form": "a letter then up to 47 letters, digits or _"})


LeaseTimeout = Annotated[Seconds, Field(
    description="Seconds to wait while another publish or rollback of the runtime holds its lease.")]
LeaseTtl = Annotated[Seconds, Field(
    description="Seconds after its last heartbeat that this run's lease expires (tests use a short one).",
    json_schema_extra={"form": "seconds, 1-21600", "sandbox_only": True})]


class LeaseSettings(TargetSettings):
    """Commands that change a runtime hold its lease (an SSM parameter) meanwhile."""

    lease_timeout: LeaseTimeout = 1800
    lease_ttl: LeaseTtl = 90


class PublishSettings(LeaseSettings):
    """``abca-deploy runtime publish``."""

    ecr_repository: EcrRepository = Field(
        None, description="ECR repository name or URI to push to (default: the --stack-name stack's "
                          "RuntimeImageRepositoryUri output if it has one, else the current image's "
                          "repository).")
    context: str = Field(".", description="Docker build context.")
    dockerfile: RelativePath = Field(
        "agent/Dockerfile", description="Dockerfile path relative to the context.",
        json_schema_extra={"form": "a relative path inside --context"})
    platform: Platform = Field(
        "linux/arm64", description="Image platform (AgentCore runs linux/arm64).",
        json_schema_extra={"form": "os/arch such as linux/arm64"})
    build_args: BuildArgs = Field(default_factory=list, description="Build arguments, KEY=VALUE.",
                                  json_schema_extra={"metavar": "KEY=VALUE"})
    default_build_args: BuildArgs = Field(
        default_factory=list, json_schema_extra={"metavar": "KEY=VALUE", "sandbox_only": True},
        description="Build arguments used unless --build-args sets the same key (the sandbox sets "
                    "BASE_IMAGE).")
    tags: ImageTags = Field(
        default_factory=list, description="Extra image tags (default: the git commit SHA when known).",
        json_schema_extra={"form": "1-128 of [A-Za-z0-9_.-], not starting with . or -", "metavar": "TAG"})
    builder: Literal["auto", "buildkit", "classic"] = Field(
        "auto", description="How to build: BuildKit through docker buildx, layers reused from the registry "
                            "(auto falls back to the classic builder, cold, when buildx is missing).")
    cache_repository: EcrRepository = Field(
        None, description="ECR repository (name or URI, mutable tags) for BuildKit's registry cache of every "
                          "stage (default: the image repository unless its tags are immutable).")
    image_size_limit: int = Field(
        AGENTCORE_IMAGE_LIMIT, gt=0, description="Bytes an image may have, compressed or unpacked, before "
                                                 "the update is refused (AgentCore's limit: 2 GB).",
        json_schema_extra={"form": "a number of bytes such as 2000000000"})
    image: EcrImage = Field(
        None, description="Deploy an existing ECR image by tag or digest; no build.",
        json_schema_extra={"form": "<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag> or …@sha256:…"})
    wait_timeout: Seconds = Field(
        900, description="Seconds to wait for the new version to be READY, counted from the update call.")
    timeout: Seconds | None = Field(
        None, description="Seconds the whole publish may take (lock, build, update, wait, smoke test); when "
                          "it passes, the rollback gets --wait-timeout more. Default: no limit.")
    smoke_payload: Annotated[str, AfterValidator(_json)] = Field(
        '{"input":{}}', description="JSON payload of the smoke test.",
        json_schema_extra={"form": "a JSON document"})
    smoke_expect_status: Annotated[str, AfterValidator(_statuses)] = Field(
        "200,400", description="Accepted smoke-test status codes, comma separated.",
        json_schema_extra={"form": "HTTP status codes such as 200,400"})
    smoke_expect: Annotated[str | None, AfterValidator(_regex)] = Field(
        None, description="Regular expression the smoke-test body must match.")
    rollback: bool = Field(True, description="Roll back automatically when the new version fails "
                                             "(--no-rollback leaves a failed version in place).")
    image_parameter: SsmParameterName = Field(
        None, description="SSM parameter that records the deployed image URI (default: the --stack-name "
                          "stack's RuntimeImageParameterName output, if it has one).",
        json_schema_extra={"form": "an SSM parameter name such as /abca/runtime-image"})
    ecr_registry_endpoint: HostPort = Field(
        None, description="Push images for ECR hosts to this registry instead (the sandbox's registry).",
        json_schema_extra={"form": "host:port", "sandbox_only": True})
    dry_run: bool = Field(False, description="Print the plan; build, push and change nothing.")

    @property
    def expected_statuses(self) -> frozenset[int]:
        """The accepted smoke-test status codes."""
        return frozenset(int(c) for c in self.smoke_expect_status.split(","))

    def payload(self) -> Any:
        """The smoke payload as parsed JSON."""
        return json.loads(self.smoke_payload)


class StatusSettings(TargetSettings):
    """``abca-deploy runtime status``."""


class ResolveSettings(RuntimeTarget):
    """``abca-deploy runtime resolve``."""


class RollbackSettings(LeaseSettings):
    """``abca-deploy runtime rollback``."""

    to_version: Version = Field(
        None, description="The version to go back to (default: the newest tested one with another image).",
        json_schema_extra={"form": "a version number such as 3"})
    if_untested: bool = Field(
        False, description="Act only when the live version is untested (after a cancelled publish); else "
                           "do nothing and exit 0.")
    wait_timeout: Seconds = Field(900, description="Seconds to wait for READY.")
    dry_run: bool = Field(False, description="Print what would be sent; change nothing.")


class AdoptSettings(CommandSettings):
    """``abca-deploy runtime adopt``: the first step of integrating a live ABCA stack (integrations/abca)."""

    stack_name: StackName = Field(
        description="The ABCA stack whose runtime image is adopted (its output names the runtime).",
        json_schema_extra={"form": STACK_NAME_FORM, "metavar": "NAME"})
    runtime_output: str = Field("RuntimeArn", description="The stack output holding the runtime ARN.",
                                json_schema_extra={"metavar": "KEY"})
    image_repository: EcrRepository = Field(
        None, description="The CI image repository to copy the live image into (default: the stack's "
                          "RuntimeImageRepositoryUri output, else its image stack's, else "
                          "backgroundagent-runtime/<stack-name in lower case>).",
        json_schema_extra={"form": "backgroundagent-runtime/<stack> or <account>.dkr.ecr.<region>."
                                   "amazonaws.com/backgroundagent-runtime/<stack>", "metavar": "REPOSITORY"})
    image_parameter: SsmParameterName = Field(
        None, description="The stack's image parameter (default: the stack's RuntimeImageParameterName "
                          "output, else its image stack's, else /abca/<stack-name>/runtime-image).",
        json_schema_extra={"form": "an SSM parameter name such as /abca/backgroundagent-dev/runtime-image",
                           "metavar": "NAME"})
    wait_timeout: Seconds = Field(
        900, description="Seconds to wait while an update of the runtime is in flight, before reading it.")
    lease_timeout: LeaseTimeout = 1800
    lease_ttl: LeaseTtl = 90
    ecr_registry_endpoint: HostPort = Field(
        None, description="Reach the registry of ECR hosts at this address instead (the sandbox's registry).",
        json_schema_extra={"form": "host:port", "sandbox_only": True})
    aws_region: Region = Field(None, description="AWS region (default: AWS_REGION).",
                               json_schema_extra={"form": "an AWS region such as us-east-1"})
    dry_run: bool = Field(False, description="Read everything and print the plan; copy and write nothing.")


def check_paths(settings: PublishSettings) -> None:
    """--context is a directory (inside the workspace in Actions) and --dockerfile a file inside it.

    Symlinks are resolved first, and nothing is read: a bad path is reported, never its content."""
    if settings.image:
        return
    context = Path(settings.context)
    try:
        real = context.resolve(strict=True)
    except (OSError, RuntimeError):
        msg = f"--context: {settings.context!r} does not exist."
        raise UserError(msg, hint="Pass the build context directory (ABCA: the repository root '.').",
                        title="Invalid --context") from None
    if not real.is_dir():
        msg = f"--context: {settings.context!r} is not a directory."
        raise UserError(msg, title="Invalid --context")
    workspace = os.environ.get("GITHUB_WORKSPACE", "").strip()
    if workspace and not real.is_relative_to(Path(workspace).resolve()):
        msg = f"--context: {settings.context!r} resolves outside the workspace ({workspace})."
        raise UserError(msg, hint="Build from the checked-out repository.", title="Invalid --context")
    dockerfile = (context / settings.dockerfile).resolve()
    if not dockerfile.is_relative_to(real):
        msg = f"--dockerfile: {settings.dockerfile!r} resolves outside --context (through a symlink)."
        raise UserError(msg, hint="The Dockerfile must be a file inside the build context.",
                        title="Invalid --dockerfile")
    if not dockerfile.is_file():
        msg = f"--dockerfile: {settings.dockerfile!r} does not exist in the context {settings.context!r}."
        raise UserError(msg, hint="The path is relative to --context (ABCA: context '.', dockerfile "
                                  "'agent/Dockerfile').", title="Invalid --dockerfile")


STACK_DEFAULTS = (("image_parameter", abca_stack.IMAGE_PARAMETER_OUTPUT),
                  ("ecr_repository", abca_stack.IMAGE_REPOSITORY_OUTPUT))
"""Settings an integrated stack (``integrations/abca``) names in its outputs (``abca_deploy.abca_stack``)."""


def with_stack_defaults(settings: PublishSettings,
                        outputs: Mapping[str, str]) -> tuple[PublishSettings, list[str]]:
    """``--image-parameter`` and ``--ecr-repository`` from the stack's outputs when they were not given,
    checked like the flags; the settings and one line per value taken."""
    from pydantic import ValidationError

    from abca_deploy.settings import flag_name, settings_error

    taken = {field: outputs[output].strip() for field, output in STACK_DEFAULTS
             if getattr(settings, field) is None and outputs.get(output, "").strip()
             and not (field == "ecr_repository" and settings.image)}  # --image names its own repository
    if not taken:
        return settings, []
    try:
        updated = type(settings).model_validate({**settings.model_dump(), **taken})
    except ValidationError as exc:
        output = dict(STACK_DEFAULTS)[str(exc.errors()[0]["loc"][0])]
        msg = f"The stack's output {output}: {settings_error(exc, type(settings)).message}"
        raise UserError(msg, hint="Pass the flag to override it.",
                        title=f"Invalid stack output {output}") from None
    return updated, [f"{flag_name(field)} {value} (stack output {dict(STACK_DEFAULTS)[field]})"
                     for field, value in taken.items()]
