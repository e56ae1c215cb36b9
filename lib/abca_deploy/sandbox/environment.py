"""The environment that points boto3, the AWS CLI and abca-deploy at the sandbox (``sandbox env``)."""

from __future__ import annotations

import platform as host_platform
import shlex
from typing import TYPE_CHECKING

from abca_deploy.sandbox.baseimage import DEFAULT_BASE

if TYPE_CHECKING:
    from collections.abc import Mapping

    from abca_deploy.sandbox.stack import Ports

DUMMY_CREDENTIAL = "testing"
REGION = "us-east-1"
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
         "ppc64le": "ppc64le", "s390x": "s390x"}


def docker_platform(architecture: str | None = None) -> str:
    """``linux/<arch>`` as Docker names it, for an engine/kernel architecture such as ``x86_64``."""
    arch = (architecture or host_platform.machine()).lower()
    return f"linux/{_ARCH.get(arch, arch)}"


def variables(ports: Ports, *, platform: str, base_image: str | None,
              app_client_id: str | None = None) -> dict[str, str]:
    """The variables, in print order. ``base_image`` is set only when the default base is unavailable;
    ``app_client_id`` once the sandbox is seeded."""
    moto = f"http://127.0.0.1:{ports.moto}"
    emulator = f"http://127.0.0.1:{ports.emulator}"
    env = {
        "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIAL,
        "AWS_SESSION_TOKEN": DUMMY_CREDENTIAL,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": moto,
        "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL": emulator,
        "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE": emulator,
        "AWS_ENDPOINT_URL_ROUTE53RESOLVER": emulator,
        "ABCA_ECR_REGISTRY_ENDPOINT": f"127.0.0.1:{ports.registry}",
        "ABCA_PLATFORM": platform,
    }
    if base_image and base_image != DEFAULT_BASE:
        env["ABCA_DEFAULT_BUILD_ARGS"] = f"BASE_IMAGE={base_image}"
    env["ABCA_SANDBOX_API_URL"] = f"http://127.0.0.1:{ports.api}/v1/"
    if app_client_id:
        env["ABCA_APP_CLIENT_ID"] = app_client_id
    return env


_COMMENTS = {
    "AWS_ACCESS_KEY_ID": "# Dummy credentials: the sandbox accepts any.",
    "AWS_ENDPOINT_URL": "# moto (ECR API, DynamoDB, Secrets Manager, SSM, STS, CloudFormation), then the "
                        "emulator (AgentCore, Route 53 Resolver DNS Firewall).",
    "ABCA_ECR_REGISTRY_ENDPOINT": "# Image pushes for <account>.dkr.ecr.<region>.amazonaws.com go here.",
    "ABCA_DEFAULT_BUILD_ARGS": "# python:3.13-slim is not available here: build on the offline base image.",
    "ABCA_SANDBOX_API_URL": "# The repository API (ABCA's ApiUrl); repo commands use it with --api-url.",
    "ABCA_APP_CLIENT_ID": "# The user pool's app client, for `abca-deploy repo login`.",
}


def export_lines(env: Mapping[str, str], *, header: str) -> str:
    """``export K=V`` lines (values shell-quoted) with comments, for ``eval "$(abca-deploy sandbox env)"``."""
    lines = [f"# {header}", 'unset AWS_PROFILE  # a profile name that does not exist would stop boto3']
    for key, value in env.items():
        if key in _COMMENTS:
            lines.append(_COMMENTS[key])
        if key == "ABCA_PLATFORM":
            lines.append(f"# AWS AgentCore runs linux/arm64 images only; the sandbox accepts "
                         f"host-architecture images ({value}).")
        lines.append(f"export {key}={shlex.quote(value)}")
    return "\n".join(lines)
