"""boto3 client construction: one place for region, retries and the user agent.

boto3 itself honours ``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_<SERVICE>`` (what ``sandbox env`` exports),
so nothing here knows about the sandbox.
"""

from __future__ import annotations

from typing import Any

from abca_deploy import __version__


def _session(region: str | None) -> Any:
    import boto3

    # A fresh session per client: credentials and endpoint variables are read now, not at import time.
    return boto3.session.Session(region_name=region or None)


def client(service: str, region: str | None = None, *, read_timeout: int = 60, max_attempts: int = 8) -> Any:
    """A boto3 client with adaptive retries (throttling is retried with backoff) and our user agent."""
    from botocore.config import Config

    config = Config(
        retries={"mode": "adaptive", "max_attempts": max_attempts},
        user_agent_appid=f"abca-deploy/{__version__}",
        read_timeout=read_timeout,
        connect_timeout=10,
    )
    session = _session(region)
    if session.region_name is None:
        from abca_deploy.errors import UserError

        msg = "No AWS region is configured."
        raise UserError(
            msg,
            hint="Pass --region, or set AWS_REGION (in Actions: the aws-region input of "
            "aws-actions/configure-aws-credentials).",
            title="No AWS region",
        )
    return session.client(service, config=config)
