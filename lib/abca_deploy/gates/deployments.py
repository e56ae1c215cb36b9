"""What was last deployed, per lifecycle and stack, kept as GitHub deployments of the platform repository.

Each successful deploy records its commit as a deployment of the environment ``abca-<lifecycle>-<stack>``
(``abca-deploy record``); ``abca-deploy changes --stack-name`` diffs each lifecycle from the newest one whose
newest status is ``success``. The gate job reads them with its own ``GITHUB_TOKEN`` (``deployments: read``),
so it needs no AWS credentials, and operators get a deployment history per lifecycle on the repository page.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, Field

from abca_deploy.errors import UserError
from abca_deploy.github import api_root
from abca_deploy.repos.validate import repo_name
from abca_deploy.settings import ENV_FORM, CommandSettings, EnvName, http_url

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from abca_deploy.github import Deployment, GitHub
    from abca_deploy.report import Reporter

ENVIRONMENT_PREFIX = "abca-"


def environment_name(lifecycle: str, stack_name: str) -> str:
    """The GitHub environment whose deployments record ``lifecycle`` deploys of ``stack_name``."""
    return f"{ENVIRONMENT_PREFIX}{lifecycle}-{stack_name}"


def last_success(deployments: Iterable[Deployment]) -> Deployment | None:
    """The newest deployment whose newest status is ``success`` (failed or unfinished ones never count)."""
    return next((d for d in deployments if d.state == "success"), None)


class PlatformSettings(CommandSettings):
    """Where deployments are recorded: the platform repository and a token for it."""

    platform_repository: Annotated[str, AfterValidator(repo_name)] | None = Field(None, description=(
        "OWNER/REPO whose GitHub deployments record what was deployed (default: GITHUB_REPOSITORY)."),
        json_schema_extra={"form": "OWNER/REPO", "metavar": "OWNER/REPO"})
    platform_token_env: EnvName = Field("GITHUB_TOKEN", description=(
        "Environment variable with a token for the platform repository (deployments: read to gate, "
        "deployments: write to record)."), json_schema_extra={"form": ENV_FORM, "metavar": "NAME"})
    github_api_url: Annotated[str, AfterValidator(http_url)] | None = Field(None, description=(
        "GitHub REST API root (default: GITHUB_API_URL or https://api.github.com; GitHub Enterprise: "
        "https://HOST/api/v3)."), json_schema_extra={"form": "an http(s) URL"})


def repository(settings: PlatformSettings, env: Mapping[str, str] | None = None) -> str | None:
    """The platform repository: the flag, else GITHUB_REPOSITORY; None when neither is set."""
    env = os.environ if env is None else env
    return settings.platform_repository or env.get("GITHUB_REPOSITORY") or None


def client(settings: PlatformSettings, reporter: Reporter, env: Mapping[str, str] | None = None,
           ) -> GitHub | None:
    """A GitHub client with the platform token; None when the token variable is empty."""
    env = os.environ if env is None else env
    token = env.get(settings.platform_token_env, "").strip()
    if not token:
        return None
    reporter.mask(token)
    from abca_deploy.github import GitHub

    return GitHub(token, api_root(settings.github_api_url, env))


def require(settings: PlatformSettings, reporter: Reporter) -> tuple[str, GitHub]:
    """The platform repository and a client, or a UserError naming what is missing."""
    full_name = repository(settings)
    if full_name is None:
        msg = "--platform-repository: no repository given and GITHUB_REPOSITORY is not set."
        raise UserError(msg, hint="Pass --platform-repository OWNER/REPO.", title="No platform repository")
    github = client(settings, reporter)
    if github is None:
        msg = f"--platform-token-env: {settings.platform_token_env} is empty."
        hint = (f"Set {settings.platform_token_env} to a token for {full_name} (in a workflow: "
                f"env {settings.platform_token_env}: ${{{{ github.token }}}} with `deployments: write`).")
        raise UserError(msg, hint=hint, title="No GitHub token")
    return full_name, github
