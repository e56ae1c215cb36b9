"""The platform a command works on: the repo table, the stack outputs saying what the platform grants, and the
repositories the stack's CDK Blueprints declare (from its template)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from abca_deploy import abca_stack
from abca_deploy.errors import OperationFailed, UserError
from abca_deploy.repos.errors import InvalidField, Refused
from abca_deploy.repos.schema import PENDING_SECRET, SECRET_FIELD
from abca_deploy.repos.tokens import SECRET_PREFIX

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from abca_deploy.repos.blueprints import Declared
    from abca_deploy.repos.options import SyncSettings, TableSettings
    from abca_deploy.repos.plan import Change
    from abca_deploy.repos.schema import RepoRow
    from abca_deploy.repos.table import RepoTable


@dataclass(frozen=True)
class Platform:
    """The table, and the stack's outputs (empty when the table was named with --repo-table)."""

    table: RepoTable
    outputs: Mapping[str, str] = field(default_factory=dict)
    stack: str | None = None


def now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


def aws_client(service: str, settings: TableSettings) -> Any:
    """A boto3 client for ``service`` in the settings' region."""
    from abca_deploy.aws.session import client

    return client(service, settings.aws_region)


def resolve(settings: TableSettings) -> Platform:
    """The table from --repo-table, or from the RepoTableName output of --stack-name."""
    from abca_deploy.repos.table import RepoTable

    if settings.repo_table:
        return Platform(RepoTable(aws_client("dynamodb", settings), settings.repo_table))
    from abca_deploy.aws.cloudformation import CloudFormation

    outputs = CloudFormation(aws_client("cloudformation", settings)).outputs(settings.stack_name)
    name = outputs.get("RepoTableName")
    if not name:
        msg = (f"Stack {settings.stack_name!r} has no RepoTableName output, so it is not an ABCA stack "
               f"(outputs: {', '.join(sorted(outputs)) or 'none'}).")
        raise UserError(msg, hint="Name the ABCA stack with --stack-name, or the table with --repo-table.",
                        title="Not an ABCA stack")
    return Platform(RepoTable(aws_client("dynamodb", settings), name), outputs, settings.stack_name)


def check_compute(platform: Platform, compute_type: object, repo: str | None = None) -> None:
    """Refuse a compute type the stack did not provision (its ComputeSubstrate output), as ABCA's CLI does."""
    provisioned = [c.strip() for c in platform.outputs.get("ComputeSubstrate", "").split(",") if c.strip()]
    if not provisioned or compute_type in (None, "agentcore") or compute_type in provisioned:
        return
    where = f"{repo}: compute_type" if repo else "--compute-type"
    reason = (f"stack {platform.stack} was deployed without the {compute_type} substrate "
              f"(ComputeSubstrate={','.join(provisioned)}).")
    raise InvalidField(reason, field="compute_type", where=where,
                       hint="Redeploy the stack with that compute type first, or use agentcore.")


MODELS_GUARDRAIL = "allowed-models"


def check_model(allowed_models: Sequence[str], platform: Platform, model: object) -> None:
    """Refuse a model the stack does not grant (see ``models`` for where the grant comes from)."""
    if not isinstance(model, str):
        return
    from abca_deploy.repos import models

    granted = models.grant(platform.outputs, platform.stack, allowed_models)
    try:
        models.check(model, granted)
    except ValueError as exc:
        raise Refused(MODELS_GUARDRAIL, f"{exc}.", flag="--model", title="Invalid --model") from None


def cdk_declared(settings: SyncSettings, platform: Platform) -> dict[str, Declared]:
    """The repositories the stack's CDK Blueprints declare, by repo (none without a stack)."""
    if platform.stack is None:
        return {}
    from abca_deploy.aws.cloudformation import CloudFormation
    from abca_deploy.repos.blueprints import declared

    template = CloudFormation(aws_client("cloudformation", settings)).template(platform.stack)
    found, unreadable = declared(template, platform.table.name)
    if unreadable and settings.prune:
        msg = (f"Stack {platform.stack} has custom resources whose calls cannot be read "
               f"({', '.join(unreadable)}), so --prune cannot tell which repositories CDK owns.")
        raise OperationFailed(msg, hint="Run sync without --prune, and offboard repositories one by one.",
                              title="Refused to prune")
    return {entry.repo: entry for entry in found}


RUNTIME_NOTE = (
    "a per-repo runtime_arn is stored. ABCA's orchestrator may invoke it only when the stack grants "
    "bedrock-agentcore:InvokeAgentRuntime on it (TaskOrchestrator additionalRuntimeArns, not wired by "
    "default): update the CDK stack and redeploy, or tasks fail with AccessDenied.")
