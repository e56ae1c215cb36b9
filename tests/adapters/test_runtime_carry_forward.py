"""A fully populated runtime configuration survives an image update field for field (botocore Stubber)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber

from abca_deploy.aws.agentcore import AgentCoreControl
from abca_deploy.runtime.config import READ_ONLY_FIELDS, UPDATE_FIELDS, carry_forward, diff, with_image

RID = "abca_runtime-AbCdEfGh12"
ARN = f"arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/{RID}"
OLD = "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent@sha256:" + "a" * 64
NEW = "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent@sha256:" + "b" * 64

SETTINGS: dict[str, Any] = {
    "agentRuntimeArtifact": {"containerConfiguration": {"containerUri": OLD}},
    "roleArn": "arn:aws:iam::123456789012:role/AgentRuntimeRole",
    "networkConfiguration": {
        "networkMode": "VPC",
        "networkModeConfig": {
            "securityGroups": ["sg-0123456789abcdef0"],
            "subnets": ["subnet-0123456789abcdef0", "subnet-0fedcba9"],
        },
    },
    "description": "ABCA agent runtime",
    "authorizerConfiguration": {
        "customJWTAuthorizer": {
            "discoveryUrl": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc/.well-known/openid-configuration",
            "allowedClients": ["client-1"],
        }
    },
    "requestHeaderConfiguration": {
        "requestHeaderAllowlist": ["X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant"]
    },
    "protocolConfiguration": {"serverProtocol": "HTTP"},
    "lifecycleConfiguration": {"idleRuntimeSessionTimeout": 28800, "maxLifetime": 28800},
    "environmentVariables": {
        "GITHUB_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:t",
        "AWS_REGION": "us-east-1",
        "CLAUDE_CODE_USE_BEDROCK": "1",
        "ANTHROPIC_LOG": "debug",
    },
    "filesystemConfigurations": [{"sessionStorage": {"mountPath": "/mnt/workspace"}}],
}
READ_ONLY: dict[str, Any] = {
    "agentRuntimeArn": ARN,
    "agentRuntimeName": "abca_runtime",
    "agentRuntimeId": RID,
    "agentRuntimeVersion": "7",
    "createdAt": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    "lastUpdatedAt": dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
    "status": "READY",
    "failureReason": "",
    "workloadIdentityDetails": {
        "workloadIdentityArn": "arn:aws:bedrock-agentcore:us-east-1:123456789012:workload-identity-directory/"
        "default/workload-identity/abca"
    },
}


def _control_model() -> Any:
    return botocore.session.get_session().get_service_model("bedrock-agentcore-control")


def test_allow_list_is_exactly_update_input_minus_id_and_token() -> None:
    members = set(_control_model().operation_model("UpdateAgentRuntime").input_shape.members)
    assert set(UPDATE_FIELDS) == members - {"agentRuntimeId", "clientToken"}


def test_every_get_field_is_either_carried_or_known_read_only() -> None:
    members = set(_control_model().operation_model("GetAgentRuntime").output_shape.members)
    assert members <= set(UPDATE_FIELDS) | set(READ_ONLY_FIELDS)


@pytest.fixture
def stubbed() -> tuple[AgentCoreControl, Stubber]:
    client = boto3.client("bedrock-agentcore-control", region_name="us-east-1")
    return AgentCoreControl(client), Stubber(client)


def test_full_configuration_survives_an_image_update(stubbed: tuple[AgentCoreControl, Stubber]) -> None:
    control, stubber = stubbed
    response = {**copy.deepcopy(SETTINGS), **READ_ONLY}
    response["networkConfiguration"]["networkModeConfig"]["requireServiceS3Endpoint"] = True
    stubber.add_response("get_agent_runtime", response, {"agentRuntimeId": RID})
    expected = copy.deepcopy(SETTINGS)
    expected["agentRuntimeArtifact"] = {"containerConfiguration": {"containerUri": NEW}}
    stubber.add_response(
        "update_agent_runtime",
        {
            "agentRuntimeArn": ARN,
            "agentRuntimeId": RID,
            "agentRuntimeVersion": "8",
            "createdAt": READ_ONLY["createdAt"],
            "lastUpdatedAt": READ_ONLY["lastUpdatedAt"],
            "status": "UPDATING",
        },
        {"agentRuntimeId": RID, **expected},
    )
    with stubber:
        current = control.get_runtime(RID)
        result = control.update_runtime(RID, with_image(carry_forward(current), NEW))
    stubber.assert_no_pending_responses()
    assert result["agentRuntimeVersion"] == "8"


def test_empty_description_and_empty_structures_are_not_sent() -> None:
    current = {**copy.deepcopy(SETTINGS), **READ_ONLY, "description": "", "lifecycleConfiguration": {}}
    request = carry_forward(current)
    assert "description" not in request
    assert "lifecycleConfiguration" not in request
    assert not set(READ_ONLY_FIELDS) & set(request)


def test_network_configuration_is_always_sent() -> None:
    current = {k: v for k, v in SETTINGS.items() if k != "networkConfiguration"}
    assert carry_forward(current)["networkConfiguration"] == {"networkMode": "PUBLIC"}


def test_diff_shows_only_the_image_and_redacts_environment_values() -> None:
    before = {**SETTINGS, **READ_ONLY}
    after = with_image(carry_forward(before), NEW)
    after["environmentVariables"] = {
        **SETTINGS["environmentVariables"],
        "ANTHROPIC_LOG": "info",
        "NEW": "secret",
    }
    rows = diff(before, after)
    assert ("agentRuntimeArtifact.containerConfiguration.containerUri", OLD, NEW) in rows
    assert ("environmentVariables.NEW", "(unset)", "***") in rows
    assert ("environmentVariables.ANTHROPIC_LOG", "*** (value changed)", "***") in rows
    assert not any("secret" in cell or "info" in cell for row in rows for cell in row)
    assert len(rows) == 3
