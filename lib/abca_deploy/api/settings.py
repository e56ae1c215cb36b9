"""The repository API's configuration: the Lambda's environment, parsed by one settings model.

It extends the CLI's ``GuardrailSettings``, so a guardrail is configured with the same names everywhere:
``--max-repos`` in the CLI, ``max-repos`` in the action, ``ABCA_MAX_REPOS`` here.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from abca_deploy.repos.options import GuardrailSettings

DEFAULT_ADMIN_GROUP = "RepoAdmin"


class ApiSettings(GuardrailSettings):
    """The Lambda's environment: the table (or the stack naming it), the admin group and the guardrails."""

    admin_group: str = Field(DEFAULT_ADMIN_GROUP, description="Cognito group whose members may change "
                             "repositories (others may read).",
                             json_schema_extra={"form": "a Cognito group name (1-128 characters, no spaces)"})

    @field_validator("admin_group")
    @classmethod
    def _group(cls, value: str) -> str:
        if not 0 < len(value) <= 128 or any(c.isspace() for c in value):
            msg = "is not a Cognito group name"
            raise ValueError(msg)
        return value