SECRET_NOTE = (
    "a per-repo github_token_secret_arn is stored. ABCA's orchestrator may read it only when the stack "
    "grants secretsmanager:GetSecretValue on it (TaskOrchestrator additionalSecretArns, not wired by "
    "default): update the CDK stack and redeploy, or context hydration fails. A stack integrated with "
    f"abca-deploy (integrations/abca) grants read on {SECRET_PREFIX}* in its account and region, which "
    "--github-token-env uses.")
EGRESS_NOTE = (
    "egress_allowlist is stored, but ABCA does not read it from the table: its DNS firewall allowlist is "
    "built at synth time from the egressAllowlist of the Blueprint constructs in the CDK app (and is "
    "VPC-wide, in observation mode by default). To allow a domain, add it to a Blueprint's "
    "networking.egressAllowlist and deploy the infrastructure, or integrate the stack with abca-deploy "
    "(integrations/abca): onboarding then keeps its runtime domain list equal to the active repositories' "
    "egress_allowlist.")
LIST_NOT_UPDATED_NOTE = (
    "this changes which egress domains the active repositories allow, but with --repo-table no stack is "
    "read, so the runtime domain list of an integrated stack is not updated: name the stack with "
    "--stack-name instead (any later command run with it brings the list up to date).")
NO_STACK_NOTE = (
    " With --repo-table no stack is read, so the runtime domain list of an integrated stack is not updated "
    "either: name the stack with --stack-name instead.")


def _scope(outputs: Mapping[str, str]) -> tuple[str, str, str] | None:
    """The stack's partition, region and account, from an ARN among its outputs."""
    for key in ("RuntimeArn", "GitHubTokenSecretArn"):
        parts = outputs.get(key, "").split(":")
        if len(parts) > 5 and parts[0] == "arn" and parts[3] and parts[4]:
            return parts[1], parts[3], parts[4]
    return None


def token_readable(secret_arn: str, outputs: Mapping[str, str]) -> bool:
    """Whether an integrated stack's grant (``abca/github-token/*`` in its account and region) covers it."""
    scope = _scope(outputs)
    if scope is None or not any(key in outputs for key in abca_stack.OUTPUTS):
        return False
    if secret_arn == PENDING_SECRET:  # a dry run of --github-token-env, whose secret is under the prefix
        return True
    partition, region, account = scope
    return secret_arn.startswith(f"arn:{partition}:secretsmanager:{region}:{account}:secret:{SECRET_PREFIX}")


def _allows_other_domains(change: Change) -> bool:
    """Whether the change alters the domains active rows allow (a new list, an offboard, a re-activation)."""
    from abca_deploy.repos.egress import row_domains

    def allowed(row: RepoRow | None) -> set[str]:
        return set(row_domains(row)) if row is not None and row.active else set()

    return allowed(change.current) != allowed(change.target)


def notes(change: Change, outputs: Mapping[str, str]) -> list[str]:
    """The warnings ABCA's CLI gives for what this change stores (those the stack makes untrue left out)."""
    row = change.target
    found = []
    if row is not None and row.active:
        runtime, secret = row.fields.get("runtime_arn"), row.fields.get(SECRET_FIELD)
        if runtime and runtime != outputs.get("RuntimeArn"):
            found.append(RUNTIME_NOTE)
        if (isinstance(secret, str) and secret != outputs.get("GitHubTokenSecretArn")
                and not token_readable(secret, outputs)):
            found.append(SECRET_NOTE)
    egress = change.change("egress_allowlist")
    if (row is not None and row.active and egress is not None and egress.new is not None
            and abca_stack.DOMAIN_LIST_OUTPUT not in outputs):
        found.append(EGRESS_NOTE + (NO_STACK_NOTE if not outputs else ""))
    elif not outputs and _allows_other_domains(change):
        found.append(LIST_NOT_UPDATED_NOTE)
    return found


def grouped_notes(changes: Sequence[Change], outputs: Mapping[str, str]) -> list[str]:
    """One warning per kind for many repositories, naming up to five of them."""
    by_note: dict[str, list[str]] = {}
    for change in changes:
        for note in notes(change, outputs) if change.changed else []:
            by_note.setdefault(note, []).append(change.repo)
    out = []
    for note, repos in by_note.items():
        names = ", ".join(repos[:5]) + (f" and {len(repos) - 5} more" if len(repos) > 5 else "")
        out.append(f"{names}: {note}")
    return out
