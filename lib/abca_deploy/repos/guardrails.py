"""Guardrails: which owners may be onboarded, how many active repositories at most, and who may change them.

Each check is a pure decision that raises a ``UserError`` (exit 2) with the reason; ``check_actor`` first
fetches the actors' roles on the platform repository from GitHub. All run before anything is written.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from abca_deploy.errors import UserError
from abca_deploy.github import ROLE_RANK, api_root
from abca_deploy.repos.errors import GUARDRAIL_TITLE, Refused

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from abca_deploy.report import Reporter

TITLE = GUARDRAIL_TITLE
ALLOWED_OWNERS, MAX_REPOS, REQUIRE_TOKEN = "allowed-owners", "max-repos", "require-token"
"""Guardrail names: each is also the name of the setting (flag, input) that configures it."""


def check_owners(repos: Iterable[str], allowed: Sequence[str]) -> None:
    """Every repository's owner is in ``allowed`` (case-insensitive, as on GitHub); empty = any owner."""
    if not allowed:
        return
    permitted = {owner.lower() for owner in allowed}
    for repo in repos:
        owner = repo.split("/", 1)[0]
        if owner.lower() not in permitted:
            reason = (f"{repo} belongs to {owner!r}, which is not an allowed owner "
                      f"(allowed: {', '.join(allowed)}).")
            raise Refused(ALLOWED_OWNERS, reason, flag="--allowed-owners")


def check_capacity(active: int, added: int, max_repos: int | None) -> None:
    """At most ``max_repos`` active rows after the change (``added`` may be negative with --prune)."""
    if max_repos is None or added <= 0 or active + added <= max_repos:
        return
    reason = (f"{active} repositories are active and this would make {active + added}, "
              f"over the limit of {max_repos}.")
    raise Refused(MAX_REPOS, reason, flag="--max-repos", hint="Offboard some, or raise --max-repos.")


def check_token_required(repo: str, has_token: bool, required: bool) -> None:
    """With ``required``, a repository is onboarded only with its own GitHub token (a secret of its own)."""
    if required and not has_token:
        reason = (f"{repo} has no GitHub token of its own, and this platform requires one per repository "
                  "(the platform token cannot push to forks).")
        hint = "Pass the repository's token (--github-token-env VAR, or github_token in the API)."
        raise Refused(REQUIRE_TOKEN, reason, flag="--require-token", hint=hint)


def actions_actors(env: Mapping[str, str]) -> tuple[str, tuple[str, ...]] | None:
    """In GitHub Actions: the platform repository, and the actors to check (the actor, a re-run's)."""
    if env.get("GITHUB_ACTIONS", "").lower() != "true":
        return None
    repository = env.get("GITHUB_REPOSITORY", "")
    named = (env.get("GITHUB_ACTOR"), env.get("GITHUB_TRIGGERING_ACTOR"))
    actors = tuple(dict.fromkeys(actor for actor in named if actor))
    if not repository or not actors:
        msg = "In GitHub Actions, GITHUB_REPOSITORY and GITHUB_ACTOR must be set to check who started it."
        raise UserError(msg, hint="Run this from a workflow job (the runner sets both).", title=TITLE)
    return repository, actors


def decide_actor(repository: str, roles: Mapping[str, str], required: str) -> None:
    """Every actor holds at least ``required`` on the platform repository."""
    for actor, role in roles.items():
        if ROLE_RANK.get(role, 0) < ROLE_RANK[required]:
            msg = (f"--required-permission: {actor} has {role!r} on {repository}, but {required!r} is "
                   "required to change onboarded repositories.")
            hint = f"Ask an {required} of {repository} to run it, or lower --required-permission."
            raise UserError(msg, hint=hint, title=TITLE)


def check_actor(required: str, token_env: str, api_url: str | None, reporter: Reporter,
                env: Mapping[str, str] | None = None) -> None:
    """In Actions, refuse unless the triggering actor(s) hold ``required`` on the platform repository."""
    env = os.environ if env is None else env
    if required == "none":
        return  # the reviewed change itself is the authority (branch protection), whoever merged it
    found = actions_actors(env)
    if found is None:
        return
    repository, actors = found
    token = env.get(token_env, "").strip()
    reporter.mask(token)
    if not token:
        msg = (f"--platform-token-env: {token_env} is empty, so the permission of {', '.join(actors)} "
               f"on {repository} cannot be checked.")
        hint = f"Set {token_env} to a token that can read {repository} (the onboard-repo action does)."
        raise UserError(msg, hint=hint, title=TITLE)
    from abca_deploy.github import GitHub

    github = GitHub(token, api_root(api_url, env))
    decide_actor(repository, {actor: github.role(repository, actor) for actor in actors}, required)
