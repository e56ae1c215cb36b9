"""boto3 client construction: one place for region, retries and the user agent.

boto3 itself honours ``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_<SERVICE>`` (what ``sandbox env`` exports),
so nothing here knows about the sandbox.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from abca_deploy import __version__

_SESSIONS: dict[tuple[str | None, tuple[tuple[str, str], ...]], Any] = {}
_LOCK = threading.Lock()  # boto3 sessions are not thread-safe; the clients they make are


def _session(region: str | None) -> Any:
    """One boto3 session per region and AWS environment (sessions load service models once: reuse them)."""
    import boto3

    key = (region or None, tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_"))))
    if key not in _SESSIONS:
        _SESSIONS[key] = boto3.session.Session(region_name=region or None)
    return _SESSIONS[key]


def client(service: str, region: str | None = None, *, read_timeout: int = 60, max_attempts: int = 8,
           signed: bool = True) -> Any:
    """A boto3 client with adaptive retries (throttling is retried with backoff) and our user agent.

    ``signed=False`` sends requests without AWS credentials (Cognito's InitiateAuth needs none).
    """
    from botocore import UNSIGNED
    from botocore.config import Config

    config = Config(
        retries={"mode": "adaptive", "max_attempts": max_attempts},
        user_agent_appid=f"abca-deploy/{__version__}",
        read_timeout=read_timeout,
        connect_timeout=10,
        **({} if signed else {"signature_version": UNSIGNED}),
    )
    with _LOCK:
        session = _session(region)
        made = session.client(service, config=config) if session.region_name else None
    if made is None:
        from abca_deploy.errors import UserError

        msg = "No AWS region is configured."
        raise UserError(
            msg,
            hint="Pass --region, or set AWS_REGION (in Actions: the aws-region input of "
            "aws-actions/configure-aws-credentials).",
            title="No AWS region",
        )
    return made
