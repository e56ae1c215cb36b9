"""SSM Parameter Store adapter: the parameter that records the deployed image."""

from __future__ import annotations

from typing import Any

from abca_deploy.aws.errors import aws_call, error_code
from abca_deploy.errors import UserError


class Parameters:
    """``ssm``: read and write one String parameter."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def get(self, name: str) -> str | None:
        """The parameter's value, or None when it does not exist."""
        from botocore.exceptions import ClientError

        with aws_call("ssm:GetParameter", name):
            try:
                return str(self._client.get_parameter(Name=name)["Parameter"]["Value"])
            except ClientError as exc:
                if error_code(exc) == "ParameterNotFound":
                    return None
                raise

    def put(self, name: str, value: str) -> None:
        """Create or overwrite the String parameter."""
        from botocore.exceptions import ClientError

        with aws_call("ssm:PutParameter", name):
            try:
                self._client.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
            except ClientError as exc:
                if error_code(exc) in {"ValidationException", "HierarchyTypeMismatchException"}:
                    msg = f"--image-parameter {name!r} is not a valid SSM parameter name ({exc})."
                    raise UserError(msg, title="Invalid --image-parameter") from None
                raise
