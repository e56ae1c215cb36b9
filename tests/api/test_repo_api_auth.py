"""Who may do what: signed-in users read, the admin group writes; scoped API keys; refused credentials.

Every token here is a real JWT: issued by moto's Cognito for the seeded users, minted with moto's own
signing key (expired), or signed with a key the pool never had (forged).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.support.repo_api import RepoApi

WRITES = (
    ("POST", "repos", {"repo": "octo/new"}),
    ("PATCH", "repos/octo%2Fapp", {"max_turns": 9}),
    ("DELETE", "repos/octo%2Fapp", None),
)


def _claims(api: RepoApi, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": f"https://cognito-idp.us-east-1.amazonaws.com/{api.pool.user_pool_id}",
        "aud": api.pool.app_client_id,
        "sub": "forger",
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
        "cognito:groups": ["RepoAdmin"],
    }
    return {**claims, **changes}


def _moto_signed(api: RepoApi, expires_in: int) -> str:
    """An ID token moto's pool signs with its real key (for an expired one: a negative lifetime)."""
    from moto.cognitoidp.models import cognitoidp_backends

    pool = cognitoidp_backends["123456789012"]["us-east-1"].user_pools[api.pool.user_pool_id]
    token, _ = pool.create_jwt(
        api.pool.app_client_id,
        "admin@example.com",
        "id",
        expires_in=expires_in,
        extra_data={"cognito:groups": ["RepoAdmin"]},
    )
    return str(token)


def test_any_signed_in_user_reads_only_the_admin_group_writes(repo_api: RepoApi) -> None:
    repo_api.onboard("octo/app", max_turns=5)
    assert repo_api.call("GET", "repos", user="participant").status == 200
    assert repo_api.call("GET", "repos/octo%2Fapp", user="participant").status == 200
    for method, path, body in WRITES:
        answer = repo_api.call(method, path, body, user="participant")
        assert answer.status == 403, answer.text
        assert answer.error == {
            "code": "FORBIDDEN",
            "request_id": answer.header("X-Request-Id"),
            "message": "Changing repositories requires membership in the RepoAdmin group.",
        }
    assert repo_api.stack.item("octo/new") is None
    assert repo_api.stack.item("octo/app")["max_turns"] == {"N": "5"}  # type: ignore[index]


def test_the_admin_group_is_configurable(api_server: Callable[..., RepoApi]) -> None:
    api = api_server(admin_group="PlatformOps")
    answer = api.call("POST", "repos", {"repo": "octo/app"}, user="admin")
    assert answer.status == 403
    assert "membership in the PlatformOps group" in answer.error["message"]


def test_no_credential_is_a_401(repo_api: RepoApi) -> None:
    answer = repo_api.call("GET", "repos", user=None)
    assert (answer.status, answer.error["code"]) == (401, "UNAUTHORIZED")
    assert "Authorization" in answer.error["message"]


