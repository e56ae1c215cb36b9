"""The API's log: one JSON line per request, and one per unexpected failure, with secrets taken out.

A request's GitHub token is masked the moment it is parsed; any Secrets Manager ARN is shortened to its
redacted form (as the CLI prints it), whatever message it appears in. Nothing else from a request body is
logged. Lines go to the ``abca_deploy.api`` logger (Lambda's runtime sends them to CloudWatch).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

from abca_deploy.repos.schema import redact_secret_arn

log = logging.getLogger("abca_deploy.api")
SECRET_ARN = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]*:\d*:secret:[A-Za-z0-9/_+=.@!-]+")
SECRET_NAME = re.compile(r"abca/github-token/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+(-[A-Za-z0-9]{6})?")


class Redactor:
    """Per request: the secrets seen so far, and text with them taken out."""

    def __init__(self) -> None:
        self._secrets: list[str] = []

    def mask(self, secret: str | None) -> None:
        """Never log ``secret`` (the ``Masker`` the repos core calls)."""
        if secret and secret not in self._secrets:
            self._secrets.append(secret)
            self._secrets.sort(key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` without masked secrets, secret ARNs or token-secret names."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = SECRET_ARN.sub(lambda match: redact_secret_arn(match.group(0)), text)
        return SECRET_NAME.sub("abca/github-token/****", text)


def configure() -> None:
    """INFO lines on stderr when nothing else (Lambda's runtime, a test) configured logging."""
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
    if not logging.getLogger().handlers and not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)


def line(redactor: Redactor, **fields: Any) -> None:
    """Log one JSON line of ``fields``, redacted."""
    log.info(redactor.redact(json.dumps(fields, separators=(",", ":"), default=str)))
