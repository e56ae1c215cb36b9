"""GitHub adapter (PyGithub): a token's access and a user's role on a repository, deployments, PR comments.

``api_url`` is GitHub's REST root: ``https://api.github.com``, or ``https://HOST/api/v3`` for GitHub
Enterprise Server. HTTP errors become the project's errors here; decisions about them are the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from abca_deploy.errors import OperationFailed, UserError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

DEFAULT_API_URL = "https://api.github.com"
ROLE_RANK = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}
"""Repository roles from least to most privileged (the legacy permission ``write`` covers ``maintain``)."""


def api_root(configured: str | None, env: Mapping[str, str] | None = None) -> str:
    """The GitHub REST API root: ``--github-api-url`` when given, else ``GITHUB_API_URL`` (set on every
    Actions runner, GitHub Enterprise Server's included), else ``DEFAULT_API_URL``."""
    import os

    env = os.environ if env is None else env
    return configured or env.get("GITHUB_API_URL") or DEFAULT_API_URL


@dataclass(frozen=True)
class RepoAccess:
    """A repository as a token sees it."""

    full_name: str
    private: bool
    push: bool
    scopes: tuple[str, ...] | None
    """The classic token's OAuth scopes; ``None`` for fine-grained tokens (no ``X-OAuth-Scopes`` header)."""


@dataclass(frozen=True)
class Deployment:
    """A GitHub deployment: which commit went to which environment, and its newest status."""

    id: int
    sha: str
    environment: str
    created_at: str
    description: str
    state: str | None
    """The newest status (success, failure, error, inactive, in_progress, queued, pending); None if none."""
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Comment:
    """An issue or pull request comment."""

    id: int
    body: str
    author: str
    bot: bool


class GitHub:
    """A client authenticated with ``token`` against ``api_url``."""

    def __init__(self, token: str, api_url: str = DEFAULT_API_URL, *, timeout: int = 15) -> None:
        from github import Auth, Github

        self.api_url = api_url.rstrip("/")
        self._gh = Github(auth=Auth.Token(token), base_url=self.api_url, timeout=timeout, retry=None,
                          seconds_between_requests=None, seconds_between_writes=None)

    def _call(self, what: str, fn: Any) -> Any:
        from github import BadCredentialsException, GithubException, UnknownObjectException
        from requests.exceptions import RequestException

        try:
            return fn()
        except UnknownObjectException:
            return None
        except BadCredentialsException:
            msg = f"GitHub ({self.api_url}) rejected the token while {what} (401 Bad credentials)."
            raise UserError(msg, hint="Check that the token is current and meant for this GitHub host.",
                            title="GitHub token rejected") from None
        except GithubException as exc:
            message = exc.data.get("message", "") if isinstance(exc.data, dict) else ""
            msg = f"GitHub ({self.api_url}) answered {exc.status} while {what}: {message}"
            raise OperationFailed(msg, title="GitHub API error") from None
        except RequestException as exc:
            msg = f"Could not reach GitHub at {self.api_url} while {what}: {type(exc).__name__}."
            raise OperationFailed(msg, hint="Check --github-api-url and the network.",
                                  title="GitHub unreachable") from None

    def repo_access(self, full_name: str) -> RepoAccess | None:
        """The repository as this token sees it; ``None`` if it does not exist or the token cannot see it."""
        def fetch() -> RepoAccess:
            repo = self._gh.get_repo(full_name)
            permissions = repo.permissions
            scopes = self._gh.oauth_scopes
            return RepoAccess(full_name=repo.full_name, private=bool(repo.private),
                              push=bool(permissions and permissions.push),
                              scopes=None if scopes is None else tuple(s for s in scopes if s.strip()))

        result: RepoAccess | None = self._call(f"reading {full_name}", fetch)
        return result

    def role(self, full_name: str, user: str) -> str:
        """``user``'s role on the repository: none, read, triage, write, maintain or admin."""
        def fetch() -> str:
            repo = self._gh.get_repo(full_name)
            role = repo.get_collaborator_role_name(user)
            if role in ROLE_RANK:
                return str(role)
            return str(repo.get_collaborator_permission(user))  # a custom role: its legacy base permission

        result = self._call(f"reading {user}'s permission on {full_name}", fetch)
        return str(result) if result in ROLE_RANK else "none"

    def _repo(self, full_name: str) -> Any:
        return self._gh.withLazy(True).get_repo(full_name)

    def deployments(self, full_name: str, environment: str, limit: int = 30) -> Iterator[Deployment]:
        """The newest ``limit`` deployments of ``environment``, newest first, each with its newest status.

        Lazy: a caller that stops at the first one it wants reads no further page and no further status.
        """
        what = f"reading the deployments of {environment} in {full_name}"
        pages = self._call(what, lambda: iter(self._repo(full_name).get_deployments(environment=environment)))
        for _ in range(limit if pages is not None else 0):
            item = self._call(what, lambda: next(pages, None))
            if item is None:
                return
            state = self._call(what, lambda item=item: next(iter(item.get_statuses()), None))
            payload = item.payload if isinstance(item.payload, dict) else {}
            yield Deployment(item.id, item.sha, item.environment, str(item.created_at),
                             item.description or "", state.state if state else None, payload)

    def create_deployment(self, full_name: str, environment: str, sha: str, *, description: str,
                          payload: dict[str, Any], log_url: str | None) -> Deployment:
        """Record ``sha`` as deployed to ``environment``: a deployment and its ``success`` status."""
        from github.GithubObject import NotSet

        def create() -> Deployment:
            item = self._repo(full_name).create_deployment(
                ref=sha, task="deploy", auto_merge=False, required_contexts=[], payload=payload,
                environment=environment, description=description, transient_environment=False)
            item.create_status("success", target_url=log_url or NotSet, description=description,
                               environment=environment, auto_inactive=True)
            return Deployment(item.id, item.sha, environment, str(item.created_at), description, "success",
                              payload)

        result: Deployment | None = self._call(f"recording a deployment of {environment} in {full_name}",
                                               create)
        if result is None:
            msg = f"GitHub answered 404 while recording a deployment in {full_name}."
            raise OperationFailed(msg, hint="The token needs `deployments: write` on the repository, and the "
                                  "commit must have been pushed to it.", title="Deployment not recorded")
        return result

    def comments(self, full_name: str, number: int) -> list[Comment]:
        """The comments of issue or pull request ``number``, oldest first."""
        def fetch() -> list[Comment]:
            return [Comment(c.id, c.body or "", c.user.login, c.user.type == "Bot")
                    for c in self._repo(full_name).get_issue(number).get_comments()]

        result: list[Comment] | None = self._call(f"reading the comments of #{number} in {full_name}", fetch)
        return result or []

    def create_comment(self, full_name: str, number: int, body: str) -> int:
        """A new comment on issue or pull request ``number``; its id."""
        result = self._call(f"commenting on #{number} in {full_name}",
                            lambda: self._repo(full_name).get_issue(number).create_comment(body).id)
        if result is None:
            msg = f"GitHub answered 404 while commenting on #{number} in {full_name}."
            raise OperationFailed(msg, title="Comment not written")
        return int(result)

    def edit_comment(self, full_name: str, number: int, comment_id: int, body: str) -> bool:
        """Replace the body of a comment on ``number``; False when the comment no longer exists."""
        def edit() -> bool:
            self._repo(full_name).get_issue(number).get_comment(comment_id).edit(body)
            return True

        return bool(self._call(f"editing comment {comment_id} in {full_name}", edit))
