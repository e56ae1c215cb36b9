"""``--github-token-env``: the token is checked on GitHub, stored raw in Secrets Manager, and never shown."""

from __future__ import annotations

import fnmatch
import json
from typing import TYPE_CHECKING

import boto3
import pytest

from abca_deploy.repos.tokens import SECRET_PREFIX

if TYPE_CHECKING:
    from tests.support.fake_github import FakeGitHub
    from tests.support.repo_stack import ActionsEnv, CliRun, IntegratedStack, RepoStack

TOKEN = "ghp_Sup3rSecretTokenValue0123456789abcd"
ROTATED = "github_pat_R0tatedTokenValue_9876543210"


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch, fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app")
    fake_github.add_repo("octo/readonly")
    fake_github.add_token(TOKEN, "bot", access={"octo/app": "write", "octo/readonly": "read"})
    fake_github.add_token(ROTATED, "bot", scopes=None, access={"octo/app": "admin"})
    monkeypatch.setenv("REPO_PAT", TOKEN)


def assert_never_shown(run: CliRun, *secrets: str) -> None:
    """No secret in stdout, GITHUB_OUTPUT, the summary, or stderr other than the ::add-mask:: commands."""
    for secret in secrets:
        assert secret not in run.out
        assert secret not in run.outputs
        assert secret not in run.summary
        shown = [line for line in run.err.splitlines() if secret in line]
        assert all(line == f"::add-mask::{secret}" for line in shown), shown


@pytest.mark.usefixtures("token_env")
def test_token_is_stored_raw_and_never_shown(repo_stack: RepoStack, repo_actions: ActionsEnv) -> None:
    done = repo_actions.run("repo", "onboard", "octo/app", "--github-token-env", "REPO_PAT",
                            "--output", "json")
    assert done.code == 0, done.err
    assert f"::add-mask::{TOKEN}" in done.err.splitlines()
    assert_never_shown(done, TOKEN)
    item = repo_stack.item("octo/app")
    assert item is not None
    arn = item["github_token_secret_arn"]["S"]
    assert ":secret:abca/github-token/octo/app-" in arn
    assert repo_stack.secrets.get_secret_value(SecretId=arn)["SecretString"] == TOKEN
    doc = json.loads(done.out)
    assert (doc["action"], doc["token"], doc["changed"]) == ("create", "create", True)
    assert doc["repo"]["github_token_secret_arn"].endswith(":secret:****" + arn[-7:])
    for text in (done.out, done.err, done.outputs, done.summary):
        assert arn not in text
        assert "abca/github-token/octo/app" not in text

    again = repo_actions.run("repo", "onboard", "octo/app", "--github-token-env", "REPO_PAT")
    assert (again.code, again.output("changed")) == (0, "false")
    assert len(repo_stack.secrets.list_secret_version_ids(SecretId=arn)["Versions"]) == 1


@pytest.mark.usefixtures("token_env")
def test_dry_run_checks_the_token_but_stores_nothing(repo_stack: RepoStack, repo_actions: ActionsEnv,
                                                     fake_github: FakeGitHub) -> None:
    planned = repo_actions.run("repo", "onboard", "octo/app", "--github-token-env", "REPO_PAT", "--dry-run")
    assert planned.code == 0, planned.err
    assert "github_token_secret_arn: (new secret)" in planned.out
    assert "github token: would be stored in a new secret" in planned.out
    assert "/repos/octo/app" in [r.path for r in fake_github.requests]
    assert repo_stack.secret_names() == []
    assert repo_stack.items() == []


