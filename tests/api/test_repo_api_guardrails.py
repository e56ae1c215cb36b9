"""Guardrails from the API's configuration (the CLI's guardrails, the same code): 422 names the guardrail,
and nothing is written when one refuses."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.support.fake_github import FakeGitHub
    from tests.support.repo_api import RepoApi


def _refused(answer: object, guardrail: str) -> str:
    from tests.support.repo_api import Answer

    assert isinstance(answer, Answer)
    assert answer.status == 422, answer.text
    assert answer.error["code"] == "GUARDRAIL_REFUSED"
    assert answer.error["message"].startswith(f"Refused by the {guardrail} guardrail: ")
    return answer.error["message"]


def test_allowed_owners(api_server: Callable[..., RepoApi]) -> None:
    api = api_server(allowed_owners=["workshop"])
    message = _refused(api.call("POST", "repos", {"repo": "evil/app"}), "allowed-owners")
    assert "evil/app belongs to 'evil', which is not an allowed owner (allowed: workshop)" in message
    assert "--" not in message  # the API's words, not the CLI's flags
    assert api.call("POST", "repos", {"repo": "Workshop/app"}).status == 201
    assert [i["repo"]["S"] for i in api.stack.items()] == ["Workshop/app"]


def test_max_repos_counts_active_rows(api_server: Callable[..., RepoApi]) -> None:
    api = api_server(max_repos=2)
    api.onboard("octo/a")
    api.onboard("octo/b")
    message = _refused(api.call("POST", "repos", {"repo": "octo/c"}), "max-repos")
    assert "2 repositories are active and this would make 3, over the limit of 2" in message
    assert api.call("DELETE", "repos/octo%2Fa").status == 200
    assert api.call("POST", "repos", {"repo": "octo/c"}).status == 201
    assert api.call("PATCH", "repos/octo%2Fc", {"max_turns": 3}).status == 200  # updates are not additions


def test_allowed_models(api_server: Callable[..., RepoApi]) -> None:
    api = api_server(allowed_models=["anthropic.claude-opus-4-8"])
    message = _refused(
        api.call("POST", "repos", {"repo": "octo/a", "model_id": "us.anthropic.claude-sonnet-4-6"}),
        "allowed-models",
    )
    assert "'us.anthropic.claude-sonnet-4-6' is not granted" in message
    assert "allowed: us.anthropic.claude-opus-4-8" in message
    api.onboard("octo/a", model_id="us.anthropic.claude-opus-4-8")
    _refused(
        api.call("PATCH", "repos/octo%2Fa", {"model_id": "us.anthropic.claude-opus-5"}), "allowed-models"
    )
    malformed = api.call("PATCH", "repos/octo%2Fa", {"model_id": "claude"})
    assert malformed.status == 400  # not an inference-profile id at all: a validation error, not a guardrail
    assert "model_id: is not an inference-profile id" in malformed.error["message"]


def test_require_token_and_the_token_check(
    api_server: Callable[..., RepoApi], fake_github: FakeGitHub
) -> None:
    fake_github.add_repo("octo/app")
    fake_github.add_token("ghp_canpush", "alice", access={"octo/app": "write"})
    fake_github.add_token("ghp_readonly", "bob", access={"octo/app": "read"})
    api = api_server(require_token=True, github_api_url=fake_github.url)
    message = _refused(api.call("POST", "repos", {"repo": "octo/app"}), "require-token")
    assert "octo/app has no GitHub token of its own" in message
    cannot_push = _refused(
        api.call("POST", "repos", {"repo": "octo/app", "github_token": "ghp_readonly"}), "token-access"
    )
    assert "the token cannot push to octo/app" in cannot_push
    unknown = _refused(
        api.call("POST", "repos", {"repo": "octo/app", "github_token": "ghp_nobody"}), "token-access"
    )
    assert "rejected the token" in unknown
    assert api.stack.items() == []
    assert api.stack.secret_names() == []
    created = api.call("POST", "repos", {"repo": "octo/app", "github_token": "ghp_canpush"})
    assert (created.status, created.data["token"]) == (201, "create")
    assert api.stack.secret_names() == ["abca/github-token/octo/app"]
    assert (
        api.stack.secrets.get_secret_value(SecretId="abca/github-token/octo/app")["SecretString"]
        == "ghp_canpush"
    )


def test_github_unreachable_is_a_503_and_writes_nothing(api_server: Callable[..., RepoApi]) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    api = api_server(github_api_url=f"http://127.0.0.1:{port}")
    answer = api.call("POST", "repos", {"repo": "octo/app", "github_token": "ghp_whatever"})
    assert (answer.status, answer.error["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert "retry later" in answer.error["message"]
    assert api.stack.items() == []
