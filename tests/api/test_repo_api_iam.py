"""The repository API calls exactly the AWS actions integrations/abca grants its function, on the resources
the grants name: every call the handler sends through botocore is recorded while it serves every route, a
token's creation, rotation and restore, and the max-repos count. (tests/integration/test_cdk_synth_repo_api.py
checks the same actions against the synthesized role.)"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from botocore.client import BaseClient
from tests.support.repo_stack import STACK

from abca_deploy import abca_stack
from abca_deploy.repos.tokens import SECRET_PREFIX

if TYPE_CHECKING:
    from collections.abc import Callable

    import pytest
    from tests.support.fake_github import FakeGitHub
    from tests.support.repo_api import RepoApi

FIRST, SECOND = "ghp_first0token0value", "ghp_second0token0value"
# Sent inside CreateSecret (its Tags), so never a call of its own; AWS still authorizes it separately.
IMPLIED = {"secretsmanager:TagResource"}


def _record(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """(IAM action, parameters) of every call botocore sends outside the test's own thread (the handler's)."""
    calls: list[tuple[str, dict[str, Any]]] = []
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if threading.current_thread() is not threading.main_thread():
            calls.append((f"{self.meta.service_model.signing_name}:{operation}", dict(params)))
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return calls


def test_the_handler_calls_only_what_the_integration_grants(
    integrated_api_server: Callable[..., RepoApi], fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_github.add_repo("octo/app")
    for token in (FIRST, SECOND):
        fake_github.add_token(token, "alice", access={"octo/app": "write"})
    api = integrated_api_server(github_api_url=fake_github.url, max_repos=10)
    list_id = api.stack.outputs[abca_stack.DOMAIN_LIST_OUTPUT]
    api.token("admin")  # signed in before recording starts: Cognito is the client's business
    calls = _record(monkeypatch)

    onboard = {"repo": "octo/app", "github_token": FIRST, "max_turns": 5, "egress_allowlist": ["pypi.org"]}
    assert api.call("POST", "repos", onboard).status == 201
    assert api.call("PATCH", "repos/octo%2Fapp", {"github_token": SECOND}).status == 200
    api.stack.secrets.delete_secret(SecretId=f"{SECRET_PREFIX}octo/app", RecoveryWindowInDays=7)
    restored = api.call("PATCH", "repos/octo%2Fapp", {"github_token": FIRST})
    assert (restored.status, restored.data["token"]) == (200, "restore")
    assert api.call("GET", "repos").status == 200
    assert api.call("GET", "repos/octo%2Fapp").status == 200
    assert api.call("DELETE", "repos/octo%2Fapp").status == 200

    granted = {action for actions in abca_stack.API_FUNCTION_ACTIONS.values() for action in actions}
    assert {action for action, _ in calls} == granted - IMPLIED
    assert all(params.get("Tags") for action, params in calls if action == "secretsmanager:CreateSecret")
    for action, params in calls:
        if action.startswith("dynamodb:"):
            assert params["TableName"] == api.stack.table, action
        elif action.startswith("secretsmanager:"):
            secret = params.get("SecretId") or params["Name"]
            assert secret.startswith(SECRET_PREFIX) or f":secret:{SECRET_PREFIX}" in secret, action
        elif action.startswith("route53resolver:"):
            assert params["FirewallDomainListId"] == list_id, action
        else:
            assert (action, params["StackName"]) == ("cloudformation:DescribeStacks", STACK)
