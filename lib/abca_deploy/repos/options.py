"""Settings of the ``repo`` commands: the only place their flags, environment and action inputs are parsed.

Field flags follow ABCA's CLI where it has one (``--model``, ``--token-secret-arn``); repeatable ones are
plural; ``FLAG_FIELDS`` maps each to the table attribute it writes.
"""

from __future__ import annotations

from decimal import Decimal  # noqa: TC003 - pydantic resolves annotations at runtime
from pathlib import Path  # noqa: TC003 - pydantic resolves annotations at runtime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from abca_deploy.repos import cedar, files, models
from abca_deploy.repos import validate as v
from abca_deploy.repos.schema import BY_NAME, Value
from abca_deploy.settings import (
    ENV_FORM,
    STACK_REF_FORM,
    CommaList,
    CommandSettings,
    EnvName,
    Lines,
    Region,
    StackRef,
    env_var_name,
    http_url,
    matching,
)

FLAG_FIELDS = {
    "compute_type": "compute_type", "runtime_arn": "runtime_arn", "model": "model_id",
    "max_turns": "max_turns", "max_budget_usd": "max_budget_usd", "poll_interval_ms": "poll_interval_ms",
    "approval_gate_cap": "approval_gate_cap", "build_command": "build_command",
    "lint_command": "lint_command", "system_prompt_overrides": "system_prompt_overrides",
    "egress_allowlist": "egress_allowlist", "cedar_policy_files": "cedar_policies",
    "mcp_servers": "mcp_servers",
    "cedar_policy_modules": "cedar_policy_modules", "skills": "skills",
    "token_secret_arn": "github_token_secret_arn",
}
"""Settings field -> the table attribute it sets."""
ROLES = Literal["none", "read", "triage", "write", "maintain", "admin"]
RepoName = Annotated[str, AfterValidator(v.repo_name)]
"""OWNER/REPO, validated like the Blueprint construct."""


TableName = Annotated[str | None, matching(r"[A-Za-z0-9_.-]{3,255}", "is not a DynamoDB table name")]
"""An optional DynamoDB table name."""


def _form(attribute: str, metavar: str = "VALUE") -> Any:
    return {"form": v.FORMS[attribute], "metavar": metavar}


class TableSettings(CommandSettings):
    """Where the repo table is: its name, or the stack whose ``RepoTableName`` output names it."""

    stack_name: StackRef = Field(
        "backgroundagent-dev", description="Stack whose RepoTableName output names the table.",
        json_schema_extra={"form": STACK_REF_FORM})
    repo_table: TableName = Field(None, description="The repo table's name (skips the stack lookup).",
                                  json_schema_extra={"form": "3-255 letters, digits, '_', '.' or '-'"})
    aws_region: Region = Field(None, description="AWS region (default: AWS_REGION).",
                           json_schema_extra={"form": "an AWS region such as us-east-1"})


