"""What the sandbox seeds, as data: the AgentCore runtime request (shaped like ABCA's CDK stack) and the
``backgroundagent-dev`` CloudFormation template. Pure functions; ``seed.py`` does the calls.
"""

from __future__ import annotations

import json
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK_NAME = "backgroundagent-dev"
RUNTIME_NAME = "backgroundagentdev_Runtime"
ECR_REPOSITORY = "abca/agent"
ECR_HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
SECRET_NAME = "backgroundagent-dev/GitHubTokenSecret"
# CDK's placeholder value: JSON, which ABCA's CLI recognises as "no token configured yet".
SECRET_PLACEHOLDER = json.dumps({"token": "placeholder: run `bgagent github set-token`"})
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/backgroundagent-dev-RuntimeExecutionRole"
SUBNETS = ("subnet-0sandbox0000000a1", "subnet-0sandbox0000000b2")
SECURITY_GROUPS = ("sg-0sandbox0000000c3",)
VPC_ID = "vpc-0sandbox0000000d4"  # the agent VPC the DNS firewall's rule group is associated with
SESSION_TIMEOUT_S = 28800  # ABCA: RUNTIME_SESSION_TIMEOUT_HOURS = 8
MOUNT_PATH = "/mnt/workspace"
IMAGE_TAG = "sandbox-seed"
SEED_MESSAGE = "hello from the seeded runtime (abca-deploy sandbox up)"


def repo_table_resource() -> dict[str, Any]:
    """ABCA's repo table as a CloudFormation resource: key ``repo`` (S), on demand, TTL on ``ttl``
    (soft-deleted rows expire). A fresh dict each call: callers may extend it."""
    return {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "KeySchema": [{"AttributeName": "repo", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "repo", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
        },
    }


def image_uri(digest: str) -> str:
    """The ECR URI of the seeded image, pinned by digest."""
    return f"{ECR_HOST}/{ECR_REPOSITORY}@{digest}"


def environment(secret_arn: str) -> dict[str, str]:
    """The runtime's environment variables (a subset of ABCA's ``runtimeEnvironmentVariables``)."""
    return {
        "GITHUB_TOKEN_SECRET_ARN": secret_arn,
        "AWS_REGION": REGION,
        "CLAUDE_CODE_USE_BEDROCK": "1",
        "ANTHROPIC_LOG": "debug",
        "AGENTCORE_MAX_LIFETIME_S": str(SESSION_TIMEOUT_S),
        "MAX_TURNS": "100",
        "CLAUDE_CONFIG_DIR": f"{MOUNT_PATH}/.claude-config",
        "AGENT_STAGE": "sandbox",
    }


def create_runtime_request(secret_arn: str, container_uri: str) -> dict[str, Any]:
    """The CreateAgentRuntime request, as ABCA's CDK stack configures its runtime."""
    return {
        "agentRuntimeName": RUNTIME_NAME,
        "description": "ABCA agent runtime (abca-deploy sandbox seed)",
        "agentRuntimeArtifact": {"containerConfiguration": {"containerUri": container_uri}},
        "roleArn": ROLE_ARN,
        "networkConfiguration": {
            "networkMode": "VPC",
            "networkModeConfig": {"subnets": list(SUBNETS), "securityGroups": list(SECURITY_GROUPS)},
        },
        "protocolConfiguration": {"serverProtocol": "HTTP"},
        "lifecycleConfiguration": {"idleRuntimeSessionTimeout": SESSION_TIMEOUT_S,
                                   "maxLifetime": SESSION_TIMEOUT_S},
        "filesystemConfigurations": [{"sessionStorage": {"mountPath": MOUNT_PATH}}],
        "environmentVariables": environment(secret_arn),
    }


def _runtime_resource(runtime: dict[str, Any]) -> dict[str, Any]:
    """``AWS::BedrockAgentCore::Runtime`` properties from a GetAgentRuntime response (CFN casing)."""
    network = runtime.get("networkConfiguration", {})
    vpc = network.get("networkModeConfig", {})
    lifecycle = runtime.get("lifecycleConfiguration", {})
    container = runtime["agentRuntimeArtifact"]["containerConfiguration"]["containerUri"]
    return {
        "Type": "AWS::BedrockAgentCore::Runtime",
        "Properties": {
            "AgentRuntimeName": runtime["agentRuntimeName"],
            "AgentRuntimeArtifact": {"ContainerConfiguration": {"ContainerUri": container}},
            "RoleArn": runtime["roleArn"],
            "NetworkConfiguration": {
                "NetworkMode": network.get("networkMode", "VPC"),
                "NetworkModeConfig": {"Subnets": vpc.get("subnets", []),
                                      "SecurityGroups": vpc.get("securityGroups", [])},
            },
            "ProtocolConfiguration": runtime.get("protocolConfiguration", {}).get("serverProtocol", "HTTP"),
            "EnvironmentVariables": dict(runtime.get("environmentVariables", {})),
            "LifecycleConfiguration": {
                "IdleRuntimeSessionTimeout": lifecycle.get("idleRuntimeSessionTimeout"),
                "MaxLifetime": lifecycle.get("maxLifetime"),
            },
            "FilesystemConfigurations": [
                {"SessionStorage": {"MountPath": fs["sessionStorage"]["mountPath"]}}
                for fs in runtime.get("filesystemConfigurations", []) if "sessionStorage" in fs
            ],
        },
    }


def stack_template(runtime: dict[str, Any], secret_arn: str) -> dict[str, Any]:
    """The ``backgroundagent-dev`` template: repo table and ECR repository (created by moto's CloudFormation),
    the runtime (kept in the template only: moto skips the type; the emulator holds the real one), outputs.
    """
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "ABCA-shaped platform seeded by `abca-deploy sandbox up`.",
        "Resources": {
            "RepoTable": repo_table_resource(),
            "AgentRepository": {
                "Type": "AWS::ECR::Repository",
                "Properties": {"RepositoryName": ECR_REPOSITORY, "ImageTagMutability": "IMMUTABLE"},
            },
            "Runtime": _runtime_resource(runtime),
        },
        "Outputs": {
            "RepoTableName": {"Value": {"Ref": "RepoTable"}},
            "RuntimeArn": {"Value": runtime["agentRuntimeArn"]},
            "GitHubTokenSecretArn": {"Value": secret_arn},
        },
    }
