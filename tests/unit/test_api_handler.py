"""The Lambda handler without HTTP: API Gateway events in, ABCA-shaped answers out."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError

from abca_deploy.api import auth, body, handler
from abca_deploy.api.app import App
from abca_deploy.api.responses import ApiError
from abca_deploy.api.settings import ApiSettings
from abca_deploy.api.versions import etag, matches
from abca_deploy.repos.schema import row_from_item
from abca_deploy.repos.table import RepoTable
from abca_deploy.repos.target import Platform

ITEM = {
    "repo": {"S": "octo/app"},
    "status": {"S": "active"},
    "max_turns": {"N": "50"},
    "egress_allowlist": {"L": [{"S": "pypi.org"}]},
}


def _event(
    method: str = "GET", resource: str = "/repos/{repo_id}", authorizer: Any = None, **extra: Any
) -> dict[str, Any]:
    return {
        "httpMethod": method,
        "resource": resource,
        "pathParameters": {"repo_id": "octo%2Fapp"},
        "headers": {},
        "requestContext": {"requestId": "req-1", "stage": "v1", "authorizer": authorizer},
        **extra,
    }


class FakeDynamoDB:
    """Answers GetItem with ``ITEM``, or raises ``error`` (a ClientError) for every call."""

    def __init__(self, error: str | None = None, message: str = "slow down") -> None:
        self.error = error
        self.message = message

    def get_item(self, **_: Any) -> dict[str, Any]:
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": self.message}}, "GetItem")
        return {"Item": ITEM}


def _app(client: FakeDynamoDB, **settings: Any) -> App:
    app = App(ApiSettings(repo_table="repos", **settings))
    app._platform = Platform(RepoTable(client, "repos"))
    return app


@pytest.fixture
def fresh_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handler, "_app", None)


def test_importing_the_handler_loads_neither_boto3_nor_pydantic_nor_the_repos_core() -> None:
    probe = (
        "import sys, abca_deploy.api.handler; "
        "print(sorted(m for m in ('boto3', 'botocore', 'pydantic', 'abca_deploy.repos') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_misconfigured_environment_answers_500_and_logs_the_variable(
    fresh_handler: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ABCA_MAX_REPOS", "0")
    with caplog.at_level(logging.INFO, logger="abca_deploy.api"):
        answer = handler.handler(_event(authorizer={"userId": "u"}))
    assert answer["statusCode"] == 500
    assert json.loads(answer["body"]) == {
        "error": {"code": "INTERNAL_ERROR", "message": "Internal server error.", "request_id": "req-1"}
    }
    assert answer["headers"]["X-Request-Id"] == "req-1"
    assert any(
        "misconfigured" in r.getMessage() and "ABCA_MAX_REPOS: " in r.getMessage() for r in caplog.records
    )


def test_the_handler_entry_point_answers_with_the_environments_app(
    fresh_handler: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ABCA_REPO_TABLE", "repos")
    monkeypatch.setenv("ABCA_ADMIN_GROUP", "Ops")
    app = handler.app()
    assert (app.settings.repo_table, app.settings.admin_group) == ("repos", "Ops")
    app._platform = Platform(RepoTable(FakeDynamoDB(), "repos"))
    answer = handler.handler(_event(authorizer={"claims": {"sub": "u1"}}))
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["data"]["max_turns"] == 50
    assert answer["headers"]["ETag"] == etag(row_from_item(ITEM))
    assert answer["headers"]["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_aws_throttling_is_a_429(code: str) -> None:
    answer = _app(FakeDynamoDB(code)).handle(_event(authorizer={"userId": "u"}))
    assert answer["statusCode"] == 429
    assert answer["headers"]["Retry-After"] == "2"
    assert json.loads(answer["body"])["error"]["code"] == "RATE_LIMIT_EXCEEDED"


def test_an_event_without_an_authorizer_is_a_401() -> None:
    answer = _app(FakeDynamoDB()).handle(_event(authorizer=None))
    assert (answer["statusCode"], json.loads(answer["body"])["error"]["code"]) == (401, "UNAUTHORIZED")


@pytest.mark.parametrize("groups", ["RepoAdmin", "Readers,RepoAdmin", "[Readers RepoAdmin]", ["RepoAdmin"]])
def test_the_cognito_authorizers_group_claim_in_every_shape(groups: Any) -> None:
    caller = auth.caller_of(_event(authorizer={"claims": {"sub": "u1", "cognito:groups": groups}}))
    assert caller is not None
    assert auth.authorize(caller, write=True, admin_group="RepoAdmin") is caller


def test_request_authorizer_contexts() -> None:
    key = auth.caller_of(
        _event(authorizer={"userId": "u", "keyId": "K1", "scopes": "repos:read,repos:manage"})
    )
    assert key == auth.Caller("u", key_id="K1", scopes=frozenset({"repos:read", "repos:manage"}))
    user = auth.caller_of(_event(authorizer={"userId": "u", "groups": ""}))
    assert user == auth.Caller("u")
    with pytest.raises(ApiError, match="requires membership in the RepoAdmin group"):
        auth.authorize(user, write=True, admin_group="RepoAdmin")
    assert auth.caller_of(_event(authorizer={"principalId": "x"})) is None


def test_the_etag_is_the_stored_content_in_any_order_and_changes_with_it() -> None:
    row = row_from_item({**ITEM, "team": {"SS": ["b", "a"]}, "max_budget_usd": {"N": "5.50"}})
    same = row_from_item({**ITEM, "team": {"SS": ["a", "b"]}, "max_budget_usd": {"N": "5.5"}})
    other = row_from_item({**ITEM, "team": {"SS": ["a", "b", "c"]}, "max_budget_usd": {"N": "5.5"}})
    assert etag(row) == etag(same) != etag(other)
    assert matches(f'"x", {etag(row)}', row)
    assert matches("*", row)
    assert not matches('"x"', row)


def test_post_null_means_absent_patch_null_or_empty_list_means_remove() -> None:
    posted = body.parse_fields({"build_command": None, "skills": []}, partial=False)
    assert (posted.wanted, posted.unset) == ({}, frozenset())
    patched = body.parse_fields(
        {"build_command": None, "skills": [], "max_turns": "7"}, partial=True)
    assert (patched.wanted, patched.unset) == ({"max_turns": 7}, frozenset({"build_command", "skills"}))


def test_a_token_is_never_echoed_in_a_validation_error() -> None:
    with pytest.raises(ApiError) as refused:
        body.parse_fields(
            {"github_token": "ghp_x y", "github_token_secret_arn": "arn"}, partial=True)
    assert "ghp_x" not in refused.value.message
    assert "github_token: is not a GitHub token" in refused.value.message


def test_the_log_redacts_tokens_secret_arns_and_secret_names() -> None:
    from abca_deploy.api.logs import Redactor

    redactor = Redactor()
    redactor.mask("ghp_live_value")
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:abca/github-token/octo/app-AbC123"
    line = redactor.redact(f"AccessDenied on {arn} for ghp_live_value (abca/github-token/octo/app)")
    assert line == (
        "AccessDenied on arn:aws:secretsmanager:us-east-1:123456789012:secret:****-AbC123 for *** "
        "(abca/github-token/****)"
    )


def test_absurdly_deep_json_is_a_400_not_a_crash() -> None:
    with pytest.raises(ApiError) as refused:
        body.json_object({"body": "[" * 100_000})
    assert (refused.value.status, refused.value.message) == (400, "The request body must be a JSON object.")


def test_a_row_over_dynamodbs_item_limit_is_a_400() -> None:
    answer = _app(
        FakeDynamoDB("ValidationException", "Item size has exceeded the maximum allowed size")
    ).handle(_event(authorizer={"userId": "u"}))
    assert answer["statusCode"] == 400
    assert "400 KB item limit" in json.loads(answer["body"])["error"]["message"]
