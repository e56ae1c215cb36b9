"""Settings of the runtime commands: the only place their input is parsed and validated."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from abca_deploy.runtime.config import ECR_URI
from abca_deploy.settings import CommandSettings, Lines

RUNTIME_ARN = re.compile(
    r"^arn:aws[a-z-]*:bedrock-agentcore:[a-z0-9-]+:[0-9]{12}:runtime/(?P<id>[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10})$"
)
RUNTIME_ID = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}$")
ENDPOINT_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,47}$")


class TargetSettings(CommandSettings):
    """Which runtime: by id, by ARN, or by a CloudFormation stack output."""

    runtime_id: str | None = Field(
        None,
        description="AgentCore runtime id, e.g. myagent-AbCdEfGhIj.",
        json_schema_extra={"form": "<name>-<10 letters or digits>"},
    )
    runtime_arn: str | None = Field(
        None,
        description="AgentCore runtime ARN.",
        json_schema_extra={"form": "arn:aws:bedrock-agentcore:<region>:<account>:runtime/<id>"},
    )
    stack_name: str | None = Field(
        None, description="CloudFormation stack whose output names the runtime ARN."
    )
    runtime_output: str = Field("RuntimeArn", description="The stack output holding the runtime ARN.")
    region: str | None = Field(
        None,
        description="AWS region (default: AWS_REGION).",
        json_schema_extra={"form": "an AWS region such as us-east-1"},
    )
    promote_endpoint: str | None = Field(
        None,
        description="Blue/green: the named endpoint to move only after the smoke test passes.",
        json_schema_extra={"form": "a letter then up to 47 letters, digits or _"},
    )

    @field_validator("runtime_id")
    @classmethod
    def _runtime_id(cls, value: str | None) -> str | None:
        if value is not None and not RUNTIME_ID.match(value):
            msg = "is not an AgentCore runtime id"
            raise ValueError(msg)
        return value

    @field_validator("runtime_arn")
    @classmethod
    def _runtime_arn(cls, value: str | None) -> str | None:
        if value is not None and not RUNTIME_ARN.match(value):
            msg = "is not an AgentCore runtime ARN"
            raise ValueError(msg)
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-[0-9]", value):
            msg = "is not an AWS region"
            raise ValueError(msg)
        return value

    @field_validator("promote_endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is not None and (value == "DEFAULT" or not ENDPOINT_NAME.match(value)):
            msg = "is not a named endpoint (DEFAULT always follows the latest version)"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _one_target(self) -> TargetSettings:
        given = [f for f in ("runtime_id", "runtime_arn", "stack_name") if getattr(self, f)]
        if len(given) != 1:
            msg = "name the runtime with exactly one of --runtime-id, --runtime-arn or --stack-name" + (
                f" (got {', '.join('--' + g.replace('_', '-') for g in given)})" if given else ""
            )
            raise ValueError(msg)
        return self


class PublishSettings(TargetSettings):
    """``abca-deploy runtime publish``."""

    ecr_repository: str | None = Field(
        None,
        description="ECR repository name or URI to push to (default: the repository of the current image).",
    )
    context: str = Field(".", description="Docker build context.")
    dockerfile: str = Field("agent/Dockerfile", description="Dockerfile path relative to the context.")
    platform: str = Field(
        "linux/arm64",
        description="Image platform (AgentCore runs linux/arm64).",
        json_schema_extra={"form": "os/arch such as linux/arm64"},
    )
    build_arg: Lines = Field(
        default_factory=list,
        description="Build argument KEY=VALUE.",
        json_schema_extra={"metavar": "KEY=VALUE"},
    )
    default_build_arg: Lines = Field(
        default_factory=list,
        description="Build argument used unless --build-arg sets the same key (the sandbox "
        "sets BASE_IMAGE this way).",
        json_schema_extra={"metavar": "KEY=VALUE"},
    )
    tag: str | None = Field(
        None,
        description="Extra image tag (default: the git commit SHA when known).",
        json_schema_extra={"form": "1-128 of [A-Za-z0-9_.-], not starting with . or -"},
    )
    image: str | None = Field(
        None,
        description="Deploy an existing ECR image by tag or digest; no build.",
        json_schema_extra={
            "form": "<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag> or …@sha256:<digest>"
        },
    )
    wait_timeout: int = Field(
        900,
        gt=0,
        le=21600,
        description="Seconds to wait for READY.",
        json_schema_extra={"form": "seconds, 1-21600"},
    )
    smoke_payload: str = Field(
        '{"input":{}}',
        description="JSON payload of the smoke test.",
        json_schema_extra={"form": "a JSON document"},
    )
    smoke_expect_status: str = Field(
        "200,400",
        description="Accepted smoke-test status codes, comma separated.",
        json_schema_extra={"form": "HTTP status codes such as 200,400"},
    )
    smoke_expect: str | None = Field(None, description="Regular expression the smoke-test body must match.")
    no_rollback: bool = Field(False, description="Leave a failed version in place (no automatic rollback).")
    image_parameter: str | None = Field(
        None,
        description="SSM parameter that records the deployed image URI.",
        json_schema_extra={"form": "an SSM parameter name such as /abca/runtime-image"},
    )
    ecr_registry_endpoint: str | None = Field(
        None,
        description="Push images for ECR hosts to this registry instead (the sandbox's local registry).",
        json_schema_extra={"form": "host:port"},
    )
    dry_run: bool = Field(False, description="Print the plan; build, push and change nothing.")

    @field_validator("image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is not None and not ECR_URI.match(value):
            msg = "is not an ECR image URI with a tag or digest"
            raise ValueError(msg)
        if value is not None and not re.search(r"(:[^:@/]+|@sha256:[0-9a-f]{64})$", value):
            msg = "needs a :tag or @sha256: digest"
            raise ValueError(msg)
        return value

    @field_validator("smoke_payload")
    @classmethod
    def _payload(cls, value: str) -> str:
        try:
            json.loads(value)
        except ValueError as exc:
            msg = f"is not valid JSON ({exc})"
            raise ValueError(msg) from None
        return value

    @field_validator("smoke_expect_status")
    @classmethod
    def _statuses(cls, value: str) -> str:
        codes = [c.strip() for c in value.split(",") if c.strip()]
        if not codes or not all(c.isdigit() and 100 <= int(c) <= 599 for c in codes):
            msg = "must be HTTP status codes separated by commas"
            raise ValueError(msg)
        return ",".join(codes)

    @field_validator("smoke_expect")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                msg = f"is not a valid regular expression ({exc})"
                raise ValueError(msg) from None
        return value

    @field_validator("tag")
    @classmethod
    def _tag(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", value):
            msg = "is not a valid image tag"
            raise ValueError(msg)
        return value

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9]+/[a-z0-9_]+(/v[0-9])?", value):
            msg = "is not a platform"
            raise ValueError(msg)
        return value

    @field_validator("build_arg", "default_build_arg")
    @classmethod
    def _build_args(cls, value: list[str]) -> list[str]:
        for item in value:
            if "=" not in item or not item.split("=", 1)[0].strip():
                msg = f"{item!r} is not KEY=VALUE"
                raise ValueError(msg)
        return value

    @property
    def expected_statuses(self) -> frozenset[int]:
        """The accepted smoke-test status codes."""
        return frozenset(int(c) for c in self.smoke_expect_status.split(","))

    def payload(self) -> Any:
        """The smoke payload as parsed JSON."""
        return json.loads(self.smoke_payload)


class StatusSettings(TargetSettings):
    """``abca-deploy runtime status``."""


class RollbackSettings(TargetSettings):
    """``abca-deploy runtime rollback``."""

    to_version: str | None = Field(
        None,
        description="The version to go back to (default: the previous READY one).",
        json_schema_extra={"form": "a version number such as 3"},
    )
    wait_timeout: int = Field(
        900,
        gt=0,
        le=21600,
        description="Seconds to wait for READY.",
        json_schema_extra={"form": "seconds, 1-21600"},
    )
    dry_run: bool = Field(False, description="Print what would be sent; change nothing.")

    @field_validator("to_version")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[1-9][0-9]{0,4}", value):
            msg = "is not a version number"
            raise ValueError(msg)
        return value
