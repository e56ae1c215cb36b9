"""Guardrail decisions and token checks (pure)."""

from __future__ import annotations

import io

import pytest

from abca_deploy.aws.secrets import SecretInfo
from abca_deploy.errors import UserError
from abca_deploy.github import RepoAccess
from abca_deploy.report import Reporter
from abca_deploy.repos.guardrails import actions_actors, check_capacity, check_owners, decide_actor
from abca_deploy.repos.tokens import check_access, plan_token, read_token


def test_allowed_owners_is_case_insensitive_and_empty_means_any() -> None:
    check_owners(["Octo/app", "acme/x"], ["octo", "ACME"])
    check_owners(["anyone/app"], [])
    with pytest.raises(UserError, match="--allowed-owners: evil/app belongs to 'evil'"):
        check_owners(["octo/app", "evil/app"], ["octo"])


@pytest.mark.parametrize(("active", "added", "limit", "refused"), [
    (9, 1, 10, False), (10, 1, 10, True), (12, -3, 10, False), (10, 0, 10, False), (500, 1, None, False)])
def test_max_repos(active: int, added: int, limit: int | None, refused: bool) -> None:
    if refused:
        with pytest.raises(UserError, match="--max-repos: 10 repositories are active and this would make 11"):
            check_capacity(active, added, limit)
    else:
        check_capacity(active, added, limit)


def test_actors_are_checked_only_in_actions() -> None:
    assert actions_actors({"GITHUB_ACTOR": "alice"}) is None
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "octo/platform", "GITHUB_ACTOR": "alice",
           "GITHUB_TRIGGERING_ACTOR": "bob"}
    assert actions_actors(env) == ("octo/platform", ("alice", "bob"))
    with pytest.raises(UserError, match="GITHUB_REPOSITORY and GITHUB_ACTOR must be set"):
        actions_actors({"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "alice"})


@pytest.mark.parametrize(("role", "required", "ok"), [
    ("admin", "admin", True), ("maintain", "admin", False), ("maintain", "write", True),
    ("read", "write", False), ("none", "read", False), ("custom-thing", "read", False)])
def test_actor_role_ranking(role: str, required: str, ok: bool) -> None:
    if ok:
        decide_actor("octo/platform", {"alice": role}, required)
    else:
        expected = f"alice has '{role}' on octo/platform, but '{required}' is required"
        with pytest.raises(UserError, match=expected):
            decide_actor("octo/platform", {"alice": role}, required)


def access(*, push: bool = True, private: bool = True,
           scopes: tuple[str, ...] | None = ("repo",)) -> RepoAccess:
    return RepoAccess("octo/app", private, push, scopes)


@pytest.mark.parametrize(("seen", "message"), [
    (None, "cannot see octo/app"),
    (access(push=False), "cannot push to octo/app"),
    (access(scopes=("read:org",)), "lacks the repo scope"),
    (access(scopes=("public_repo",)), "lacks the repo scope"),
])
def test_token_access_refusals_say_what_is_missing(seen: RepoAccess | None, message: str) -> None:
    with pytest.raises(UserError, match=message):
        check_access("octo/app", seen, "https://api.github.com")


def test_token_access_that_suffices() -> None:
    check_access("octo/app", access(), "u")
    check_access("octo/app", access(scopes=None), "u")  # fine-grained
    check_access("octo/app", access(private=False, scopes=("public_repo",)), "u")


def test_token_plan() -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:abca/github-token/o/r-AbC123"
    assert plan_token("n", None, False).action == "create"
    assert plan_token("n", SecretInfo(arn, True), False).action == "restore"
    assert plan_token("n", SecretInfo(arn, False), True).action == "unchanged"
    assert plan_token("n", SecretInfo(arn, False), False).action == "new-version"


def test_token_is_masked_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAT", "ghp_secret123\n")
    err = io.StringIO()
    reporter = Reporter(actions=True, stderr=err)
    assert read_token("PAT", reporter) == "ghp_secret123"
    assert err.getvalue() == "::add-mask::ghp_secret123\n"
    assert reporter.redact("x ghp_secret123 y") == "x *** y"


def test_missing_token_variable_is_named() -> None:
    with pytest.raises(UserError, match="--github-token-env: the environment variable NOPE is not set"):
        read_token("NOPE", Reporter())
