"""The Lambda entry point: ``abca_deploy.api.handler.handler`` (API Gateway REST proxy integration).

Importing this module costs nothing beyond the standard library; the app (boto3, pydantic, the repos core) is
built on the first invocation and kept for the container's life, as Lambda reuses warm containers.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from abca_deploy.api.app import App

_app: App | None = None
_lock = threading.Lock()


def app() -> App:
    """The container's app, configured from the environment on first use."""
    global _app
    with _lock:
        if _app is None:
            from abca_deploy.api.app import App

            _app = App.from_environment()
        return _app


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Answer one API Gateway proxy event with an API Gateway proxy result."""
    from abca_deploy.api.app import ConfigurationError

    try:
        current = app()
    except ConfigurationError as exc:  # a deployment mistake: say so in the log, answer in the envelope
        from abca_deploy.api import logs
        from abca_deploy.api.app import Request
        from abca_deploy.api.responses import ApiError, error

        request = Request(event)
        logs.configure()
        logs.line(request.redactor, request_id=request.request_id, event="misconfigured", message=str(exc))
        return error(ApiError(500, "INTERNAL_ERROR", "Internal server error."), request.request_id)
    return current.handle(event, context)
