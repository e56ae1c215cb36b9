"""API errors the emulator answers with, shaped like AWS's REST-JSON errors.

botocore reads the error code from the ``x-amzn-ErrorType`` header and the message from the JSON body, so a
stock client raises ``ClientError`` with the same ``Code`` AWS would send.
"""

from __future__ import annotations

from typing import Any

# Status codes of the modelled error shapes of both services (same in the two botocore models).
STATUS = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ConflictException": 409,
    "RetryableConflictException": 409,
    "ServiceQuotaExceededException": 402,
    "RuntimeClientError": 424,
    "ThrottlingException": 429,
    "InternalServerException": 500,
    "UnknownOperationException": 404,
}


RETRYABLE_CONFLICT = "RetryableConflictException"
UNKNOWN_OPERATION = "UnknownOperationException"
CANNOT_PARSE = "CannotParse"


class ApiError(Exception):
    """An error answered to the client: ``code`` names the error shape, ``extra`` adds body members."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    @property
    def status(self) -> int:
        """The HTTP status of the error shape."""
        return STATUS.get(self.code, 400)

    def body(self) -> dict[str, Any]:
        """The JSON body: ``message`` plus any modelled members (``reason``, ``fieldList``)."""
        return {"message": self.message, **self.extra}


def validation(message: str, fields: list[tuple[str, str]] | None = None) -> ApiError:
    """A ValidationException; ``fields`` are (member path, problem) pairs."""
    field_list = [{"name": name, "message": problem} for name, problem in fields or []]
    return ApiError("ValidationException", message, reason="FieldValidationFailed",
                    **({"fieldList": field_list} if field_list else {}))


def cannot_parse(message: str) -> ApiError:
    """A ValidationException for a body that is not a JSON object."""
    return ApiError("ValidationException", message, reason=CANNOT_PARSE)


def not_found(message: str) -> ApiError:
    """A ResourceNotFoundException."""
    return ApiError("ResourceNotFoundException", message)


def conflict(message: str) -> ApiError:
    """A ConflictException (the control plane's, and Route 53 Resolver's JSON 1.1 error)."""
    return ApiError("ConflictException", message)


def runtime_client_error(message: str) -> ApiError:
    """The data plane's 424: the agent's container is down, unreachable, or failed."""
    return ApiError("RuntimeClientError", message)
