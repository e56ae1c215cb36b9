"""The one place for AWS identifier rules: runtime ids and ARNs, ECR image URIs, digests, SSM parameter names.

The patterns are the botocore models' (``bedrock-agentcore-control`` 2023-06-05: ``AgentRuntimeArn``,
``AgentRuntimeId``, ``RuntimeContainerUri``; ``ssm`` PutParameter ``Name``), narrowed where AWS is looser than
what a deploy should accept (a digest is ``sha256:`` plus 64 hex digits). Every command, gate and validator
uses these; the emulator keeps its own copy because it imports nothing of ``abca_deploy``.
"""

from __future__ import annotations

import re

PARTITION = r"aws(?:-[a-z0-9]+)*"
REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]"
ACCOUNT = r"[0-9]{12}"

RUNTIME_ID = r"[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}"
"""An AgentCore runtime id: ``<name>-<10 letters or digits>``."""

RUNTIME_ARN = re.compile(
    rf"arn:(?P<partition>{PARTITION}):bedrock-agentcore:(?P<region>[a-z0-9-]+):(?P<account>{ACCOUNT}):"
    r"runtime/(?P<id>[a-zA-Z][a-zA-Z0-9_]{0,47}-[a-zA-Z0-9]{10})"
)
"""An AgentCore runtime ARN (use ``fullmatch``); groups partition, region, account and id."""

STACK_NAME = r"[A-Za-z][A-Za-z0-9-]{0,127}"
"""A CloudFormation stack name (not an ARN): a letter, then letters, digits and '-', at most 128."""

STACK_REF = (rf"{STACK_NAME}|arn:{PARTITION}:cloudformation:[a-z0-9-]+:{ACCOUNT}:"
             rf"stack/{STACK_NAME}/[A-Za-z0-9-]+")
"""A CloudFormation stack name or stack ARN (what ``DescribeStacks`` takes as ``StackName``)."""

ECR_REPOSITORY = r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"
"""An ECR repository name (DescribeRepositories' ``repositoryName`` pattern), without the registry."""

SECRET_ARN = re.compile(rf"arn:{PARTITION}:secretsmanager:[a-z0-9-]+:{ACCOUNT}:secret:[A-Za-z0-9/_+=.@-]+")
"""A Secrets Manager secret ARN (use ``fullmatch``)."""

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
"""An image manifest digest."""

ECR_REGISTRY = (
    rf"(?P<registry>(?P<account>{ACCOUNT})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"|public\.ecr\.aws)"
)
"""An ECR registry host (private, with account and region groups, or ECR Public)."""

ECR_URI = re.compile(
    rf"{ECR_REGISTRY}/(?P<repository>{ECR_REPOSITORY})"
    rf"(?::(?P<tag>[^:@/]{{1,300}}))?(?:@(?P<digest>{DIGEST.pattern}))?"
)
"""An ECR (or ECR Public) image URI with an optional tag and/or digest (use ``fullmatch``)."""

# SSM PutParameter's Name rules (botocore model documentation): letters, digits, _ . - and / for hierarchies;
# a hierarchy starts with /; at most 15 levels; no "aws" or "ssm" prefix (case-insensitive; /aws/... is
# reserved for public parameters); at most 1011 characters *including* the parameter ARN's prefix, whose
# length depends on partition, region and account. The longest prefix we allow for is the one below.
SSM_NAME_CHARS = re.compile(r"[a-zA-Z0-9_.\-/]+")
SSM_MAX_LEVELS = 15
_LONGEST_ARN_PREFIX = "arn:aws-iso-b:ssm:us-isob-east-1:123456789012:parameter/"
SSM_MAX_NAME = 1011 - len(_LONGEST_ARN_PREFIX)
OWN_PREFIX = "/abca-deploy/"
"""Where abca-deploy keeps its own state (leases, last-tested records); no user parameter may live there."""


def runtime_id_of(arn: str) -> str | None:
    """The runtime id of a runtime ARN, or None when ``arn`` is not one."""
    match = RUNTIME_ARN.fullmatch(arn)
    return match["id"] if match else None


def digest_of(image: str | None) -> str | None:
    """The ``sha256:…`` digest a reference is pinned to (``repo@sha256:…``, ``repo:tag@sha256:…``)."""
    if not image:
        return None
    _, at, digest = image.strip().rpartition("@")
    return digest if at and DIGEST.fullmatch(digest) else None


def same_image(a: str | None, b: str | None) -> bool:
    """Equal by digest when both are pinned; otherwise only the identical reference counts as the same."""
    if not a or not b:
        return False
    da, db = digest_of(a), digest_of(b)
    if da and db:
        return da == db
    return a.strip() == b.strip()


def repository_of(uri: str) -> str:
    """``<registry>/<repository>`` of an image URI, without tag or digest."""
    match = ECR_URI.fullmatch(uri)
    if match is None:
        return uri.split("@", 1)[0].rsplit(":", 1)[0] if "/" in uri else uri
    return f"{match['registry']}/{match['repository']}"


def ssm_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an SSM parameter name that a user owns, or None when it can."""
    if not SSM_NAME_CHARS.fullmatch(name):
        return "it may contain only letters, digits, '_', '.', '-' and '/'"
    if len(name) > SSM_MAX_NAME:
        return f"it is {len(name)} characters long; at most {SSM_MAX_NAME} fit in a parameter ARN"
    if "/" in name and not name.startswith("/"):
        return "a hierarchy must start with '/'"
    segments = name.removeprefix("/").split("/")
    if any(not segment for segment in segments):
        return "it has an empty level ('//' or a trailing '/')"
    if len(segments) > SSM_MAX_LEVELS:
        return f"it has {len(segments)} levels; at most {SSM_MAX_LEVELS} are allowed"
    if segments[0].lower().startswith(("aws", "ssm")):
        return "it may not start with 'aws' or 'ssm' (reserved by AWS, in any case)"
    if (name if name.startswith("/") else "/" + name).startswith(OWN_PREFIX):
        return f"it is under {OWN_PREFIX}, where abca-deploy keeps its own state"
    return None