def test_forged_expired_foreign_and_wrong_kind_of_tokens_are_refused(repo_api: RepoApi) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(_claims(repo_api), forger, algorithm="RS256", headers={"kid": "dummy"})
    unsigned = jwt.encode(_claims(repo_api), None, algorithm="none")
    expired = _moto_signed(repo_api, expires_in=-120)
    idp = boto3.client("cognito-idp")
    other = idp.create_user_pool(PoolName="someone-else", UsernameAttributes=["email"])["UserPool"]["Id"]
    other_client = idp.create_user_pool_client(UserPoolId=other, ClientName="c")["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=other, Username="eve@example.com", MessageAction="SUPPRESS")
    idp.admin_set_user_password(
        UserPoolId=other, Username="eve@example.com", Password="Other-Pool-1!x", Permanent=True
    )
    foreign = idp.initiate_auth(
        ClientId=other_client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "eve@example.com", "PASSWORD": "Other-Pool-1!x"},
    )["AuthenticationResult"]["IdToken"]
    access = idp.initiate_auth(
        ClientId=repo_api.pool.app_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "admin@example.com", "PASSWORD": "Sandbox-Admin-1!"},
    )["AuthenticationResult"]["AccessToken"]
    cases = {
        "forged": (forged, "Signature verification failed"),
        "alg none": (unsigned, "refused"),
        "expired": (expired, "Signature has expired"),
        "another pool": (foreign, "refused"),
        "access token": (access, "send the ID token"),
        "garbage": ("not.a.jwt", "refused"),
    }
    for name, (token, reason) in cases.items():
        answer = repo_api.call(
            "POST", "repos", {"repo": "octo/app"}, user=None, headers={"Authorization": token}
        )
        assert answer.status == 401, (name, answer.text)
        assert answer.error["code"] == "UNAUTHORIZED"
        assert reason in answer.error["message"], (name, answer.error["message"])
    assert repo_api.stack.items() == []
    refusals = [line for line in repo_api.logs.lines if '"status":401' in line]
    assert len(refusals) == len(cases)  # each refusal is logged, without the credential
    assert not any(token in line for token, _ in cases.values() for line in repo_api.logs.lines)
    fresh = _moto_signed(repo_api, expires_in=600)  # the same minting, unexpired, is accepted
    assert (
        repo_api.call("GET", "repos", user=None, headers={"Authorization": f"Bearer {fresh}"}).status == 200
    )


def test_api_keys_by_scope(repo_api: RepoApi) -> None:
    _, reader = repo_api.key("repos:read")
    _, manager = repo_api.key("repos:read", "repos:manage")
    _, webhooks = repo_api.key("webhooks:manage")
    created = repo_api.call("POST", "repos", {"repo": "octo/app", "max_turns": 3}, key=manager)
    assert created.status == 201, created.text
    assert repo_api.call("GET", "repos/octo%2Fapp", key=reader).status == 200
    refused = repo_api.call("PATCH", "repos/octo%2Fapp", {"max_turns": 4}, key=reader)
    assert refused.status == 403
    assert refused.error["message"] == "This API key lacks the repos:manage scope (it has: repos:read)."
    wrong = repo_api.call("GET", "repos", key=webhooks)
    assert wrong.status == 403
    assert wrong.error["message"] == "This API key lacks the repos:read scope (it has: webhooks:manage)."
    assert repo_api.stack.item("octo/app")["max_turns"] == {"N": "3"}  # type: ignore[index]


def test_revoked_expired_and_wrong_keys_are_refused(repo_api: RepoApi) -> None:
    from abca_deploy.sandbox.cognito import revoke_api_key

    key_id, key = repo_api.key("repos:read", "repos:manage")
    assert repo_api.call("GET", "repos", key=key).status == 200
    revoke_api_key(boto3.client("dynamodb"), repo_api.key_table, key_id)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    _, expired = repo_api.key("repos:read", expires_at=yesterday)
    _, good = repo_api.key("repos:read")
    prefix, good_id, _ = good.split("_")
    cases = {
        "revoked": (key, "unknown or revoked"),
        "expired": (expired, "has expired"),
        "wrong secret": (f"{prefix}_{good_id}_{'0' * 64}", "unknown or revoked"),
        "malformed": ("bgak_only-two", "malformed"),
    }
    for name, (value, reason) in cases.items():
        answer = repo_api.call("GET", "repos", key=value)
        assert answer.status == 401, (name, answer.text)
        assert reason in answer.error["message"]
    assert repo_api.call("GET", "repos", key=good).status == 200


@pytest.mark.parametrize("user", ["admin", "participant"])
def test_seeded_users_sign_in_with_their_documented_passwords(repo_api: RepoApi, user: str) -> None:
    claims = jwt.decode(repo_api.token(user), options={"verify_signature": False})
    assert claims["token_use"] == "id"
    assert claims["aud"] == repo_api.pool.app_client_id
    assert ("RepoAdmin" in claims.get("cognito:groups", [])) is (user == "admin")
