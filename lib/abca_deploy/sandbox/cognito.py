"""The sandbox's sign-in: a Cognito user pool in moto shaped like ABCA's, two users, and platform API keys.

ABCA's ``TaskApi`` creates the pool (email sign-in, no self sign-up) and an app client without a secret that
allows USER_PASSWORD_AUTH; its stack outputs ``UserPoolId`` and ``AppClientId``. The sandbox adds the
repository API's admin group and two users whose passwords are documented (a local sandbox with dummy AWS
credentials, like moto's "testing"): ``admin`` (in the admin group) and ``participant`` (not). API keys are
rows of ABCA's API-key table (``bgak_<key_id>_<secret>``, only the secret's SHA-256 stored).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from abca_deploy.api.settings import DEFAULT_ADMIN_GROUP

if TYPE_CHECKING:
    from collections.abc import Sequence

POOL_NAME = "backgroundagent-dev-UserPool"
CLIENT_NAME = "AppClient"
API_KEY_PREFIX = "bgak"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class SeedUser:
    """A seeded user: what ``sandbox token --user NAME`` signs in as."""

    name: str
    username: str
    password: str
    groups: tuple[str, ...] = ()


USERS = (
    SeedUser("admin", "admin@example.com", "Sandbox-Admin-1!", (DEFAULT_ADMIN_GROUP,)),
    SeedUser("participant", "participant@example.com", "Sandbox-Participant-1!"),
)
BY_NAME = {user.name: user for user in USERS}


@dataclass(frozen=True)
class Pool:
    """The seeded pool and its app client."""

    user_pool_id: str
    app_client_id: str


def ensure_pool(idp: Any) -> tuple[Pool, bool]:
    """The pool, its client, the admin group and the users, created where missing; (pool, created)."""
    pool_id = next((p["Id"] for p in _pools(idp) if p["Name"] == POOL_NAME), None)
    created = pool_id is None
    if pool_id is None:
        pool_id = idp.create_user_pool(
            PoolName=POOL_NAME, UsernameAttributes=["email"], AutoVerifiedAttributes=["email"],
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
            Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireLowercase": True,
                                         "RequireUppercase": True, "RequireNumbers": True,
                                         "RequireSymbols": True}},
        )["UserPool"]["Id"]
    clients = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next((c["ClientId"] for c in clients if c["ClientName"] == CLIENT_NAME), None)
    if client_id is None:
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName=CLIENT_NAME, GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
    _ensure_users(idp, pool_id)
    return Pool(pool_id, client_id), created


def _pools(idp: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"MaxResults": 60}
    while True:
        page = idp.list_user_pools(**kwargs)
        found += page.get("UserPools", [])
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]


def _ensure_users(idp: Any, pool_id: str) -> None:
    groups = {g["GroupName"] for g in idp.list_groups(UserPoolId=pool_id)["Groups"]}
    if DEFAULT_ADMIN_GROUP not in groups:
        idp.create_group(UserPoolId=pool_id, GroupName=DEFAULT_ADMIN_GROUP,
                         Description="May onboard, change and offboard repositories (abca-deploy repo API).")
    for user in USERS:
        try:
            idp.admin_get_user(UserPoolId=pool_id, Username=user.username)
        except idp.exceptions.UserNotFoundException:
            idp.admin_create_user(UserPoolId=pool_id, Username=user.username, MessageAction="SUPPRESS",
                                  UserAttributes=[{"Name": "email", "Value": user.username},
                                                  {"Name": "email_verified", "Value": "true"}])
            idp.admin_set_user_password(UserPoolId=pool_id, Username=user.username, Password=user.password,
                                        Permanent=True)
        for group in user.groups:
            idp.admin_add_user_to_group(UserPoolId=pool_id, Username=user.username, GroupName=group)


def api_key_table_resource() -> dict[str, Any]:
    """ABCA's ``ApiKeyTable`` (partition key ``key_id``; TTL ``ttl``) as a CloudFormation resource."""
    return {"Type": "AWS::DynamoDB::Table", "Properties": {
        "KeySchema": [{"AttributeName": "key_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "key_id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }}


def with_api(template: dict[str, Any], pool: Pool, api_url: str) -> dict[str, Any]:
    """The stack template plus what ABCA's stack has for its API: the API-key table and the outputs
    ``ApiUrl``, ``UserPoolId``, ``AppClientId`` and ``ApiKeyTableName`` (the pool lives outside the template:
    moto's CloudFormation does not create user pools)."""
    resources = {**template["Resources"], "ApiKeyTable": api_key_table_resource()}
    outputs = {**template["Outputs"], "ApiUrl": {"Value": api_url},
               "UserPoolId": {"Value": pool.user_pool_id}, "AppClientId": {"Value": pool.app_client_id},
               "ApiKeyTableName": {"Value": {"Ref": "ApiKeyTable"}}}
    return {**template, "Resources": resources, "Outputs": outputs}


def _ulid() -> str:
    """A ULID (48-bit millisecond time, 80 random bits, Crockford base32), as ABCA's key ids are."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def mint_api_key(ddb: Any, table: str, *, user_id: str, scopes: Sequence[str], name: str = "sandbox",
                 expires_at: str | None = None) -> tuple[str, str]:
    """Store a new key as ABCA's ``create-api-key`` does; (key_id, the key to send as ``X-API-Key``)."""
    key_id, secret = _ulid(), secrets.token_hex(32)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    item: dict[str, Any] = {
        "key_id": {"S": key_id}, "user_id": {"S": user_id}, "name": {"S": name},
        "key_hash": {"S": hashlib.sha256(secret.encode()).hexdigest()},
        "scopes": {"L": [{"S": scope} for scope in scopes]}, "status": {"S": "active"},
        "created_at": {"S": now}, "updated_at": {"S": now},
    }
    if expires_at:
        item["expires_at"] = {"S": expires_at}
    ddb.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(key_id)")
    return key_id, f"{API_KEY_PREFIX}_{key_id}_{secret}"


def revoke_api_key(ddb: Any, table: str, key_id: str) -> None:
    """Mark a key revoked, as ABCA's ``delete-api-key`` does."""
    ddb.update_item(TableName=table, Key={"key_id": {"S": key_id}}, UpdateExpression="SET #s = :r",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":r": {"S": "revoked"}})
