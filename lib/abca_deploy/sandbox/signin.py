"""``sandbox token``: sign in as a seeded user and print the Cognito ID token (for curl, or any HTTP client).

    curl -H "Authorization: $(abca-deploy sandbox token --user admin)" "${ABCA_SANDBOX_API_URL}repos"
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from abca_deploy.errors import UserError
from abca_deploy.sandbox.settings import SandboxSettings
from abca_deploy.settings import Command

if TYPE_CHECKING:
    from abca_deploy.report import Reporter


class TokenSettings(SandboxSettings):
    """``sandbox token``."""

    user: Literal["admin", "participant"] = Field(
        "admin", description="The seeded user: admin (in the RepoAdmin group: may change repositories) or "
                             "participant (may read).")


def run_token(settings: TokenSettings, reporter: Reporter) -> int:
    """Sign in with USER_PASSWORD_AUTH against the sandbox's pool; the ID token on stdout."""
    from abca_deploy.aws.cognito import Cognito
    from abca_deploy.sandbox import cognito
    from abca_deploy.sandbox.seed import client
    from abca_deploy.sandbox.stack import MOTO, address, load_state

    state = load_state(settings.state_dir)
    client_id = str(state.seed.get("app_client_id") or "") if state is not None else ""
    if state is None or MOTO not in state.services or not client_id:
        msg = f"The sandbox in {settings.state_dir} is not up and seeded, so it has no users to sign in as."
        raise UserError(msg, hint="Run `abca-deploy sandbox up` (without --no-seed) first.",
                        title="Sandbox not seeded")
    user = cognito.BY_NAME[settings.user]
    moto = address(MOTO, state.services[MOTO].port)
    tokens = Cognito(client("cognito-idp", moto)).sign_in(client_id, user.username, user.password)
    reporter.result({"id_token": tokens.id_token, "expires_in": tokens.expires_in, "user": user.name,
                     "username": user.username, "groups": list(user.groups)}, tokens.id_token)
    return 0


TOKEN = Command(TokenSettings, run_token,
                "Print a Cognito ID token for a seeded user (admin or participant) of the sandbox.")
