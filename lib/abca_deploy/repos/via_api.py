"""``repo onboard|update|offboard|show|list --api-url``: the same commands through ABCA's repository API.

For participants without AWS credentials: the request carries the cached Cognito ID token (``repo login``)
or an API key (``--api-key-env``); the API applies the platform's guardrails and writes the row the direct
commands would. Output (text, JSON, step outputs, summary) matches the direct commands'.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from abca_deploy.errors import UserError
from abca_deploy.repos import render, session, tokens
from abca_deploy.repos.options import (
    FieldSettings,
    OffboardSettings,
    UpdateSettings,
    WriteSettings,
    wanted_fields,
)
from abca_deploy.repos.remote import RepoApi
from abca_deploy.settings import CommandSettings

if TYPE_CHECKING:
    from abca_deploy.report import Reporter
    from abca_deploy.repos.options import ListSettings, OnboardSettings, RemoteSettings, ShowSettings

LOCAL_ONLY = tuple(name for name in WriteSettings.model_fields
                   if name not in CommandSettings.model_fields and name != "dry_run")
"""Settings the API applies on its side (its own configuration: where the table is, the guardrails, who may
write): ignored, with a warning, when set. Every write setting but ``--dry-run``, so a new guardrail is one of
them without a change here."""


def client(settings: RemoteSettings, reporter: Reporter) -> RepoApi:
    """The API, authenticated with the API key (``--api-key-env``) or the ``repo login`` session."""
    assert settings.api_url is not None
    api_url = settings.api_url
    for name in LOCAL_ONLY:
        if name in settings.model_fields_set:
            reporter.warning(f"--{name.replace('_', '-')} is ignored with --api-url: the API applies its own "
                             "configuration.", title="Ignored setting")
    if settings.api_key_env:
        key = os.environ.get(settings.api_key_env, "").strip()
        reporter.mask(key)
        if not key:
            msg = f"--api-key-env: the environment variable {settings.api_key_env} is not set or empty."
            raise UserError(msg, hint=f"Export the API key as {settings.api_key_env}.", title="No API key")
        return RepoApi(api_url, lambda: {"X-API-Key": key})
    return RepoApi(api_url, lambda: {"Authorization": session.id_token(api_url, reporter)})


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return list(value) if isinstance(value, tuple) else value


def request_body(settings: FieldSettings, reporter: Reporter) -> dict[str, Any]:
    """The PATCH/POST body for the flags given: attributes set, ``null`` for ``--unset``, the token."""
    body: dict[str, Any] = {name: _json_value(value) for name, value in wanted_fields(settings).items()}
    if isinstance(settings, UpdateSettings):
        body.update(dict.fromkeys(settings.unset))
    if settings.github_token_env is not None:
        body["github_token"] = tokens.read_token(settings.github_token_env, reporter)
    return body


def run_remote_write(settings: OnboardSettings | UpdateSettings | OffboardSettings,
                     reporter: Reporter) -> int:
    """POST, PATCH or DELETE, and report like the direct command."""
    api = client(settings, reporter)
    if isinstance(settings, OffboardSettings):
        result = api.offboard(settings.repo, settings.dry_run)
    elif isinstance(settings, UpdateSettings):
        result = api.update(settings.repo, request_body(settings, reporter), settings.dry_run)
    else:
        result = api.onboard({"repo": settings.repo, **request_body(settings, reporter)}, settings.dry_run)
    _report(reporter, result)
    return 0


def _report(reporter: Reporter, result: dict[str, Any]) -> None:
    row, action, dry_run = result.get("repo") or {}, str(result.get("action")), bool(result.get("dry_run"))
    repo = str(row.get("repo", ""))
    for note in result.get("notes") or []:
        reporter.warning(f"{repo}: {note}", title="Check the platform stack")
    reporter.set_output("repo", repo)
    reporter.set_output("status", row.get("status", ""))
    reporter.set_output("changed", bool(result.get("changed")))
    verb = (render.PLANNED if dry_run else render.DONE).get(action, action)
    lines = [f"{repo}: {verb}"]
    for change in result.get("changes") or []:
        old = "" if action == "create" else f"{_text(change['old'])} -> "
        lines.append(f"  {change['field']}: {old}{_text(change['new'])}")
    if result.get("token"):
        lines.append(render.token_line(result["token"], dry_run=dry_run))
    reporter.summary(f"### Repository `{repo}`: {verb} (through the repository API)")
    reporter.result(result, "\n".join(lines))


def _text(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) if value else "(empty)"
    return str(value).replace("\n", " ")


def run_remote_show(settings: ShowSettings, reporter: Reporter) -> int:
    """``repo show --api-url``."""
    row = client(settings, reporter).get(settings.repo)
    reporter.result({"repo": row}, "\n".join(f"{name}: {_text(value)}" for name, value in row.items()))
    return 0


def run_remote_list(settings: ListSettings, reporter: Reporter) -> int:
    """``repo list --api-url``."""
    rows = sorted(client(settings, reporter).list(settings.status), key=lambda r: str(r.get("repo")))
    if not rows:
        reporter.result({"repos": []}, "No repositories.")
        return 0
    from abca_deploy.report import text_table

    table = [[str(r.get("repo")), str(r.get("status")), str(r.get("compute_type", "-")),
              str(r.get("model_id", "-")), str(r.get("updated_at", "-"))] for r in rows]
    reporter.result({"repos": rows}, text_table(["REPO", "STATUS", "COMPUTE", "MODEL", "UPDATED"], table))
    return 0
