"""Translate botocore errors into the project's errors, with what to do about them."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from abca_deploy.errors import AbcaError, OperationFailed, UserError

if TYPE_CHECKING:
    from collections.abc import Iterator

CREDENTIALS_HINT = (
    "Configure AWS credentials: locally `aws configure` / AWS_PROFILE, or "
    '`eval "$(abca-deploy sandbox env)"` for the sandbox; in GitHub Actions use '
    "aws-actions/configure-aws-credentials with role-to-assume and give the job "
    "`permissions: id-token: write`."
)

_CREDENTIAL_CODES = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "RequestExpired",
}
_DENIED_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
_NOT_FOUND_CODES = {
    "ResourceNotFoundException",
    "RepositoryNotFoundException",
    "ParameterNotFound",
    "ImageNotFoundException",
}


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError, else ''."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def translate(exc: BaseException, *, action: str, resource: str = "*") -> AbcaError:
    """One AbcaError for a botocore exception raised while calling ``action`` (e.g. ``ecr:PutImage``)."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return UserError("No AWS credentials were found.", hint=CREDENTIALS_HINT, title="No AWS credentials")
    if isinstance(exc, NoRegionError):
        return UserError(
            "No AWS region is configured.", hint="Pass --region or set AWS_REGION.", title="No AWS region"
        )
    if isinstance(exc, EndpointConnectionError):
        return OperationFailed(
            f"Could not reach the AWS endpoint for {action}: {exc}.",
            hint="Check the network, the region, and AWS_ENDPOINT_URL* variables.",
            title="AWS endpoint unreachable",
        )
    if not isinstance(exc, ClientError):
        return OperationFailed(f"{action} failed: {exc}", title=f"{action} failed")
    code = error_code(exc)
    message = str(exc.response.get("Error", {}).get("Message", "")) or str(exc)
    if code in _CREDENTIAL_CODES:
        return UserError(
            f"AWS rejected the credentials ({code}: {message}).",
            hint=CREDENTIALS_HINT,
            title="Invalid AWS credentials",
        )
    if code in _DENIED_CODES:
        return OperationFailed(
            f"Access denied calling {action} on {resource}.",
            hint=f"Grant the role `{action}` on `{resource}` (the AWS message: {message}).",
            title="Access denied",
        )
    if code in {"ThrottlingException", "Throttling", "TooManyRequestsException"}:
        return OperationFailed(
            f"{action} was throttled even after retries: {message}.",
            hint="Retry later, or lower the rate of concurrent deploys.",
            title="Throttled",
        )
    if code in _NOT_FOUND_CODES:
        return UserError(
            f"{action}: {resource} was not found ({message}).",
            hint="Check the name or id, the region and the account.",
            title="Not found",
        )
    if code in {"ValidationException", "ValidationError"}:  # the JSON and the query-protocol spelling
        return UserError(f"{action} rejected the request: {message}.", title="Rejected by AWS")
    return OperationFailed(f"{action} failed ({code}): {message}.", title=f"{action} failed")


@contextlib.contextmanager
def aws_call(action: str, resource: str = "*") -> Iterator[None]:
    """Run AWS calls, re-raising botocore errors as translated project errors."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, action=action, resource=resource) from exc
