"""One API Gateway proxy event in, one response out: routing, errors mapped to statuses, the access log.

``App`` is built once per Lambda container (``handler.py``) or per sandbox gateway, and is safe to share
between threads: it holds the settings and, once resolved, the platform (table, stack outputs) and clients.
"""

from __future__ import annotations

import threading
import time
import uuid
from functools import cached_property
from typing import TYPE_CHECKING, Any

from abca_deploy.api import logs
from abca_deploy.api.responses import ApiError, error
from abca_deploy.errors import AbcaError
from abca_deploy.repos.errors import (
    AlreadyOnboarded,
    InvalidField,
    KeptChanging,
    NotOnboarded,
    Offboarded,
    Refused,
    RowTooLarge,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.api.responses import Response
    from abca_deploy.api.settings import ApiSettings
    from abca_deploy.aws.secrets import Secrets
    from abca_deploy.repos.domainlist import DomainList
    from abca_deploy.repos.operations import Guardrails
    from abca_deploy.repos.target import Platform

    Route = Callable[["App", "Request"], Response]

THROTTLED = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
             "ProvisionedThroughputExceededException"}


class Request:
    """One event, its request id, and the redactor for everything logged while answering it."""

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event
        context = event.get("requestContext")
        given = context.get("requestId") if isinstance(context, dict) else None
        self.request_id = str(given or uuid.uuid4())
        self.redactor = logs.Redactor()
        self.principal: str | None = None
        self.repo: str | None = None

    def header(self, name: str) -> str | None:
        """A request header, looked up case-insensitively."""
        headers = self.event.get("headers") or {}
        wanted = name.lower()
        return next((str(v) for k, v in headers.items() if k.lower() == wanted and v is not None), None)

    def query(self, name: str) -> str | None:
        """A query-string parameter."""
        params = self.event.get("queryStringParameters") or {}
        value = params.get(name)
        return None if value is None else str(value)

    def path_parameter(self, name: str) -> str | None:
        """A path parameter as API Gateway passed it (possibly still percent-encoded)."""
        params = self.event.get("pathParameters") or {}
        value = params.get(name)
        return None if value is None else str(value)


class App:
    """The repository API over one platform."""

    def __init__(self, settings: ApiSettings) -> None:
        from abca_deploy.repos.operations import Guardrails

        self.settings = settings
        self.limits: Guardrails = Guardrails(tuple(settings.allowed_owners), settings.max_repos,
                                             settings.require_token, tuple(settings.allowed_models))
        self._lock = threading.Lock()
        self._platform: Platform | None = None
        self._secrets: Secrets | None = None
        logs.configure()

    @classmethod
    def from_environment(cls) -> App:
        """The app configured by ``ABCA_*`` environment variables (see ``ApiSettings``)."""
        from pydantic import ValidationError

        from abca_deploy.api.settings import ApiSettings
        from abca_deploy.settings import env_name, flag_name, settings_error

        try:
            return cls(ApiSettings(**{}))  # every value from the environment
        except ValidationError as exc:
            field = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else ""
            text = settings_error(exc, ApiSettings).one_line()  # names the flag; the Lambda has variables
            raise ConfigurationError(text.replace(flag_name(field), env_name(field), 1)) from None

    @property
    def platform(self) -> Platform:
        """The repo table and the stack's outputs, resolved on first use."""
        with self._lock:
            if self._platform is None:
                from abca_deploy.repos.target import resolve

                self._platform = resolve(self.settings)
            return self._platform

    @cached_property
    def domains(self) -> DomainList | None:
        """The stack's runtime DNS Firewall domain list (integrated stacks only), kept equal to the egress."""
        from abca_deploy.repos import domainlist

        return domainlist.of(self.platform, self.settings.aws_region)

    @property
    def secrets(self) -> Secrets:
        """Secrets Manager, for repository tokens."""
        with self._lock:
            if self._secrets is None:
                from abca_deploy.aws.secrets import Secrets
                from abca_deploy.repos.target import aws_client

                self._secrets = Secrets(aws_client("secretsmanager", self.settings))
            return self._secrets

    def handle(self, event: dict[str, Any], context: Any = None) -> Response:
        """Answer one API Gateway proxy event."""
        from abca_deploy.api.routes import ROUTES

        started = time.perf_counter()
        request = Request(event)
        route = ROUTES.get((str(event.get("httpMethod", "")).upper(), str(event.get("resource", ""))))
        try:
            if route is None:
                raise ApiError(404, "NOT_FOUND", "No such route.")
            response = route(self, request)
        except ApiError as err:
            response = error(err, request.request_id)
        except AbcaError as err:
            response = error(self._mapped(err, request), request.request_id)
        except Exception as exc:  # an answer, not a stack trace; the log says what broke (redacted)
            logs.line(request.redactor, request_id=request.request_id, event="unexpected-error",
                      error=type(exc).__name__, message=str(exc))
            response = error(ApiError(500, "INTERNAL_ERROR", "Internal server error."), request.request_id)
        logs.line(request.redactor, request_id=request.request_id, method=event.get("httpMethod"),
                  resource=event.get("resource"), repo=request.repo, status=response["statusCode"],
                  principal=request.principal, ms=round((time.perf_counter() - started) * 1000, 1))
        return response

    def _mapped(self, err: AbcaError, request: Request) -> ApiError:
        """The HTTP answer for an error of the repos core (its messages say no CLI flag)."""
        if isinstance(err, Refused):
            reason = f"Refused by the {err.guardrail} guardrail: {err.reason}"
            return ApiError(422, "GUARDRAIL_REFUSED", reason)
        if isinstance(err, InvalidField):
            return ApiError(400, "VALIDATION_ERROR", f"{err.field}: {err.reason}")
        if isinstance(err, RowTooLarge):
            return ApiError(400, "VALIDATION_ERROR", err.message)
        if isinstance(err, NotOnboarded):
            return ApiError(404, "REPO_NOT_FOUND", err.message)
        if isinstance(err, AlreadyOnboarded):
            return ApiError(409, "REPO_ALREADY_ONBOARDED", f"{err.message} Change it with PATCH.")
        if isinstance(err, Offboarded):
            return ApiError(409, "REPO_OFFBOARDED", f"{err.message} Onboard it again with POST /repos.")
        if isinstance(err, KeptChanging):
            return ApiError(409, "CONCURRENT_UPDATE", f"{err.message} Retry the request.")
        from abca_deploy.aws.errors import error_code

        code = error_code(err.__cause__) if err.__cause__ is not None else ""
        if code in THROTTLED:
            return ApiError(429, "RATE_LIMIT_EXCEEDED", "AWS throttled the request; retry in a few seconds.",
                            {"Retry-After": "2"})
        if code == "ValidationException" and "size" in str(err.__cause__).lower():
            msg = "The row would exceed DynamoDB's 400 KB item limit; send fewer or shorter values."
            return ApiError(400, "VALIDATION_ERROR", msg)
        logs.line(request.redactor, request_id=request.request_id, event="operation-failed",
                  title=err.title, message=err.one_line())
        return ApiError(500, "INTERNAL_ERROR", "Internal server error.")


class ConfigurationError(Exception):
    """The Lambda's environment does not configure the API (the message names the variable)."""
