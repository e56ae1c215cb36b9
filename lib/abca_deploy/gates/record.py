"""``abca-deploy record``: record a successful deploy of one lifecycle as a GitHub deployment.

Run it after a deploy succeeded (never after a failed or cancelled one): the next ``abca-deploy changes
--stack-name`` then diffs that lifecycle from this commit, so a deploy that did not finish is retried by the
next push instead of being forgotten. The payload and description carry what operators look for in the
deployment history (for the runtime: its version and image).
"""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from abca_deploy.gates.deployments import PlatformSettings, environment_name, require
from abca_deploy.gates.paths import FILTER_NAME
from abca_deploy.settings import STACK_NAME_FORM, Command, StackName

if TYPE_CHECKING:
    from collections.abc import Mapping

    from abca_deploy.report import Reporter

_SHA = re.compile(r"^[0-9a-f]{40}$")
DESCRIPTION_LIMIT = 140  # GitHub rejects longer deployment descriptions


class RecordSettings(PlatformSettings):
    """Flags of ``abca-deploy record``."""

    lifecycle: str = Field(description="The lifecycle deployed: a filter name of `changes` (runtime, "
                           "infra, config, ...).",
                           json_schema_extra={"form": "a filter name", "metavar": "LIFECYCLE"})
    stack_name: StackName = Field(description="The stack it was deployed to.",
                                  json_schema_extra={"form": STACK_NAME_FORM, "metavar": "NAME"})
    sha: str | None = Field(None, description="The commit deployed, 40 hex digits (default: GITHUB_SHA).",
                            json_schema_extra={"form": "a full commit SHA", "metavar": "SHA"})
    description: str | None = Field(None, description=(
        f"One line for the deployment history (at most {DESCRIPTION_LIMIT} characters are kept)."))
    payload: str | None = Field(None, description=(
        "A JSON object stored with the deployment (e.g. the runtime version and image); empty values are "
        "dropped."), json_schema_extra={"form": "a JSON object", "metavar": "JSON"})

    @field_validator("lifecycle")
    @classmethod
    def _lifecycle(cls, value: str) -> str:
        if not FILTER_NAME.match(value):
            msg = "is not a filter name (letters, digits, '_' or '-')"
            raise ValueError(msg)
        return value

    @field_validator("sha")
    @classmethod
    def _sha(cls, value: str | None) -> str | None:
        if value is not None and not _SHA.match(value):
            msg = "is not a full commit SHA (40 lower-case hex digits)"
            raise ValueError(msg)
        return value

    @field_validator("payload")
    @classmethod
    def _payload(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            msg = "is not a JSON object"
            raise ValueError(msg)
        return value


def run_url(env: Mapping[str, str]) -> str | None:
    """This workflow run's page, from the runner's environment."""
    parts = [env.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    return f"{parts[0]}/{parts[1]}/actions/runs/{parts[2]}" if all(parts) else None


def run(settings: RecordSettings, reporter: Reporter) -> int:
    """Create the deployment and its success status; report the environment and the deployment id."""
    from abca_deploy.errors import UserError

    sha = settings.sha or os.environ.get("GITHUB_SHA", "")
    if not _SHA.match(sha):
        msg = "--sha: no commit given and GITHUB_SHA is not a full commit SHA."
        raise UserError(msg, hint="Pass --sha with the commit that was deployed.", title="Invalid --sha")
    full_name, github = require(settings, reporter)
    environment = environment_name(settings.lifecycle, settings.stack_name)
    given: dict[str, Any] = json.loads(settings.payload or "{}")
    payload = {k: v for k, v in given.items() if v not in ("", None)}
    payload |= {"lifecycle": settings.lifecycle, "stack_name": settings.stack_name}
    description = settings.description or f"{settings.lifecycle} of {settings.stack_name}"
    description = description[:DESCRIPTION_LIMIT]
    deployment = github.create_deployment(full_name, environment, sha, description=description,
                                          payload=payload, log_url=run_url(os.environ))
    reporter.set_output("environment", environment)
    reporter.set_output("deployment-id", deployment.id)
    reporter.summary(f"### Recorded: {settings.lifecycle} of {settings.stack_name} at `{sha[:12]}`\n\n"
                     f"Environment `{environment}`, deployment {deployment.id}: {description}")
    reporter.info(f"Recorded {sha[:12]} as deployed to {environment} (deployment {deployment.id}).")
    reporter.result({"environment": environment, "deployment_id": deployment.id, "sha": sha,
                     "description": description, "payload": payload},
                    f"{environment}\t{sha}\tdeployment {deployment.id}")
    return 0


RECORD = Command(
    settings=RecordSettings,
    run=run,
    help="Record a successful deploy of one lifecycle to a stack as a GitHub deployment of environment "
         "abca-<lifecycle>-<stack>; `changes --stack-name` then diffs that lifecycle from it.",
    positional=("lifecycle",),
)
