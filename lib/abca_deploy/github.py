"""GitHub adapter (PyGithub): what a token can do on a repository, and a user's role on one.

``api_url`` is GitHub's REST root: ``https://api.github.com``, or ``https://HOST/api/v3`` for GitHub
Enterprise Server. HTTP errors become the project's errors here; decisions about them are the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from abca_deploy.errors import OperationFailed, UserError

DEFAULT_API_URL = "https://api.github.com"
ROLE_RANK = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}
"""Repository roles from least to most privileged (the legacy permission ``write`` covers ``maintain``)."""


@dataclass(frozen=True)
class RepoAccess:
    """A repository as a token sees it."""

    full_name: str
    private: bool
    push: bool
    scopes: tuple[str, ...] | None
    """The classic token's OAuth scopes; ``None`` for fine-grained tokens (no ``X-OAuth-Scopes`` header)."""


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
