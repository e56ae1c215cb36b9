"""Secrets Manager adapter: describe, read, create, new version, restore. No decisions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from abca_deploy.aws.errors import aws_call, error_code, translate


@dataclass(frozen=True)
class SecretInfo:
    """What DescribeSecret says: the ARN, and whether the secret is scheduled for deletion."""

    arn: str
    scheduled_for_deletion: bool


class SecretExists(Exception):
    """CreateSecret found the name taken (ResourceExistsException; AWS says InvalidRequestException when the
    existing secret is scheduled for deletion, moto says ResourceExistsException)."""


class Secrets:
    """Secrets Manager. ``client`` is a boto3 ``secretsmanager`` client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def describe(self, secret_id: str) -> SecretInfo | None:
        """The secret's ARN and deletion state; ``None`` if there is no such secret."""
        from botocore.exceptions import ClientError

        with aws_call("secretsmanager:DescribeSecret", f"secret:{secret_id}"):
            try:
                info = self._client.describe_secret(SecretId=secret_id)
            except ClientError as exc:
                if error_code(exc) == "ResourceNotFoundException":
                    return None
                raise
        return SecretInfo(arn=info["ARN"], scheduled_for_deletion="DeletedDate" in info)

    def current_value(self, secret_id: str) -> str | None:
        """The AWSCURRENT string value (``None`` if it has none)."""
        with aws_call("secretsmanager:GetSecretValue", f"secret:{secret_id}"):
            value = self._client.get_secret_value(SecretId=secret_id).get("SecretString")
        return value if isinstance(value, str) else None

    def create(self, name: str, value: str, *, description: str, tags: dict[str, str]) -> str:
        """Create a secret holding ``value``; its ARN. Raises ``SecretExists`` if the name is taken."""
        from botocore.exceptions import ClientError

        try:
            response = self._client.create_secret(
                Name=name, SecretString=value, Description=description,
                Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
            )
        except ClientError as exc:
            code = error_code(exc)
            scheduled = code == "InvalidRequestException" and "deletion" in str(exc)
            if code == "ResourceExistsException" or scheduled:
                raise SecretExists(name) from None
            raise translate(exc, action="secretsmanager:CreateSecret", resource=f"secret:{name}") from exc
        return str(response["ARN"])

    def put_value(self, secret_id: str, value: str) -> str:
        """Store ``value`` as a new AWSCURRENT version; the secret's ARN."""
        with aws_call("secretsmanager:PutSecretValue", f"secret:{secret_id}"):
            return str(self._client.put_secret_value(SecretId=secret_id, SecretString=value)["ARN"])

    def restore(self, secret_id: str) -> None:
        """Cancel a scheduled deletion."""
        with aws_call("secretsmanager:RestoreSecret", f"secret:{secret_id}"):
            self._client.restore_secret(SecretId=secret_id)