class RemoteSettings(CommandSettings):
    """Going through ABCA's repository API instead of DynamoDB (no AWS credentials needed)."""

    api_url: str | None = Field(
        None, description="ABCA's ApiUrl stack output (ends in /v1/): go through the repository API "
                          "instead of DynamoDB, signed in with `repo login` or an API key.",
        json_schema_extra={"form": "an http(s) URL such as https://ID.execute-api.REGION.amazonaws.com/v1/",
                           "metavar": "URL"})
    api_key_env: str | None = Field(
        None, description="Environment variable holding a platform API key (repos:read, repos:manage) for "
                          "--api-url, instead of `repo login`.",
        json_schema_extra={"form": "an environment variable name", "metavar": "VAR"})

    @field_validator("api_url")
    @classmethod
    def _remote_url(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value)

    @field_validator("api_key_env")
    @classmethod
    def _key_env(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not info.data.get("api_url"):
            msg = "is used only with --api-url (the repository API)"
            raise ValueError(msg)
        return None if value is None else env_var_name(value)


class ShowSettings(TableSettings, RemoteSettings):
    """``repo show``."""

    repo: RepoName = Field(description="The repository, OWNER/REPO.",
                      json_schema_extra=_form("repo", "OWNER/REPO"))


class ListSettings(TableSettings, RemoteSettings):
    """``repo list``."""

    status: Literal["active", "removed"] | None = Field(None, description="Only rows with this status.")


class GuardrailSettings(TableSettings):
    """The guardrails every write applies, whichever front door it came through (the CLI, the repo API)."""

    allowed_owners: CommaList = Field([], description="Owners that may be onboarded (empty: any).",
                                      json_schema_extra={"metavar": "OWNER"})
    max_repos: int | None = Field(None, ge=1, description="Refuse to exceed this many active repositories.",
                                  json_schema_extra={"form": "an integer of at least 1", "metavar": "N"})
    require_token: bool = Field(False, description="Onboard a repository only with a GitHub token of its own "
                                "(workshops: the platform token cannot push to participants' forks).")
    github_api_url: str | None = Field(None, description="GitHub REST API root (default: GITHUB_API_URL or "
                                       "https://api.github.com; GitHub Enterprise: https://HOST/api/v3).",
                                       json_schema_extra={"form": "an http(s) URL"})
    allowed_models: CommaList = Field(
        [], description="Override the model ids the stack grants (default: its BedrockModelIds and "
                        "BedrockGeoRegion outputs, else ABCA's default list with us. profiles). Bare ids "
                        "take the stack's geography; an id with a geography prefix is taken as it is.",
        json_schema_extra={"form": "bare model ids such as anthropic.claude-opus-4-8, or profile ids such as "
                                   "global.anthropic.claude-opus-4-8", "metavar": "MODEL"})

    @field_validator("github_api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value)

    @field_validator("allowed_models")
    @classmethod
    def _models(cls, value: list[str]) -> list[str]:
        return [models.allowed_entry(model) for model in value]


class WriteSettings(GuardrailSettings):
    """Every command that writes: dry run, the guardrails, and who may run it in Actions."""

    dry_run: bool = Field(False, description="Print the plan; write nothing.")
    required_permission: ROLES = Field(
        "admin", description="In Actions, the role the triggering actor needs on the platform repository "
                             "(none: any actor, e.g. the merge queue or Mergify merging a reviewed file).")
    platform_token_env: EnvName = Field(
        "GITHUB_TOKEN", description="Environment variable with a token that can read the platform repository "
                                    "(for the actor check in Actions).",
        json_schema_extra={"form": ENV_FORM, "metavar": "VAR"})


class OffboardSettings(WriteSettings, RemoteSettings):
    """``repo offboard``."""

    repo: RepoName = Field(description="The repository, OWNER/REPO.",
                      json_schema_extra=_form("repo", "OWNER/REPO"))


class SyncSettings(WriteSettings):
    """``repo sync``."""

    file: Path = Field(description="The repos.yaml file.", json_schema_extra={"metavar": "FILE"})
    prune: bool = Field(False, description="Offboard active repositories the file does not list (never one a "
                                           "CDK Blueprint of the stack declares).")
    confirm_prune_all: bool = Field(
        False, description="Confirm --prune with a file that declares no repositories: offboard every active "
                           "repository the table owns.")


class FieldSettings(WriteSettings, RemoteSettings):
    """``repo onboard`` and ``repo update``: the repository and the fields to set."""

    repo: RepoName = Field(description="The repository, OWNER/REPO.",
                      json_schema_extra=_form("repo", "OWNER/REPO"))
    compute_type: str | None = Field(None, description="Compute: agentcore, ecs or lambda-microvm.",
                                     json_schema_extra=_form("compute_type", "TYPE"))
    runtime_arn: str | None = Field(None, description="Per-repo AgentCore runtime ARN.",
                                    json_schema_extra=_form("runtime_arn", "ARN"))
    model: str | None = Field(None, description="Inference-profile id the stack grants, e.g. "
                                                "us.anthropic.claude-opus-4-8.",
                              json_schema_extra=_form("model_id", "MODEL"))
    max_turns: int | None = Field(None, description="Agent turn limit, 1-500.",
                                  json_schema_extra=_form("max_turns", "N"))
    max_budget_usd: Decimal | None = Field(None, description="Per-task budget in USD, 0.01-100.",
                                           json_schema_extra=_form("max_budget_usd", "USD"))
    poll_interval_ms: int | None = Field(None, description="Orchestrator poll interval, 5000-300000 ms.",
                                         json_schema_extra=_form("poll_interval_ms", "MS"))
    approval_gate_cap: int | None = Field(None, description="Approval gate cap, 1-500.",
                                          json_schema_extra=_form("approval_gate_cap", "N"))
    build_command: str | None = Field(None, description="Build command the agent runs.",
                                      json_schema_extra=_form("build_command", "COMMAND"))
    lint_command: str | None = Field(None, description="Lint command the agent runs.",
                                     json_schema_extra=_form("lint_command", "COMMAND"))
    system_prompt_overrides: str | None = Field(None, description="Extra system prompt text.",
                                                json_schema_extra=_form("system_prompt_overrides", "TEXT"))
    egress_allowlist: CommaList = Field(
        [], description="Egress domains, stored like the Blueprint's. A stack integrated with "
                        "abca-deploy allows them in its runtime DNS Firewall domain list; unpatched ABCA's "
                        "firewall does not read them from the table.",
        json_schema_extra=_form("egress_allowlist", "DOMAIN"))
    cedar_policy_files: Lines = Field([], description="Files of Cedar policies.",
                                     json_schema_extra=_form("cedar_policies", "FILE"))
    mcp_servers: Lines = Field([], description="MCP server registry refs.",
                              json_schema_extra=_form("mcp_servers", "REF"))
    cedar_policy_modules: Lines = Field([], description="Cedar policy module registry refs.",
                                      json_schema_extra=_form("cedar_policy_modules", "REF"))
    skills: Lines = Field([], description="Skill registry refs.", json_schema_extra=_form("skills", "REF"))
    token_secret_arn: str | None = Field(None, description="A secret that holds the repo's GitHub token.",
                                         json_schema_extra=_form("github_token_secret_arn", "ARN"))
    github_token_env: EnvName | None = Field(
        None, description="Environment variable holding the repo's GitHub token (stored in Secrets Manager; "
                          "a token is never passed as a flag).",
        json_schema_extra={"form": ENV_FORM, "metavar": "VAR"})

    @field_validator("compute_type", "runtime_arn", "max_turns", "max_budget_usd", "poll_interval_ms",
                     "approval_gate_cap", "build_command", "lint_command", "system_prompt_overrides",
                     "token_secret_arn", mode="before")
    @classmethod
    def _scalar(cls, value: Any, info: ValidationInfo) -> Any:
        try:
            return None if value is None else v.check_field(FLAG_FIELDS[str(info.field_name)], value)
        except ValueError as exc:
            if str(exc) == v.EMPTY:
                msg = f"{v.EMPTY} (to remove it, use --unset)"
                raise ValueError(msg) from None
            raise

    @field_validator("model")
    @classmethod
    def _model(cls, value: str | None) -> str | None:
        return None if value is None else models.shape(value)

    @field_validator("egress_allowlist", "mcp_servers", "cedar_policy_modules", "skills")
    @classmethod
    def _lists(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return list(v.check_field(FLAG_FIELDS[str(info.field_name)], value)) if value else value  # type: ignore[arg-type]

    @field_validator("cedar_policy_files")
    @classmethod
    def _cedar(cls, value: list[str]) -> list[str]:
        if value:
            read_policies(value)
        return value

    @field_validator("github_token_env")
    @classmethod
    def _token_env(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("token_secret_arn"):
            msg = "cannot be combined with --token-secret-arn (choose one)"
            raise ValueError(msg)
        return value


class OnboardSettings(FieldSettings):
    """``repo onboard``."""


class UpdateSettings(FieldSettings):
    """``repo update``."""

    unset: CommaList = Field([], description="Attributes to remove from the row, e.g. build_command.",
                             json_schema_extra={"form": "attribute names: " + ", ".join(BY_NAME),
                                                "metavar": "ATTR"})

    @field_validator("unset")
    @classmethod
    def _unset(cls, value: list[str], info: ValidationInfo) -> list[str]:
        names = [name.replace("-", "_") for name in value]
        for name in names:
            if name not in BY_NAME:
                msg = f"{name!r} is not an attribute that can be removed"
                raise ValueError(msg)
            flag = next(f for f, a in FLAG_FIELDS.items() if a == name)
            if info.data.get(flag):
                msg = f"{name!r} is both set (--{flag.replace('_', '-')}) and unset"
                raise ValueError(msg)
        return names


def read_policies(paths: list[str]) -> tuple[str, ...]:
    """The text of each Cedar policy file (regular files, bounded reads), checked as ABCA's agent loads it."""
    texts = [files.read_text(path, cedar.MAX_BYTES) for path in paths]
    return cedar.check(texts, names=[files.shown_path(path) for path in paths])


def wanted_fields(settings: FieldSettings) -> dict[str, Value]:
    """The attributes the flags set (validated already), keyed by table attribute."""
    wanted: dict[str, Value] = {}
    for flag, attribute in FLAG_FIELDS.items():
        value = getattr(settings, flag)
        if value is None or value == []:
            continue
        if flag == "cedar_policy_files":
            value = read_policies(value)
        wanted[attribute] = tuple(value) if isinstance(value, list) else value
    return wanted
