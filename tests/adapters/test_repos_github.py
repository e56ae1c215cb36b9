"""The PyGithub adapter against the fake GitHub API (github.com and Enterprise Server paths)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from abca_deploy.errors import OperationFailed, UserError
from abca_deploy.github import GitHub, RepoAccess

if TYPE_CHECKING:
    from tests.support.fake_github import FakeGitHub


def seed(fake: FakeGitHub) -> None:
    fake.add_repo("octo/app")
    fake.add_repo("octo/platform", private=False)
    fake.add_token("ghp_writer", "bot", access={"octo/app": "write", "octo/platform": "read"})
    fake.add_token("github_pat_reader", "bot2", scopes=None, access={"octo/app": "read"})
    fake.roles[("octo/platform", "alice")] = "admin"
    fake.roles[("octo/platform", "carol")] = "maintain"


@pytest.mark.parametrize("server", ["fake_github", "fake_ghes"])
def test_repo_access_and_roles(server: str, request: pytest.FixtureRequest) -> None:
    fake: FakeGitHub = request.getfixturevalue(server)
    seed(fake)
    github = GitHub("ghp_writer", fake.url)
    assert github.repo_access("octo/app") == RepoAccess("octo/app", True, True, ("repo",))
    assert github.repo_access("octo/missing") is None
    roles = [github.role("octo/platform", user) for user in ("alice", "carol", "mallory")]
    assert roles == ["admin", "maintain", "none"]
    reader = GitHub("github_pat_reader", fake.url)
    assert reader.repo_access("octo/app") == RepoAccess("octo/app", True, False, None)
    assert all(r.path.startswith(fake.prefix + "/repos/") for r in fake.requests)
    assert {r.authorization for r in fake.requests} == {"token ghp_writer", "token github_pat_reader"}


def test_a_rejected_token_is_a_user_error(fake_github: FakeGitHub) -> None:
    seed(fake_github)
    with pytest.raises(UserError, match=r"rejected the token while reading octo/app \(401 Bad credentials\)"):
        GitHub("ghp_wrong", fake_github.url).repo_access("octo/app")


def test_an_unreachable_api_is_an_operation_failure() -> None:
    with pytest.raises(OperationFailed, match=r"Could not reach GitHub at http://127\.0\.0\.1:9"):
        GitHub("ghp", "http://127.0.0.1:9").repo_access("octo/app")
