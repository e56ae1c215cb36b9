"""Per-repository GitHub tokens: read from the environment, masked, checked on GitHub, stored.

The secret ``abca/github-token/<owner>/<repo>`` holds the raw PAT string (not JSON), as ABCA's agent reads it.
Planning only reads (DescribeSecret, GetSecretValue); ``store`` writes: a new secret, a new version, or a
restore of a secret scheduled for deletion.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from abca_deploy.errors import UserError
from abca_deploy.repos.errors import Refused

if TYPE_CHECKING:
    from abca_deploy.aws.secrets import SecretInfo, Secrets
    from abca_deploy.github import RepoAccess

SECRET_PREFIX = "abca/github-token/"
TOKEN_FLAG = "--github-token-env"
ACCESS_GUARDRAIL = "token-access"


class Masker(Protocol):
    """Whatever hides secrets from output and logs (the CLI's reporter, the API's request log)."""

    def mask(self, secret: str | None) -> None:
        """Never show ``secret`` from now on."""


def secret_name(repo: str) -> str:
    """The secret that holds ``repo``'s token."""
    return SECRET_PREFIX + repo


def read_token(env_var: str, reporter: Masker) -> str:
    """The token in ``env_var``, masked the moment it is read. Never taken from argv."""
    token = os.environ.get(env_var, "").strip()
    reporter.mask(token)
    if not token:
        msg = f"{TOKEN_FLAG}: the environment variable {env_var} is not set or empty."
        hint = f"Export the token as {env_var} (in Actions: `env: {env_var}: ${{{{ secrets.NAME }}}}`)."
        raise UserError(msg, hint=hint, title=f"Invalid {TOKEN_FLAG}")
    return token


def check_access(repo: str, access: RepoAccess | None, api_url: str) -> None:
    """Refuse a token that cannot see ``repo`` or cannot push to it, saying what is missing."""
    title = f"Invalid {TOKEN_FLAG}"
    if access is None:
        reason = (f"the token cannot see {repo} on {api_url} (the repository does not exist, "
                  "or the token has no access to it).")
        raise Refused(ACCESS_GUARDRAIL, reason, flag=TOKEN_FLAG, title=title,
                      hint="Check the name, and grant the token this repository.")
    scopes = access.scopes
    if scopes is not None and "repo" not in scopes and (access.private or "public_repo" not in scopes):
        reason = (f"the classic token lacks the repo scope needed to push to {repo} "
                  f"(scopes: {', '.join(scopes) or 'none'}).")
        raise Refused(ACCESS_GUARDRAIL, reason, flag=TOKEN_FLAG, title=title,
                      hint="Add the repo scope, or use a fine-grained token.")
    if not access.push:
        hint = ("Grant Contents: read and write (fine-grained token), or write access to the repository for "
                "the token's user.")
        raise Refused(ACCESS_GUARDRAIL, f"the token cannot push to {repo}.", flag=TOKEN_FLAG, title=title,
                      hint=hint)


@dataclass(frozen=True)
class TokenPlan:
    """What storing the token does to its secret; ``arn`` is unknown until a new secret is created."""

    name: str
    action: Literal["create", "new-version", "restore", "unchanged"]
    arn: str | None = None

    @property
    def changed(self) -> bool:
        """Whether storing the token writes to Secrets Manager."""
        return self.action != "unchanged"


def plan_token(name: str, info: SecretInfo | None, same_value: bool) -> TokenPlan:
    """Decide from the secret's state (pure)."""
    if info is None:
        return TokenPlan(name, "create")
    if info.scheduled_for_deletion:
        return TokenPlan(name, "restore", info.arn)
    return TokenPlan(name, "unchanged" if same_value else "new-version", info.arn)


def inspect(secrets: Secrets, name: str, token: str, reporter: Masker) -> TokenPlan:
    """Read the secret's state and plan (no writes). The stored value is masked too."""
    info = secrets.describe(name)
    same = False
    if info is not None and not info.scheduled_for_deletion:
        current = secrets.current_value(info.arn)
        reporter.mask(current)
        same = current == token
    return plan_token(name, info, same)


def store(secrets: Secrets, plan: TokenPlan, token: str, repo: str, reporter: Masker) -> str:
    """Apply ``plan``; the secret's ARN. Copes with the secret appearing or being deleted since planning."""
    from abca_deploy.aws.secrets import SecretExists

    if plan.action == "create":
        try:
            return secrets.create(plan.name, token, description=f"GitHub token for ABCA repository {repo}",
                                  tags={"abca:repo": repo, "managed-by": "abca-deploy"})
        except SecretExists:
            plan = inspect(secrets, plan.name, token, reporter)
    if plan.action == "restore":
        assert plan.arn is not None
        secrets.restore(plan.arn)
        plan = inspect(secrets, plan.name, token, reporter)
    if plan.action == "new-version":
        assert plan.arn is not None
        secrets.put_value(plan.arn, token)
    assert plan.arn is not None
    return plan.arn