@pytest.mark.usefixtures("token_env")
def test_rotation_is_an_update_with_a_new_version(repo_stack: RepoStack, repo_actions: ActionsEnv,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert repo_actions.run("repo", "onboard", "octo/app", "--github-token-env", "REPO_PAT").code == 0
    monkeypatch.setenv("NEW_PAT", ROTATED)
    refused = repo_actions.run("repo", "onboard", "octo/app", "--github-token-env", "NEW_PAT")
    assert refused.code == 2
    assert "token differs from the one stored" in refused.err
    assert_never_shown(refused, TOKEN, ROTATED)
    rotated = repo_actions.run("repo", "update", "octo/app", "--github-token-env", "NEW_PAT")
    assert (rotated.code, rotated.output("changed")) == (0, "true")
    assert "github token: stored as a new secret version" in rotated.out
    assert_never_shown(rotated, TOKEN, ROTATED)
    item = repo_stack.item("octo/app")
    assert item is not None
    stored = repo_stack.secrets.get_secret_value(SecretId=item["github_token_secret_arn"]["S"])
    assert stored["SecretString"] == ROTATED


@pytest.mark.usefixtures("token_env")
def test_a_secret_scheduled_for_deletion_is_restored(repo_stack: RepoStack, repo_actions: ActionsEnv) -> None:
    assert repo_actions.run("repo", "onboard", "octo/app", "--github-token-env", "REPO_PAT").code == 0
    assert repo_actions.run("repo", "offboard", "octo/app").code == 0
    arn = repo_stack.item("octo/app")["github_token_secret_arn"]["S"]  # type: ignore[index]
    repo_stack.secrets.delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    back = repo_actions.run("repo", "onboard", "octo/app", "--github-token-env", "REPO_PAT")
    assert back.code == 0, back.err
    assert "secret restored from scheduled deletion" in back.out
    assert "DeletedDate" not in repo_stack.secrets.describe_secret(SecretId=arn)
    assert repo_stack.item("octo/app")["status"] == {"S": "active"}  # type: ignore[index]


@pytest.mark.usefixtures("token_env")
@pytest.mark.parametrize(("repo", "token", "message"), [
    ("octo/readonly", TOKEN, "--github-token-env: the token cannot push to octo/readonly"),
    ("octo/missing", TOKEN, "--github-token-env: the token cannot see octo/missing"),
    ("octo/app", "ghp_NotAKnownToken000000000000000000", "rejected the token while reading octo/app"),
    ("octo/app", "", "--github-token-env: the environment variable REPO_PAT is not set or empty"),
])
def test_a_token_that_cannot_push_is_refused_and_nothing_is_written(
        repo_stack: RepoStack, repo_actions: ActionsEnv, monkeypatch: pytest.MonkeyPatch, repo: str,
        token: str, message: str) -> None:
    monkeypatch.setenv("REPO_PAT", token)
    refused = repo_actions.run("repo", "onboard", repo, "--github-token-env", "REPO_PAT")
    assert refused.code == 2
    errors = [line for line in refused.err.splitlines() if line.startswith("::error")]
    assert len(errors) == 1
    assert message in errors[0]
    if token:
        assert_never_shown(refused, token)
    assert repo_stack.items() == []
    assert repo_stack.secret_names() == []


@pytest.mark.usefixtures("token_env")
def test_github_enterprise_api_url(repo_stack: RepoStack, repo_actions: ActionsEnv,
                                   fake_ghes: FakeGitHub) -> None:
    fake_ghes.add_repo("octo/app")
    fake_ghes.add_repo("octo/platform")
    fake_ghes.add_token(TOKEN, "bot", access={"octo/app": "write"})
    fake_ghes.add_token("ghs_platform_token", "github-actions[bot]", access={"octo/platform": "read"})
    fake_ghes.roles[("octo/platform", "alice")] = "admin"
    done = repo_actions.run("repo", "update", "octo/app", "--github-token-env", "REPO_PAT",
                            "--github-api-url", fake_ghes.url)
    assert done.code == 2  # not onboarded yet: checked after the token, before any write
    assert "is not onboarded" in done.err
    assert [r.path for r in fake_ghes.requests] == [
        "/api/v3/repos/octo/platform", "/api/v3/repos/octo/platform/collaborators/alice/permission",
        "/api/v3/repos/octo/app"]
    assert repo_stack.secret_names() == []
    ok = repo_actions.run("repo", "onboard", "octo/app", "--github-token-env", "REPO_PAT", "--github-api-url",
                          fake_ghes.url)
    assert ok.code == 0, ok.err
    secrets = boto3.client("secretsmanager").list_secrets()["SecretList"]
    assert [s["Name"] for s in secrets] == ["abca/github-token/octo/app"]


@pytest.mark.usefixtures("token_env")
def test_on_an_integrated_stack_the_token_row_resolves_under_the_granted_prefix(
        integrated_stack: IntegratedStack, repo_actions: ActionsEnv) -> None:
    done = repo_actions.run("repo", "onboard", "octo/app", "--github-token-env", "REPO_PAT")
    assert done.code == 0, done.err
    # integrations/abca grants every token reader GetSecretValue on abca/github-token/* in the stack's account
    # and region, so ABCA's warning about additionalSecretArns would be untrue here.
    assert [line for line in done.err.splitlines() if line.startswith("::warning")] == []
    item = integrated_stack.stack.item("octo/app")
    assert item is not None
    arn = item["github_token_secret_arn"]["S"]
    _, partition, _, region, account, *_ = integrated_stack.stack.outputs["RuntimeArn"].split(":")
    granted = f"arn:{partition}:secretsmanager:{region}:{account}:secret:{SECRET_PREFIX}*"
    assert fnmatch.fnmatchcase(arn, granted)
    secrets = integrated_stack.stack.secrets
    assert secrets.describe_secret(SecretId=arn)["Name"] == f"{SECRET_PREFIX}octo/app"
    assert secrets.get_secret_value(SecretId=arn)["SecretString"] == TOKEN  # the raw token, as ABCA reads it
