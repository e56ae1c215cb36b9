"""``repo login``: sign in to ABCA's Cognito user pool once; ``repo ... --api-url`` then sends the ID token.

As ABCA's ``bgagent login`` does: USER_PASSWORD_AUTH with the stack's ``AppClientId``, the ID token (what
ABCA's API accepts) and the refresh token cached in a file only the user can read, and a refresh
(REFRESH_TOKEN_AUTH) when the ID token has less than five minutes left. Sessions are kept per API URL in
``$XDG_CONFIG_HOME/abca-deploy/sessions.json`` (default ``~/.config``). No AWS credentials are involved.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from abca_deploy.errors import UserError
from abca_deploy.settings import Command, CommandSettings, Region, env_var_name, http_url

if TYPE_CHECKING:
    from abca_deploy.report import Reporter
    from abca_deploy.repos.tokens import Masker

REFRESH_MARGIN = 300.0
_API_HOST = re.compile(r"https://[^/]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(/|$)")


@dataclass
class Session:
    """One signed-in API: where, as whom, and the tokens (never printed)."""

    api_url: str
    region: str | None
    app_client_id: str
    username: str
    id_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: float


def sessions_path() -> Path:
    """``$XDG_CONFIG_HOME/abca-deploy/sessions.json``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(base) / "abca-deploy" / "sessions.json"


def key(api_url: str) -> str:
    """Sessions are per API: the URL without a trailing slash."""
    return api_url.rstrip("/")


def _all() -> dict[str, dict[str, object]]:
    try:
        data = json.loads(sessions_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load(api_url: str) -> Session | None:
    """The cached session for ``api_url``, if any."""
    raw = _all().get(key(api_url))
    try:
        return Session(**raw) if isinstance(raw, dict) else None  # type: ignore[arg-type]
    except TypeError:
        return None


def save(session: Session) -> None:
    """Store ``session`` (others kept) in a file readable by its owner only, atomically."""
    path = sessions_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    sessions = _all()
    sessions[key(session.api_url)] = asdict(session)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(sessions, handle, indent=2)
    os.chmod(tmp, 0o600)  # noqa: PTH101 - the mode must hold even if the file existed with another
    tmp.replace(path)


def id_token(api_url: str, masker: Masker) -> str:
    """A valid ID token for ``api_url``, refreshed when it is about to expire; masked."""
    session = load(api_url)
    if session is None:
        msg = f"Not signed in to {key(api_url)}."
        hint = f"Run `abca-deploy repo login --api-url {api_url} --app-client-id ID --username NAME` first."
        raise UserError(msg, hint=hint, title="Not signed in")
    if session.expires_at - time.time() < REFRESH_MARGIN:
        if not session.refresh_token:
            msg = f"The sign-in to {key(api_url)} has expired."
            raise UserError(msg, hint="Run `abca-deploy repo login` again.", title="Not signed in")
        from abca_deploy.aws.cognito import unsigned

        masker.mask(session.refresh_token)
        tokens = unsigned(session.region).refresh(session.app_client_id, session.refresh_token)
        session.id_token, session.expires_at = tokens.id_token, time.time() + tokens.expires_in
        save(session)
    masker.mask(session.id_token)
    return session.id_token


def region_of(api_url: str) -> str | None:
    """The region in an execute-api URL (``https://ID.execute-api.REGION.amazonaws.com/v1/``)."""
    found = _API_HOST.match(api_url)
    return found.group(1) if found else None


class LoginSettings(CommandSettings):
    """``repo login``."""

    api_url: str = Field(description="ABCA's ApiUrl stack output (the session is kept for this API).",
                         json_schema_extra={"form": "an http(s) URL", "metavar": "URL"})
    app_client_id: str = Field(description="ABCA's AppClientId stack output (the user pool's app client).",
                               json_schema_extra={"form": "a Cognito app client id", "metavar": "ID"})
    username: str = Field(description="Your Cognito username (ABCA signs in with the email address).",
                          json_schema_extra={"metavar": "NAME"})
    password_env: str = Field("ABCA_PASSWORD", description="Environment variable holding the password (else "
                              "it is prompted for; a password is never a flag).",
                              json_schema_extra={"form": "an environment variable name", "metavar": "VAR"})
    aws_region: Region = Field(None, description="The user pool's region (default: from --api-url, else "
                               "AWS_REGION).", json_schema_extra={"form": "an AWS region such as us-east-1"})

    @field_validator("api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(value)

    @field_validator("password_env")
    @classmethod
    def _password_env(cls, value: str) -> str:
        return env_var_name(value)


def _password(settings: LoginSettings, reporter: Reporter) -> str:
    password = os.environ.get(settings.password_env, "")
    if not password:
        import getpass
        import sys

        if not sys.stdin.isatty():
            msg = f"--password-env: {settings.password_env} is not set, and there is no terminal to ask on."
            raise UserError(msg, hint=f"Export the password as {settings.password_env}.", title="No password")
        password = getpass.getpass(f"Password for {settings.username}: ")
    reporter.mask(password)
    return password


def run_login(settings: LoginSettings, reporter: Reporter) -> int:
    """Sign in and cache the session."""
    from abca_deploy.aws.cognito import unsigned

    region = settings.aws_region or region_of(settings.api_url)
    password = _password(settings, reporter)
    tokens = unsigned(region).sign_in(settings.app_client_id, settings.username, password)
    reporter.mask(tokens.id_token)
    reporter.mask(tokens.refresh_token)
    expires = time.time() + tokens.expires_in
    save(Session(settings.api_url, region, settings.app_client_id, settings.username, tokens.id_token,
                 tokens.refresh_token, expires))
    until = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(expires))
    text = (f"Signed in to {key(settings.api_url)} as {settings.username} (ID token valid until {until}; "
            "refreshed automatically).")
    reporter.result({"api_url": key(settings.api_url), "username": settings.username, "expires_at": until,
                     "sessions_file": str(sessions_path())}, text)
    return 0


LOGIN = Command(LoginSettings, run_login, "Sign in to ABCA's API (Cognito) for `repo ... --api-url`.")
