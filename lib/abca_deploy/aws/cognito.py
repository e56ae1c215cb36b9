"""Cognito user-pool sign-in (InitiateAuth), as ABCA's ``bgagent login`` does it: USER_PASSWORD_AUTH with the
app client (``AppClientId`` output), then REFRESH_TOKEN_AUTH. Unsigned requests: no AWS credentials needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from abca_deploy.aws.errors import error_code, translate
from abca_deploy.errors import UserError

_REFUSED = {"NotAuthorizedException", "UserNotFoundException"}  # Cognito may say either for a bad sign-in


@dataclass(frozen=True)
class Tokens:
    """What a sign-in returns: the ID token (what ABCA's API accepts), a refresh token, the lifetime."""

    id_token: str = field(repr=False)
    expires_in: int
    refresh_token: str | None = field(default=None, repr=False)


class Cognito:
    """Sign-in against one region's Cognito. ``client`` is an unsigned boto3 ``cognito-idp`` client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def _auth(self, client_id: str, flow: str, parameters: dict[str, str]) -> Tokens:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._client.initiate_auth(ClientId=client_id, AuthFlow=flow, AuthParameters=parameters)
        except ClientError as exc:
            raise _refusal(exc, client_id) from None
        except BotoCoreError as exc:
            raise translate(exc, action="cognito-idp:InitiateAuth") from exc
        if "AuthenticationResult" not in answer:
            challenge = answer.get("ChallengeName", "an unknown challenge")
            msg = f"Cognito asks for {challenge} before it signs this user in."
            hint = ("Finish the sign-up first (set a permanent password or MFA, e.g. with `bgagent login`), "
                    "then sign in again.")
            raise UserError(msg, hint=hint, title="Sign-in incomplete")
        result = answer["AuthenticationResult"]
        return Tokens(result["IdToken"], int(result.get("ExpiresIn", 3600)), result.get("RefreshToken"))

    def sign_in(self, client_id: str, username: str, password: str) -> Tokens:
        """USER_PASSWORD_AUTH."""
        return self._auth(client_id, "USER_PASSWORD_AUTH", {"USERNAME": username, "PASSWORD": password})

    def refresh(self, client_id: str, refresh_token: str) -> Tokens:
        """REFRESH_TOKEN_AUTH (the refresh token itself is not returned again)."""
        return self._auth(client_id, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token})


def _refusal(exc: Any, client_id: str) -> Exception:
    code = error_code(exc)
    message = str(exc.response.get("Error", {}).get("Message", "")) or code
    if code in _REFUSED:
        return UserError(f"Cognito refused the sign-in: {message}", title="Sign-in refused",
                         hint="Check the username and password (or sign in again with `repo login`).")
    if code == "ResourceNotFoundException":
        return UserError(f"--app-client-id: Cognito has no app client {client_id!r} in this region.",
                         hint="Use the AppClientId output of ABCA's stack, and its region.",
                         title="Unknown app client")
    if code in ("UserNotConfirmedException", "PasswordResetRequiredException"):
        return UserError(f"Cognito cannot sign this user in yet: {message}", title="Sign-in refused")
    return translate(exc, action="cognito-idp:InitiateAuth")


def unsigned(region: str | None) -> Cognito:
    """Sign-in for ``region`` (default: AWS_REGION), with no AWS credentials."""
    from abca_deploy.aws.session import client

    return Cognito(client("cognito-idp", region, signed=False, max_attempts=3))
