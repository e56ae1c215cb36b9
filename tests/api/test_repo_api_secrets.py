"""A repository's GitHub token goes to Secrets Manager as the CLI stores it, and neither the token nor the
secret's ARN or name appears in any answer or any line the API logs, on success or on refusal."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.support.fake_github import FakeGitHub
    from tests.support.repo_api import RepoApi

FIRST, SECOND, REFUSED = "ghp_first0token0value", "ghp_second0token0value", "ghp_readonly0token0value"


def test_tokens_are_stored_rotated_and_never_shown(
    api_server: Callable[..., RepoApi], fake_github: FakeGitHub
) -> None:
    fake_github.add_repo("octo/app")
    for token, level in ((FIRST, "write"), (SECOND, "admin"), (REFUSED, "read")):
        fake_github.add_token(token, "alice", access={"octo/app": level})
    api = api_server(github_api_url=fake_github.url)

    created = api.call("POST", "repos", {"repo": "octo/app", "github_token": FIRST, "max_turns": 5})
    assert (created.status, created.data["token"]) == (201, "create")
    secret = api.stack.secrets.describe_secret(SecretId="abca/github-token/octo/app")
    arn = secret["ARN"]
    assert secret["Tags"] == [
        {"Key": "abca:repo", "Value": "octo/app"},
        {"Key": "managed-by", "Value": "abca-deploy"},
    ]
    item = api.stack.item("octo/app")
    assert item is not None
    assert item["github_token_secret_arn"] == {"S": arn}
    shown = created.data["repo"]["github_token_secret_arn"]
    assert shown == "arn:aws:secretsmanager:us-east-1:123456789012:secret:****" + arn[arn.rfind("-") :]

    same = api.call("POST", "repos", {"repo": "octo/app", "github_token": FIRST, "max_turns": 5})
    assert (same.status, same.data["action"], same.data["token"]) == (200, "unchanged", "unchanged")
    differs = api.call("POST", "repos", {"repo": "octo/app", "github_token": SECOND, "max_turns": 5})
    assert (differs.status, differs.error["code"]) == (409, "REPO_ALREADY_ONBOARDED")
    rotated = api.call("PATCH", "repos/octo%2Fapp", {"github_token": SECOND})
    assert (rotated.status, rotated.data["token"], rotated.data["changed"]) == (200, "new-version", True)
    assert api.stack.secrets.get_secret_value(SecretId=arn)["SecretString"] == SECOND
    refused = api.call("PATCH", "repos/octo%2Fapp", {"github_token": REFUSED})
    assert (refused.status, refused.error["code"]) == (422, "GUARDRAIL_REFUSED")
    malformed = api.call("PATCH", "repos/octo%2Fapp", {"github_token": "ghp with spaces"})
    assert malformed.status == 400
    assert api.call("GET", "repos/octo%2Fapp", user="participant").status == 200
    assert api.call("GET", "repos").status == 200

    assert len(api.answers) == 8
    assert len(api.logs.lines) >= 8
    name = "abca/github-token/octo/app"
    for text in [a.text + repr(a.headers) for a in api.answers] + api.logs.lines:
        for secret_text in (FIRST, SECOND, REFUSED, "ghp with spaces", arn, name):
            assert secret_text not in text
