"""The seeded platform's requests are what AWS would accept, shaped like ABCA's CDK stack."""

from __future__ import annotations

import re
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from abca_deploy.sandbox import platform_spec as spec

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:backgroundagent-dev/GitHubToken-AbCdEf"
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def control_model() -> Any:
    return botocore.session.get_session().get_service_model("bedrock-agentcore-control")


def _pattern(model: Any, shape: str) -> re.Pattern[str]:
    return re.compile(model.shape_for(shape).metadata["pattern"])


def test_create_request_passes_botocore_validation(control_model: Any) -> None:
    request = spec.create_runtime_request(SECRET_ARN, spec.image_uri(DIGEST))
    shape = control_model.operation_model("CreateAgentRuntime").input_shape
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


def test_create_request_values_match_the_aws_patterns(control_model: Any) -> None:
    request = spec.create_runtime_request(SECRET_ARN, spec.image_uri(DIGEST))
    vpc = request["networkConfiguration"]["networkModeConfig"]
    assert _pattern(control_model, "AgentRuntimeName").fullmatch(request["agentRuntimeName"])
    assert _pattern(control_model, "RoleArn").fullmatch(request["roleArn"])
    assert all(_pattern(control_model, "SubnetId").fullmatch(s) for s in vpc["subnets"])
    assert all(_pattern(control_model, "SecurityGroupId").fullmatch(s) for s in vpc["securityGroups"])
    assert _pattern(control_model, "MountPath").fullmatch(
        request["filesystemConfigurations"][0]["sessionStorage"]["mountPath"])
    uri = request["agentRuntimeArtifact"]["containerConfiguration"]["containerUri"]
    assert _pattern(control_model, "RuntimeContainerUri").fullmatch(uri)
    assert uri == f"123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent@{DIGEST}"


def test_create_request_is_configured_like_abca_cdk() -> None:
    request = spec.create_runtime_request(SECRET_ARN, spec.image_uri(DIGEST))
    assert request["lifecycleConfiguration"] == {"idleRuntimeSessionTimeout": 28800, "maxLifetime": 28800}
    assert request["protocolConfiguration"] == {"serverProtocol": "HTTP"}
    assert request["filesystemConfigurations"] == [{"sessionStorage": {"mountPath": "/mnt/workspace"}}]
    assert request["networkConfiguration"]["networkMode"] == "VPC"
    env = request["environmentVariables"]
    assert env["GITHUB_TOKEN_SECRET_ARN"] == SECRET_ARN
    assert {k: env[k] for k in ("AWS_REGION", "CLAUDE_CODE_USE_BEDROCK", "ANTHROPIC_LOG", "AGENT_STAGE")} == {
        "AWS_REGION": "us-east-1", "CLAUDE_CODE_USE_BEDROCK": "1", "ANTHROPIC_LOG": "debug",
        "AGENT_STAGE": "sandbox"}


def test_template_carries_the_runtime_image_as_a_literal_and_the_outputs() -> None:
    request = spec.create_runtime_request(SECRET_ARN, spec.image_uri(DIGEST))
    arn = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/r-AbCdEf1234"
    runtime = {**request, "agentRuntimeArn": arn}
    template = spec.stack_template(runtime, SECRET_ARN)
    props = template["Resources"]["Runtime"]["Properties"]
    assert template["Resources"]["Runtime"]["Type"] == "AWS::BedrockAgentCore::Runtime"
    assert props["AgentRuntimeArtifact"]["ContainerConfiguration"]["ContainerUri"] == spec.image_uri(DIGEST)
    assert props["LifecycleConfiguration"] == {"IdleRuntimeSessionTimeout": 28800, "MaxLifetime": 28800}
    assert props["FilesystemConfigurations"] == [{"SessionStorage": {"MountPath": "/mnt/workspace"}}]
    assert props["EnvironmentVariables"] == request["environmentVariables"]
    table = template["Resources"]["RepoTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "repo", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert template["Outputs"] == {
        "RepoTableName": {"Value": {"Ref": "RepoTable"}},
        "RuntimeArn": {"Value": runtime["agentRuntimeArn"]},
        "GitHubTokenSecretArn": {"Value": SECRET_ARN},
    }
