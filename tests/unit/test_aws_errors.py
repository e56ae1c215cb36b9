"""AWS errors become messages that say what to do, with the right exit code."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from abca_deploy.aws.errors import aws_call, translate
from abca_deploy.errors import AbcaError


def client_error(code: str, message: str = "details") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Operation")


def test_access_denied_names_the_iam_action_and_resource() -> None:
    err = translate(client_error("AccessDeniedException", "User is not authorized"),
                    action="bedrock-agentcore:UpdateAgentRuntime", resource="arn:aws:bedrock-agentcore:x")
    assert err.exit_code == 1
    expected = "Grant the role `bedrock-agentcore:UpdateAgentRuntime` on `arn:aws:bedrock-agentcore:x`"
    assert expected in err.one_line()


@pytest.mark.parametrize("exc", [NoCredentialsError(), client_error("ExpiredTokenException")])
def test_missing_or_expired_credentials_explain_oidc(exc: Exception) -> None:
    err = translate(exc, action="ecr:GetAuthorizationToken")
    assert err.exit_code == 2
    assert "permissions: id-token: write" in err.one_line()
    assert "configure-aws-credentials" in err.one_line()


def test_unknown_resource_is_input_to_fix() -> None:
    err = translate(client_error("ResourceNotFoundException", "no such table"), action="dynamodb:GetItem",
                    resource="repos")
    assert err.exit_code == 2
    assert "repos was not found" in err.message


def test_throttling_after_retries_is_an_operation_failure() -> None:
    err = translate(client_error("ThrottlingException", "Rate exceeded"), action="ssm:PutParameter")
    assert err.exit_code == 1
    assert "throttled even after retries" in err.message


def test_unreachable_endpoint_points_at_the_endpoint_variables() -> None:
    unreachable = EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    err = translate(unreachable, action="ecr:DescribeRepositories")
    assert err.exit_code == 1
    assert "AWS_ENDPOINT_URL" in err.one_line()


def test_aws_call_translates_at_the_boundary() -> None:
    with pytest.raises(AbcaError) as info, aws_call("ssm:GetParameter", "/x"):
        raise client_error(code="AccessDenied")
    assert "`ssm:GetParameter` on `/x`" in info.value.one_line()
